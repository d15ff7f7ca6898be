import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import Synchronization
import UsageRecords

/// What `/health` answers: whether the daemon keeps up, and the facts behind the verdict.
public struct HealthReport: Sendable {
    public var healthy: Bool
    /// Ordered facts for people and programs (`pending_records`, `oldest_pending_seconds`, …).
    public var facts: [(String, JSONValue)]

    public init(healthy: Bool, facts: [(String, JSONValue)]) {
        self.healthy = healthy
        self.facts = facts
    }

    public var json: String {
        var object: [String: JSONValue] = ["status": .string(healthy ? "ok" : "behind")]
        for (k, v) in facts { object[k] = v }
        return JSONValue.object(object).serialized
    }
}

/// A small HTTP/1.1 server for Prometheus (`GET /metrics`) and health checks (`GET /health`,
/// 200 when keeping up, 503 when not). It serves nothing else and reads no request body.
public final class MetricsEndpoint: Sendable {
    public let host: String
    public let requestedPort: Int
    private let registry: PrometheusCollectorRegistry
    private let health: @Sendable () async -> HealthReport
    private let logger: Logger
    private let channel = Mutex<(any Channel)?>(nil)

    public init(host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger,
                health: @escaping @Sendable () async -> HealthReport)
    {
        self.host = host
        self.requestedPort = port
        self.registry = registry
        self.health = health
        self.logger = logger
    }

    /// Binds and serves in the background; returns the bound port.
    @discardableResult
    public func start() async throws -> Int {
        let registry = self.registry
        let health = self.health
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    channel.pipeline.addHandler(EndpointHandler(registry: registry, health: health))
                }
            }
            .bind(host: host, port: requestedPort).get()
        channel.withLock { $0 = server }
        let port = server.localAddress?.port ?? requestedPort
        logger.info("serving metrics and health", metadata: ["address": "\(host):\(port)"])
        return port
    }

    public func stop() async {
        let c = channel.withLock { c -> (any Channel)? in
            defer { c = nil }
            return c
        }
        try? await c?.close()
    }
}

private final class EndpointHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let registry: PrometheusCollectorRegistry
    let health: @Sendable () async -> HealthReport
    private var head: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry, health: @escaping @Sendable () async -> HealthReport) {
        self.registry = registry
        self.health = health
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
            let keepAlive = head.isKeepAlive
            let version = head.version
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            guard head.method == .GET || head.method == .HEAD else {
                respond(context, version, keepAlive, .methodNotAllowed, "text/plain", "only GET\n")
                return
            }
            switch path {
            case "/metrics":
                let body = registry.emitToString()
                respond(context, version, keepAlive, .ok, "text/plain; version=0.0.4; charset=utf-8", body)
            case "/health":
                let health = self.health
                context.eventLoop.makeFutureWithTask { await health() }.whenSuccess { report in
                    let (handler, context) = loopBound.value
                    handler.respond(context, version, keepAlive, report.healthy ? .ok : .serviceUnavailable,
                                    "application/json", report.json + "\n")
                }
            default:
                respond(context, version, keepAlive, .notFound, "text/plain", "try /metrics or /health\n")
            }
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ version: HTTPVersion, _ keepAlive: Bool,
                         _ status: HTTPResponseStatus, _ type: String, _ body: String)
    {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: type)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
