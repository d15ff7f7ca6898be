import NIOSSL
import UsageRecords

/// Where the listener binds and whom it lets in.
public struct ListenerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port; `RecordListener.start()` returns the one bound.
    public var port: Int
    /// Agent host name → token. A listed host must present its token.
    public var tokens: [String: String]
    /// Whether a host that is not listed in `tokens` is let in without a token.
    public var allowUnauthenticated: Bool
    /// A line longer than this (without its newline) ends the connection with a fatal `too-long`.
    public var maxLineBytes: Int
    /// More lines that are not JSON objects than this on one connection end it with a fatal
    /// `garbage`. Records with a wrong field are refused one by one and never count.
    public var maxBadLines: Int
    /// How many connections may wait for their hello, and how long (`[connections]`).
    public var connections: ConnectionLimits
    /// Stop waiting for the agent's hello after this long (`connections.helloTimeout`).
    public var helloTimeout: Duration {
        get { connections.helloTimeout }
        set { connections.helloTimeout = newValue }
    }
    /// TLS for agents; nil for plain TCP.
    public var tls: NIOSSLContext?
    /// With mutual TLS: an agent's certificate must name the host of its hello (a DNS subject
    /// alternative name), so one host's certificate cannot speak for another.
    public var requireClientCertificates: Bool = false
    public var backlog: Int32
    /// The record times accepted; a record outside is refused with the code `time-window`.
    public var recordWindow = RecordTimeWindow()

    /// With no tokens and `allowUnauthenticated` left out, every agent is let in: only for tests
    /// and the demo on 127.0.0.1.
    public init(
        host: String = "127.0.0.1", port: Int = 7800, tokens: [String: String] = [:],
        allowUnauthenticated: Bool? = nil, maxLineBytes: Int = RecordCodec.maximumLineBytes,
        maxBadLines: Int = 10, helloTimeout: Duration = .seconds(10), backlog: Int32 = 256
    ) {
        self.host = host
        self.port = port
        self.tokens = tokens
        self.allowUnauthenticated = allowUnauthenticated ?? tokens.isEmpty
        self.maxLineBytes = maxLineBytes
        self.maxBadLines = maxBadLines
        self.connections = ConnectionLimits(helloTimeout: helloTimeout)
        self.backlog = backlog
    }

    /// The listener part of aggregator.toml. Here no tokens and no `allow_unauthenticated` means
    /// every agent is refused, as `--check-config` warns. `tls` is the context the daemon made
    /// from the configuration's files (`AggregatorConfiguration.makeTLSContext`).
    public init(_ configuration: AggregatorConfiguration, tls: NIOSSLContext? = nil) {
        self.init(
            host: configuration.listenHost, port: configuration.listenPort, tokens: configuration.tokens,
            allowUnauthenticated: configuration.allowUnauthenticated, maxLineBytes: configuration.maxLineBytes,
            maxBadLines: configuration.maxBadLines)
        self.tls = tls
        self.connections = configuration.connections
        self.requireClientCertificates = configuration.requireClientCertificates
        self.recordWindow = configuration.recordWindow
    }
}
