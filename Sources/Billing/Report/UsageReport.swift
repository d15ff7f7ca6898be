import UsageRecords

/// The usage report: meetings and presence for a period, derived from records alone.
public enum UsageReport {
    /// Meetings that overlap the period, sorted by start then id; derived only from records,
    /// independent of record order and of duplicates.
    public static func meetings(from records: [UsageRecord], in period: Period) -> [MeetingUsage] {
        derive(from: records, in: period).meetings
    }

    /// The meetings, what had to be mended on the way, and each host's health.
    public static func derive(from records: [UsageRecord], in period: Period) -> UsageDerivation {
        let d = Derivation(records: records)
        let meetings = d.meetings.filter { $0.overlaps(period.start, period.end) }.map { usage(of: $0, in: period) }
        let hosts = d.hosts.values.map { HostHealth($0) }.sorted { $0.host < $1.host }
        return UsageDerivation(meetings: meetings, notes: d.notes, hosts: hosts, derivation: d)
    }

    static func usage(of m: MeetingTimeline, in period: Period) -> MeetingUsage {
        let seconds = wholeSeconds(overlap(m.start, m.until, period.start, period.end))
        var users: [String: (first: Timestamp, micro: Int64, role: String, intervals: [PresenceInterval])] = [:]
        for p in m.presences {
            let inside = p.start < period.end && (p.end > period.start || p.start >= period.start)
            guard inside else { continue }
            let interval = PresenceInterval(
                start: p.start, end: p.end, role: p.roles[0].role, roleChanges: Array(p.roles.dropFirst()),
                client: p.client, closure: p.closure, joinRecord: p.joinRecord, endRecord: p.endRecord)
            let micro = overlap(p.start, p.end, period.start, period.end)
            let lastRole = p.role(at: min(p.end, period.end))
            if var u = users[p.user] {
                u.micro += micro
                u.role = lastRole
                u.intervals.append(interval)
                users[p.user] = u
            } else {
                users[p.user] = (p.start, micro, lastRole, [interval])
            }
        }
        let list = users.map { user, u in
            UserUsage(user: user, role: u.role, seconds: wholeSeconds(u.micro), minutes: minutes(fromSeconds: wholeSeconds(u.micro)),
                      intervals: u.intervals)
        }.sorted { a, b in
            let fa = a.intervals[0].start, fb = b.intervals[0].start
            return fa != fb ? fa < fb : a.user < b.user
        }
        return MeetingUsage(
            meeting: m.meeting, external: m.info.external, name: m.info.name, host: m.host, parent: m.info.parent,
            start: m.start, end: m.closure == .open ? nil : m.until, seconds: seconds, minutes: minutes(fromSeconds: seconds),
            users: list, closure: m.closure, countedUntil: m.until, meta: m.info.meta)
    }
}

/// The report's meetings with what had to be mended on the way and each host's health.
public struct UsageDerivation: Sendable {
    public var meetings: [MeetingUsage]
    public var notes: DerivationNotes
    public var hosts: [HostHealth]
    /// What the figures were derived from, for the drill-down into one meeting.
    let derivation: Derivation
}

/// A host's signs of life in the evidence, reported beside the figures (DESIGN.md lessons).
public struct HostHealth: Sendable, Hashable {
    public var host: String
    public var firstRecord: Timestamp
    public var lastRecord: Timestamp
    public var lastHeartbeat: Timestamp?
    /// Boot ids seen, in order (a change is a reboot).
    public var boots: [String]
    /// Its heartbeats stopped before the end of the evidence.
    public var silent: Bool
    /// Stretches where a heartbeat came more than twice its interval after the one before.
    public var gaps: [Gap]
    /// Seconds between heartbeats, as the latest heartbeat announced; nil without one.
    public var heartbeatInterval: Int64?

    public struct Gap: Sendable, Hashable {
        public var from: Timestamp
        public var to: Timestamp
    }

    init(_ h: HostLiveness) {
        host = h.host
        firstRecord = h.boots.first?.start ?? Timestamp(microseconds: 0)
        lastRecord = h.boots.map(\.lastAlive).max() ?? firstRecord
        lastHeartbeat = h.boots.last(where: { !$0.heartbeats.isEmpty })?.heartbeats.last?.time
        boots = h.boots.compactMap(\.id)
        heartbeatInterval = h.boots.last(where: { !$0.heartbeats.isEmpty })?.heartbeats.last?.interval
        silent = h.silent
        var gaps: [Gap] = []
        var previous: (time: Timestamp, size: String, interval: Int64)?
        for beat in h.boots.flatMap(\.heartbeats) {
            if let p = previous, beat.time > p.time.adding(seconds: 2 * p.interval) { gaps.append(Gap(from: p.time, to: beat.time)) }
            previous = beat
        }
        self.gaps = gaps
    }
}

extension UsageDerivation {
    /// The account that pays for a meeting (a breakout room pays with its parent), as rating finds
    /// it; for a meeting not in the evidence, the host's account.
    public func account(meeting: String?, host: String, rules: AccountRules) -> String {
        AccountResolver(rules: rules, derivation: derivation).account(meeting: meeting, host: host)
    }
}

extension UsageDerivation {
    /// The records about `meeting` in the evidence (its recordings' too), in canonical order, each once.
    public func records(meeting: String) -> [UsageRecord] {
        derivation.evidence.records.filter { $0.payload.meeting == meeting }
    }
}
