import UsageRecords

/// Storage (seed "Billing Assumptions", Storage; DESIGN.md lessons): an account's storage at any
/// moment is the sum, over hosts, of what the host's latest snapshot holds for it. Each cycle's
/// average is time-weighted over the samples present (each holds until the next, the last until
/// the cycle's end), from the cycle's first sample; a cycle without a sample is absent, not zero.
/// Averages are rounded to the nearest megabyte, half up; the statement bills the largest.
enum StorageAverages {
    /// Per account, its storage as a step function: (time, bytes from then on), and every sample time.
    static func series(_ d: Derivation, scopes: [String], accounts: AccountResolver) -> [String: [(time: Timestamp, bytes: Int64)]] {
        // host → time → account → bytes: one snapshot per host and scheduled time.
        var snapshots: [String: [Timestamp: [String: Int64]]] = [:]
        for r in d.evidence.records {
            guard case .storageSample(let s) = r.payload, scopes.contains(s.scope) else { continue }
            let account = accounts.account(meeting: s.meeting ?? s.key, host: r.host)
            snapshots[r.host, default: [:]][r.time, default: [:]][account, default: 0] += s.bytes
        }
        // account → (time, host, bytes) at each sample, including an account's drop to zero.
        var events: [String: [(time: Timestamp, host: String, bytes: Int64)]] = [:]
        for (host, byTime) in snapshots {
            var previous: [String: Int64] = [:]
            for t in byTime.keys.sorted() {
                let current = byTime[t] ?? [:]
                for account in Set(previous.keys).union(current.keys) {
                    events[account, default: []].append((t, host, current[account] ?? 0))
                }
                previous = current
            }
        }
        var out: [String: [(time: Timestamp, bytes: Int64)]] = [:]
        for (account, list) in events {
            var perHost: [String: Int64] = [:]
            var total: Int64 = 0
            var steps: [(time: Timestamp, bytes: Int64)] = []
            for e in list.sorted(by: { ($0.time, $0.host) < ($1.time, $1.host) }) {
                total += e.bytes - (perHost[e.host] ?? 0)
                perHost[e.host] = e.bytes
                if let last = steps.last, last.time == e.time { steps[steps.count - 1].bytes = total } else { steps.append((e.time, total)) }
            }
            out[account] = steps
        }
        return out
    }

    /// The average over [first sample in the bucket, bucket end) in megabytes, half up; nil if no sample.
    static func averageMegabytes(_ steps: [(time: Timestamp, bytes: Int64)], _ bucket: Bucket, bytesPerMegabyte: Int64) -> Int64? {
        guard let firstIndex = steps.firstIndex(where: { $0.time >= bucket.start }), steps[firstIndex].time < bucket.end else { return nil }
        let from = steps[firstIndex].time
        var weighted: Int128 = 0
        var i = firstIndex
        while i < steps.count && steps[i].time < bucket.end {
            let until = i + 1 < steps.count ? min(steps[i + 1].time, bucket.end) : bucket.end
            weighted += Int128(steps[i].bytes) * Int128(until.microseconds(since: steps[i].time))
            i += 1
        }
        let duration = Int128(bucket.end.microseconds(since: from))
        guard duration > 0 else { return Int64((Int128(steps[firstIndex].bytes) * 2 + Int128(bytesPerMegabyte)) / (2 * Int128(bytesPerMegabyte))) }
        let denominator = duration * Int128(bytesPerMegabyte)
        return Int64((2 * weighted + denominator) / (2 * denominator))
    }

    static func pieces(_ meter: Meter, _ rule: StorageRule, policy: BillingPolicy, buckets: [Bucket], context c: RatingContext) -> [Piece] {
        let price = c.pricing.perUnit(meter.price ?? .zero, per: meter.per)
        var out: [Piece] = []
        for (account, steps) in series(c.derivation, scopes: rule.scopes, accounts: c.accounts) {
            var best: (index: Int, megabytes: Int64)?
            for (i, b) in buckets.enumerated() {
                guard let mb = averageMegabytes(steps, b, bytesPerMegabyte: policy.bytesPerMegabyte) else { continue }
                if let current = best, mb <= current.megabytes { continue }
                best = (i, mb)
            }
            guard let best, best.megabytes > 0 else { continue }
            let averages = buckets.compactMap { b in averageMegabytes(steps, b, bytesPerMegabyte: policy.bytesPerMegabyte).map { "\(b.label)=\($0)" } }
            out.append(Piece(account: account, detail: nil, kind: .usage, bucket: buckets[best.index], quantity: best.megabytes,
                             unit: "MB", unitPrice: price, sources: averages))
        }
        return out
    }
}
