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
        let sorted = input.sorted(by: Evidence.precedes)
        var seen = Set<RecordID>()
        seen.reserveCapacity(sorted.count)
        var unique: [UsageRecord] = []
        unique.reserveCapacity(sorted.count)
        for r in sorted where seen.insert(r.id).inserted { unique.append(r) }
        self.records = unique
        self.end = unique.last?.time
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
