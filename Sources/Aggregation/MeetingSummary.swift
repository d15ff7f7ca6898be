import RecordStorage
import UsageRecords

/// One meeting as the store has seen it, for `meetmeter report` and the drill-down from a
/// statement line to its meetings. Facts only: no sessions, durations or money (that is Billing).
public struct MeetingSummary: Sendable, Hashable {
    public var meeting: String
    /// The host of the meeting's first record.
    public var host: String
    public var firstRecord: Timestamp
    public var lastRecord: Timestamp
    /// The time of its `meeting.started`, if that arrived.
    public var started: Timestamp?
    /// The time of its first `meeting.ended`, if one arrived.
    public var ended: Timestamp?
    public var external: String?
    public var name: String?
    /// For a breakout room, the parent meeting.
    public var parent: String?
    public var meta: [String: JSONValue]
    /// Distinct users that joined.
    public var participants: Int
    public var recordCount: Int

    public init(
        meeting: String, host: String, firstRecord: Timestamp, lastRecord: Timestamp, started: Timestamp? = nil,
        ended: Timestamp? = nil, external: String? = nil, name: String? = nil, parent: String? = nil,
        meta: [String: JSONValue] = [:], participants: Int = 0, recordCount: Int = 0
    ) {
        self.meeting = meeting
        self.host = host
        self.firstRecord = firstRecord
        self.lastRecord = lastRecord
        self.started = started
        self.ended = ended
        self.external = external
        self.name = name
        self.parent = parent
        self.meta = meta
        self.participants = participants
        self.recordCount = recordCount
    }

    /// One summary a meeting named by the records, ordered by first record time, then meeting id.
    /// Records without a meeting are ignored.
    public static func summaries(of records: [UsageRecord]) -> [MeetingSummary] {
        var byMeeting: [String: MeetingSummary] = [:]
        var users: [String: Set<String>] = [:]
        for record in records.sorted(by: { ($0.time, $0.id) < ($1.time, $1.id) }) {
            guard let meeting = record.payload.meeting ?? record.extra["meeting"]?.stringValue else { continue }
            var s = byMeeting[meeting] ?? MeetingSummary(
                meeting: meeting, host: record.host, firstRecord: record.time, lastRecord: record.time)
            s.lastRecord = max(s.lastRecord, record.time)
            s.recordCount += 1
            switch record.payload {
            case .meetingStarted(let p):
                if s.started == nil {
                    s.started = record.time
                    s.external = p.external
                    s.name = p.name
                    s.parent = p.parent
                    s.meta = p.meta
                }
            case .meetingEnded:
                if s.ended == nil { s.ended = record.time }
            case .userJoined(let p):
                users[meeting, default: []].insert(p.user)
            default:
                break
            }
            byMeeting[meeting] = s
        }
        for (meeting, set) in users { byMeeting[meeting]?.participants = set.count }
        return byMeeting.values.sorted { ($0.firstRecord, $0.meeting) < ($1.firstRecord, $1.meeting) }
    }
}

extension RecordStore {
    /// The meetings that overlap `[from, to)` (see `records(overlapping:to:)`), with their facts.
    public func meetings(overlapping from: Timestamp, to: Timestamp) async throws -> [MeetingSummary] {
        MeetingSummary.summaries(of: try await records(overlapping: from, to: to))
    }
}
