import UsageRecords

/// Whiteboard minutes (seed "Whiteboard Duration Billing Explanation"): usage runs from the
/// whiteboard's initialisation to its termination or the person's leaving, watching included;
/// it pauses a while after the client goes to the background (never on Windows); and each
/// clock-aligned minute slot with any usage counts one whole minute for that person.
enum WhiteboardMinutes {
    static func pieces(_ meter: Meter, _ rule: WhiteboardRule, buckets: [Bucket], context c: RatingContext) -> [Piece] {
        guard let first = buckets.first, let last = buckets.last else { return [] }
        let price = c.pricing.perUnit(meter.price ?? .zero, per: meter.per)
        var slots: [String: [Int64]] = [:]
        var sources: [String: [Set<String>]] = [:]
        for m in c.derivation.meetings where m.overlaps(first.start, last.end) {
            let usage = usage(m, rule)
            guard !usage.isEmpty else { continue }
            let account = c.accounts.account(of: m)
            var counts = slots[account] ?? [Int64](repeating: 0, count: buckets.count)
            var s = sources[account] ?? [Set<String>](repeating: [], count: buckets.count)
            for (_, spans) in usage {
                let perBucket = MinuteSlots.count(spans, slotSeconds: rule.slotSeconds, buckets: buckets)
                for i in buckets.indices where perBucket[i] > 0 {
                    // A touched slot counts all its minutes (one, with the document's slots).
                    counts[i] += perBucket[i] * (rule.slotSeconds / 60)
                    s[i].insert(m.meeting)
                }
            }
            slots[account] = counts
            sources[account] = s
        }
        var out: [Piece] = []
        for (account, counts) in slots {
            for (i, q) in counts.enumerated() where q > 0 {
                out.append(Piece(account: account, detail: nil, kind: .usage, bucket: buckets[i], quantity: q, unit: "minute",
                                 unitPrice: price, sources: sources[account]?[i].sorted() ?? []))
            }
        }
        return out
    }

    /// Per person, the spans of whiteboard usage in the meeting.
    static func usage(_ m: MeetingTimeline, _ rule: WhiteboardRule) -> [(user: String, spans: [Span])] {
        let boards = activitySpans(m, activity: rule.activity)
        guard !boards.isEmpty else { return [] }
        let wholeMeeting = boards[nil] ?? []
        var byUser: [String: [Span]] = [:]
        for p in m.presences {
            let presence = [Span(p.start, p.end)]
            let active = Span.intersect(presence, Span.union(wholeMeeting + (boards[p.user] ?? [])))
            guard !active.isEmpty else { continue }
            let paused = pauses(m, user: p.user, presence: Span(p.start, p.end), delay: rule.pause(for: p.client))
            byUser[p.user, default: []] += Span.subtract(active, paused)
        }
        return byUser.map { ($0.key, Span.union($0.value)) }.sorted { $0.user < $1.user }
    }

    /// Whiteboard spans per person (nil: for the whole meeting). A start while running changes
    /// nothing; a stop for the whole meeting ends every whiteboard at once; the meeting's end ends all.
    static func activitySpans(_ m: MeetingTimeline, activity: String) -> [String?: [Span]] {
        var open: [String?: Timestamp] = [:]
        var out: [String?: [Span]] = [:]
        for e in m.activities where e.activity == activity {
            if e.started {
                if open[e.user] == nil { open[e.user] = e.time }
            } else if e.user == nil {
                for (who, since) in open { out[who, default: []].append(Span(since, e.time)) }
                open.removeAll()
            } else if let since = open.removeValue(forKey: e.user) {
                out[e.user, default: []].append(Span(since, e.time))
            }
        }
        for (who, since) in open { out[who, default: []].append(Span(since, m.until)) }
        return out
    }

    /// The spans a person's client is paused in: from `delay` seconds after going to the
    /// background until it returns (or the presence ends).
    static func pauses(_ m: MeetingTimeline, user: String, presence: Span, delay: Int64?) -> [Span] {
        guard let delay else { return [] }
        var out: [Span] = []
        var since: Timestamp?
        for v in m.visibility where v.user == user && v.time >= presence.start && v.time <= presence.end {
            if v.background {
                if since == nil { since = v.time }
            } else if let s = since {
                out.append(Span(s.adding(seconds: delay), v.time))
                since = nil
            }
        }
        if let s = since { out.append(Span(s.adding(seconds: delay), presence.end)) }
        return Span.union(out)
    }
}

/// Clock-aligned slots: a slot with any usage counts one whole slot (seed: "TIW begins on the hour
/// with each minute serving as a statistical interval").
enum MinuteSlots {
    /// Slots touched by `spans` (sorted, disjoint), counted in the bucket that holds each slot's start.
    static func count(_ spans: [Span], slotSeconds: Int64, buckets: [Bucket]) -> [Int64] {
        let slot = slotSeconds * 1_000_000
        var out = [Int64](repeating: 0, count: buckets.count)
        var lastCounted = Int64.min
        for s in spans where !s.isEmpty {
            var firstSlot = floorDiv(s.start.microseconds, slot)
            let lastSlot = floorDiv(s.end.microseconds - 1, slot)
            firstSlot = max(firstSlot, lastCounted == Int64.min ? firstSlot : lastCounted + 1)
            guard firstSlot <= lastSlot else { continue }
            // Count slot by slot only at bucket edges; buckets are whole days, so slots never straddle.
            var k = firstSlot
            while k <= lastSlot {
                let t = Timestamp(microseconds: k * slot)
                guard let i = Collation.index(of: t, in: buckets) else {
                    // Outside the statement: skip to the next bucket start, if any.
                    if let next = buckets.first(where: { $0.start > t }) {
                        k = max(k + 1, floorDiv(next.start.microseconds, slot))
                        continue
                    }
                    break
                }
                let upto = min(lastSlot, floorDiv(buckets[i].end.microseconds - 1, slot))
                out[i] += upto - k + 1
                k = upto + 1
            }
            lastCounted = lastSlot
        }
        return out
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
