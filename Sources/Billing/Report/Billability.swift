import UsageRecords

/// A stretch of one person's presence in a meeting, billed or not, and why (live collaboration's
/// admin rule, GracePeriod): for the drill-down from a statement line to the time behind it.
public struct BillableStretch: Sendable, Hashable {
    public enum Reason: String, Sendable, Hashable {
        /// The person is an admin (a moderator): always billed.
        case admin
        /// A general user while an admin is present.
        case adminPresent = "admin-present"
        /// A general user after the last admin left, within the grace period.
        case grace
        /// A general user with no admin present and no grace running: not billed.
        case noAdmin = "no-admin"
        /// In a breakout room the rule does not count: not billed.
        case notCounted = "not-counted"
    }
    public var user: String
    public var start: Timestamp
    public var end: Timestamp
    public var reason: Reason
    public var billable: Bool { reason != .noAdmin && reason != .notCounted }
}

public enum Billability {
    /// The rule of the policy's first participant-minutes meter; nil when it bills no participant time.
    public static func participantRule(_ policy: BillingPolicy) -> ParticipantRule? {
        for meter in policy.meters {
            if case .participantMinutes(let rule) = meter.rule { return rule }
        }
        return nil
    }

    /// Each person's presence in `meeting` cut into stretches by whether and why it is billed,
    /// sorted by person and time; empty when the records hold no such meeting.
    public static func stretches(meeting: String, records: [UsageRecord], rule: ParticipantRule) -> [BillableStretch] {
        guard let m = Derivation(records: records).meeting(meeting) else { return [] }
        // Rating passes over breakout rooms when the rule does not count them: nothing of them is billed.
        if m.info.parent != nil && !rule.countBreakoutRooms {
            return m.presences.map { BillableStretch(user: $0.user, start: $0.start, end: $0.end, reason: .notCounted) }
                .sorted { ($0.user, $0.start.microseconds) < ($1.user, $1.start.microseconds) }
        }
        let (segments, admins, covered) = GracePeriod.segments(m, rule: rule)
        let graceOnly = Span.subtract(covered, admins)
        var out: [BillableStretch] = []
        for s in segments {
            if s.admin {
                out.append(BillableStretch(user: s.user, start: s.span.start, end: s.span.end, reason: .admin))
                continue
            }
            let parts: [([Span], BillableStretch.Reason)] = [
                (Span.intersect([s.span], admins), .adminPresent),
                (Span.intersect([s.span], graceOnly), .grace),
                (Span.subtract([s.span], covered), .noAdmin),
            ]
            for (spans, reason) in parts {
                for span in spans where !span.isEmpty {
                    out.append(BillableStretch(user: s.user, start: span.start, end: span.end, reason: reason))
                }
            }
        }
        return out.sorted { ($0.user, $0.start.microseconds) < ($1.user, $1.start.microseconds) }
    }
}
