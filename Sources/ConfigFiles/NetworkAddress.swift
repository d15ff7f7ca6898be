/// A `HOST:PORT` setting (`127.0.0.1:7800`, `[::1]:7800`, `bbb-meter.example.org:7800`).
public struct NetworkAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; port 0 only when `allowAnyPort` (tests bind to a free port).
    public init?(_ text: String, allowAnyPort: Bool = false) {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
              let port = Int(text[text.index(after: colon)...]),
              (allowAnyPort ? 0...65535 : 1...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension ConfigTable {
    /// A `HOST:PORT` value, or its default.
    public func address(_ key: String, default fallback: String, allowAnyPort: Bool = false) throws(ConfigError) -> NetworkAddress {
        let text = try string(key, default: fallback)
        guard let address = NetworkAddress(text, allowAnyPort: allowAnyPort) else {
            throw error(key, "'\(text)' is not HOST:PORT (for example \(fallback))")
        }
        return address
    }

    /// A `HOST:PORT` value where an empty string turns the feature off (nil).
    public func optionalAddress(_ key: String, default fallback: String) throws(ConfigError) -> NetworkAddress? {
        if try string(key, default: fallback).isEmpty { return nil }
        return try address(key, default: fallback, allowAnyPort: true)
    }
}
