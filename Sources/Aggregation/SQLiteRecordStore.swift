import GRDB
import UsageRecords

/// The embedded store: one SQLite file in WAL mode, written with `synchronous = FULL` so that a
/// commit the listener has acknowledged survives a power cut, not only a crash of the process.
///
/// Each record is kept as its canonical line (`RecordCodec.encode`), unchanged, beside the columns
/// the queries need. Reads run on GRDB's reader connections and never wait for a write.
public final class SQLiteRecordStore: RecordStore {
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// With `readOnly`, nothing is created or migrated, for `meetmeter report` beside a running
    /// aggregator.
    public init(path: String, readOnly: Bool = false) throws(StoreError) {
        self.path = path
        var configuration = Configuration()
        configuration.label = "meetmeter-store"
        configuration.readonly = readOnly
        // Another process (meetmeter report, a backup) may hold a lock for a moment.
        configuration.busyMode = .timeout(10)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError(.cannotOpen, path: path, Self.reason(error))
        }
        if readOnly { return }
        do {
            // GRDB switches a pool to WAL with synchronous = NORMAL, which may lose the last commits
            // on power loss. The writer is one long-lived connection, so setting it here holds.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
        } catch {
            throw StoreError(.cannotOpen, path: path, Self.reason(error))
        }
        do {
            try Self.migrator.migrate(pool)
        } catch {
            throw StoreError(.cannotMigrate, path: path, Self.reason(error))
        }
    }

    /// Closes the connections. Later calls fail.
    public func close() throws(StoreError) {
        do {
            try pool.close()
        } catch {
            throw StoreError(.failed, path: path, "cannot close: \(Self.reason(error))")
        }
    }

    /// The schema, one named step at a time. Never change a released migration; add one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-records") { db in
            try db.execute(sql: """
                CREATE TABLE records (
                    id TEXT PRIMARY KEY NOT NULL,
                    kind TEXT NOT NULL,
                    time_us INTEGER NOT NULL,
                    host TEXT NOT NULL,
                    meeting TEXT,
                    received_us INTEGER NOT NULL,
                    line TEXT NOT NULL
                );
                CREATE INDEX records_time ON records(time_us);
                CREATE INDEX records_meeting ON records(meeting, time_us) WHERE meeting IS NOT NULL;
                CREATE INDEX records_host ON records(host, time_us);
                CREATE INDEX records_received ON records(received_us);
                """)
        }
        return migrator
    }

    /// The synchronous setting of the writer connection (2 is FULL), for tests and `--check-config`.
    public func synchronousMode() throws(StoreError) -> Int {
        do {
            return try pool.writeWithoutTransaction { db in
                try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            }
        } catch {
            throw StoreError(.failed, path: path, Self.reason(error))
        }
    }

    // MARK: RecordStore

    public func store(_ records: [UsageRecord], receivedAt: Timestamp) async throws -> [WireProtocol.Status] {
        if records.isEmpty { return [] }
        let rows = records.map { StoredRow($0) }
        let received = receivedAt.microseconds
        do {
            // One transaction a batch: the statuses exist only once it has committed.
            return try await pool.write { db in
                let insert = try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO records (id, kind, time_us, host, meeting, received_us, line)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
                var statuses: [WireProtocol.Status] = []
                statuses.reserveCapacity(rows.count)
                for row in rows {
                    try insert.execute(arguments: [row.id, row.kind, row.time, row.host, row.meeting, received, row.line])
                    statuses.append(db.changesCount == 1 ? .stored : .duplicate)
                }
                return statuses
            }
        } catch {
            throw StoreError(.failed, path: path, "cannot store \(records.count) records: \(Self.reason(error))")
        }
    }

    public func records(from: Timestamp, to: Timestamp) async throws -> [UsageRecord] {
        try await lines(
            sql: "SELECT id, line FROM records WHERE time_us >= ? AND time_us < ? ORDER BY time_us, id",
            arguments: [from.microseconds, to.microseconds])
    }

    public func records(overlapping from: Timestamp, to: Timestamp) async throws -> [UsageRecord] {
        // Besides the meetings' own records, the heartbeats of their hosts from the earliest
        // start on: a meeting that never ended on a host that crashed is closed at that host's
        // last sign of life, which may lie before the period, not at some later record in it.
        try await lines(
            sql: """
                WITH overlapping AS (
                    SELECT meeting, MIN(time_us) AS first FROM records WHERE meeting IS NOT NULL
                    GROUP BY meeting
                    HAVING MIN(time_us) < :to
                       AND (MAX(time_us) >= :from OR SUM(kind = 'meeting.ended') = 0)
                ),
                hosts AS (
                    SELECT DISTINCT host FROM records WHERE meeting IN (SELECT meeting FROM overlapping)
                )
                SELECT id, line FROM records
                WHERE (time_us >= :from AND time_us < :to)
                   OR meeting IN (SELECT meeting FROM overlapping)
                   OR (kind = 'host.heartbeat' AND host IN hosts AND time_us < :to
                       AND time_us >= (SELECT MIN(first) FROM overlapping))
                ORDER BY time_us, id
                """,
            arguments: ["from": from.microseconds, "to": to.microseconds])
    }

    /// All records of the given meetings, whatever their time, ordered by time, then id: the
    /// drill-down from a statement line to the facts behind it.
    public func records(meetings: [String]) async throws -> [UsageRecord] {
        if meetings.isEmpty { return [] }
        let marks = Array(repeating: "?", count: meetings.count).joined(separator: ",")
        return try await lines(
            sql: "SELECT id, line FROM records WHERE meeting IN (\(marks)) ORDER BY time_us, id",
            arguments: StatementArguments(meetings))
    }

    /// The records from one host in `[from, to)`, ordered by time, then id.
    public func records(host: String, from: Timestamp, to: Timestamp) async throws -> [UsageRecord] {
        try await lines(
            sql: "SELECT id, line FROM records WHERE host = ? AND time_us >= ? AND time_us < ? ORDER BY time_us, id",
            arguments: [host, from.microseconds, to.microseconds])
    }

    /// The records whose source time is in `[from, to)` with the time each was received, ordered
    /// by time, then id: the lag of every record, and what arrived late for a closed period.
    public func storedRecords(from: Timestamp, to: Timestamp) async throws -> [StoredRecord] {
        try await stored(sql: "SELECT id, line, received_us FROM records WHERE time_us >= ? AND time_us < ? ORDER BY time_us, id",
                         from: from, to: to)
    }

    /// The records received in `[from, to)` by the aggregator's clock, whatever their source time,
    /// ordered by reception, then id: what arrived after a period was closed.
    public func storedRecords(receivedFrom from: Timestamp, to: Timestamp) async throws -> [StoredRecord] {
        try await stored(sql: "SELECT id, line, received_us FROM records WHERE received_us >= ? AND received_us < ? ORDER BY received_us, id",
                         from: from, to: to)
    }

    /// The rows `sql` (id, line, received_us; bound to `from` and `to`) selects, decoded.
    private func stored(sql: String, from: Timestamp, to: Timestamp) async throws -> [StoredRecord] {
        let rows: [(String, String, Int64)]
        do {
            rows = try await pool.read { db in
                try Row.fetchAll(db, sql: sql, arguments: [from.microseconds, to.microseconds])
                    .map { ($0[0] as String, $0[1] as String, $0[2] as Int64) }
            }
        } catch {
            throw StoreError(.failed, path: path, "cannot read records: \(Self.reason(error))")
        }
        return try rows.map { id, line, received in
            StoredRecord(record: try decode(id: id, line: line), receivedAt: Timestamp(microseconds: received))
        }
    }

    /// A trivial read through the pool: proves the store answers (for the watchdog).
    public func ping() async throws {
        do {
            _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
        } catch {
            throw StoreError(.failed, path: path, "does not answer: \(Self.reason(error))")
        }
    }

    public func count() async throws -> Int {
        do {
            return try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM records") ?? 0 }
        } catch {
            throw StoreError(.failed, path: path, "cannot count records: \(Self.reason(error))")
        }
    }

    public func hostHealth() async throws -> [HostHealth] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT host, MAX(time_us) AS last_time, MAX(received_us) AS last_received,
                           MAX(CASE WHEN kind = 'host.heartbeat' THEN time_us END) AS last_heartbeat,
                           COUNT(*) AS n
                    FROM records GROUP BY host ORDER BY host
                    """).map { row in
                    HostHealth(
                        host: row["host"],
                        lastRecordTime: Timestamp(microseconds: row["last_time"]),
                        lastReceived: Timestamp(microseconds: row["last_received"]),
                        lastHeartbeat: (row["last_heartbeat"] as Int64?).map { Timestamp(microseconds: $0) },
                        recordCount: row["n"])
                }
            }
        } catch {
            throw StoreError(.failed, path: path, "cannot read host health: \(Self.reason(error))")
        }
    }

    // MARK: Reading

    func lines(sql: String, arguments: StatementArguments) async throws -> [UsageRecord] {
        let rows: [(String, String)]
        do {
            rows = try await pool.read { db in
                try Row.fetchAll(db, sql: sql, arguments: arguments).map { ($0[0] as String, $0[1] as String) }
            }
        } catch {
            throw StoreError(.failed, path: path, "cannot read records: \(Self.reason(error))")
        }
        var records: [UsageRecord] = []
        records.reserveCapacity(rows.count)
        for (id, line) in rows { records.append(try decode(id: id, line: line)) }
        return records
    }

    private func decode(id: String, line: String) throws(StoreError) -> UsageRecord {
        do {
            return try RecordCodec.decode(line)
        } catch {
            throw StoreError(.corrupt, path: path, "record \(id): \(error)")
        }
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message ?? "\(error.resultCode)"
        }
        return "\(error)"
    }
}

/// The columns of one record, worked out before the write transaction so that it stays short.
struct StoredRow: Sendable {
    var id: String
    var kind: String
    var time: Int64
    var host: String
    var meeting: String?
    var line: String

    init(_ record: UsageRecord) {
        id = record.id.rawValue
        kind = record.kind.rawValue
        time = record.time.microseconds
        host = record.host
        // A kind this version does not know may still name its meeting.
        meeting = record.payload.meeting ?? record.extra["meeting"]?.stringValue
        line = RecordCodec.encode(record)
    }
}
