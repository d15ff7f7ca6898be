import UsageRecords

/// Participant minutes of live collaboration under the admin grace period.
enum ParticipantMinutes {
    static func pieces(_ meter: Meter, _ rule: ParticipantRule, buckets: [Bucket], context c: RatingContext) -> [Piece] {
        guard let first = buckets.first, let last = buckets.last else { return [] }
        let price = c.pricing.perUnit(meter.price ?? .zero, per: meter.per)
        // (account, bucket) → microseconds (bucket rounding) or minutes (person rounding), and meetings.
        var micro: [String: [Int64]] = [:]
        var minutesByAccount: [String: [Int64]] = [:]
        var sources: [String: [Set<String>]] = [:]
        for m in c.derivation.meetings where m.overlaps(first.start, last.end) {
            if m.info.parent != nil && !rule.countBreakoutRooms { continue }
            let account = c.accounts.account(of: m)
            for person in GracePeriod.billable(m, rule: rule) {
                var perBucket = [Int64](repeating: 0, count: buckets.count)
                Span.distribute(person.spans, over: buckets, into: &perBucket)
                guard perBucket.contains(where: { $0 > 0 }) else { continue }
                switch rule.rounding {
                case .bucket:
                    var sum = micro[account] ?? [Int64](repeating: 0, count: buckets.count)
                    for i in buckets.indices { sum[i] += perBucket[i] }
                    micro[account] = sum
                case .person:
                    var sum = minutesByAccount[account] ?? [Int64](repeating: 0, count: buckets.count)
                    for i in buckets.indices { sum[i] += minutes(fromSeconds: wholeSeconds(perBucket[i])) }
                    minutesByAccount[account] = sum
                }
                var s = sources[account] ?? [Set<String>](repeating: [], count: buckets.count)
                for i in buckets.indices where perBucket[i] > 0 { s[i].insert(m.meeting) }
                sources[account] = s
            }
        }
        for (account, list) in micro {
            minutesByAccount[account] = list.map { minutes(fromSeconds: wholeSeconds($0)) }
        }
        var out: [Piece] = []
        for (account, list) in minutesByAccount {
            for (i, q) in list.enumerated() where q > 0 {
                out.append(Piece(account: account, detail: nil, kind: .usage, bucket: buckets[i], quantity: q, unit: "minute",
                                 unitPrice: price, sources: sources[account]?[i].sorted() ?? []))
            }
        }
        return out
    }
}
