/// Which engine holds the records and where: the one thing aggregator.toml's `[store]` says.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    /// The embedded default: one SQLite file (`[store] path`).
    case sqlite(path: String)
    /// A PostgreSQL database shared by any number of aggregators (`[store] url`, `password_file`).
    case postgresql(PostgresAddress)

    /// For messages: the file, or the URL without a password (there never is one in it).
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgresql(let address): address.url
        }
    }

    /// The engine's name, for `--check-config` and `/health`.
    public var engine: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgresql: "postgresql"
        }
    }
}

/// A PostgreSQL database as a libpq URI names it, `postgresql://USER@HOST:PORT/DB?sslmode=MODE`,
/// with the password kept in a file of its own: never in the URL, so never in a log line.
public struct PostgresAddress: Sendable, Hashable {
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP (a loopback or a private network).
        case disable
        /// TLS when the server offers it, as libpq's default.
        case prefer
        /// TLS or no connection; the server's certificate is checked against the system's CAs.
        case require
    }

    public var user: String
    /// A host name or address; a path (starting with `/`) names the folder of a Unix socket.
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode
    /// The file whose first line is the password; nil for trust, peer or certificate login.
    public var passwordFile: String?
    /// How long one operation may wait for the database, connecting included, before it fails
    /// (and nothing is acknowledged). Not part of the URL.
    public var operationTimeout: Duration = .seconds(15)

    public init(user: String, host: String, port: Int = 5432, database: String, tls: TLSMode = .prefer, passwordFile: String? = nil) {
        self.user = user
        self.host = host
        self.port = port
        self.database = database
        self.tls = tls
        self.passwordFile = passwordFile
    }

    /// The URL as an operator wrote it, normalised; it never holds a password.
    public var url: String {
        let shownHost = host.hasPrefix("/") ? Self.percentEncoded(host) : (host.contains(":") ? "[\(host)]" : host)
        var url = "postgresql://\(Self.percentEncoded(user))@\(shownHost):\(port)/\(Self.percentEncoded(database))"
        if tls != .prefer { url += "?sslmode=\(tls.rawValue)" }
        return url
    }

    /// What is wrong with a URL, for an error that names the file, line and key.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Parses `postgresql://USER@HOST[:PORT]/DB[?sslmode=disable|prefer|require]` (also `postgres://`).
    public init(url: String, passwordFile: String?) throws(ParseError) {
        func fail(_ why: String) -> ParseError { ParseError(description: "'\(Self.withoutPassword(url))' is not a PostgreSQL URL: \(why)") }
        var rest: Substring
        if url.hasPrefix("postgresql://") {
            rest = url.dropFirst("postgresql://".count)
        } else if url.hasPrefix("postgres://") {
            rest = url.dropFirst("postgres://".count)
        } else {
            throw fail("it must start with postgresql://")
        }
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw fail("it names no database (…/DB at the end)") }
        let authority = rest[..<slash]
        guard let database = Self.percentDecoded(rest[rest.index(after: slash)...]), !database.isEmpty else {
            throw fail("it names no database (…/DB at the end)")
        }
        guard let at = authority.lastIndex(of: "@") else { throw fail("it names no user (USER@HOST)") }
        let userPart = authority[..<at]
        if userPart.contains(":") {
            throw ParseError(description: "'\(Self.withoutPassword(url))': a password does not belong in the URL, where logs would show it; put it in the file named by password_file")
        }
        guard let user = Self.percentDecoded(userPart), !user.isEmpty else { throw fail("it names no user (USER@HOST)") }
        var hostPart = authority[authority.index(after: at)...]
        var port = 5432
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw fail("an IPv6 address lacks its ']'") }
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw fail("the port is not a number from 1 to 65535") }
                port = p
            } else if !after.isEmpty {
                throw fail("unexpected '\(after)' after the address")
            }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            guard let p = Int(hostPart[hostPart.index(after: colon)...]), (1...65535).contains(p) else {
                throw fail("the port is not a number from 1 to 65535")
            }
            port = p
            hostPart = hostPart[..<colon]
        }
        guard let host = Self.percentDecoded(hostPart), !host.isEmpty else { throw fail("it names no host (USER@HOST)") }
        var tls = TLSMode.prefer
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1)
            let key = String(kv[0])
            let value = kv.count > 1 ? String(kv[1]) : ""
            switch key {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw fail("sslmode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                tls = mode
            default:
                throw fail("the parameter '\(key)' is not supported (only sslmode)")
            }
        }
        self.init(user: user, host: host, port: port, database: database, tls: tls, passwordFile: passwordFile)
    }

    /// The URL with anything between `//` and `@` after a colon blanked, for an error message
    /// about a URL that wrongly holds a password.
    static func withoutPassword(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].lastIndex(of: "@") else { return url }
        let userInfo = url[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    static func percentDecoded(_ s: Substring) -> String? {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard it.count >= 2, let hi = hex(it.removeFirst()), let lo = hex(it.removeFirst()) else { return nil }
                bytes.append(hi << 4 | lo)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func percentEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let digits = Array("0123456789ABCDEF".unicodeScalars)
                out += "%"
                out.unicodeScalars.append(digits[Int(b >> 4)])
                out.unicodeScalars.append(digits[Int(b & 0xF)])
            }
        }
        return out
    }
}
