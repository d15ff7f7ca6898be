import ConfigFiles

/// `[connections]` of aggregator.toml(5): how long a connection may wait before its hello, and
/// how many may wait at once. Authenticated agents are served first: a new connection always
/// gets in by closing the oldest one still waiting for its hello, so idle peers can neither fill
/// the descriptors nor keep an agent out; only when every open connection is an authenticated
/// agent is a new one refused.
public struct ConnectionLimits: Sendable, Equatable {
    /// A connection that has not sent a valid hello by then is closed with the fatal `timeout`.
    public var helloTimeout: Duration
    /// Connections that have not yet sent a valid hello, in all.
    public var maxUnauthenticated: Int
    /// Connections that have not yet sent a valid hello, from one remote address.
    public var maxUnauthenticatedPerAddress: Int
    /// Open connections, authenticated or not.
    public var maxConnections: Int
    /// Whether `max_connections` was written in the file: an operator's figure is kept even
    /// above what the descriptor limit allows (with a warning); the default is fitted to it.
    public var maxConnectionsIsExplicit: Bool

    /// Descriptors left for the store, the metrics endpoint, the journal and the runtime when
    /// `max_connections` is fitted to the descriptor limit.
    public static let reservedDescriptors = 64

    public init(
        helloTimeout: Duration = .seconds(10), maxUnauthenticated: Int = 256, maxUnauthenticatedPerAddress: Int = 16,
        maxConnections: Int = 4096, maxConnectionsIsExplicit: Bool = false
    ) {
        self.helloTimeout = helloTimeout
        self.maxUnauthenticated = maxUnauthenticated
        self.maxUnauthenticatedPerAddress = maxUnauthenticatedPerAddress
        self.maxConnections = maxConnections
        self.maxConnectionsIsExplicit = maxConnectionsIsExplicit
    }

    /// Reads the `[connections]` table (an empty one gives the defaults).
    public init(_ table: ConfigTable) throws(ConfigError) {
        try table.rejectUnknownKeys(allowed: [
            "hello_timeout", "max_unauthenticated", "max_unauthenticated_per_address", "max_connections",
        ])
        let defaults = ConnectionLimits()
        let hello = try table.integer("hello_timeout", default: 10, range: 1...300)
        let total = Int(try table.integer("max_connections", default: Int64(defaults.maxConnections), range: 2...1_000_000))
        let unauthenticated = Int(try table.integer(
            "max_unauthenticated", default: Int64(min(defaults.maxUnauthenticated, max(1, total / 4))), range: 1...1_000_000))
        if unauthenticated >= total {
            throw table.error("max_unauthenticated", "\(unauthenticated) must be below max_connections (\(total)), so that authenticated agents always find room")
        }
        let perAddress = Int(try table.integer(
            "max_unauthenticated_per_address", default: Int64(min(defaults.maxUnauthenticatedPerAddress, unauthenticated)), range: 1...1_000_000))
        if perAddress > unauthenticated {
            throw table.error("max_unauthenticated_per_address", "\(perAddress) is more than max_unauthenticated (\(unauthenticated))")
        }
        self.init(
            helloTimeout: .seconds(hello), maxUnauthenticated: unauthenticated, maxUnauthenticatedPerAddress: perAddress,
            maxConnections: total, maxConnectionsIsExplicit: table.has("max_connections"))
    }

    /// These limits for a process that may open `descriptors` files (its RLIMIT_NOFILE), and a
    /// warning when they do not fit: the default `max_connections` is lowered to leave
    /// `reservedDescriptors`; a figure from the file is kept, since accept errors back off anyway.
    public func fitted(toDescriptors descriptors: Int) -> (limits: ConnectionLimits, warning: String?) {
        let room = descriptors - Self.reservedDescriptors
        guard maxConnections > room else { return (self, nil) }
        if maxConnectionsIsExplicit {
            return (self, "connections.max_connections is \(maxConnections) but the descriptor limit is \(descriptors): past about \(max(0, room)) connections accept fails and backs off; raise LimitNOFILE")
        }
        var fitted = self
        fitted.maxConnections = max(2, room)
        if fitted.maxUnauthenticated >= fitted.maxConnections { fitted.maxUnauthenticated = max(1, fitted.maxConnections / 4) }
        fitted.maxUnauthenticatedPerAddress = min(fitted.maxUnauthenticatedPerAddress, fitted.maxUnauthenticated)
        return (fitted, "the descriptor limit is \(descriptors): at most \(fitted.maxConnections) connections (\(fitted.maxUnauthenticated) before their hello) instead of \(maxConnections); raise LimitNOFILE for more")
    }
}
