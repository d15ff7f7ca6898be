#if canImport(Glibc)
import Glibc
#endif
import NIOPosix

/// One aggregator as configured: a name or an IP address, and a port.
public struct AggregatorAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The order in which the shipper tries the aggregators: each configured address in turn, a
/// name once for every address it resolves to (so that a DNS name of three aggregators is three
/// places to go, not one), then again from the first, resolving names anew each round.
///
/// The shipper stays where it is while it is answered and moves on only after a failure; the
/// records not acknowledged are still in the spool and go to the next aggregator, whose store
/// takes each id once.
struct AggregatorRotation {
    /// Where to connect, and the configured name (for TLS and for logs).
    struct Target: Sendable, CustomStringConvertible {
        var connectHost: String
        var port: Int
        var name: String

        var description: String {
            let address = AggregatorAddress(host: connectHost, port: port).description
            return connectHost == name ? address : "\(AggregatorAddress(host: name, port: port)) (\(address))"
        }
    }

    let addresses: [AggregatorAddress]
    private var round: [Target] = []
    private var position = 0

    init(_ addresses: [AggregatorAddress]) {
        self.addresses = addresses
    }

    /// How many places one round has (at least one).
    var roundSize: Int { max(round.count, 1) }

    /// The next place to try; a new round resolves the names again.
    mutating func next() async -> Target {
        position += 1
        if position >= round.count {
            round = await Self.resolve(addresses)
            position = 0
        }
        return round[position]
    }

    /// The targets of one round. A name that does not resolve stays itself, so that the
    /// connection attempt fails with the resolver's reason in the log.
    static func resolve(_ addresses: [AggregatorAddress]) async -> [Target] {
        var targets: [Target] = []
        for address in addresses {
            let resolved = isLiteral(address.host) ? [] : await lookUp(address.host)
            if resolved.isEmpty {
                targets.append(Target(connectHost: address.host, port: address.port, name: address.host))
            } else {
                targets += resolved.map { Target(connectHost: $0, port: address.port, name: address.host) }
            }
        }
        return targets
    }

    static func isLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// The addresses a name resolves to, in the resolver's order, each once; on the thread pool,
    /// since getaddrinfo blocks.
    static func lookUp(_ name: String) async -> [String] {
        (try? await NIOThreadPool.singleton.runIfActive { addresses(of: name) }) ?? []
    }

    static func addresses(of name: String) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var found: [String] = []
        var entry = list
        while let info = entry?.pointee {
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            if let address = info.ai_addr {
                switch info.ai_family {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                        var a = v4.pointee.sin_addr
                        _ = inet_ntop(AF_INET, &a, &text, socklen_t(text.count))
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                        var a = v6.pointee.sin6_addr
                        _ = inet_ntop(AF_INET6, &a, &text, socklen_t(text.count))
                    }
                default: break
                }
            }
            let address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !address.isEmpty && !found.contains(address) { found.append(address) }
            entry = info.ai_next
        }
        return found
    }
}
