import Metrics
import RecordStorage
import Synchronization
import UsageRecords

/// Commits the batches of all connections together: while one transaction is being committed,
/// the batches that arrive wait, and the next transaction takes all of them at once. Under load
/// there is one transaction and one fsync for many agents' batches (PostgreSQL's and InnoDB's
/// group commit), with no delay added when the store is idle: a batch that finds no commit
/// running is committed at once.
///
/// No task of its own: the caller that finds the store idle commits (the leader); when its
/// transaction is done it answers every batch that was in it and hands the lead to the first
/// batch that waited meanwhile. Each batch gets its own outcomes, in order, and an error fails
/// exactly the batches of the transaction that failed (none of them acknowledged).
public final class GroupCommit: RecordWriter {
    let store: any RecordWriter
    /// The most records one transaction takes; more wait for the next.
    let maximumRecords: Int
    private let state = Mutex(State())
    private let transactions = Counter(label: "meetmeter_aggregator_store_transactions_total")

    private struct State {
        var committing = false
        var waiting: [Waiter] = []
    }

    private struct Waiter {
        var records: [UsageRecord]
        var receivedAt: Timestamp
        var continuation: CheckedContinuation<Turn, Never>
    }

    private enum Turn {
        /// Committed by another batch's transaction.
        case done(Result<[StoreOutcome], any Error>)
        /// Commit now: yours and whatever waits.
        case lead
    }

    public init(_ store: any RecordWriter, maximumRecords: Int = 20_000) {
        self.store = store
        self.maximumRecords = maximumRecords
    }

    /// Batches waiting for the transaction in progress to end.
    public var waitingBatches: Int { state.withLock { $0.waiting.count } }

    public func store(_ records: [UsageRecord], receivedAt: Timestamp) async throws -> [WireProtocol.Status] {
        try await commit(records, receivedAt: receivedAt).map(\.status)
    }

    public func commit(_ records: [UsageRecord], receivedAt: Timestamp) async throws -> [StoreOutcome] {
        if records.isEmpty { return [] }
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let lead = state.withLock { state -> Bool in
                if state.committing {
                    state.waiting.append(Waiter(records: records, receivedAt: receivedAt, continuation: continuation))
                    return false
                }
                state.committing = true
                return true
            }
            if lead { continuation.resume(returning: .lead) }
        }
        switch turn {
        case .done(let result):
            return try result.get()
        case .lead:
            return try await lead(records, receivedAt: receivedAt)
        }
    }

    /// Commits `records` with what waits (up to `maximumRecords` in all), answers the others, and
    /// passes the lead on.
    private func lead(_ records: [UsageRecord], receivedAt: Timestamp) async throws -> [StoreOutcome] {
        let others = state.withLock { state -> [Waiter] in
            var taken = 0
            var count = records.count
            while taken < state.waiting.count, count + state.waiting[taken].records.count <= maximumRecords {
                count += state.waiting[taken].records.count
                taken += 1
            }
            let others = Array(state.waiting.prefix(taken))
            state.waiting.removeFirst(taken)
            return others
        }
        var all = records
        var latest = receivedAt
        for waiter in others {
            all += waiter.records
            if waiter.receivedAt > latest { latest = waiter.receivedAt }
        }
        let result: Result<[StoreOutcome], any Error>
        do {
            result = .success(try await store.commit(all, receivedAt: latest))
        } catch {
            result = .failure(error)
        }
        transactions.increment()
        var start = records.count
        for waiter in others {
            let end = start + waiter.records.count
            waiter.continuation.resume(returning: .done(result.map { Array($0[start..<end]) }))
            start = end
        }
        let next = state.withLock { state -> Waiter? in
            if state.waiting.isEmpty {
                state.committing = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        // The first that waited leads the next transaction; its own records go first in it.
        next?.continuation.resume(returning: .lead)
        return try result.map { Array($0[0..<records.count]) }.get()
    }
}
