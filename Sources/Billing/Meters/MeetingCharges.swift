import UsageRecords

/// Meetings and breakout rooms (seed "Billing Assumptions", On Demand Meetings): each meeting's
/// length, rounded to the minute, at a price per meeting hour found from its parameters, never
/// under the minimum hourly rate, and never under the minimum charge for a meeting started.
/// Breakout rooms: a fraction of the parent's rate, with their own minimum. Each meeting is
/// clamped on its own before anything is summed, and belongs to the cycle it started in.
enum MeetingCharges {
    static func meetingPieces(_ meter: Meter, _ rule: MeetingRule, buckets: [Bucket], context c: RatingContext) -> [Piece] {
        var out: [Piece] = []
        // A meeting whose start is not in the evidence has no known length: nothing to charge.
        for m in c.derivation.meetings where m.info.parent == nil && m.hasStartRecord {
            guard let i = Collation.index(of: m.start, in: buckets) else { continue }
            let hourly = effectiveHourly(m, meter, rule, c.pricing)
            out.append(piece(m, minutes: length(m), perMinute: c.pricing.perMinute(hourly: hourly), minimum: rule.minimumCharge,
                             unit: "meeting", bucket: buckets[i], context: c))
        }
        return out
    }

    static func breakoutPieces(_ meter: Meter, _ rule: BreakoutRule, policy: BillingPolicy, buckets: [Bucket],
                               context c: RatingContext) -> [Piece] {
        let parentMeter = policy.meters.first { m in
            guard m.measure == .meetingHours else { return false }
            return rule.parentItem.map { $0 == m.item } ?? true
        }
        var out: [Piece] = []
        for m in c.derivation.meetings where m.hasStartRecord {
            guard let parentID = m.info.parent, let i = Collation.index(of: m.start, in: buckets) else { continue }
            let parentHourly: ExactDecimal
            if let pm = parentMeter, case .meetingHours(let pr) = pm.rule {
                // The parent's rate; a parent outside the evidence is priced from the room's own parameters.
                parentHourly = effectiveHourly(c.derivation.meeting(parentID) ?? m, pm, pr, c.pricing)
            } else {
                parentHourly = c.pricing.hourly(meter.price ?? .zero, per: meter.per)
            }
            let perMinute = c.pricing.perMinute(hourly: parentHourly * rule.fraction)
            out.append(piece(m, minutes: length(m), perMinute: perMinute, minimum: rule.minimumCharge, unit: "room",
                             bucket: buckets[i], context: c))
        }
        return out
    }

    /// Minutes from availability to the announced end (or the host's last sign of life).
    static func length(_ m: MeetingTimeline) -> Int64 {
        minutes(fromSeconds: wholeSeconds(m.until.microseconds(since: m.start)))
    }

    static func piece(_ m: MeetingTimeline, minutes: Int64, perMinute: ExactDecimal, minimum: ExactDecimal, unit: String,
                      bucket: Bucket, context c: RatingContext) -> Piece {
        let account = c.accounts.account(of: m)
        if perMinute * minutes < minimum {
            return Piece(account: account, detail: nil, kind: .minimum, bucket: bucket, quantity: 1, unit: unit,
                         unitPrice: minimum, sources: [m.meeting])
        }
        return Piece(account: account, detail: nil, kind: .usage, bucket: bucket, quantity: minutes, unit: "minute",
                     unitPrice: perMinute, sources: [m.meeting])
    }

    /// The meeting's hourly rate: from its metadata or the first rate rule it matches, else the
    /// meter's price; never below the minimum hourly rate.
    static func effectiveHourly(_ m: MeetingTimeline, _ meter: Meter, _ rule: MeetingRule, _ pricing: Pricing) -> ExactDecimal {
        var quoted = meter.price ?? .zero
        if let key = rule.rateFromMeta, let value = text(m.info.meta[key]), let d = ExactDecimal(value), !d.isNegative {
            quoted = d
        } else if let match = rule.rates.first(where: { matches($0, m.info.meta) }) {
            quoted = match.price
        }
        return max(pricing.hourly(quoted, per: meter.per), rule.minimumHourly)
    }

    static func matches(_ r: RateRule, _ meta: [String: JSONValue]) -> Bool {
        guard let value = text(meta[r.meta]) else { return false }
        if let equals = r.equals { return value == equals }
        if let atLeast = r.atLeast, let n = Int64(value) { return n >= atLeast }
        return false
    }

    static func text(_ v: JSONValue?) -> String? {
        switch v {
        case .string(let s)?: s
        case .number(let n)?: n
        case .bool(let b)?: b ? "true" : "false"
        default: nil
        }
    }
}
