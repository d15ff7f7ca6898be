#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#elseif canImport(SQLite3)
import SQLite3
#endif
import Synchronization
import UsageRecords

/// The embedded store: one SQLite file in WAL mode, written with `synchronous = FULL` so that a
/// commit the listener has acknowledged survives a power cut, not only a crash of the process.
///
/// Each record is kept as its canonical line (`RecordCodec.encode`), unchanged, beside the columns
/// the queries need. Reads run on GRDB's reader connections and never wait for a write.
///
/// The write-ahead log is kept small: SQLite's own checkpoints never wait for readers, so while
/// reads overlap without a gap (the listener, `/health`, `meetmeter report`) the log is never
/// reset and grows with every write, until a small disk is full. Once it passes
/// `walCheckpointBytes`, a write is followed by a `TRUNCATE` checkpoint, which waits a moment for
/// the readers and empties the file.
public final class SQLiteRecordStore: RecordStore {
    public static let defaultWALCheckpointBytes = 16 << 20

    public let path: String
    public var location: String { path }
    let pool: DatabasePool
    /// The `-wal` size that triggers a truncating checkpoint; nil leaves it to SQLite alone.
    public let walCheckpointBytes: Int?
    /// The `-wal` size at which a checkpoint last found readers in the way: the next attempt
    /// waits until the log has grown by another quarter of the threshold, so that a long report
    /// does not make every write wait.
    private let walBusyAt = Mutex<Int?>(nil)
    /// How long a checkpoint waits for readers, in milliseconds (writes wait meanwhile).
    static let checkpointWaitMilliseconds = 2_000
    static let busyTimeoutMilliseconds = 10_000

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// With `readOnly`, nothing is created or migrated, for `meetmeter report` beside a running
    /// aggregator.
    public init(path: String, readOnly: Bool = false, walCheckpointBytes: Int? = defaultWALCheckpointBytes) throws(StoreError) {
        self.path = path
        self.walCheckpointBytes = readOnly ? nil : walCheckpointBytes
        var configuration = Configuration()
        configuration.label = "meetmeter-store"
        configuration.readonly = readOnly
        // Another process (meetmeter report, a backup) may hold a lock for a moment.
        configuration.busyMode = .timeout(Double(Self.busyTimeoutMilliseconds) / 1000)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError(.cannotOpen, path: path,
                             "\(Self.reason(error)) (check that the folder exists and is writable by the aggregator's user)")
        }
        if readOnly { return }
        do {
            // GRDB switches a pool to WAL with synchronous = NORMAL, which may lose the last commits
            // on power loss. The writer is one long-lived connection, so setting it here holds.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // After a checkpoint has emptied the log, SQLite cuts the file back to this size
                // instead of keeping the largest it ever was.
                if let limit = walCheckpointBytes { try db.execute(sql: "PRAGMA journal_size_limit = \(limit)") }
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
        // A record that arrived with the id of a held record and other content: the held one
        // stays, this one is kept here as evidence, once per distinct line, with how often and
        // when it came (issue 20).
        migrator.registerMigration("v2-conflicts") { db in
            try db.execute(sql: """
                CREATE TABLE conflicts (
                    id TEXT NOT NULL,
                    host TEXT NOT NULL,
                    time_us INTEGER NOT NULL,
                    received_us INTEGER NOT NULL,
                    last_received_us INTEGER NOT NULL,
                    count INTEGER NOT NULL,
                    line TEXT NOT NULL,
                    UNIQUE (id, line)
                );
                CREATE INDEX conflicts_received ON conflicts(last_received_us);
                CREATE INDEX conflicts_time ON conflicts(time_us);
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
        try await commit(records, receivedAt: receivedAt).map(\.status)
    }

    public func commit(_ records: [UsageRecord], receivedAt: Timestamp) async throws -> [StoreOutcome] {
        if records.isEmpty { return [] }
        let received = receivedAt.microseconds
        let rows = records.map { RecordRow($0, received: received) }
        let outcomes: [StoreOutcome]
        do {
            // One transaction a batch: the statuses exist only once it has committed.
            outcomes = try await pool.write { db in
                let insert = try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO records (id, kind, time_us, host, meeting, received_us, line)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
                var outcomes: [StoreOutcome] = []
                outcomes.reserveCapacity(rows.count)
                for row in rows {
                    try Self.insert(row, received: received, with: insert, in: db)
                    if db.changesCount == 1 {
                        outcomes.append(.stored)
                        continue
                    }
                    // Held already: the same canonical line is a resend; another is a conflict.
                    let held = try String.fetchOne(db, sql: "SELECT line FROM records WHERE id = ?", arguments: [row.id])
                    if held == row.line {
                        outcomes.append(.duplicate)
                        continue
                    }
                    try db.execute(sql: """
                        INSERT INTO conflicts (id, host, time_us, received_us, last_received_us, count, line)
                        VALUES (?, ?, ?, ?, ?, 1, ?)
                        ON CONFLICT (id, line) DO UPDATE SET count = count + 1, last_received_us = excluded.last_received_us
                        """, arguments: [row.id, row.host, row.time, received, received, row.line])
                    outcomes.append(.conflict)
                }
                return outcomes
            }
        } catch {
            throw StoreError(.failed, path: path, "cannot store \(records.count) records: \(Self.reason(error))")
        }
        await checkpointIfLarge()
        return outcomes
    }

    /// Binds and runs the cached insert for one row with SQLite's own calls: GRDB's
    /// `execute(arguments:)` boxes the seven values as optional existentials and unboxes them
    /// again, about 8% of the aggregator's CPU a record (perf). SQLite copies the strings.
    private static func insert(_ row: RecordRow, received: Int64, with statement: Statement, in db: Database) throws {
        let s = statement.sqliteStatement
        var code = sqlite3_reset(s)
        if code == SQLITE_OK { code = bind(row.id, at: 1, s) }
        if code == SQLITE_OK { code = bind(row.kind, at: 2, s) }
        if code == SQLITE_OK { code = sqlite3_bind_int64(s, 3, row.time) }
        if code == SQLITE_OK { code = bind(row.host, at: 4, s) }
        if code == SQLITE_OK { code = row.meeting.map { bind($0, at: 5, s) } ?? sqlite3_bind_null(s, 5) }
        if code == SQLITE_OK { code = sqlite3_bind_int64(s, 6, received) }
        if code == SQLITE_OK { code = bind(row.line, at: 7, s) }
        if code == SQLITE_OK {
            code = sqlite3_step(s)
            if code == SQLITE_DONE { code = SQLITE_OK }
        }
        let message = code == SQLITE_OK ? nil : String(cString: sqlite3_errmsg(db.sqliteConnection))
        // Not left holding the row's copies (nor, after an error, a statement to reset).
        sqlite3_reset(s)
        sqlite3_clear_bindings(s)
        if let message {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
    }

    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    private static func bind(_ text: String, at index: CInt, _ s: OpaquePointer) -> CInt {
        // withCString gives a pointer even for "" (a nil one would bind NULL); the length keeps a NUL inside.
        text.withCString { sqlite3_bind_text(s, index, $0, CInt(text.utf8.count), transient) }
    }

    // MARK: Write-ahead log

    /// The size of the `-wal` file in bytes (0 when there is none).
    public func walBytes() -> Int {
        var st = stat()
        guard stat(path + "-wal", &st) == 0 else { return 0 }
        return Int(st.st_size)
    }

    /// Empties the write-ahead log once it passes `walCheckpointBytes`. Never fails a write: the
    /// records are committed already, and a checkpoint that could not finish is tried again later.
    func checkpointIfLarge() async {
        guard let threshold = walCheckpointBytes else { return }
        let size = walBytes()
        guard size > threshold else { return }
        if let busyAt = walBusyAt.withLock({ $0 }), size < busyAt + threshold / 4 { return }
        let done: Bool
        do {
            done = try await pool.writeWithoutTransaction { db in
                // Wait for readers a short while only: agents wait for their acks meanwhile.
                try db.execute(sql: "PRAGMA busy_timeout = \(Self.checkpointWaitMilliseconds)")
                defer { try? db.execute(sql: "PRAGMA busy_timeout = \(Self.busyTimeoutMilliseconds)") }
                do {
                    _ = try db.checkpoint(.truncate)
                    return true
                } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                    return false
                }
            }
        } catch {
            done = false
        }
        walBusyAt.withLock { $0 = done ? nil : size }
    }

    // MARK: Conflicts

    /// How many distinct conflicting copies are kept, and how often such copies arrived.
    public func conflictCounts() async throws -> (distinct: Int, arrivals: Int) {
        do {
            return try await pool.read { db in
                // A store opened read-only may predate the table.
                guard try db.tableExists("conflicts") else { return (0, 0) }
                guard let row = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(count), 0) FROM conflicts") else { return (0, 0) }
                let distinct: Int = row[0]
                let arrivals: Int = row[1]
                return (distinct, arrivals)
            }
        } catch {
            throw StoreError(.failed, path: path, "cannot count conflicts: \(Self.reason(error))")
        }
    }

    /// The conflicting copies, latest arrival first, at most `limit`.
    public func conflicts(limit: Int) async throws -> [RecordConflict] {
        try await conflicts(sql: "SELECT * FROM conflicts ORDER BY last_received_us DESC, id LIMIT ?", arguments: [limit])
    }

    /// The conflicting copies whose record time is in `[from, to)`, ordered by time, then id.
    public func conflicts(from: Timestamp, to: Timestamp) async throws -> [RecordConflict] {
        try await conflicts(sql: "SELECT * FROM conflicts WHERE time_us >= ? AND time_us < ? ORDER BY time_us, id, received_us",
                            arguments: [from.microseconds, to.microseconds])
    }

    private func conflicts(sql: String, arguments: StatementArguments) async throws -> [RecordConflict] {
        do {
            return try await pool.read { db in
                guard try db.tableExists("conflicts") else { return [] }
                return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                    RecordConflict(
                        id: row["id"], host: row["host"], firstReceived: Timestamp(microseconds: row["received_us"]),
                        lastReceived: Timestamp(microseconds: row["last_received_us"]), count: row["count"], line: row["line"])
                }
            }
        } catch {
            throw StoreError(.failed, path: path, "cannot read conflicts: \(Self.reason(error))")
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

    // MARK: Copying

    public func rows(after id: String?, limit: Int) async throws -> [RecordRow] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT id, kind, time_us, host, meeting, received_us, line FROM records
                    WHERE id > ? ORDER BY id LIMIT ?
                    """, arguments: [id ?? "", limit]).map { row in
                    RecordRow(id: row[0], kind: row[1], time: row[2], host: row[3], meeting: row[4], received: row[5], line: row[6])
                }
            }
        } catch {
            throw StoreError(.failed, path: path, "cannot read records: \(Self.reason(error))")
        }
    }

    public func insert(rows: [RecordRow]) async throws -> Int {
        if rows.isEmpty { return 0 }
        do {
            return try await pool.write { db in
                let insert = try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO records (id, kind, time_us, host, meeting, received_us, line)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
                var added = 0
                for row in rows {
                    try insert.execute(arguments: [row.id, row.kind, row.time, row.host, row.meeting, row.received, row.line])
                    added += db.changesCount
                }
                return added
            }
        } catch {
            throw StoreError(.failed, path: path, "cannot insert \(rows.count) records: \(Self.reason(error))")
        }
    }

    public func conflictRows(after key: ConflictRow.Key?, limit: Int) async throws -> [ConflictRow] {
        do {
            return try await pool.read { db in
                guard try db.tableExists("conflicts") else { return [] }
                return try Row.fetchAll(db, sql: """
                    SELECT id, host, time_us, received_us, last_received_us, count, line FROM conflicts
                    WHERE id > ? OR (id = ? AND line > ?) ORDER BY id, line LIMIT ?
                    """, arguments: [key?.id ?? "", key?.id ?? "", key?.line ?? "", limit]).map { row in
                    ConflictRow(id: row[0], host: row[1], time: row[2], received: row[3], lastReceived: row[4], count: row[5], line: row[6])
                }
            }
        } catch {
            throw StoreError(.failed, path: path, "cannot read conflicts: \(Self.reason(error))")
        }
    }

    public func insert(conflictRows: [ConflictRow]) async throws -> Int {
        if conflictRows.isEmpty { return 0 }
        do {
            return try await pool.write { db in
                var added = 0
                for row in conflictRows {
                    try db.execute(sql: """
                        INSERT OR IGNORE INTO conflicts (id, host, time_us, received_us, last_received_us, count, line)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [row.id, row.host, row.time, row.received, row.lastReceived, row.count, row.line])
                    added += db.changesCount
                }
                return added
            }
        } catch {
            throw StoreError(.failed, path: path, "cannot insert \(conflictRows.count) conflicts: \(Self.reason(error))")
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
