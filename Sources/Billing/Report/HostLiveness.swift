import UsageRecords

/// When a host was known alive, boot by boot (DESIGN.md principle 7): what lets billing close a
/// meeting that a crashed or rebooted host never announced the end of.
struct HostLiveness: Sendable {
    /// One boot of the host: from its first record to its last sign of life.
    struct Boot: Sendable {
        /// The journal's boot id; nil for a host that sent no heartbeat.
        var id: String?
        /// The first record of the boot (for the first boot, the host's first record at all).
        var start: Timestamp
        /// The first heartbeat with this boot id.
        var firstHeartbeat: Timestamp?
        /// The last record of the boot before the next boot's first heartbeat.
        var lastAlive: Timestamp
        /// (time, size, interval) of each heartbeat, in order.
        var heartbeats: [(time: Timestamp, size: String, interval: Int64)] = []
    }

    let host: String
    private(set) var boots: [Boot] = []
    /// The heartbeats stopped: the last one's next beat, and one more, are overdue at the end of
    /// the evidence.
    private(set) var silent = false

    /// `records` are this host's, in canonical order.
    init(host: String, records: some Sequence<UsageRecord>, evidenceEnd: Timestamp) {
        self.host = host
        for r in records {
            if case .hostHeartbeat(let hb) = r.payload {
                if let last = boots.last, last.id == nil || last.id == hb.boot {
                    if last.id == nil { boots[boots.count - 1].id = hb.boot }
                    if boots[boots.count - 1].firstHeartbeat == nil { boots[boots.count - 1].firstHeartbeat = r.time }
                } else {
                    boots.append(Boot(id: hb.boot, start: r.time, firstHeartbeat: r.time, lastAlive: r.time))
                }
                boots[boots.count - 1].heartbeats.append((r.time, hb.size, hb.interval))
            } else if boots.isEmpty {
                boots.append(Boot(id: nil, start: r.time, firstHeartbeat: nil, lastAlive: r.time))
            }
            boots[boots.count - 1].lastAlive = max(boots[boots.count - 1].lastAlive, r.time)
        }
        if let beat = boots.last?.heartbeats.last {
            silent = beat.time.adding(seconds: 2 * beat.interval) < evidenceEnd
        }
    }

    /// The boot that was running at `t`.
    func bootIndex(at t: Timestamp) -> Int? {
        guard !boots.isEmpty else { return nil }
        var lo = 0, hi = boots.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if boots[mid].start <= t { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// Where something still open at `t` is closed, and why.
    func close(openAt t: Timestamp) -> (time: Timestamp, closure: Closure) {
        guard let i = bootIndex(at: t) else { return (t, .open) }
        let alive = max(boots[i].lastAlive, t)
        if i < boots.count - 1 { return (alive, .hostRebooted) }
        return (alive, silent ? .hostSilent : .open)
    }
}
