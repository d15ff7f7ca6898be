import UsageRecords

/// Live collaboration's admin rule (seed "I am still billed when users stay inside the room"):
/// admins may be in a room alone; general users are billable while an admin is present and for
/// at most the grace period after the last admin left; an admin back within it continues the
/// session as if never gone; with no admin and no grace running, general users are not billable.
enum GracePeriod {
    /// One person's billable time in a meeting.
    struct Billable: Sendable {
        var user: String
        var spans: [Span]
    }

    /// Each presence cut where its role changes, and when an admin is present or the grace
    /// period runs (`covered`, admins' time included).
    static func segments(_ m: MeetingTimeline, rule: ParticipantRule)
        -> (segments: [(user: String, span: Span, admin: Bool)], admins: [Span], covered: [Span])
    {
        var segments: [(user: String, span: Span, admin: Bool)] = []
        for p in m.presences {
            for (i, change) in p.roles.enumerated() {
                let end = i + 1 < p.roles.count ? p.roles[i + 1].time : p.end
                let s = Span(max(change.time, p.start), min(end, p.end))
                if !s.isEmpty { segments.append((p.user, s, rule.isAdmin(change.role))) }
            }
        }
        let admins = Span.union(segments.filter(\.admin).map(\.span))
        let covered = Span.union(admins.map { Span($0.start, $0.end.adding(seconds: rule.graceSeconds)) })
        return (segments, admins, covered)
    }

    static func billable(_ m: MeetingTimeline, rule: ParticipantRule) -> [Billable] {
        let (segments, _, covered) = segments(m, rule: rule)
        var byUser: [String: [Span]] = [:]
        for s in segments {
            byUser[s.user, default: []] += s.admin ? [s.span] : Span.intersect([s.span], covered)
        }
        return byUser.map { Billable(user: $0.key, spans: Span.union($0.value)) }.sorted { $0.user < $1.user }
    }
}
