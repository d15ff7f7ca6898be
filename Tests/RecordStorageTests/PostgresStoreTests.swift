import Aggregation
import Foundation
import Logging
import Synchronization
import RecordStorage
import TestPostgres
import Testing
import UsageRecords

/// What only PostgreSQL has: several aggregators on one database, logins, a server that goes away.
@Suite(.postgresServer, .enabled(if: PostgresServer.available, PostgresServer.unavailableReason))
struct PostgresStoreTests {
    let received = Timestamp(rfc3339: "2026-11-02T12:00:00Z")!

    /// Two stores (two aggregators) commit overlapping batches at once: every id is stored by
    /// exactly one of them, and the database holds each once.
    @Test func twoWritersStoreEachIdOnce() async throws {
        guard let server = PostgresServer.current else { throw TestFailure("no server") }
        let location = StoreLocation.postgresql(try PostgresAddress(url: try server.createDatabase(), passwordFile: server.passwordFile).patient)
        let ids = 0..<2_000
        let records = ids.map { Facts.joined("u\($0)", at: Int64($0)) }
        let stored = try await RecordStores.withStore(location, logger: quietLogger) { (a) async throws in
            try await RecordStores.withStore(location, logger: quietLogger) { (b) async throws in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for (writer, store) in [(0, a), (1, b), (2, a), (3, b)] {
                        group.addTask {
                            var stored = 0
                            // Each writer goes through all records in batches of its own size and order.
                            let order = writer % 2 == 0 ? records : records.reversed()
                            let size = 50 + writer * 37
                            var i = 0
                            while i < order.count {
                                let batch = Array(order[i..<min(i + size, order.count)])
                                stored += try await store.commit(batch, receivedAt: received).filter { $0 == .stored }.count
                                i += size
                            }
                            return stored
                        }
                    }
                    return try await group.reduce(0, +)
                }
            }
        }
        #expect(stored == ids.count)
        let count = try server.psql(try #require(location.description.split(separator: "/").last?.split(separator: "?").first.map(String.init)),
                                    "SELECT COUNT(*), COUNT(DISTINCT id) FROM records")
        #expect(count.trimmingCharacters(in: .whitespacesAndNewlines) == "\(ids.count)|\(ids.count)")
    }

    @Test func aWrongPasswordIsRefusedWithTheReason() async throws {
        guard let server = PostgresServer.current else { throw TestFailure("no server") }
        let file = NSTemporaryDirectory() + "meetmeter-wrong-\(UUID().uuidString.prefix(6))"
        try "not-the-password\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let location = StoreLocation.postgresql(try PostgresAddress(url: try server.createDatabase(), passwordFile: file))
        do {
            try await RecordStores.withStore(location, logger: quietLogger) { (_) async throws in }
            Issue.record("opened with a wrong password")
        } catch let error as StoreError {
            #expect(error.code == .cannotOpen)
            #expect("\(error)".contains("password authentication failed"), "\(error)")
            #expect(!"\(error)".contains("not-the-password"))
        }
    }

    @Test func readingNeedsTheSchemaAndSaysSo() async throws {
        guard let server = PostgresServer.current else { throw TestFailure("no server") }
        let location = StoreLocation.postgresql(try PostgresAddress(url: try server.createDatabase(), passwordFile: server.passwordFile).patient)
        do {
            try await RecordStores.withStore(location, readOnly: true, logger: quietLogger) { (_) async throws in }
            Issue.record("read a database without a schema")
        } catch let error as StoreError {
            #expect("\(error)".contains("holds no meetmeter schema"), "\(error)")
        }
        // Several aggregators starting at once migrate it once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { try await RecordStores.withStore(location, logger: quietLogger) { (_) async throws in } } }
            try await group.waitForAll()
        }
        let name = try #require(location.description.split(separator: "/").last?.split(separator: "?").first.map(String.init))
        #expect(try server.psql(name, "SELECT COUNT(*) FROM meetmeter_migrations").contains("2"))
        try await RecordStores.withStore(location, readOnly: true, logger: quietLogger) { (store) async throws in
            #expect(try await store.count() == 0)
        }
    }
}

/// A database that stops answering, in a suite of its own since it stops its server (one test at
/// a time for the same reason).
@Suite(.serialized, .postgresServer, .enabled(if: PostgresServer.available, PostgresServer.unavailableReason))
struct PostgresOutageTests {
    @Test func commitsFailWhileTheServerIsDownAndWorkAfter() async throws {
        guard let server = PostgresServer.current else { throw TestFailure("no server") }
        let address = try PostgresAddress(url: try server.createDatabase(), passwordFile: server.passwordFile)
        // The schema first, patiently (a busy machine's migration may be slow); the bound under test is the commits'.
        try await RecordStores.withStore(.postgresql(address.patient), logger: quietLogger) { (_) async throws in }
        let location = StoreLocation.postgresql(address)
        let t = Timestamp(rfc3339: "2026-11-02T12:00:00Z")!
        try await RecordStores.withStore(location, logger: quietLogger) { (store) async throws in
            #expect(try await store.commit([Facts.joined("a", at: 0)], receivedAt: t) == [.stored])
            try server.stopServer(crash: true)
            let started = ContinuousClock.now
            do {
                _ = try await store.commit([Facts.joined("b", at: 0)], receivedAt: t)
                Issue.record("a commit succeeded with the server down")
            } catch let error as StoreError {
                #expect(error.code == .failed)
                #expect("\(error)".contains("cannot store 1 records"), "\(error)")
            }
            #expect(ContinuousClock.now - started < .seconds(40))
            try server.startServer()
            // The pool reconnects; the record that failed is sent again, as an agent would.
            var outcome: [StoreOutcome] = []
            for _ in 0..<60 where outcome.isEmpty {
                if let o = try? await store.commit([Facts.joined("b", at: 0)], receivedAt: t) { outcome = o } else {
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
            #expect(outcome == [.stored])
            #expect(try await store.count() == 2)
        }
    }

    /// Many connections commit through one group commit while the server crashes and comes back:
    /// every commit ends (failed or stored) within the operation bound, and afterwards they work.
    @Test(.timeLimit(.minutes(3))) func concurrentCommitsEndWhenTheServerCrashesAndWorkAfter() async throws {
        guard let server = PostgresServer.current else { throw TestFailure("no server") }
        let address = try PostgresAddress(url: try server.createDatabase(), passwordFile: server.passwordFile)
        // The schema first, patiently (a busy machine's migration may be slow); the bound under test is the commits'.
        try await RecordStores.withStore(.postgresql(address.patient), logger: quietLogger) { (_) async throws in }
        let location = StoreLocation.postgresql(address)
        let t = Timestamp(rfc3339: "2026-11-02T12:00:00Z")!
        try await RecordStores.withStore(location, logger: quietLogger) { (store) async throws in
            let group = GroupCommit(store)
            let stop = StopFlag()
            // Sixteen writers, each its own ids, retrying a failed batch as an agent would.
            let writers = (0..<16).map { w in
                Task { () -> (stored: Int, longest: Duration) in
                    var n = 0, stored = 0
                    var longest: Duration = .zero
                    while !stop.isSet || n < 20 {
                        let batch = (0..<50).map { Facts.joined("w\(w)-\(n)-\($0)", at: 0) }
                        let began = ContinuousClock.now
                        if let outcomes = try? await group.commit(batch, receivedAt: t) {
                            stored += outcomes.filter { $0 == .stored }.count
                            n += 1
                        } else {
                            try? await Task.sleep(for: .milliseconds(100))
                        }
                        longest = max(longest, ContinuousClock.now - began)
                    }
                    return (stored, longest)
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            try server.stopServer(crash: true)
            try await Task.sleep(for: .seconds(2))
            try server.startServer()
            try await Task.sleep(for: .milliseconds(300))
            stop.set()
            var stored = 0
            for writer in writers {
                let r = await writer.value
                stored += r.stored
                #expect(r.longest < .seconds(40), "one commit took \(r.longest)")
            }
            #expect(try await store.count() == stored)
        }
    }
}

final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}
