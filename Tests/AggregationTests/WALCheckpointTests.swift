import Aggregation
import RecordStorage
import Foundation
import GRDB
import Synchronization
import Testing
import UsageRecords

/// Issue 20, item 6 (part): the write-ahead log stays bounded under a long write load while
/// reads overlap without a gap, as the listener, /health and `meetmeter report` make them.
/// SQLite's own checkpoints never wait for readers, so under such reads the log is never reset.
@Suite(.serialized, .timeLimit(.minutes(5))) struct WALCheckpointTests {
    static let threshold = 1 << 20
    static let batches = 300
    static let batchSize = 100

    /// The largest `-wal` file seen while `batches` batches are written through `store` and two
    /// readers, on threads of their own with connections of their own, take turns holding a read
    /// transaction so that one is always open.
    static func largestWAL(walCheckpointBytes: Int?) async throws -> (largest: Int, records: Int) {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let store = try SQLiteRecordStore(path: folder.database, walCheckpointBytes: walCheckpointBytes)
        _ = try await store.commit([Sample.joined(-1)], receivedAt: Sample.t0)
        let flags = Flags()
        let wal = folder.database + "-wal"
        var configuration = Configuration()
        configuration.readonly = true
        let readers = try (0..<2).map { _ in try DatabaseQueue(path: folder.database, configuration: configuration) }
        let finished = DispatchGroup()
        for (n, reader) in readers.enumerated() {
            finished.enter()
            Thread.detachNewThread {
                defer { finished.leave() }
                usleep(useconds_t(n * 7_000))  // staggered: the other is always in a read
                do {
                    while !flags.stop.load(ordering: .relaxed) {
                        try reader.inDatabase { db in
                            // One snapshot held for a while, as a report's query holds it.
                            try db.execute(sql: "BEGIN DEFERRED")
                            _ = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM records")
                            flags.sample(wal)
                            usleep(15_000)
                            try db.execute(sql: "COMMIT")
                        }
                    }
                } catch {
                    flags.failure.withLock { $0 = "\(error)" }
                }
            }
        }
        func joinReaders() async {
            flags.stop.store(true, ordering: .relaxed)
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                finished.notify(queue: .global()) { c.resume() }
            }
        }
        var written = 1
        do {
            for b in 0..<batches {
                let records = (0..<batchSize).map { Sample.joined(b * batchSize + $0, meeting: "meeting-\(b % 7)", at: Int64(b)) }
                let outcomes = try await store.commit(records, receivedAt: Sample.t0)
                written += outcomes.filter { $0 == .stored }.count
                flags.sample(wal)
            }
        } catch {
            await joinReaders()
            throw error
        }
        await joinReaders()
        if let failure = flags.failure.withLock({ $0 }) { throw WALTestError(description: "a reader failed: \(failure)") }
        let count = try await store.count()
        #expect(count == written)
        try store.close()
        return (flags.largest.load(ordering: .relaxed), count)
    }

    @Test func theLogStaysBoundedWhileReadsOverlap() async throws {
        // The control, with SQLite alone (the code before): the log grows with every write.
        let unchecked = try await Self.largestWAL(walCheckpointBytes: nil)
        #expect(unchecked.records == Self.batches * Self.batchSize + 1)
        #expect(unchecked.largest > 4 * Self.threshold,
                "the load starves SQLite's own checkpoints (largest log \(unchecked.largest) bytes), or this test proves nothing")
        // With the checkpoint: the log is cut back each time it passes the threshold.
        let checked = try await Self.largestWAL(walCheckpointBytes: Self.threshold)
        #expect(checked.records == Self.batches * Self.batchSize + 1)
        // A checkpoint that readers hold back is tried again after another quarter of the
        // threshold, so on a loaded machine a few attempts in a row may wait: bounded all the same.
        #expect(checked.largest <= 4 * Self.threshold, "largest log \(checked.largest) bytes; threshold \(Self.threshold)")
        print("write-ahead log, largest: \(unchecked.largest) bytes without checkpoints, \(checked.largest) bytes with (threshold \(Self.threshold))")
    }
}

struct WALTestError: Error, CustomStringConvertible { var description: String }

/// What the reader threads and the writer share.
final class Flags: Sendable {
    let stop = Atomic<Bool>(false)
    let largest = Atomic<Int>(0)
    let failure = Mutex<String?>(nil)

    /// Notes the size of the `-wal` file now.
    func sample(_ wal: String) {
        var st = stat()
        guard stat(wal, &st) == 0 else { return }
        let size = Int(st.st_size)
        var current = largest.load(ordering: .relaxed)
        while size > current {
            let (exchanged, original) = largest.compareExchange(expected: current, desired: size, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }
}
