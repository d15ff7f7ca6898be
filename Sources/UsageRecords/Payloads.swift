/// The fields each known kind carries (DESIGN.md, "Usage records"). Field names here are the
/// contract the billing side reads.

public struct MeetingStarted: Sendable, Hashable {
    /// The meeting software's internal id (BigBlueButton: `<sha1(external)>-<epoch ms>`).
    public var meeting: String
    /// The id the front end gave the meeting.
    public var external: String?
    public var name: String?
    /// The meeting's metadata (BigBlueButton's `meta_` parameters); accounts are found from it.
    public var meta: [String: JSONValue]
    /// For a breakout room: the parent meeting's internal id.
    public var parent: String?

    public init(meeting: String, external: String? = nil, name: String? = nil, meta: [String: JSONValue] = [:], parent: String? = nil) {
        self.meeting = meeting
        self.external = external
        self.name = name
        self.meta = meta
        self.parent = parent
    }
}

public struct MeetingEnded: Sendable, Hashable {
    public var meeting: String
    /// Why it ended, as the software says (`ENDED_FROM_API`, …), when known.
    public var reason: String?
    public init(meeting: String, reason: String? = nil) {
        self.meeting = meeting
        self.reason = reason
    }
}

public struct UserJoined: Sendable, Hashable {
    public var meeting: String
    public var user: String
    /// As the software names it: `MODERATOR`, `VIEWER`, Jitsi's `OWNER`, `PARTICIPANT`, …
    public var role: String
    /// `HTML5`, `mobile`, `windows`, … when known.
    public var client: String?
    public init(meeting: String, user: String, role: String, client: String? = nil) {
        self.meeting = meeting
        self.user = user
        self.role = role
        self.client = client
    }
}

public struct UserLeft: Sendable, Hashable {
    public var meeting: String
    public var user: String
    public init(meeting: String, user: String) {
        self.meeting = meeting
        self.user = user
    }
}

public struct UserRoleChanged: Sendable, Hashable {
    public var meeting: String
    public var user: String
    public var role: String
    public init(meeting: String, user: String, role: String) {
        self.meeting = meeting
        self.user = user
        self.role = role
    }
}

public struct Activity: Sendable, Hashable {
    public var meeting: String
    /// Absent when the activity belongs to the meeting as a whole.
    public var user: String?
    /// `whiteboard`, `webcam`, `screenshare`, `audio`, `recording`, …
    public var activity: String
    public init(meeting: String, user: String? = nil, activity: String) {
        self.meeting = meeting
        self.user = user
        self.activity = activity
    }
}

public struct ClientVisibility: Sendable, Hashable {
    public var meeting: String
    public var user: String
    public init(meeting: String, user: String) {
        self.meeting = meeting
        self.user = user
    }
}

public struct RecordingProcessed: Sendable, Hashable {
    public var recording: String
    public var meeting: String
    /// `archive`, `sanity`, `process`, `publish`, …
    public var step: String
    public var started: Timestamp
    public var ended: Timestamp
    public init(recording: String, meeting: String, step: String, started: Timestamp, ended: Timestamp) {
        self.recording = recording
        self.meeting = meeting
        self.step = step
        self.started = started
        self.ended = ended
    }
}

public struct StorageSample: Sendable, Hashable {
    /// `recording`, `filesystem`, …
    public var scope: String
    /// The recording id or the mount point.
    public var key: String
    public var meeting: String?
    public var bytes: Int64
    public init(scope: String, key: String, meeting: String? = nil, bytes: Int64) {
        self.scope = scope
        self.key = key
        self.meeting = meeting
        self.bytes = bytes
    }
}

public struct HostHeartbeat: Sendable, Hashable {
    /// The journal's boot id: a new one means the host rebooted.
    public var boot: String
    /// The instance size as configured.
    public var size: String
    /// Seconds until the next heartbeat.
    public var interval: Int64
    public init(boot: String, size: String, interval: Int64) {
        self.boot = boot
        self.size = size
        self.interval = interval
    }
}

/// What a record says, typed by kind.
public enum Payload: Sendable, Hashable {
    case meetingStarted(MeetingStarted)
    case meetingEnded(MeetingEnded)
    case userJoined(UserJoined)
    case userLeft(UserLeft)
    case userRole(UserRoleChanged)
    case activityStarted(Activity)
    case activityStopped(Activity)
    case clientBackground(ClientVisibility)
    case clientForeground(ClientVisibility)
    case recordingProcessed(RecordingProcessed)
    case storageSample(StorageSample)
    case hostHeartbeat(HostHeartbeat)
    /// A kind this version does not know; its fields are all in the record's `extra`.
    case other(RecordKind)

    public var kind: RecordKind {
        switch self {
        case .meetingStarted: .meetingStarted
        case .meetingEnded: .meetingEnded
        case .userJoined: .userJoined
        case .userLeft: .userLeft
        case .userRole: .userRole
        case .activityStarted: .activityStarted
        case .activityStopped: .activityStopped
        case .clientBackground: .clientBackground
        case .clientForeground: .clientForeground
        case .recordingProcessed: .recordingProcessed
        case .storageSample: .storageSample
        case .hostHeartbeat: .hostHeartbeat
        case .other(let kind): kind
        }
    }

    /// The meeting the record is about, when it is about one.
    public var meeting: String? {
        switch self {
        case .meetingStarted(let p): p.meeting
        case .meetingEnded(let p): p.meeting
        case .userJoined(let p): p.meeting
        case .userLeft(let p): p.meeting
        case .userRole(let p): p.meeting
        case .activityStarted(let p), .activityStopped(let p): p.meeting
        case .clientBackground(let p), .clientForeground(let p): p.meeting
        case .recordingProcessed(let p): p.meeting
        case .storageSample(let p): p.meeting
        case .hostHeartbeat, .other: nil
        }
    }
}
