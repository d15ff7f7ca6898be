import Logging
import NIOSSL
import PostgresNIO
import SystemCalls
import UsageRecords

/// The store for a fleet: one PostgreSQL database that any number of aggregators write at once.
///
/// Exactly once holds across them because the id is the primary key and a batch is inserted with
/// `ON CONFLICT (id) DO NOTHING` in the transaction whose commit the listener acknowledges: when
/// two aggregators receive the same record, the second insert waits for the first transaction and
/// then takes nothing. PostgreSQL's own `synchronous_commit = on` (its default) makes the commit
/// durable before it returns.
///
/// Its connections (`PostgresConnections`) are closed when `run()`, which `RecordStores.withStore`
/// keeps going beside the work, is cancelled. Every operation is bounded by the address's `operationTimeout`, so
/// that a database that does not answer fails writes (nothing is acknowledged) instead of holding agents forever.
public final class PostgresRecordStore: RecordStore {
    public let address: PostgresAddress
    public var location: String { address.url }
    let connections: PostgresConnections
    let logger: Logger
    /// How long one operation may wait for the database, connecting included.
    public var operationTimeout: Duration { address.operationTimeout }

    /// Makes the store; nothing connects until the first operation asks.
    public init(address: PostgresAddress, maximumConnections: Int = 8, logger: Logger) throws(StoreError) {
        self.address = address
        self.logger = logger
        var password: String?
        if let file = address.passwordFile {
            password = try Self.readPassword(file, location: address.url)
        }
        var configuration: PostgresConnection.Configuration
        if address.host.hasPrefix("/") {
            let socket = address.host + "/.s.PGSQL.\(address.port)"
            configuration = PostgresConnection.Configuration(unixSocketPath: socket, username: address.user, password: password,
                                                             database: address.database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            do {
                switch address.tls {
                case .disable: tls = .disable
                case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
                case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
                }
            } catch {
                throw StoreError(.cannotOpen, path: address.url, "cannot set up TLS: \(error)")
            }
            configuration = PostgresConnection.Configuration(host: address.host, port: address.port, username: address.user,
                                                             password: password, database: address.database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = [("application_name", "meetmeter")]
        connections = PostgresConnections(configuration: configuration, maximum: maximumConnections, logger: logger)
    }

    /// The first line of the password file, without its line end.
    static func readPassword(_ file: String, location: String) throws(StoreError) -> String {
        let read: [UInt8]?
        do {
            read = try PosixFile.readWhole(file)
        } catch {
            throw StoreError(.cannotOpen, path: location, "cannot read the password file \(file): \(error)")
        }
        guard let bytes = read else { throw StoreError(.cannotOpen, path: location, "the password file \(file) does not exist") }
        let line = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        var text = Array(line)
        if text.last == UInt8(ascii: "\r") { text.removeLast() }
        guard let password = String(validating: text, as: UTF8.self), !password.isEmpty else {
            throw StoreError(.cannotOpen, path: location, "the password file \(file) is empty or not UTF-8")
        }
        return password
    }

    /// Keeps the connections; returns when the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
        await connections.closeAll()
    }

    /// Checks the server and brings the schema up to date (or, read-only, checks that it is).
    public func prepare(readOnly: Bool) async throws(StoreError) {
        do {
            // The first connection of the store: a refused login fails here at once, with the reason.
            try await using("connecting") { [logger, location] connection in
                let encoding = try await connection.query("SHOW server_encoding", logger: logger).decode(String.self).all()
                if let e = encoding.first, e != "UTF8" {
                    throw StoreError(.cannotOpen, path: location,
                                     "the database's encoding is \(e); records need UTF8 (createdb -E UTF8 -T template0)")
                }
                let commit = try await connection.query("SHOW synchronous_commit", logger: logger).decode(String.self).all()
                if let c = commit.first, c == "off" || c == "local" {
                    logger.warning("synchronous_commit is \(c): acknowledged records can be lost if the database's machine fails",
                                   metadata: ["store": "\(location)"])
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.cannotOpen, path: location, Self.reason(error))
        }
        if readOnly {
            try await checkSchema()
            return
        }
        do {
            try await using("migrating") { [logger] connection in
                try await connection.withTransaction(logger: logger) { connection in
                    try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.lockKey))", logger: logger)
                    try await connection.query(PostgresQuery(unsafeSQL: PostgresSchema.ledger), logger: logger)
                    let names: PostgresQuery = "SELECT name FROM meetmeter_migrations"
                    let applied = Set(try await connection.query(names, logger: logger)
                        .decode(String.self).all())
                    for migration in PostgresSchema.migrations where !applied.contains(migration.name) {
                        for statement in migration.statements {
                            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                        try await connection.query("INSERT INTO meetmeter_migrations (name) VALUES (\(migration.name))", logger: logger)
                        logger.info("store schema migrated", metadata: ["migration": "\(migration.name)"])
                    }
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.cannotMigrate, path: location, Self.reason(error))
        }
    }

    private func checkSchema() async throws(StoreError) {
        let applied: [String]
        do {
            applied = try await using("reading the schema") { [logger] connection in
                try await connection.query("""
                    SELECT name FROM meetmeter_migrations
                    WHERE to_regclass('meetmeter_migrations') IS NOT NULL
                    """, logger: logger).decode(String.self).all()
            }
        } catch {
            throw StoreError(.cannotOpen, path: location,
                             "the database holds no meetmeter schema (\(Self.reason(error))); start meetmeter-aggregator against it once")
        }
        if !applied.contains("v1-records") {
            throw StoreError(.cannotOpen, path: location, "the database holds no meetmeter schema; start meetmeter-aggregator against it once")
        }
    }

    // MARK: Writing

    public func store(_ records: [UsageRecord], receivedAt: Timestamp) async throws -> [WireProtocol.Status] {
        try await commit(records, receivedAt: receivedAt).map(\.status)
    }

    public func commit(_ records: [UsageRecord], receivedAt: Timestamp) async throws -> [StoreOutcome] {
        if records.isEmpty { return [] }
        let received = receivedAt.microseconds
        let rows = records.map { RecordRow($0, received: received) }
        let batch = BatchOutcomes(rows)
        let firstCopies = batch.firstCopies.map { rows[$0] }
        do {
            return try await using("storing \(records.count) records") { [logger] connection in
                try await connection.withTransaction(logger: logger) { connection in
                    let inserted = try await Self.insert(firstCopies, on: connection, logger: logger)
                    var held: [String: String] = [:]
                    let others = firstCopies.map(\.id).filter { !inserted.contains($0) }
                    if !others.isEmpty {
                        for try await (id, line) in try await connection.query(
                            "SELECT id, line FROM records WHERE id = ANY(\(others)::text[])", logger: logger
                        ).decode((String, String).self) {
                            held[id] = line
                        }
                    }
                    let outcomes = batch.outcomes(rows, inserted: inserted, held: held)
                    // Conflicting copies, once per distinct line with how often it came.
                    var copies: [ConflictRow.Key: ConflictRow] = [:]
                    for (row, outcome) in zip(rows, outcomes) where outcome == .conflict {
                        let key = ConflictRow.Key(id: row.id, line: row.line)
                        copies[key, default: ConflictRow(id: row.id, host: row.host, time: row.time, received: received,
                                                         lastReceived: received, count: 0, line: row.line)].count += 1
                    }
                    if !copies.isEmpty {
                        try await Self.insertConflicts(Array(copies.values), onConflict: .addCounts, on: connection, logger: logger)
                    }
                    return outcomes
                }
            }
        } catch {
            throw StoreError(.failed, path: location, "cannot store \(records.count) records: \(Self.reason(error))")
        }
    }

    /// Inserts rows whose ids are distinct, skipping held ids; answers the ids it took.
    static func insert(_ rows: [RecordRow], on connection: PostgresConnection, logger: Logger) async throws -> Set<String> {
        let ids = rows.map(\.id)
        let kinds = rows.map(\.kind)
        let times = rows.map(\.time)
        let hosts = rows.map(\.host)
        let meetings = rows.map { $0.meeting ?? "" }
        let hasMeeting = rows.map { $0.meeting != nil }
        let received = rows.map(\.received)
        let lines = rows.map(\.line)
        var inserted = Set<String>()
        inserted.reserveCapacity(rows.count)
        for try await id in try await connection.query("""
            INSERT INTO records (id, kind, time_us, host, meeting, received_us, line)
            SELECT t.id, t.kind, t.time_us, t.host, CASE WHEN t.has_meeting THEN t.meeting END, t.received_us, t.line
            FROM unnest(\(ids)::text[], \(kinds)::text[], \(times)::int8[], \(hosts)::text[], \(meetings)::text[],
                        \(hasMeeting)::bool[], \(received)::int8[], \(lines)::text[])
                AS t(id, kind, time_us, host, meeting, has_meeting, received_us, line)
            ON CONFLICT (id) DO NOTHING
            RETURNING id
            """, logger: logger).decode(String.self) {
            inserted.insert(id)
        }
        return inserted
    }

    enum ConflictMerge { case addCounts, skip }

    static func insertConflicts(_ rows: [ConflictRow], onConflict: ConflictMerge, on connection: PostgresConnection,
                                logger: Logger) async throws -> Int {
        let query: PostgresQuery = """
            INSERT INTO conflicts (id, host, time_us, received_us, last_received_us, count, line)
            SELECT * FROM unnest(\(rows.map(\.id))::text[], \(rows.map(\.host))::text[], \(rows.map(\.time))::int8[],
                                 \(rows.map(\.received))::int8[], \(rows.map(\.lastReceived))::int8[], \(rows.map(\.count))::int8[],
                                 \(rows.map(\.line))::text[])
            """
        var sql = query.sql
        switch onConflict {
        case .addCounts:
            sql += " ON CONFLICT (id, line_md5) DO UPDATE SET count = conflicts.count + excluded.count, last_received_us = excluded.last_received_us"
        case .skip:
            sql += " ON CONFLICT (id, line_md5) DO NOTHING"
        }
        sql += " RETURNING 1"
        var added = 0
        for try await _ in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: query.binds), logger: logger) { added += 1 }
        return added
    }

    // MARK: Copying

    public func rows(after id: String?, limit: Int) async throws -> [RecordRow] {
        try await read("records") { [logger] connection in
            var rows: [RecordRow] = []
            for try await (id, kind, time, host, meeting, received, line) in try await connection.query("""
                SELECT id, kind, time_us, host, meeting, received_us, line FROM records
                WHERE id > \(id ?? "") ORDER BY id LIMIT \(limit)
                """, logger: logger).decode((String, String, Int64, String, String?, Int64, String).self) {
                rows.append(RecordRow(id: id, kind: kind, time: time, host: host, meeting: meeting, received: received, line: line))
            }
            return rows
        }
    }

    public func insert(rows: [RecordRow]) async throws -> Int {
        if rows.isEmpty { return 0 }
        do {
            let distinct = BatchOutcomes(rows).firstCopies.map { rows[$0] }
            return try await using("inserting \(rows.count) records") { [logger] connection in
                try await connection.withTransaction(logger: logger) { connection in
                    try await Self.insert(distinct, on: connection, logger: logger).count
                }
            }
        } catch {
            throw StoreError(.failed, path: location, "cannot insert \(rows.count) records: \(Self.reason(error))")
        }
    }

    public func conflictRows(after key: ConflictRow.Key?, limit: Int) async throws -> [ConflictRow] {
        try await read("conflicts") { [logger] connection in
            var rows: [ConflictRow] = []
            for try await (id, host, time, received, last, count, line) in try await connection.query("""
                SELECT id, host, time_us, received_us, last_received_us, count, line FROM conflicts
                WHERE (id, line) > (\(key?.id ?? ""), \(key?.line ?? "")) ORDER BY id, line LIMIT \(limit)
                """, logger: logger).decode((String, String, Int64, Int64, Int64, Int64, String).self) {
                rows.append(ConflictRow(id: id, host: host, time: time, received: received, lastReceived: last, count: count, line: line))
            }
            return rows
        }
    }

    public func insert(conflictRows: [ConflictRow]) async throws -> Int {
        if conflictRows.isEmpty { return 0 }
        do {
            var seen = Set<ConflictRow.Key>()
            let distinct = conflictRows.filter { seen.insert($0.key).inserted }
            return try await using("inserting \(conflictRows.count) conflicts") { [logger] connection in
                try await connection.withTransaction(logger: logger) { connection in
                    try await Self.insertConflicts(distinct, onConflict: .skip, on: connection, logger: logger)
                }
            }
        } catch {
            throw StoreError(.failed, path: location, "cannot insert \(conflictRows.count) conflicts: \(Self.reason(error))")
        }
    }

    // MARK: Reading

    public func records(from: Timestamp, to: Timestamp) async throws -> [UsageRecord] {
        try await lines("""
            SELECT id, line FROM records WHERE time_us >= \(from.microseconds) AND time_us < \(to.microseconds) ORDER BY time_us, id
            """)
    }

    public func records(overlapping from: Timestamp, to: Timestamp) async throws -> [UsageRecord] {
        // As SQLiteRecordStore's, in PostgreSQL's words.
        let f = from.microseconds
        let t = to.microseconds
        return try await lines("""
            WITH overlapping AS (
                SELECT meeting, MIN(time_us) AS first FROM records WHERE meeting IS NOT NULL
                GROUP BY meeting
                HAVING MIN(time_us) < \(t)
                   AND (MAX(time_us) >= \(f) OR COUNT(*) FILTER (WHERE kind = 'meeting.ended') = 0)
            ),
            hosts AS (
                SELECT DISTINCT host FROM records WHERE meeting IN (SELECT meeting FROM overlapping)
            )
            SELECT id, line FROM records
            WHERE (time_us >= \(f) AND time_us < \(t))
               OR meeting IN (SELECT meeting FROM overlapping)
               OR (kind = 'host.heartbeat' AND host IN (SELECT host FROM hosts) AND time_us < \(t)
                   AND time_us >= (SELECT MIN(first) FROM overlapping))
            ORDER BY time_us, id
            """)
    }

    public func records(meetings: [String]) async throws -> [UsageRecord] {
        if meetings.isEmpty { return [] }
        return try await lines("SELECT id, line FROM records WHERE meeting = ANY(\(meetings)::text[]) ORDER BY time_us, id")
    }

    public func records(host: String, from: Timestamp, to: Timestamp) async throws -> [UsageRecord] {
        try await lines("""
            SELECT id, line FROM records WHERE host = \(host) AND time_us >= \(from.microseconds) AND time_us < \(to.microseconds)
            ORDER BY time_us, id
            """)
    }

    public func storedRecords(from: Timestamp, to: Timestamp) async throws -> [StoredRecord] {
        try await stored("""
            SELECT id, line, received_us FROM records WHERE time_us >= \(from.microseconds) AND time_us < \(to.microseconds)
            ORDER BY time_us, id
            """)
    }

    public func storedRecords(receivedFrom from: Timestamp, to: Timestamp) async throws -> [StoredRecord] {
        try await stored("""
            SELECT id, line, received_us FROM records WHERE received_us >= \(from.microseconds) AND received_us < \(to.microseconds)
            ORDER BY received_us, id
            """)
    }

    public func conflictCounts() async throws -> (distinct: Int, arrivals: Int) {
        try await read("conflicts") { [logger] connection in
            var result = (0, 0)
            for try await (distinct, arrivals) in try await connection.query(
                "SELECT COUNT(*), COALESCE(SUM(count), 0)::int8 FROM conflicts", logger: logger
            ).decode((Int64, Int64).self) {
                result = (Int(distinct), Int(arrivals))
            }
            return result
        }
    }

    public func conflicts(limit: Int) async throws -> [RecordConflict] {
        try await conflicts("""
            SELECT id, host, received_us, last_received_us, count, line FROM conflicts
            ORDER BY last_received_us DESC, id LIMIT \(limit)
            """)
    }

    public func conflicts(from: Timestamp, to: Timestamp) async throws -> [RecordConflict] {
        try await conflicts("""
            SELECT id, host, received_us, last_received_us, count, line FROM conflicts
            WHERE time_us >= \(from.microseconds) AND time_us < \(to.microseconds) ORDER BY time_us, id, received_us
            """)
    }

    private func conflicts(_ query: PostgresQuery) async throws -> [RecordConflict] {
        try await read("conflicts") { [logger] connection in
            var out: [RecordConflict] = []
            for try await (id, host, first, last, count, line) in try await connection.query(query, logger: logger)
                .decode((String, String, Int64, Int64, Int64, String).self) {
                out.append(RecordConflict(id: id, host: host, firstReceived: Timestamp(microseconds: first),
                                          lastReceived: Timestamp(microseconds: last), count: Int(count), line: line))
            }
            return out
        }
    }

    public func count() async throws -> Int {
        try await read("the record count") { [logger] connection in
            var n: Int64 = 0
            for try await c in try await connection.query("SELECT COUNT(*) FROM records", logger: logger).decode(Int64.self) { n = c }
            return Int(n)
        }
    }

    public func hostHealth() async throws -> [HostHealth] {
        try await read("host health") { [logger] connection in
            var out: [HostHealth] = []
            for try await (host, last, received, heartbeat, n) in try await connection.query("""
                SELECT host, MAX(time_us), MAX(received_us), MAX(CASE WHEN kind = 'host.heartbeat' THEN time_us END), COUNT(*)
                FROM records GROUP BY host ORDER BY host
                """, logger: logger).decode((String, Int64, Int64, Int64?, Int64).self) {
                out.append(HostHealth(host: host, lastRecordTime: Timestamp(microseconds: last),
                                      lastReceived: Timestamp(microseconds: received),
                                      lastHeartbeat: heartbeat.map { Timestamp(microseconds: $0) }, recordCount: Int(n)))
            }
            return out
        }
    }

    public func ping() async throws {
        _ = try await read("an answer") { [logger] connection in
            try await connection.query("SELECT 1", logger: logger).decode(Int32.self).all()
        }
    }

    private func lines(_ query: PostgresQuery) async throws -> [UsageRecord] {
        let rows = try await read("records") { [logger] connection in
            try await connection.query(query, logger: logger).decode((String, String).self).all()
        }
        var records: [UsageRecord] = []
        records.reserveCapacity(rows.count)
        for (id, line) in rows { records.append(try decode(id: id, line: line)) }
        return records
    }

    private func stored(_ query: PostgresQuery) async throws -> [StoredRecord] {
        let rows = try await read("records") { [logger] connection in
            try await connection.query(query, logger: logger).decode((String, String, Int64).self).all()
        }
        return try rows.map { id, line, received in
            StoredRecord(record: try decode(id: id, line: line), receivedAt: Timestamp(microseconds: received))
        }
    }

    private func decode(id: String, line: String) throws(StoreError) -> UsageRecord {
        do {
            return try RecordCodec.decode(line)
        } catch {
            throw StoreError(.corrupt, path: location, "record \(id): \(error)")
        }
    }

    /// A read, bounded in time, with its failure named.
    private func read<T: Sendable>(_ what: String, _ operation: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await using("reading \(what)", operation)
        } catch {
            throw StoreError(.failed, path: location, "cannot read \(what): \(Self.reason(error))")
        }
    }

    /// Runs `operation` on a connection of its own and answers within `operationTimeout`, waiting
    /// for the connection included, whatever the operation does. At the timeout (or when the
    /// caller is cancelled) the connection is closed under the operation and its place in the pool
    /// given back at once; the operation is not waited for: after the server crashed, a query or a
    /// ROLLBACK on a dead connection can wait forever, and a task group would wait with it.
    private func using<T: Sendable>(_ what: String, _ operation: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let connections = self.connections
        let lease = OperationLease()
        let outcome = OperationOutcome<T>()
        let work = Task {
            do {
                let connection = try await connections.lease()
                guard lease.hold(connection) else {
                    // Given up while it waited for the connection: not used, so not broken.
                    await connections.release(connection, broken: false)
                    return
                }
                let value = try await operation(connection)
                // Answered first: the timer must not turn done work into a timeout meanwhile.
                let taken = lease.take()
                outcome.resolve(.success(value))
                if let taken { await connections.release(taken, broken: false) }
            } catch {
                if let connection = lease.take() { await connections.release(connection, broken: true) }
                outcome.resolve(.failure(error))
            }
        }
        @Sendable func abandon(_ error: any Error) async {
            guard outcome.resolve(.failure(error)) else { return }
            work.cancel()
            if let connection = lease.abandon() { await connections.release(connection, broken: true) }
        }
        let bound = operationTimeout
        let timer = Task {
            do { try await Task.sleep(for: bound) } catch { return }
            await abandon(StoreTimeout(what: what, bound: bound))
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await outcome.value()
        } onCancel: {
            Task { await abandon(CancellationError()) }
        }
    }

    struct StoreTimeout: Error, CustomStringConvertible {
        var what: String
        var bound: Duration
        var description: String { "no answer from PostgreSQL within \(bound) while \(what)" }
    }

    /// What went wrong, in the server's words when it said something; never the query's values.
    static func reason(_ error: any Error) -> String {
        if let error = error as? StoreError { return error.detail }
        if let error = error as? PSQLError {
            if let info = error.serverInfo, let message = info[.message] {
                var text = message
                if let detail = info[.detail] { text += ": \(detail)" }
                if let state = info[.sqlState] { text += " (SQLSTATE \(state))" }
                return text
            }
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }
}

extension AsyncSequence where Self: Sendable {
    /// Every element, in order.
    func all() async throws -> [Element] {
        var out: [Element] = []
        for try await element in self { out.append(element) }
        return out
    }
}
