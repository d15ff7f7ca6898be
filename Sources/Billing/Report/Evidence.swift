import UsageRecords

/// The records once each, in one canonical order, so that everything derived from them is
/// independent of the order they arrived in and of duplicates (DESIGN.md principles 1 to 3).
struct Evidence: Sendable {
    /// Deduplicated by id; sorted by time, then by `rank` (so that at one instant a join comes
    /// before a leave and a leave before the meeting's end), then by id.
    let records: [UsageRecord]
    /// The latest time any record carries: "the end of the evidence".
    let end: Timestamp?

    init(_ input: [UsageRecord]) {
        // One record per id first: the same record sent twice is the usual duplicate, and is
        // equal; two different records under one id keep the one that sorts first.
        var byID: [RecordID: Int] = [:]
        byID.reserveCapacity(input.count)
        var unique: [UsageRecord] = []
        unique.reserveCapacity(input.count)
        for r in input {
            if let i = byID[r.id] {
                if unique[i] != r && Evidence.precedes(r, unique[i]) { unique[i] = r }
            } else {
                byID[r.id] = unique.count
                unique.append(r)
            }
        }
        // Sort small keys rather than whole records; ids are compared only on a tie.
        var keys = unique.indices.map { i in SortKey(time: unique[i].time.microseconds, rank: Evidence.rank(unique[i].payload), index: i) }
        keys.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.rank != b.rank { return a.rank < b.rank }
            return unique[a.index].id < unique[b.index].id
        }
        self.records = keys.map { unique[$0.index] }
        self.end = records.last?.time
    }

    private struct SortKey {
        var time: Int64
        var rank: Int
        var index: Int
    }

    static func precedes(_ a: UsageRecord, _ b: UsageRecord) -> Bool {
        if a.time != b.time { return a.time < b.time }
        let ra = rank(a.payload), rb = rank(b.payload)
        if ra != rb { return ra < rb }
        if a.id != b.id { return a.id < b.id }
        // Two records with one id but different contents: still one order, whatever the input's.
        return RecordCodec.encode(a) < RecordCodec.encode(b)
    }

    static func rank(_ p: Payload) -> Int {
        switch p {
        case .meetingStarted: 0
        case .userJoined: 1
        case .userRole: 2
        case .clientForeground: 3
        case .activityStarted: 4
        case .clientBackground: 5
        case .activityStopped: 6
        case .userLeft: 7
        case .meetingEnded: 8
        case .recordingProcessed: 9
        case .storageSample: 10
        case .hostHeartbeat: 11
        case .other: 12
        }
    }
}

/// Integer minutes from whole seconds, half a minute rounding up (DESIGN.md lessons).
@inline(__always) func minutes(fromSeconds s: Int64) -> Int64 { (s + 30) / 60 }

/// Whole seconds of a non-negative microsecond duration, the fraction dropped.
@inline(__always) func wholeSeconds(_ micro: Int64) -> Int64 { max(0, micro) / 1_000_000 }

/// Microseconds that [a, b) and [lo, hi) share.
@inline(__always) func overlap(_ a: Timestamp, _ b: Timestamp, _ lo: Timestamp, _ hi: Timestamp) -> Int64 {
    max(0, min(b, hi).microseconds - max(a, lo).microseconds)
}
