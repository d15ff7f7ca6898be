import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RecordStorage
import TransportSecurity
import ConfigFiles
import Synchronization
import UsageRecords

/// Accepts agents over TCP and speaks the line protocol (meetmeter-protocol(7)): checks each
/// agent's hello, commits what it sends through the store, and acknowledges every line in order
/// once its batch is durably committed.
///
///     let listener = RecordListener(configuration: c, store: store, logger: logger)
///     let port = try await listener.start()
///     try await listener.run()        // until shutdown() or cancellation
///
/// One bad peer never affects another: each connection has its own session, and a fatal message
/// ends only its own connection.
public final class RecordListener: Sendable {
    public let configuration: ListenerConfiguration
    let store: any RecordWriter
    let logger: Logger
    let now: @Sendable () -> Timestamp
    let group: any EventLoopGroup
    let metrics: ListenerMetrics
    /// Admits connections under `configuration.connections` and ends those without a hello.
    let gate: ConnectionGate

    typealias Connection = NIOAsyncChannel<[LineFrame], ByteBuffer>
    typealias Server = NIOAsyncChannel<Connection, Never>

    private struct State {
        var server: Server?
        var port: Int?
        var shuttingDown = false
        var running = false
        var connections: [ObjectIdentifier: any Channel] = [:]
    }
    private let state = Mutex(State())

    /// How long a connection that was sent a fatal message is drained before it is closed, so
    /// that the peer reads the message rather than a reset.
    static let lingerAfterFatal: TimeAmount = .seconds(2)
    /// How long `shutdown()` lets connections finish the batch in hand.
    static let shutdownGrace: TimeAmount = .seconds(5)

    public init(
        configuration: ListenerConfiguration, store: any RecordWriter, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        now: @escaping @Sendable () -> Timestamp = SystemClock.now
    ) {
        self.configuration = configuration
        self.store = store
        var logger = logger
        logger[metadataKey: "component"] = "listener"
        self.logger = logger
        let metrics = ListenerMetrics()
        self.metrics = metrics
        self.gate = ConnectionGate(limits: configuration.connections, metrics: metrics, logger: logger)
        self.group = eventLoopGroup
        self.now = now
    }

    /// The port listened on, once started.
    public var port: Int? { state.withLock { $0.port } }

    /// Binds the socket and returns the port (useful with port 0). Calling it again returns the
    /// same port.
    @discardableResult
    public func start() async throws -> Int {
        if let port = state.withLock({ $0.port }) { return port }
        let configuration = self.configuration
        let server: Server
        do {
            server = try await bind(configuration)
        } catch {
            throw ListenerError(description: "cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        let port = server.channel.localAddress?.port ?? configuration.port
        let (winner, shuttingDown) = state.withLock { s -> (Bool, Bool) in
            if s.server != nil { return (false, s.shuttingDown) }
            s.server = server
            s.port = port
            return (true, s.shuttingDown)
        }
        if !winner || shuttingDown {
            try? await server.channel.close()
            if !winner, let port = self.port { return port }
        }
        logger.info("listening for agents", metadata: ["address": "\(configuration.host):\(port)"])
        return port
    }

    private func bind(_ configuration: ListenerConfiguration) async throws -> Server {
        let gate = self.gate
        return try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: configuration.backlog)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptErrorHandler(gate: gate))
                }
            }
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.socketOption(.so_keepalive), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(AdmissionHandler(gate: gate))
                    if let tls = configuration.tls {
                        try sync.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    try sync.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineBytes: configuration.maxLineBytes)))
                    try sync.addHandler(ReadBatcher())
                    return try Connection(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
    }

    /// Accepts agents until `shutdown()` is called or the task is cancelled, then returns once
    /// every connection has ended. Starts the listener if `start()` was not called.
    public func run() async throws {
        _ = try await start()
        let taken = state.withLock { s -> Result<Server?, ListenerError> in
            if s.running { return .failure(ListenerError(description: "run() was called twice")) }
            s.running = true
            return .success(s.shuttingDown ? nil : s.server)
        }
        guard let server = try taken.get() else { return }
        var failure: (any Error)?
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                do {
                    try await server.executeThenClose { inbound in
                        for try await connection in inbound {
                            group.addTask { await self.serve(connection) }
                        }
                    }
                } catch {
                    if !state.withLock({ $0.shuttingDown }) { failure = error }
                }
            }
        } onCancel: {
            self.beginShutdown()
        }
        logger.info("stopped listening")
        if let failure { throw failure }
    }

    /// Stops accepting, lets each connection commit and acknowledge what it has read, and closes
    /// it (at the latest after a few seconds). `run()` returns once all are closed.
    public func shutdown() async {
        guard let server = beginShutdown() else { return }
        try? await server.channel.closeFuture.get()
    }

    @discardableResult
    private func beginShutdown() -> Server? {
        let (server, connections) = state.withLock { s in
            s.shuttingDown = true
            return (s.server, Array(s.connections.values))
        }
        server?.channel.close(promise: nil)
        for channel in connections { Self.stopReading(channel) }
        return server
    }

    /// Ends the input: the session commits and acknowledges what was read, then closes.
    private static func stopReading(_ channel: any Channel) {
        channel.close(mode: .input, promise: nil)
        channel.eventLoop.scheduleTask(in: shutdownGrace) { channel.close(promise: nil) }
    }

    // MARK: One connection

    func serve(_ connection: Connection) async {
        let channel = connection.channel
        let key = ObjectIdentifier(channel)
        var logger = self.logger
        logger[metadataKey: "peer"] = "\(channel.remoteAddress.map { "\($0)" } ?? "unknown")"
        metrics.connections.increment()
        metrics.openConnections.increment()
        let late = state.withLock { s in
            s.connections[key] = channel
            return s.shuttingDown
        }
        if late { Self.stopReading(channel) }
        defer {
            state.withLock { _ = $0.connections.removeValue(forKey: key) }
            metrics.openConnections.decrement()
        }

        // The hello deadline and the limits on connections without a hello: `gate`.
        var session = AgentSession(configuration: configuration)
        session.now = now
        do {
            try await connection.executeThenClose { inbound, outbound in
                var closing = false
                for try await frames in inbound {
                    if closing { continue }  // draining after a fatal message
                    if configuration.requireClientCertificates, case .awaitingHello = session.state {
                        // Data has arrived, so the handshake (which verified the chain) is done.
                        let certificate = try? await channel.nioSSL_peerCertificate().get()
                        session.certifiedNames = certificate.map(TLSFiles.dnsNames) ?? []
                    }
                    let step = session.receive(frames)
                    if let hello = step.hello {
                        // Closed meanwhile to make room, or past its deadline: it was told why.
                        guard gate.authenticate(channel) else {
                            closing = true
                            continue
                        }
                        logger[metadataKey: "agent"] = "\(hello.host)"
                        logger.info("agent connected")
                    }
                    var out = ByteBuffer()
                    if let hello = step.hello { Self.put(hello.line, &out) }

                    let records = step.records
                    metrics.received.increment(by: Int64(step.lines.count))
                    var outcomes: [StoreOutcome] = []
                    if !records.isEmpty {
                        do {
                            outcomes = try await store.commit(records, receivedAt: now())
                        } catch {
                            // Nothing of the batch is acknowledged: the agent keeps it and sends it again.
                            metrics.storeFailures.increment()
                            logger.error("cannot commit records; closing the connection so that the agent sends them again", metadata: [
                                "error": "\(error)", "records": "\(records.count)",
                            ])
                            let fatal = WireProtocol.Fatal(
                                code: "unavailable", error: "the aggregator cannot commit records now; send them again later")
                            out.clear()
                            Self.put(fatal.encoded, &out)
                            try await outbound.write(out)
                            closing = true
                            Self.linger(channel, outbound)
                            continue
                        }
                    }
                    // Counted once a batch: a counter's update takes a lock in the backend.
                    var stored = 0
                    var duplicates = 0
                    out.reserveCapacity(out.readableBytes + step.lines.count * AckWriter.typicalBytes)
                    for ack in step.acks(outcomes: outcomes) {
                        switch ack.status {
                        case .stored: stored += 1
                        case .duplicate:
                            duplicates += 1
                            if ack.code == WireProtocol.conflictCode {
                                metrics.conflicting.increment()
                                logger.warning("a record arrived with the id of a held record and other content; kept as evidence", metadata: [
                                    "line": "\(ack.line)", "id": "\(ack.id ?? "")",
                                ])
                            }
                        case .refused:
                            metrics.refused(code: ack.code ?? "unknown")
                            logger.notice("refused a line", metadata: [
                                "line": "\(ack.line)", "id": "\(ack.id ?? "")", "code": "\(ack.code ?? "")", "reason": "\(ack.error ?? "")",
                            ])
                        }
                        AckWriter.write(ack, to: &out)
                    }
                    if stored > 0 { metrics.stored.increment(by: Int64(stored)) }
                    if duplicates > 0 { metrics.duplicates.increment(by: Int64(duplicates)) }
                    if let fatal = step.fatal {
                        Self.put(fatal.encoded, &out)
                        metrics.peerRefused(code: fatal.code)
                        logger.warning("ending the connection", metadata: ["code": "\(fatal.code)", "reason": "\(fatal.error)"])
                    }
                    if out.readableBytes > 0 { try await outbound.write(out) }
                    if step.fatal != nil {
                        closing = true
                        Self.linger(channel, outbound)
                    }
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
        if case .open = session.state {
            logger.info("agent disconnected", metadata: ["lines": "\(session.lineNumber)"])
        }
    }

    /// Sends FIN after what was written and reads on (discarding) for a moment, so that the peer
    /// reads the fatal message instead of a reset caused by unread input.
    private static func linger(_ channel: any Channel, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        outbound.finish()
        channel.eventLoop.scheduleTask(in: lingerAfterFatal) { channel.close(promise: nil) }
    }

    private static func put(_ line: String, _ out: inout ByteBuffer) {
        out.writeString(line)
        out.writeInteger(UInt8(ascii: "\n"))
    }
}

public struct ListenerError: Error, Sendable, CustomStringConvertible {
    public var description: String
}
