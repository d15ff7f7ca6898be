import Aggregation
import RecordStorage
import Synchronization
import Testing
import UsageRecords

/// Issue 16: batches from many connections share transactions, and each still gets exactly its
/// own answers.
@Suite struct GroupCommitTests {
    let received = Timestamp(rfc3339: "2026-11-22T12:00:00Z")!

    @Test func batchesThatArriveDuringACommitShareTheNextOne() async throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let store = TransactionCountingStore(inner: try SQLiteRecordStore(path: folder.database))
        let group = GroupCommit(store)
        let received = self.received
        try await withThrowingTaskGroup(of: (Int, [StoreOutcome]).self) { tasks in
            tasks.addTask { (0, try await group.commit([Sample.joined(0)], receivedAt: received)) }
            await store.firstCalled.wait()
            // Ten agents' batches while the first transaction is held open; batch n resends
            // record n - 1 and brings record n; two of them bring the same new record.
            for n in 1...10 {
                let batch = [Sample.joined(n - 1), Sample.joined(n == 10 ? 9 : n)]
                tasks.addTask { (n, try await group.commit(batch, receivedAt: received)) }
            }
            // All ten are waiting: none can commit while the first transaction runs.
            while await group.waitingBatches < 10 { await Task.yield() }
            store.firstGate.open()
            var answers: [Int: [StoreOutcome]] = [:]
            for try await (n, outcomes) in tasks { answers[n] = outcomes }
            #expect(answers[0] == [.stored])
            // In the shared transaction, the batches in the order they came: each resend is a
            // duplicate, each new record stored once, the second copy of record 9 a duplicate.
            for n in 1...9 { #expect(answers[n] == [.duplicate, .stored], "batch \(n)") }
            #expect(answers[10] == [.duplicate, .duplicate])
        }
        #expect(store.transactionSizes == [1, 20], "one transaction for the ten batches that waited")
        #expect(try await store.inner.count() == 10)
    }

    @Test func aFailedTransactionFailsEveryBatchInItAndTheNextOneWorks() async throws {
        let group = GroupCommit(FailingStore())
        let at = received
        await #expect(throws: FailingStore.Failure.self) {
            try await group.commit([Sample.joined(1)], receivedAt: at)
        }
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let working = GroupCommit(try SQLiteRecordStore(path: folder.database))
        let received = self.received
        // Many concurrent batches, each of its own records: all stored, each answered in full.
        let answers = try await withThrowingTaskGroup(of: [StoreOutcome].self) { tasks in
            for n in 0..<50 {
                tasks.addTask { try await working.commit((0..<20).map { Sample.joined(n * 100 + $0) }, receivedAt: received) }
            }
            var all: [[StoreOutcome]] = []
            for try await a in tasks { all.append(a) }
            return all
        }
        #expect(answers.count == 50 && answers.allSatisfy { $0 == Array(repeating: .stored, count: 20) })
    }
}

/// Counts the transactions the group commit makes, with a gate on the first.
final class TransactionCountingStore: RecordWriter {
    let inner: SQLiteRecordStore
    let firstGate = AsyncGate()
    let firstCalled = AsyncGate()
    private let sizes = Mutex<[Int]>([])
    var transactionSizes: [Int] { sizes.withLock { $0 } }
    init(inner: SQLiteRecordStore) { self.inner = inner }

    func store(_ records: [UsageRecord], receivedAt: Timestamp) async throws -> [WireProtocol.Status] {
        try await commit(records, receivedAt: receivedAt).map(\.status)
    }
    func commit(_ records: [UsageRecord], receivedAt: Timestamp) async throws -> [StoreOutcome] {
        let first = sizes.withLock { s in s.append(records.count); return s.count == 1 }
        if first {
            firstCalled.open()
            await firstGate.wait()
        }
        return try await inner.commit(records, receivedAt: receivedAt)
    }
}
