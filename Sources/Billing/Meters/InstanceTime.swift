import UsageRecords

/// Instance time (seed "Billing Assumptions", On Demand Instances), from heartbeats: a host runs
/// from its boot's first record to its last sign of life, in the size its latest heartbeat
/// states; between a boot's last sign of life and the next boot it was stopped. A gap in
/// heartbeats without a new boot id is still running: the boot never ended.
enum InstanceTime {
    struct Stretch {
        var host: String
        var size: String
        var running: Bool
        var span: Span
    }

    static func stretches(_ h: HostLiveness) -> [Stretch] {
        var out: [Stretch] = []
        let boots = h.boots.filter { !$0.heartbeats.isEmpty } // a host that sends no heartbeat has no known size
        for (i, boot) in boots.enumerated() {
            var from = boot.start
            var size = boot.heartbeats[0].size
            for beat in boot.heartbeats.dropFirst() where beat.size != size {
                out.append(Stretch(host: h.host, size: size, running: true, span: Span(from, beat.time)))
                from = beat.time
                size = beat.size
            }
            out.append(Stretch(host: h.host, size: size, running: true, span: Span(from, boot.lastAlive)))
            if i + 1 < boots.count {
                out.append(Stretch(host: h.host, size: size, running: false, span: Span(boot.lastAlive, boots[i + 1].start)))
            }
        }
        return out.filter { !$0.span.isEmpty }
    }

    static func pieces(_ meter: Meter, _ rule: InstanceRule, buckets: [Bucket], context c: RatingContext,
                       warnings: inout [String]) -> [Piece] {
        struct Key: Hashable { var account: String; var size: String }
        var micro: [Key: [Int64]] = [:]
        var hosts: [Key: [Set<String>]] = [:]
        for host in c.derivation.hosts.keys.sorted() {
            guard let h = c.derivation.hosts[host] else { continue }
            let account = c.accounts.rules.account(host: host)
            for s in stretches(h) where s.running == (rule.state == .running) {
                let key = Key(account: account, size: s.size)
                var perBucket = micro[key] ?? [Int64](repeating: 0, count: buckets.count)
                let before = perBucket
                Span.distribute([s.span], over: buckets, into: &perBucket)
                micro[key] = perBucket
                var names = hosts[key] ?? [Set<String>](repeating: [], count: buckets.count)
                for i in buckets.indices where perBucket[i] != before[i] { names[i].insert(host) }
                hosts[key] = names
            }
        }
        var out: [Piece] = []
        var unpriced: Set<String> = []
        for (key, list) in micro {
            let quoted = rule.sizes[key.size] ?? meter.price
            if quoted == nil { unpriced.insert(key.size) }
            let price = c.pricing.perUnit(quoted ?? .zero, per: meter.per)
            for (i, us) in list.enumerated() {
                let q = minutes(fromSeconds: wholeSeconds(us))
                guard q > 0 else { continue }
                out.append(Piece(account: key.account, detail: key.size, kind: .usage, bucket: buckets[i], quantity: q, unit: "minute",
                                 unitPrice: price, sources: hosts[key]?[i].sorted() ?? []))
            }
        }
        for size in unpriced.sorted() {
            warnings.append("meter '\(meter.item)': instance size '\(size)' has no price (add it to sizes); billed at 0")
        }
        return out
    }
}
