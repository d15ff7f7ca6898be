/// What a record says happened. Open: kinds this version does not know are kept, not refused.
public struct RecordKind: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (a: RecordKind, b: RecordKind) -> Bool { a.rawValue < b.rawValue }

    public static let meetingStarted: RecordKind = "meeting.started"
    public static let meetingEnded: RecordKind = "meeting.ended"
    public static let userJoined: RecordKind = "user.joined"
    public static let userLeft: RecordKind = "user.left"
    public static let userRole: RecordKind = "user.role"
    public static let activityStarted: RecordKind = "activity.started"
    public static let activityStopped: RecordKind = "activity.stopped"
    public static let clientBackground: RecordKind = "client.background"
    public static let clientForeground: RecordKind = "client.foreground"
    public static let recordingProcessed: RecordKind = "recording.processed"
    public static let storageSample: RecordKind = "storage.sample"
    public static let hostHeartbeat: RecordKind = "host.heartbeat"

    /// The kinds DESIGN.md names, whose fields this version checks.
    public static let known: [RecordKind] = [
        .meetingStarted, .meetingEnded, .userJoined, .userLeft, .userRole, .activityStarted,
        .activityStopped, .clientBackground, .clientForeground, .recordingProcessed, .storageSample,
        .hostHeartbeat,
    ]
}
