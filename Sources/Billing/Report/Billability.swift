import UsageRecords

/// A stretch of one person's time in a meeting under one meter, billed or not, and why: for the
/// drill-down from a statement line to the time behind it. Live collaboration's stretches follow
/// its admin rule (GracePeriod); the whiteboard's follow its background pauses (WhiteboardMinutes).
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
        /// The whiteboard in use by the person (watching counts): billed, by the minute slot.
        case whiteboard
        /// The whiteboard in use while the person's client had been in the background longer than
        /// the rule's pause: not billed.
        case backgroundPause = "background-pause"
    }
    /// The item of the meter the stretch is rated under.
    public var meter: String
    public var user: String
    public var start: Timestamp
    public var end: Timestamp
    public var reason: Reason
    public var billable: Bool { reason != .noAdmin && reason != .notCounted && reason != .backgroundPause }
}

extension UsageDerivation {
    /// Each person's time in `meeting` cut into stretches by whether and why it is billed, under
    /// the policy's first participant-minutes meter and its first whiteboard meter; sorted by
    /// meter, person and time; empty when the records hold no such meeting.
    public func stretches(meeting: String, policy: BillingPolicy) -> [BillableStretch] {
        guard let m = derivation.meeting(meeting) else { return [] }
        var participants: (String, ParticipantRule)?
        var whiteboard: (String, WhiteboardRule)?
        for meter in policy.meters {
            switch meter.rule {
            case .participantMinutes(let rule) where participants == nil: participants = (meter.item, rule)
            case .whiteboardMinutes(let rule) where whiteboard == nil: whiteboard = (meter.item, rule)
            default: break
            }
        }
        var out: [BillableStretch] = []
        if let (item, rule) = participants { out += Self.participantStretches(m, meter: item, rule: rule) }
        if let (item, rule) = whiteboard { out += Self.whiteboardStretches(m, meter: item, rule: rule) }
        return out.sorted { ($0.meter, $0.user, $0.start.microseconds) < ($1.meter, $1.user, $1.start.microseconds) }
    }

    static func participantStretches(_ m: MeetingTimeline, meter: String, rule: ParticipantRule) -> [BillableStretch] {
        // Rating passes over breakout rooms when the rule does not count them: nothing of them is billed.
        if m.info.parent != nil && !rule.countBreakoutRooms {
            return m.presences.map { BillableStretch(meter: meter, user: $0.user, start: $0.start, end: $0.end, reason: .notCounted) }
        }
        let (segments, admins, covered) = GracePeriod.segments(m, rule: rule)
        let graceOnly = Span.subtract(covered, admins)
        var out: [BillableStretch] = []
        for s in segments {
            if s.admin {
                out.append(BillableStretch(meter: meter, user: s.user, start: s.span.start, end: s.span.end, reason: .admin))
                continue
            }
            let parts: [([Span], BillableStretch.Reason)] = [
                (Span.intersect([s.span], admins), .adminPresent),
                (Span.intersect([s.span], graceOnly), .grace),
                (Span.subtract([s.span], covered), .noAdmin),
            ]
            for (spans, reason) in parts {
                for span in spans where !span.isEmpty {
                    out.append(BillableStretch(meter: meter, user: s.user, start: span.start, end: span.end, reason: reason))
                }
            }
        }
        return out
    }

    /// The whiteboard's use by each person, split where the client's background pause stops billing
    /// (the same spans WhiteboardMinutes counts slots from).
    static func whiteboardStretches(_ m: MeetingTimeline, meter: String, rule: WhiteboardRule) -> [BillableStretch] {
        let boards = WhiteboardMinutes.activitySpans(m, activity: rule.activity)
        guard !boards.isEmpty else { return [] }
        let wholeMeeting = boards[nil] ?? []
        var out: [BillableStretch] = []
        for p in m.presences {
            let active = Span.intersect([Span(p.start, p.end)], Span.union(wholeMeeting + (boards[p.user] ?? [])))
            guard !active.isEmpty else { continue }
            let paused = WhiteboardMinutes.pauses(m, user: p.user, presence: Span(p.start, p.end), delay: rule.pause(for: p.client))
            for span in Span.subtract(active, paused) where !span.isEmpty {
                out.append(BillableStretch(meter: meter, user: p.user, start: span.start, end: span.end, reason: .whiteboard))
            }
            for span in Span.intersect(active, paused) where !span.isEmpty {
                out.append(BillableStretch(meter: meter, user: p.user, start: span.start, end: span.end, reason: .backgroundPause))
            }
        }
        return out
    }
}
