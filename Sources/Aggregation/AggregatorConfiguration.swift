import ConfigFiles
import NIOSSL
import RecordStorage
import TransportSecurity
import UsageRecords

/// aggregator.toml, read and checked. Every key, its default and its meaning is in
/// aggregator.toml(5).
public struct AggregatorConfiguration: Sendable {
    public var listenHost: String
    public var listenPort: Int
    /// Where the records are kept: a SQLite file (`[store] path`) or a PostgreSQL database
    /// (`[store] url`, `password_file`).
    public var store: StoreLocation
    /// Agent host name → token. Agents not listed are refused.
    public var tokens: [String: String]
    /// Accept agents without a token. Only for a demo on 127.0.0.1.
    public var allowUnauthenticated: Bool
    public var maxLineBytes: Int
    public var maxBadLines: Int
    public var path: String
    /// Where `/metrics` and `/health` are served; nil when `[metrics] address = ""`.
    public var metricsAddress: NetworkAddress?
    /// TLS for agents, as file names; nil for plain TCP. The files are read by `makeTLSContext`,
    /// when the daemon is wired: `meetmeter report` reads this file without touching the key.
    public var tls: Located<ServerTLSSettings>?
    /// Whether agents must present a certificate from `client_ca_file` naming their host.
    public var requireClientCertificates: Bool { tls?.value.requiresClientCertificates ?? false }
    /// The record times accepted (`[records]`).
    public var recordWindow: RecordTimeWindow
    /// `[connections]`: the hello deadline and the limits on connections without a hello.
    public var connections: ConnectionLimits
    /// `[console]`: the read-only HTTP API; nil when the table is absent.
    public var console: ConsoleSettings?
    /// Things that are allowed but probably not meant, for --check-config and the log.
    public var warnings: [String]

    /// Reads the TLS files, with errors that name the setting's file, line and key; nil without TLS.
    public func makeTLSContext() throws(ConfigError) -> NIOSSLContext? {
        guard let tls else { return nil }
        do throws(TLSFileError) {
            return try tls.value.makeContext()
        } catch {
            throw tls.error(error.setting ?? "tls_certificate_file", error.description)
        }
    }

    public static func load(path: String) throws(ConfigError) -> AggregatorConfiguration {
        try AggregatorConfiguration(document: try ConfigDocument(path: path))
    }

    public init(document: ConfigDocument) throws(ConfigError) {
        let root = document.root
        path = document.path
        try root.rejectUnknownKeys(allowed: ["listen", "store", "agents", "limits", "metrics", "records", "connections", "console"])

        let listen = try root.tableOrEmpty("listen")
        try listen.rejectUnknownKeys(allowed: [
            "address", "allow_unauthenticated", "tls_certificate_file", "tls_key_file", "client_ca_file",
        ])
        let address = try listen.address("address", default: "127.0.0.1:7800", allowAnyPort: true)
        listenHost = address.host
        listenPort = address.port
        allowUnauthenticated = try listen.bool("allow_unauthenticated", default: false)
        let certificateFile = try listen.optionalString("tls_certificate_file")
        let keyFile = try listen.optionalString("tls_key_file")
        let clientCAFile = try listen.optionalString("client_ca_file")
        try listen.requireBoth("tls_certificate_file", "tls_key_file", "TLS needs both tls_certificate_file and tls_key_file")
        if let certificateFile, let keyFile {
            tls = Located(ServerTLSSettings(certificateFile: certificateFile, keyFile: keyFile, clientCAFile: clientCAFile), in: listen)
        } else {
            if clientCAFile != nil { throw listen.error("client_ca_file", "needs tls_certificate_file and tls_key_file") }
            tls = nil
        }

        let metrics = try root.tableOrEmpty("metrics")
        try metrics.rejectUnknownKeys(allowed: ["address"])
        metricsAddress = try metrics.optionalAddress("address", default: "127.0.0.1:9782")

        let store = try root.tableOrEmpty("store")
        try store.rejectUnknownKeys(allowed: ["backend", "path", "url", "password_file"])
        if let url = try store.optionalString("url") {
            if store.has("path") { throw store.error("path", "give either path (SQLite) or url (PostgreSQL), not both") }
            _ = try store.choice("backend", of: ["postgresql"], default: "postgresql")
            let passwordFile = try store.optionalString("password_file")
            do throws(PostgresAddress.ParseError) {
                self.store = .postgresql(try PostgresAddress(url: url, passwordFile: passwordFile))
            } catch {
                throw store.error("url", error.description)
            }
        } else {
            if store.has("password_file") { throw store.error("password_file", "only for a PostgreSQL store (url = \"postgresql://...\")") }
            _ = try store.choice("backend", of: ["sqlite"], default: "sqlite")
            self.store = .sqlite(path: try store.string("path", default: "/var/lib/meetmeter-aggregator/meetmeter.sqlite"))
        }

        var tokens: [String: String] = [:]
        // A record's id must lie in its host's namespace (meetmeter-protocol(7)); two hosts whose
        // names map to one namespace could take each other's ids.
        var namespaces: [String: String] = [:]
        // Token → the host holding it and the line naming it: a token identifies one host only.
        var tokenHolders: [String: (host: String, line: Int?)] = [:]
        for agent in try root.tables("agents") {
            try agent.rejectUnknownKeys(allowed: ["host", "token", "token_file"])
            let host = try agent.string("host")
            if tokens[host] != nil { throw agent.error("host", "'\(host)' is listed twice") }
            let namespace = RecordID.namespace(host: host)
            if let other = namespaces[namespace] {
                throw agent.error("host", "'\(host)' and '\(other)' share the record-id namespace '\(namespace)'; give one a name of printable ASCII, at most 64 characters")
            }
            namespaces[namespace] = host
            let token: String
            if let file = try agent.optionalString("token_file") {
                do {
                    token = try ConfigDocument.readText(path: file).filter { !$0.isWhitespace }
                } catch {
                    throw agent.error("token_file", error.message)
                }
            } else {
                token = try agent.string("token")
            }
            if token.count < 16 {
                throw agent.error(agent.has("token") ? "token" : "token_file",
                                  "a token must have at least 16 characters; make one with: head -c 24 /dev/urandom | base64")
            }
            let tokenKey = agent.has("token") ? "token" : "token_file"
            if let holder = tokenHolders[token] {
                let at = holder.line.map { " (line \($0))" } ?? ""
                throw agent.error(tokenKey, "host '\(host)' has the same token as host '\(holder.host)'\(at); each host needs its own, or one could send as the other: make one with: head -c 24 /dev/urandom | base64")
            }
            tokenHolders[token] = (host, agent.line(of: tokenKey))
            tokens[host] = token
        }
        self.tokens = tokens

        let limits = try root.tableOrEmpty("limits")
        try limits.rejectUnknownKeys(allowed: ["max_line_bytes", "max_bad_lines"])
        maxLineBytes = Int(try limits.integer("max_line_bytes", default: 64 * 1024, range: 1024...(1 << 24)))
        maxBadLines = Int(try limits.integer("max_bad_lines", default: 10, range: 1...1_000_000))

        recordWindow = try Self.recordWindow(try root.tableOrEmpty("records"))
        connections = try ConnectionLimits(try root.tableOrEmpty("connections"))
        console = try root.table("console").map { (table) throws(ConfigError) in try ConsoleSettings(table) }

        var warnings: [String] = []
        if tokens.isEmpty && !allowUnauthenticated {
            warnings.append("\(path): lists no agent, so every agent will be refused: add an [[agents]] table with host and token for each meeting host")
        }
        if allowUnauthenticated && !["127.0.0.1", "::1", "localhost"].contains(listenHost) {
            warnings.append("\(path): listen.allow_unauthenticated is on while listening on \(listenHost): anyone who reaches the port can send records")
        }
        self.warnings = warnings
    }

    /// `[records]`: the window of record times (RecordTimeWindow).
    static func recordWindow(_ records: ConfigTable) throws(ConfigError) -> RecordTimeWindow {
        try records.rejectUnknownKeys(allowed: ["earliest", "max_future_seconds"])
        var window = RecordTimeWindow()
        if let value = records.values["earliest"] {
            // A TOML date-time (earliest = 2000-01-01T00:00:00Z) or a string holding one.
            let text: String
            switch value {
            case .string(let s), .datetime(let s): text = s
            default: throw records.error("earliest", "should be an RFC 3339 time such as 2000-01-01T00:00:00Z, not \(value.typeName)")
            }
            do throws(TimestampError) {
                window.earliest = try Timestamp.parse(rfc3339: text)
            } catch {
                throw records.error("earliest", "'\(text)' is not an RFC 3339 time with a zone such as 2000-01-01T00:00:00Z: \(error)")
            }
        }
        window.maxFutureSeconds = try records.integer(
            "max_future_seconds", default: RecordTimeWindow.defaultMaxFutureSeconds, range: 0...(366 * 86_400))
        return window
    }
}
