import UsageRecords

/// One stored record as both engines keep it: the canonical line, unchanged, beside the columns
/// the queries need. Also what `meetmeter store copy` moves from one store to another.
public struct RecordRow: Sendable, Hashable {
    public var id: String
    public var kind: String
    public var time: Int64
    public var host: String
    public var meeting: String?
    /// When the aggregator received the record, in microseconds since the epoch.
    public var received: Int64
    public var line: String

    public init(id: String, kind: String, time: Int64, host: String, meeting: String?, received: Int64, line: String) {
        self.id = id
        self.kind = kind
        self.time = time
        self.host = host
        self.meeting = meeting
        self.received = received
        self.line = line
    }

    /// The columns of a record received at `received`, worked out before the write transaction
    /// so that it stays short.
    public init(_ record: UsageRecord, received: Int64) {
        id = record.id.rawValue
        kind = record.kind.rawValue
        time = record.time.microseconds
        host = record.host
        // A kind this version does not know may still name its meeting.
        meeting = record.payload.meeting ?? record.extra["meeting"]?.stringValue
        self.received = received
        line = RecordCodec.encode(record)
    }
}

/// One kept conflicting copy as both engines keep it (see `RecordConflict`).
public struct ConflictRow: Sendable, Hashable {
    /// Where a listing of conflicting copies goes on from.
    public struct Key: Sendable, Hashable {
        public var id: String
        public var line: String
        public init(id: String, line: String) {
            self.id = id
            self.line = line
        }
    }

    public var id: String
    public var host: String
    public var time: Int64
    public var received: Int64
    public var lastReceived: Int64
    public var count: Int64
    public var line: String

    public init(id: String, host: String, time: Int64, received: Int64, lastReceived: Int64, count: Int64, line: String) {
        self.id = id
        self.host = host
        self.time = time
        self.received = received
        self.lastReceived = lastReceived
        self.count = count
        self.line = line
    }

    public var key: Key { Key(id: id, line: line) }
}

/// Which copies of a batch are new, resends or conflicts, worked out the same way on every engine
/// from what the insert took and what was held before: the first copy of an id within a batch is
/// the one inserted; a later copy is compared with the line that then holds the id.
struct BatchOutcomes {
    /// The index of the first copy of each id; the rows to insert, in batch order.
    let firstCopies: [Int]
    private let firstOf: [Int]

    init(_ rows: [RecordRow]) {
        var first: [String: Int] = [:]
        first.reserveCapacity(rows.count)
        var firstCopies: [Int] = []
        var firstOf: [Int] = []
        firstOf.reserveCapacity(rows.count)
        for (i, row) in rows.enumerated() {
            if let at = first[row.id] {
                firstOf.append(at)
            } else {
                first[row.id] = i
                firstCopies.append(i)
                firstOf.append(i)
            }
        }
        self.firstCopies = firstCopies
        self.firstOf = firstOf
    }

    /// The outcome of every row: `inserted` holds the ids the insert took, `held` the line each
    /// other id was held with before the batch.
    func outcomes(_ rows: [RecordRow], inserted: Set<String>, held: [String: String]) -> [StoreOutcome] {
        var outcomes: [StoreOutcome] = []
        outcomes.reserveCapacity(rows.count)
        for (i, row) in rows.enumerated() {
            let first = firstOf[i]
            if first == i, inserted.contains(row.id) {
                outcomes.append(.stored)
                continue
            }
            let holding = inserted.contains(row.id) ? rows[first].line : held[row.id]
            outcomes.append(holding == row.line ? .duplicate : .conflict)
        }
        return outcomes
    }
}
