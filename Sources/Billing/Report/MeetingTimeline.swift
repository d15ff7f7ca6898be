import UsageRecords

/// One meeting derived from its records: its span and everyone's presence, unclipped. Shared by
/// the usage report and every meter that bills meetings.
struct MeetingTimeline: Sendable {
    struct Presence: Sendable {
        var user: String
        var start: Timestamp
        var end: Timestamp
        /// The role from `start`, then each change; never empty.
        var roles: [RoleChange]
        var client: String?
        var closure: Closure
        var joinRecord: RecordID
        var endRecord: RecordID?

        func role(at t: Timestamp) -> String {
            var current = roles[0].role
            for change in roles where change.time <= t { current = change.role }
            return current
        }
    }

    struct ActivityEvent: Sendable {
        var time: Timestamp
        var started: Bool
        var user: String?
        var activity: String
    }

    struct VisibilityEvent: Sendable {
        var time: Timestamp
        var user: String
        var background: Bool
    }

    var meeting: String
    var host: String
    /// The first `meeting.started`, with fields a later copy carried and it lacked filled in.
    var info: MeetingStarted
    /// A `meeting.started` is in the evidence: without one, the meeting began before the records
    /// at hand, and its length is not known.
    var hasStartRecord: Bool
    var start: Timestamp
    /// Announced by the software; nil when a reboot, silence or the end of the evidence closed it.
    var announcedEnd: Timestamp?
    /// Where counting stops: the announced end, or the host's last sign of life.
    var until: Timestamp
    var closure: Closure
    var presences: [Presence]
    var activities: [ActivityEvent]
    var visibility: [VisibilityEvent]

    /// `records` are the meeting's, in canonical order; `host` tells where an unannounced end falls.
    init(meeting: String, records: [UsageRecord], liveness: (String) -> HostLiveness?, notes: inout DerivationNotes) {
        self.meeting = meeting
        var info: MeetingStarted?
        var startRecord: UsageRecord?
        for r in records {
            guard case .meetingStarted(let s) = r.payload else { continue }
            if info == nil {
                info = s
                startRecord = r
            } else if var merged = info {
                merged.external = merged.external ?? s.external
                merged.name = merged.name ?? s.name
                merged.parent = merged.parent ?? s.parent
                merged.meta.merge(s.meta) { first, _ in first }
                info = merged
            }
        }
        let first = startRecord ?? records[0]
        self.info = info ?? MeetingStarted(meeting: meeting)
        self.hasStartRecord = info != nil
        self.host = first.host
        self.start = first.time
        let start = first.time

        var endRecord: UsageRecord?
        for r in records where r.time >= start {
            if case .meetingEnded = r.payload { endRecord = r; break }
        }
        if let endRecord {
            announcedEnd = endRecord.time
            until = endRecord.time
            closure = .ended
        } else {
            let closed = liveness(first.host)?.close(openAt: start) ?? (start, .open)
            announcedEnd = nil
            until = max(closed.time, start)
            closure = closed.closure
            switch closure {
            case .hostRebooted: notes.meetingsClosedByReboot += 1
            case .hostSilent: notes.meetingsClosedBySilence += 1
            default: notes.meetingsOpen += 1
            }
        }

        var open: [String: Presence] = [:]
        var closed: [Presence] = []
        activities = []
        visibility = []
        for r in records {
            if r.time > until {
                switch r.payload {
                case .meetingStarted: break
                case .meetingEnded: notes.repeatedEnds += 1
                default: notes.recordsAfterEnd += 1
                }
                continue
            }
            switch r.payload {
            case .userJoined(let j):
                if open[j.user] != nil {
                    notes.repeatedJoins += 1
                } else {
                    let at = max(r.time, start)
                    open[j.user] = Presence(user: j.user, start: at, end: at, roles: [RoleChange(time: at, role: j.role)],
                                            client: j.client, closure: .left, joinRecord: r.id)
                }
            case .userLeft(let l):
                if var p = open.removeValue(forKey: l.user) {
                    p.end = r.time
                    p.endRecord = r.id
                    closed.append(p)
                } else {
                    notes.leavesWithoutJoin += 1
                }
            case .userRole(let c):
                if var p = open[c.user], p.roles[p.roles.count - 1].role != c.role {
                    p.roles.append(RoleChange(time: r.time, role: c.role))
                    open[c.user] = p
                }
            case .meetingEnded:
                if r.id != endRecord?.id { notes.repeatedEnds += 1 }
            case .activityStarted(let a), .activityStopped(let a):
                let started = if case .activityStarted = r.payload { true } else { false }
                activities.append(ActivityEvent(time: r.time, started: started, user: a.user, activity: a.activity))
            case .clientBackground(let v):
                visibility.append(VisibilityEvent(time: r.time, user: v.user, background: true))
            case .clientForeground(let v):
                visibility.append(VisibilityEvent(time: r.time, user: v.user, background: false))
            default:
                break
            }
        }
        for var p in open.values {
            p.end = until
            p.closure = closure
            p.endRecord = endRecord?.id
            if closure == .ended { notes.presencesClosedAtEnd += 1 }
            closed.append(p)
        }
        presences = closed.sorted { ($0.start, $0.user) < ($1.start, $1.user) }
    }

    /// The meeting's span overlaps [lo, hi), or it started inside it (a meeting of no length).
    func overlaps(_ lo: Timestamp, _ hi: Timestamp) -> Bool {
        start < hi && (until > lo || start >= lo)
    }
}
