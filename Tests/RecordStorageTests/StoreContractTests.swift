import Foundation
import Logging
import RecordStorage
import TestPostgres
import Testing
import UsageRecords

/// The two engines, for tests that run against both.
enum Engine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgresql
    var testDescription: String { rawValue }
}

let quietLogger: Logger = {
    var logger = Logger(label: "meetmeter.storage.tests")
    logger.logLevel = .critical
    return logger
}()

/// A fresh store of `engine` for the time of `body`: a SQLite file in a new folder, or a new
/// database on the suite's PostgreSQL server, logging in with the password file.
func withFreshStore<T: Sendable>(_ engine: Engine, _ body: (any RecordStore) async throws -> T) async throws -> T {
    try await RecordStores.withStore(try freshLocation(engine), logger: quietLogger, body)
}

func freshLocation(_ engine: Engine) throws -> StoreLocation {
    switch engine {
    case .sqlite:
        let folder = NSTemporaryDirectory() + "meetmeter-storage-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return .sqlite(path: folder + "/records.sqlite")
    case .postgresql:
        guard let server = PostgresServer.current else { throw TestFailure("no PostgreSQL server in this suite") }
        return .postgresql(try PostgresAddress(url: try server.createDatabase(), passwordFile: server.passwordFile).patient)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Records as an agent would make them, with ids and names that sort differently bytewise than
/// by a locale (upper case before lower case, non-ASCII after both).
enum Facts {
    static let t0 = Timestamp(rfc3339: "2026-11-02T09:00:00Z")!

    static func record(_ id: String, _ payload: Payload, host: String = "bbb1", at seconds: Int64) -> UsageRecord {
        UsageRecord(id: RecordID(rawValue: id), time: t0.adding(seconds: seconds), host: host, payload: payload)
    }

    static func joined(_ user: String, meeting: String = "m1", host: String = "bbb1", at seconds: Int64) -> UsageRecord {
        // Ids are printable ASCII (as agents make them); the user's name keeps its letters.
        let idUser = user.unicodeScalars.map { $0.isASCII ? String($0) : "%" + String($0.value, radix: 16) }.joined()
        return record("\(host):j:\(meeting):\(idUser)", .userJoined(UserJoined(meeting: meeting, user: user, role: "VIEWER")), host: host, at: seconds)
    }

    /// A small day: two meetings on two hosts, one still open, heartbeats, a sample, ids that a
    /// locale would order differently from bytes, all at a few shared times.
    static let day: [UsageRecord] = {
        var records: [UsageRecord] = [
            record("bbb1:s:m1", .meetingStarted(MeetingStarted(meeting: "m1", name: "Ünïcode \"quoted\" \\ name")), at: 0),
            record("bbb2:s:m2", .meetingStarted(MeetingStarted(meeting: "m2")), host: "bbb2", at: 0),
            record("bbb1:h:1", .hostHeartbeat(HostHeartbeat(boot: "b1", size: "s", interval: 60)), at: 30),
            record("bbb2:h:1", .hostHeartbeat(HostHeartbeat(boot: "b2", size: "s", interval: 60)), host: "bbb2", at: 30),
            record("bbb1:e:m1", .meetingEnded(MeetingEnded(meeting: "m1")), at: 7200),
            record("bbb1:st:1", .storageSample(StorageSample(scope: "recording", key: "r1", meeting: "m1", bytes: 1 << 30)), at: 7300),
        ]
        for user in ["Zoë", "alice", "Bob", "émile", "_x", "0"] {
            records.append(joined(user, at: 60))
            records.append(joined(user, meeting: "m2", host: "bbb2", at: 60))
        }
        return records
    }()
}

@Suite(.postgresServer, .enabled(if: PostgresServer.available, PostgresServer.unavailableReason))
struct StoreContractTests {
    let received = Timestamp(rfc3339: "2026-11-02T12:00:00Z")!

    @Test(arguments: Engine.allCases)
    func theSameIdTwiceIsStoredOnce(engine: Engine) async throws {
        try await withFreshStore(engine) { (store) async throws in
            let r = Facts.joined("u1", at: 0)
            #expect(try await store.store([r], receivedAt: received) == [.stored])
            #expect(try await store.store([r], receivedAt: received.adding(seconds: 5)) == [.duplicate])
            #expect(try await store.count() == 1)
            // The first copy is kept, with the time it was first received.
            #expect(try await store.hostHealth().map(\.lastReceived) == [received])
        }
    }

    @Test(arguments: Engine.allCases)
    func aBatchTellsNewResentAndConflicting(engine: Engine) async throws {
        try await withFreshStore(engine) { (store) async throws in
            let a = Facts.joined("a", at: 0)
            let b = Facts.joined("b", at: 0)
            _ = try await store.commit([a], receivedAt: received)
            // b's id with other content: a conflict, in the same batch as its first copy.
            var otherB = b
            otherB.time = b.time.adding(seconds: 1)
            var otherA = a
            otherA.host = "bbb1"
            otherA.time = a.time.adding(seconds: 9)
            let outcomes = try await store.commit([a, b, b, otherB, otherA, otherA], receivedAt: received)
            #expect(outcomes == [.duplicate, .stored, .duplicate, .conflict, .conflict, .conflict])
            #expect(try await store.count() == 2)
            // Conflicting copies are kept once per distinct line, with how often they came.
            let counts = try await store.conflictCounts()
            #expect(counts.distinct == 2 && counts.arrivals == 3)
            let kept = try await store.conflicts(limit: 10)
            #expect(Set(kept.map(\.id)) == [a.id.rawValue, b.id.rawValue])
            #expect(kept.first { $0.id == a.id.rawValue }?.count == 2)
            #expect(try await store.commit([], receivedAt: received) == [])
        }
    }

    /// Everything a report reads comes back the same, in the same order, from both engines.
    @Test func bothEnginesAnswerTheSame() async throws {
        func answers(_ engine: Engine) async throws -> [String] {
            try await withFreshStore(engine) { (store) async throws in
                // In three batches, one of them resent, as agents would.
                let day = Facts.day
                _ = try await store.commit(Array(day[0..<7]), receivedAt: received)
                _ = try await store.commit(Array(day[5...]), receivedAt: received.adding(seconds: 10))
                _ = try await store.commit(Array(day[3..<9]), receivedAt: received.adding(seconds: 20))
                var conflicting = day[2]
                conflicting.time = conflicting.time.adding(seconds: 1)
                _ = try await store.commit([conflicting], receivedAt: received.adding(seconds: 30))
                let from = Facts.t0.adding(seconds: 50)
                let to = Facts.t0.adding(seconds: 7250)
                var out: [String] = []
                out += try await store.records(from: from, to: to).map(RecordCodec.encode)
                out.append("--")
                out += try await store.records(overlapping: from, to: to).map(RecordCodec.encode)
                out.append("--")
                out += try await store.records(meetings: ["m2", "m1"]).map(RecordCodec.encode)
                out.append("--")
                out += try await store.records(host: "bbb2", from: Facts.t0, to: to).map(RecordCodec.encode)
                out.append("--")
                out += try await store.storedRecords(from: Facts.t0, to: to).map { "\($0.receivedAt.microseconds) \(RecordCodec.encode($0.record))" }
                out.append("--")
                out += try await store.storedRecords(receivedFrom: received.adding(seconds: 5), to: received.adding(seconds: 25))
                    .map { "\($0.receivedAt.microseconds) \($0.record.id.rawValue)" }
                out.append("--")
                out += try await store.hostHealth().map { "\($0)" }
                out += try await store.conflicts(from: Facts.t0, to: to).map { "\($0)" }
                out.append("\(try await store.count())")
                return out
            }
        }
        let sqlite = try await answers(.sqlite)
        let postgresql = try await answers(.postgresql)
        #expect(sqlite.count > 40)
        #expect(sqlite == postgresql)
    }

    @Test(arguments: [(Engine.sqlite, Engine.postgresql), (.postgresql, .sqlite)])
    func rowsCopyAsTheyAre(from: Engine, to: Engine) async throws {
        let source = try freshLocation(from)
        let target = try freshLocation(to)
        let day = Facts.day
        try await RecordStores.withStore(source, logger: quietLogger) { (store) async throws in
            _ = try await store.commit(Array(day[0..<5]), receivedAt: received)
            _ = try await store.commit(Array(day[5...]), receivedAt: received.adding(seconds: 1))
            var conflicting = day[1]
            conflicting.time = conflicting.time.adding(seconds: 1)
            _ = try await store.commit([conflicting, conflicting], receivedAt: received.adding(seconds: 2))
        }
        let (rows, conflicts) = try await RecordStores.withStore(source, readOnly: true, logger: quietLogger) { (store) async throws in
            var rows: [RecordRow] = []
            var after: String?
            while true {
                let page = try await store.rows(after: after, limit: 5)
                if page.isEmpty { break }
                rows += page
                after = page.last?.id
            }
            return (rows, try await store.conflictRows(after: nil, limit: 100))
        }
        #expect(rows.count == day.count)
        #expect(rows.map(\.id) == rows.map(\.id).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        try await RecordStores.withStore(target, logger: quietLogger) { (store) async throws in
            #expect(try await store.insert(rows: Array(rows[0..<7])) == 7)
            // Again, and the rest: what is there already is skipped.
            #expect(try await store.insert(rows: rows) == rows.count - 7)
            #expect(try await store.insert(conflictRows: conflicts) == 1)
            #expect(try await store.insert(conflictRows: conflicts) == 0)
            #expect(try await store.rows(after: nil, limit: 1000) == rows)
            #expect(try await store.conflictRows(after: nil, limit: 100) == conflicts)
            #expect(try await store.conflictCounts().arrivals == 2)
        }
    }
}
