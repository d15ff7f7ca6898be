import UsageRecords

/// One meeting as the records tell it, for `meetmeter report` and the drill-down from an invoice
/// line: when it ran, and who was present when.
public struct MeetingUsage: Sendable, Hashable {
    public var meeting: String
    public var external: String?
    public var name: String?
    public var host: String
    /// For a breakout room, the parent meeting's id.
    public var parent: String?
    /// When the meeting became available (its `meeting.started`, or its first record without one).
    public var start: Timestamp
    /// When it ended: announced by the software, or closed for the host (see `closure`).
    /// Nil while it is still open at the end of the evidence.
    public var end: Timestamp?
    /// Seconds of the meeting inside the period; an open meeting counts to the last time its host
    /// was known alive.
    public var seconds: Int64
    /// `(seconds + 30) / 60`.
    public var minutes: Int64
    /// Sorted by first join, then user.
    public var users: [UserUsage]
    /// How the meeting's end was found.
    public var closure: Closure
    /// The end used for counting: `end`, or the host's last sign of life for an open meeting.
    public var countedUntil: Timestamp
    public var meta: [String: JSONValue]

    public init(meeting: String, external: String? = nil, name: String? = nil, host: String, parent: String? = nil,
                start: Timestamp, end: Timestamp?, seconds: Int64, minutes: Int64, users: [UserUsage],
                closure: Closure = .ended, countedUntil: Timestamp? = nil, meta: [String: JSONValue] = [:]) {
        self.meeting = meeting
        self.external = external
        self.name = name
        self.host = host
        self.parent = parent
        self.start = start
        self.end = end
        self.seconds = seconds
        self.minutes = minutes
        self.users = users
        self.closure = closure
        self.countedUntil = countedUntil ?? end ?? start
        self.meta = meta
    }
}

/// A person's presence in one meeting.
public struct UserUsage: Sendable, Hashable {
    public var user: String
    /// The role last held in the period (roles can change mid-meeting).
    public var role: String
    /// Seconds present inside the period.
    public var seconds: Int64
    /// `(seconds + 30) / 60`.
    public var minutes: Int64
    /// Each presence that overlaps the period, unclipped, for drill-down.
    public var intervals: [PresenceInterval]

    public init(user: String, role: String, seconds: Int64, minutes: Int64, intervals: [PresenceInterval]) {
        self.user = user
        self.role = role
        self.seconds = seconds
        self.minutes = minutes
        self.intervals = intervals
    }
}

/// From a join to what ended that presence, with the records behind both ends.
public struct PresenceInterval: Sendable, Hashable {
    public var start: Timestamp
    public var end: Timestamp
    /// The role at the join; `roleChanges` holds later changes.
    public var role: String
    public var roleChanges: [RoleChange]
    public var client: String?
    public var closure: Closure
    /// The `user.joined` record that opened it.
    public var joinRecord: RecordID
    /// The record that closed it (`user.left`, `meeting.ended`), nil when a host's silence or
    /// reboot, or the end of the evidence, closed it.
    public var endRecord: RecordID?

    public init(start: Timestamp, end: Timestamp, role: String, roleChanges: [RoleChange] = [], client: String? = nil,
                closure: Closure = .left, joinRecord: RecordID, endRecord: RecordID? = nil) {
        self.start = start
        self.end = end
        self.role = role
        self.roleChanges = roleChanges
        self.client = client
        self.closure = closure
        self.joinRecord = joinRecord
        self.endRecord = endRecord
    }
}

public struct RoleChange: Sendable, Hashable {
    public var time: Timestamp
    public var role: String
    public init(time: Timestamp, role: String) {
        self.time = time
        self.role = role
    }
}

/// What ended a meeting or a presence (DESIGN.md principles 2 and 7).
public enum Closure: String, Sendable, Hashable {
    /// The person left (`user.left`).
    case left
    /// The meeting software announced the end (`meeting.ended`); people still present leave then.
    case ended
    /// The host rebooted (a heartbeat with a new boot id): closed at its last sign of life before.
    case hostRebooted = "host-rebooted"
    /// The host's heartbeats stopped: closed at its last sign of life.
    case hostSilent = "host-silent"
    /// Still open at the end of the evidence; counted to the host's last sign of life.
    case open
}
