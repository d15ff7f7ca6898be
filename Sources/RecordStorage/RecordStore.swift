import UsageRecords

/// Where the aggregator keeps every record exactly once (DESIGN.md principle 3).
///
/// An id counts as held only once its record is committed: the id is the record's primary key, so
/// "seen" and "stored" are one write in one transaction, never two.
public protocol RecordStore: RecordWriter {
    /// Where the store is, for messages and `/health`: a file name, or a PostgreSQL URL without a
    /// password. Nothing outside this module needs to know more about the engine.
    var location: String { get }

    /// The records whose source time is in `[from, to)`, ordered by time, then id.
    func records(from: Timestamp, to: Timestamp) async throws -> [UsageRecord]

    /// What billing needs to rate `[from, to)`: every record in the range, plus all records of
    /// every meeting that overlaps it (a record in the range, or a first record before `to` and a
    /// last record at or after `from`, or started before `to` and not ended yet), whatever their
    /// time, so that a meeting that began before the period can be sessionised; and the heartbeats
    /// of those meetings' hosts from the earliest start on. Ordered by time, then id.
    func records(overlapping from: Timestamp, to: Timestamp) async throws -> [UsageRecord]

    /// All records of the given meetings, whatever their time, ordered by time, then id: the
    /// drill-down from a statement line to the facts behind it.
    func records(meetings: [String]) async throws -> [UsageRecord]

    /// The records from one host in `[from, to)`, ordered by time, then id.
    func records(host: String, from: Timestamp, to: Timestamp) async throws -> [UsageRecord]

    /// The records whose source time is in `[from, to)` with the time each was received, ordered
    /// by time, then id: the lag of every record, and what arrived late for a closed period.
    func storedRecords(from: Timestamp, to: Timestamp) async throws -> [StoredRecord]

    /// The records received in `[from, to)` by the aggregator's clock, whatever their source time,
    /// ordered by reception, then id: what arrived after a period was closed.
    func storedRecords(receivedFrom from: Timestamp, to: Timestamp) async throws -> [StoredRecord]

    /// How many distinct conflicting copies are kept, and how often such copies arrived.
    func conflictCounts() async throws -> (distinct: Int, arrivals: Int)

    /// The conflicting copies, latest arrival first, at most `limit`.
    func conflicts(limit: Int) async throws -> [RecordConflict]

    /// The conflicting copies whose record time is in `[from, to)`, ordered by time, then id.
    func conflicts(from: Timestamp, to: Timestamp) async throws -> [RecordConflict]

    /// How many records are held.
    func count() async throws -> Int

    /// One entry a host that ever sent a record, ordered by host name.
    func hostHealth() async throws -> [HostHealth]

    /// A trivial read: proves the store answers (for the watchdog and `/health`).
    func ping() async throws

    // MARK: Copying between stores (`meetmeter store copy`)

    /// Up to `limit` stored rows with an id after `id` (all when nil), ordered by id (bytewise).
    func rows(after id: String?, limit: Int) async throws -> [RecordRow]

    /// Inserts rows as they are, received time included, skipping ids already held; returns how
    /// many were new. One transaction.
    func insert(rows: [RecordRow]) async throws -> Int

    /// Up to `limit` kept conflicting copies after `key` (all when nil), ordered by id, then line.
    func conflictRows(after key: ConflictRow.Key?, limit: Int) async throws -> [ConflictRow]

    /// Inserts conflicting copies as they are, skipping those already kept; returns how many were new.
    func insert(conflictRows: [ConflictRow]) async throws -> Int
}

/// The one thing the listener needs of a store: committing batches.
public protocol RecordWriter: Sendable {
    /// Commits the records in one transaction and answers one status a record, in order: `.stored`
    /// the first time an id is seen, `.duplicate` when it is already held (also for a second copy
    /// within the same batch). Returns only after the commit is durable; throws and stores nothing
    /// if the commit fails.
    func store(_ records: [UsageRecord], receivedAt: Timestamp) async throws -> [WireProtocol.Status]

    /// As `store`, telling an identical resend (`.duplicate`) from a record whose id is held with
    /// other content (`.conflict`). The listener calls this one.
    func commit(_ records: [UsageRecord], receivedAt: Timestamp) async throws -> [StoreOutcome]
}

extension RecordWriter {
    /// A store that cannot compare contents reports every held id as a plain duplicate.
    public func commit(_ records: [UsageRecord], receivedAt: Timestamp) async throws -> [StoreOutcome] {
        try await store(records, receivedAt: receivedAt).map(StoreOutcome.init)
    }
}

/// What committing one record did.
public enum StoreOutcome: Sendable, Hashable {
    /// Committed for the first time.
    case stored
    /// The id is held with the same canonical line: a resend, nothing to do.
    case duplicate
    /// The id is held with a different line. The held record stays; this copy is kept apart as
    /// evidence (`conflicts`) and counted, never dropped in silence. Answered `duplicate` on the
    /// wire (with the code `conflict`), since sending it again would not change anything.
    case conflict

    public var status: WireProtocol.Status { self == .stored ? .stored : .duplicate }

    /// The outcome a store that does not compare contents can tell from a status.
    public init(_ status: WireProtocol.Status) { self = status == .stored ? .stored : .duplicate }
}

/// A record that arrived with the id of a held record and other content.
public struct RecordConflict: Sendable, Hashable {
    public var id: String
    /// The host that sent it (the host of its hello).
    public var host: String
    /// When it first and last arrived by the aggregator's clock, and how often.
    public var firstReceived: Timestamp
    public var lastReceived: Timestamp
    public var count: Int
    /// The conflicting copy, as a canonical record line; the held record is in `records`.
    public var line: String

    public init(id: String, host: String, firstReceived: Timestamp, lastReceived: Timestamp, count: Int, line: String) {
        self.id = id
        self.host = host
        self.firstReceived = firstReceived
        self.lastReceived = lastReceived
        self.count = count
        self.line = line
    }
}

/// What the store knows about one host's delivery, for the health report beside the money.
public struct HostHealth: Sendable, Hashable {
    /// As `/health` and the console's `/api/v1/hosts` give it.
    public var jsonValue: JSONValue {
        var o: [String: JSONValue] = [
            "host": .string(host), "records": .integer(Int64(recordCount)),
            "last_record": .string(lastRecordTime.rfc3339), "last_received": .string(lastReceived.rfc3339),
            "lag_seconds": .integer(lagMicroseconds / 1_000_000),
        ]
        o["last_heartbeat"] = lastHeartbeat.map { .string($0.rfc3339) } ?? .null
        return .object(o)
    }

    public var host: String
    /// The latest source time of any record from the host.
    public var lastRecordTime: Timestamp
    /// When the aggregator last received (and stored) a record from the host.
    public var lastReceived: Timestamp
    /// The latest heartbeat's source time, if the host ever sent one.
    public var lastHeartbeat: Timestamp?
    public var recordCount: Int

    public init(host: String, lastRecordTime: Timestamp, lastReceived: Timestamp, lastHeartbeat: Timestamp?, recordCount: Int) {
        self.host = host
        self.lastRecordTime = lastRecordTime
        self.lastReceived = lastReceived
        self.lastHeartbeat = lastHeartbeat
        self.recordCount = recordCount
    }

    /// How far the host's latest record trails its arrival: large values mean a backlog
    /// (a spool being drained) or a clock that is off.
    public var lagMicroseconds: Int64 { lastReceived.microseconds(since: lastRecordTime) }
}

/// A failure of the store, naming the database (a file, or a URL without its password) and what to do.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The database could not be opened or created.
        case cannotOpen = "cannot-open"
        /// The schema could not be brought up to date.
        case cannotMigrate = "cannot-migrate"
        /// A write or read failed.
        case failed = "failed"
        /// A stored line no longer decodes; the file was edited or damaged.
        case corrupt = "corrupt"
    }

    public var code: Code
    public var path: String
    public var detail: String

    public init(_ code: Code, path: String, _ detail: String) {
        self.code = code
        self.path = path
        self.detail = detail
    }

    public var description: String {
        switch code {
        case .cannotOpen:
            "\(path): cannot open the database: \(detail)"
        case .cannotMigrate:
            "\(path): cannot update the database schema: \(detail)"
        case .failed:
            "\(path): \(detail)"
        case .corrupt:
            "\(path): a stored record does not decode: \(detail)"
        }
    }
}
