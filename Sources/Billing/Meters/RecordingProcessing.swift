import UsageRecords

/// Recording processing (seed "Billing Assumptions"): each recording's processing time across its
/// steps (overlaps counted once), at least the minimum per recording, summed per cycle and
/// account, then rounded to the minute. No recording, no charge. A recording belongs to the
/// cycle its processing started in.
enum RecordingProcessing {
    struct Recording {
        var id: String
        var meeting: String
        var host: String
        var spans: [Span]
        /// When processing first started, even if every step took no time.
        var first: Timestamp
    }

    static func recordings(_ d: Derivation, steps: [String]) -> [Recording] {
        var byID: [String: Recording] = [:]
        for r in d.evidence.records {
            guard case .recordingProcessed(let p) = r.payload else { continue }
            if !steps.isEmpty && !steps.contains(p.step) { continue }
            var rec = byID[p.recording] ?? Recording(id: p.recording, meeting: p.meeting, host: r.host, spans: [], first: p.started)
            rec.spans.append(Span(p.started, p.ended))
            rec.first = min(rec.first, p.started)
            byID[p.recording] = rec
        }
        return byID.values.map { var r = $0; r.spans = Span.union(r.spans); return r }.sorted { $0.id < $1.id }
    }

    static func pieces(_ meter: Meter, _ rule: RecordingRule, buckets: [Bucket], context c: RatingContext) -> [Piece] {
        let price = c.pricing.perUnit(meter.price ?? .zero, per: meter.per)
        var seconds: [String: [Int64]] = [:]
        var sources: [String: [[String]]] = [:]
        for rec in recordings(c.derivation, steps: rule.steps) {
            guard let i = Collation.index(of: rec.first, in: buckets) else { continue }
            let processed = wholeSeconds(rec.spans.reduce(0) { $0 + $1.micro })
            let billed = max(processed, rule.minimumMinutes * 60)
            let account = c.accounts.account(meeting: rec.meeting, host: rec.host)
            seconds[account, default: [Int64](repeating: 0, count: buckets.count)][i] += billed
            sources[account, default: [[String]](repeating: [], count: buckets.count)][i].append(rec.id)
        }
        var out: [Piece] = []
        for (account, list) in seconds {
            for (i, s) in list.enumerated() where s > 0 {
                out.append(Piece(account: account, detail: nil, kind: .usage, bucket: buckets[i], quantity: minutes(fromSeconds: s),
                                 unit: "minute", unitPrice: price, sources: sources[account]?[i] ?? []))
            }
        }
        return out
    }
}
