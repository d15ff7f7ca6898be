import Foundation
import Logging
import RecordStorage
import TestPostgres
import Testing
import UsageRecords
import Workloads

/// Issue 16: a month of records in SQLite is moved to PostgreSQL with `meetmeter store copy`
/// (run twice: the second run adds nothing), and then every reading command prints byte for byte
/// the same from either engine.
@Suite(.serialized, .postgresServer, .enabled(if: PostgresServer.available, PostgresServer.unavailableReason))
struct StoreEnginesTests {
    /// November 2026 and the first days of December on three hosts, received in batches as an aggregator would have, the last of
    /// them after the month closed; and one conflicting copy.
    static func fillSQLite(_ path: String) async throws -> Int {
        let shape = SyntheticUsage.Shape(hosts: 3, days: 33, firstDay: CivilDate(year: 2026, month: 11, day: 1),
                                         meetingsPerHostPerDay: 3, peoplePerMeeting: 6, heartbeatSeconds: 1800,
                                         storageSampleSeconds: 6 * 3600, accounts: 5)
        let records = SyntheticUsage.records(shape)
        var logger = Logger(label: "meetmeter.tests.store-engines")
        logger.logLevel = .critical
        try await RecordStores.withStore(.sqlite(path: path), logger: logger) { store in
            var start = 0
            while start < records.count {
                let batch = Array(records[start..<min(start + 997, records.count)])
                let late = start + batch.count == records.count
                let received = late ? Timestamp(rfc3339: "2026-12-05T09:30:00.123456Z")!
                    : (batch.map(\.time).max() ?? Timestamp(seconds: 0)).adding(microseconds: 1_500_123)
                _ = try await store.commit(batch, receivedAt: received)
                start += batch.count
            }
            var other = records[records.count / 2]
            other.time = other.time.adding(seconds: 1)
            let outcome = try await store.commit([other], receivedAt: Timestamp(rfc3339: "2026-11-20T00:00:00Z")!)
            #expect(outcome == [.conflict], "a copy with the id of a held record and other content is kept apart")
        }
        return Set(records.map(\.id)).count
    }

    @Test(.timeLimit(.minutes(10)))
    func aCopiedStoreReportsByteForByteTheSame() async throws {
        guard let server = PostgresServer.current else { throw HarnessError("no PostgreSQL server") }
        let dir = try Paths.temporaryDirectory("store-engines")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sqlite = dir + "/records.sqlite"
        let count = try await Self.fillSQLite(sqlite)
        let url = try server.createDatabase()
        let meetmeter = Paths.binary("meetmeter")

        let copy = ["store", "copy", "--from", sqlite, "--to", url, "--to-password-file", server.passwordFile]
        let first = try await run(meetmeter, copy, timeout: 300)
        #expect(first.status == 0, "store copy: \(first.err)")
        #expect(first.out == """
            records: \(count) read, \(count) added, 0 already held
            conflicting copies: 1 read, 1 added, 0 already held

            """)
        #expect(first.err.contains("of \(count) records read (100%)"), "a progress line: \(first.err)")
        // Run again (as after an interruption): everything is already there.
        let second = try await run(meetmeter, copy, timeout: 300)
        #expect(second.status == 0, "store copy again: \(second.err)")
        #expect(second.out == """
            records: \(count) read, 0 added, \(count) already held
            conflicting copies: 1 read, 0 added, 1 already held

            """)

        let agents = "[[agents]]\nhost = \"bbb0\"\ntoken = \"store-engines-token-0123456789\"\n"
        let onSQLite = dir + "/aggregator-sqlite.toml"
        let onPostgres = dir + "/aggregator-postgresql.toml"
        try "[store]\npath = \"\(sqlite)\"\n\(agents)".write(toFile: onSQLite, atomically: true, encoding: .utf8)
        try "[store]\nurl = \"\(url)\"\npassword_file = \"\(server.passwordFile)\"\n\(agents)"
            .write(toFile: onPostgres, atomically: true, encoding: .utf8)

        let asOf = ["--as-of", "2026-12-02T00:00:00Z"]
        let commands: [[String]] = [
            ["report", "--period", "2026-11"],
            ["report", "--period", "2026-11", "--format", "json"],
            ["report", "--period", "2026-W47", "--format", "csv"],
            ["report", "--period", "2026-11-20"],
        ] + PolicyPresetName.all.flatMap { preset in
            [
                ["report", "--period", "2026-11", "--policy", "preset:\(preset)"] + asOf,
                ["report", "--period", "2026-11", "--policy", "preset:\(preset)", "--rerate"],
                ["report", "--period", "2026-12", "--policy", "preset:\(preset)", "--format", "csv", "--as-of", "2026-12-06T00:00:00Z"],
            ]
        } + [
            ["report", "--period", "2026-11", "--policy", "preset:hosting", "--format", "json"] + asOf,
            ["report", "--period", "2026-11", "--policy", "preset:hosting", "--format", "stripe"] + asOf,
            ["records", "--period", "2026-11"],
            ["records", "--period", "2026-11", "--conflicts"],
        ]
        for command in commands {
            let a = try await run(meetmeter, command + ["--config", onSQLite], timeout: 300)
            let b = try await run(meetmeter, command + ["--config", onPostgres], timeout: 300)
            let shown = command.joined(separator: " ")
            #expect(a.status == 0, "\(shown) on SQLite: \(a.err)")
            #expect(b.status == 0, "\(shown) on PostgreSQL: \(b.err)")
            #expect(!a.out.isEmpty, "\(shown) prints something")
            #expect(a.out == b.out, "\(shown): the same bytes from both engines")
        }
    }

    /// The exit statuses an operator scripts against.
    @Test func aCopyThatCannotReadOrWriteSaysWhichSide() async throws {
        guard let server = PostgresServer.current else { throw HarnessError("no PostgreSQL server") }
        let dir = try Paths.temporaryDirectory("store-copy-errors")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let meetmeter = Paths.binary("meetmeter")
        let missing = try await run(meetmeter, ["store", "copy", "--from", dir + "/none.sqlite", "--to", dir + "/to.sqlite"])
        #expect(missing.status == 66, "an unreadable source: \(missing.err)")
        #expect(missing.err.contains("none.sqlite"))

        let sqlite = dir + "/from.sqlite"
        var logger = Logger(label: "meetmeter.tests.store-engines")
        logger.logLevel = .critical
        try await RecordStores.withStore(.sqlite(path: sqlite), logger: logger) { _ in }
        let unwritable = try await run(meetmeter, ["store", "copy", "--from", sqlite, "--to", dir + "/no/such/folder/to.sqlite"])
        #expect(unwritable.status == 73, "a destination that cannot be created: \(unwritable.err)")
        #expect(unwritable.err.contains("no/such/folder"))

        let refused = try await run(meetmeter, ["store", "copy", "--from", sqlite, "--to", server.url("no_such_database"),
                                                "--to-password-file", server.passwordFile])
        #expect(refused.status == 73, "a database that does not exist: \(refused.err)")

        let same = try await run(meetmeter, ["store", "copy", "--from", sqlite, "--to", sqlite])
        #expect(same.status == 64, "the same store twice: \(same.err)")
        let badURL = try await run(meetmeter, ["store", "copy", "--from", sqlite, "--to", "postgresql://nobody@/"])
        #expect(badURL.status == 64, "a URL that is not one: \(badURL.err)")

        // An empty source copies nothing and says so.
        let empty = try await run(meetmeter, ["store", "copy", "--from", sqlite, "--to", dir + "/to.sqlite"])
        #expect(empty.status == 0, "\(empty.err)")
        #expect(empty.out.hasPrefix("records: 0 read, 0 added, 0 already held\n"))
    }
}

/// The presets by the names the command line takes.
enum PolicyPresetName {
    static let all = ["live-collaboration", "whiteboard", "hosting"]
}
