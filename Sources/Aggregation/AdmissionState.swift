/// Which connections the listener keeps, without sockets: the open connections, those still
/// waiting for their hello (oldest first) and how many of those each remote address has. The
/// listener holds one behind a lock; the tests drive it directly.
///
/// A new connection is always let in while an unauthenticated one can make room for it: the
/// oldest waiting one from the same address (over `maxUnauthenticatedPerAddress`), else the
/// oldest waiting one in all (over `maxUnauthenticated` or `maxConnections`). Authenticated
/// connections are never closed to make room; with `maxConnections` of them, a new one is refused.
struct AdmissionState<Key: Hashable, Handle> {
    /// Why a connection was closed before it authenticated (the `reason` of
    /// `meetmeter_aggregator_connections_refused_total`).
    enum Reason: String, Sendable, CaseIterable {
        case addressLimit = "address-limit"
        case unauthenticatedLimit = "unauthenticated-limit"
        case connectionLimit = "connection-limit"
        case helloTimeout = "hello-timeout"
        /// `accept` failed for want of descriptors (EMFILE, ENFILE) or memory.
        case descriptors
    }

    enum Admission {
        /// Let in; `evicted` (if any) must be closed for `reason`.
        case admitted(evicted: (handle: Handle, reason: Reason)?)
        case refused(Reason)
    }

    let limits: ConnectionLimits
    private var open: [Key: (handle: Handle, address: String, authenticated: Bool)] = [:]
    /// Unauthenticated keys, oldest first. At most `maxUnauthenticated` long, so scanning it is cheap.
    private var waiting: [Key] = []
    private var waitingByAddress: [String: Int] = [:]

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    var openCount: Int { open.count }
    var unauthenticatedCount: Int { waiting.count }

    mutating func admit(_ key: Key, handle: Handle, address: String) -> Admission {
        var evicted: (handle: Handle, reason: Reason)?
        if waitingByAddress[address, default: 0] >= limits.maxUnauthenticatedPerAddress,
           let oldest = waiting.first(where: { open[$0]?.address == address })
        {
            evicted = evict(oldest, .addressLimit)
        } else if waiting.count >= limits.maxUnauthenticated, let oldest = waiting.first {
            evicted = evict(oldest, .unauthenticatedLimit)
        } else if open.count >= limits.maxConnections {
            guard let oldest = waiting.first else { return .refused(.connectionLimit) }
            evicted = evict(oldest, .connectionLimit)
        }
        open[key] = (handle, address, false)
        waiting.append(key)
        waitingByAddress[address, default: 0] += 1
        return .admitted(evicted: evicted)
    }

    /// The connection sent a valid hello. False if it was closed meanwhile (evicted, or its
    /// deadline passed): it must not go on.
    mutating func authenticate(_ key: Key) -> Bool {
        guard let entry = open[key] else { return false }
        if !entry.authenticated {
            stopWaiting(key, entry.address)
            open[key] = (entry.handle, entry.address, true)
        }
        return true
    }

    /// The hello deadline of `key` passed: its handle, to be closed, if it is still waiting.
    mutating func expire(_ key: Key) -> Handle? {
        guard let entry = open[key], !entry.authenticated else { return nil }
        return evict(key, .helloTimeout)?.handle
    }

    /// The connection closed (for whatever reason).
    mutating func remove(_ key: Key) {
        guard let entry = open.removeValue(forKey: key) else { return }
        if !entry.authenticated { stopWaiting(key, entry.address) }
    }

    private mutating func evict(_ key: Key, _ reason: Reason) -> (handle: Handle, reason: Reason)? {
        guard let entry = open.removeValue(forKey: key) else { return nil }
        if !entry.authenticated { stopWaiting(key, entry.address) }
        return (entry.handle, reason)
    }

    private mutating func stopWaiting(_ key: Key, _ address: String) {
        if let i = waiting.firstIndex(of: key) { waiting.remove(at: i) }
        let left = waitingByAddress[address, default: 1] - 1
        waitingByAddress[address] = left > 0 ? left : nil
    }
}

extension AdmissionState.Admission: Sendable where Handle: Sendable {}

/// Says a repeated event once, then at most once a `interval` with how many happened since, so
/// that a flood writes a few lines, not one a connection.
struct LogThrottle<Event: Hashable> {
    var interval: Duration = .seconds(60)
    private var last: [Event: ContinuousClock.Instant] = [:]
    private var unsaid: [Event: Int] = [:]

    init(interval: Duration = .seconds(60)) {
        self.interval = interval
    }

    /// Nil to stay silent; else how many of `event` (this one included) to report.
    mutating func note(_ event: Event, at now: ContinuousClock.Instant = .now) -> Int? {
        let count = unsaid[event, default: 0] + 1
        if let said = last[event], now - said < interval {
            unsaid[event] = count
            return nil
        }
        last[event] = now
        unsaid[event] = 0
        return count
    }
}
