#if canImport(Glibc)
import Glibc
#endif
import Logging
import Metrics
import NIOCore
import NIOPosix
import NIOSSL
import UsageRecords

public struct ShipperConfiguration: Sendable {
    /// The aggregator's address.
    public var host: String
    public var port: Int
    /// This agent's host name, as records carry it and the aggregator authenticates it.
    public var agentHost: String
    public var token: String?
    /// TLS towards the aggregator, with the name its certificate must carry.
    public var tls: NIOSSLContext?
    public var serverName: String?
    /// Records a batch; one batch is in flight at a time.
    public var batchSize: Int = 500
    /// Reconnection backoff, doubled after each failure up to the maximum, with jitter.
    public var initialBackoff: Duration = .milliseconds(200)
    public var maximumBackoff: Duration = .seconds(30)
    /// How long to wait for the aggregator's answers before taking the connection for dead.
    public var answerTimeout: Duration = .seconds(60)

    public init(host: String, port: Int, agentHost: String, token: String?) {
        self.host = host
        self.port = port
        self.agentHost = agentHost
        self.token = token
    }
}

/// Why a connection to the aggregator ended.
public enum ShipperError: Error, CustomStringConvertible {
    case refusedByAggregator(code: String, message: String)
    case protocolViolation(String)
    case connectionClosed
    case timedOut

    public var description: String {
        switch self {
        case .refusedByAggregator(let code, let message): "the aggregator refused the connection (\(code)): \(message)"
        case .protocolViolation(let detail): "the aggregator broke the protocol: \(detail)"
        case .connectionClosed: "the aggregator closed the connection"
        case .timedOut: "the aggregator did not answer in time"
        }
    }
}

/// Sends spooled records to the aggregator and releases them from the spool once acknowledged
/// (DESIGN.md principle 3). Never drops a record: it reconnects with backoff for as long as it
/// runs. A record the aggregator refuses can never be stored as it is; it is written to
/// `refused.log` in the spool folder with the reason, and counted, so that nobody loses it silently.
public struct Shipper: Sendable {
    public let configuration: ShipperConfiguration
    public let spool: Spool
    let logger: Logger

    private let shipped = Counter(label: "meetmeter_agent_records_shipped_total")
    private let acknowledged = Counter(label: "meetmeter_agent_records_acknowledged_total")
    private let refused = Counter(label: "meetmeter_agent_records_refused_total")
    private let reconnects = Counter(label: "meetmeter_agent_reconnects_total")

    public init(configuration: ShipperConfiguration, spool: Spool, logger: Logger) {
        self.configuration = configuration
        self.spool = spool
        var logger = logger
        logger[metadataKey: "aggregator"] = "\(configuration.host):\(configuration.port)"
        self.logger = logger
    }

    /// Ships until cancelled.
    public func run() async throws {
        var backoff = configuration.initialBackoff
        var failures = 0
        while !Task.isCancelled {
            let began = ContinuousClock.now
            do {
                // The backoff starts over once the aggregator took a batch, or after a connection
                // that lasted: an aggregator that greets and then fails (its store is down) must
                // not be hammered every few milliseconds.
                try await session { backoff = configuration.initialBackoff; failures = 0 }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                if ContinuousClock.now - began > configuration.maximumBackoff {
                    backoff = configuration.initialBackoff
                }
                failures += 1
                reconnects.increment()
                // The first failure is worth a warning; a long outage is logged at most once a minute-ish.
                if failures == 1 || failures % 20 == 0 {
                    logger.warning("cannot ship records; will retry", metadata: [
                        "error": "\(Self.explain(error))", "attempt": "\(failures)", "retry_in": "\(backoff)",
                    ])
                }
                let jitter = Double.random(in: 0.5...1.0)
                try? await Task.sleep(for: backoff * jitter)
                backoff = min(backoff * 2, configuration.maximumBackoff)
            }
        }
    }

    private func session(acknowledged connected: () -> Void) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .channelOption(ChannelOptions.socketOption(.so_keepalive), value: 1)
            .connect(host: configuration.host, port: configuration.port) { [configuration] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = configuration.tls {
                        let name = configuration.serverName ?? configuration.host
                        // An IP address cannot be sent as SNI: then NIOSSL checks the certificate
                        // against the address connected to.
                        let isAddress = name.contains(":") || name.allSatisfy { $0.isNumber || $0 == "." }
                        let handler = try NIOSSLClientHandler(context: tls, serverHostname: isAddress ? nil : name)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let raw = channel.channel
        let timeout = configuration.answerTimeout
        // Closes the connection when an answer is overdue, which ends the read below.
        func watchdog() -> Task<Void, Never> {
            Task {
                if (try? await Task.sleep(for: timeout)) != nil { raw.close(promise: nil) }
            }
        }
        try await channel.executeThenClose { inbound, outbound in
            var reader = LineReader(inbound.makeAsyncIterator())
            let hello = WireProtocol.Hello(host: configuration.agentHost, token: configuration.token)
            try await outbound.write(ByteBuffer(string: hello.line + "\n"))
            let helloWatch = watchdog()
            let reply = try await answer(&reader)
            helloWatch.cancel()
            switch reply {
            case .hello(let reply):
                guard reply.version == WireProtocol.version else {
                    throw ShipperError.protocolViolation("protocol version \(reply.version), expected \(WireProtocol.version)")
                }
            case .fatal(let fatal):
                throw ShipperError.refusedByAggregator(code: fatal.code, message: fatal.error)
            case .ack:
                throw ShipperError.protocolViolation("an acknowledgement before the hello")
            }
            logger.info("connected to the aggregator")
            var tookABatch = false
            var lineNumber: Int64 = 0
            while true {
                let batch = try await spool.entries(after: nil, limit: configuration.batchSize)
                var out = ByteBuffer()
                out.reserveCapacity(batch.reduce(0) { $0 + $1.line.utf8.count + 1 })
                for entry in batch {
                    out.writeString(entry.line)
                    out.writeInteger(UInt8(ascii: "\n"))
                }
                try await outbound.write(out)
                shipped.increment(by: Int64(batch.count))
                let batchWatch = watchdog()
                defer { batchWatch.cancel() }  // at the end of each batch
                for entry in batch {
                    lineNumber += 1
                    switch try await answer(&reader) {
                    case .ack(let ack):
                        guard ack.line == lineNumber else {
                            throw ShipperError.protocolViolation("answer for line \(ack.line), expected \(lineNumber)")
                        }
                        if ack.status == .refused {
                            refused.increment()
                            try keepRefused(entry, ack: ack)
                        } else if ack.status == .duplicate, ack.code == WireProtocol.conflictCode {
                            // Settled: the aggregator keeps this copy apart as evidence.
                            logger.warning("the aggregator holds another record with this id", metadata: [
                                "id": "\(entry.id)", "reason": "\(ack.error ?? "")",
                            ])
                        }
                    case .fatal(let fatal):
                        throw ShipperError.refusedByAggregator(code: fatal.code, message: fatal.error)
                    case .hello:
                        throw ShipperError.protocolViolation("a second hello")
                    }
                }
                if let last = batch.last {
                    try await spool.acknowledge(through: last.end, count: batch.count)
                    acknowledged.increment(by: Int64(batch.count))
                }
                if !tookABatch {
                    tookABatch = true
                    connected()
                }
            }
        }
    }

    /// Says what a TLS failure means for the operator; other errors speak for themselves.
    static func explain(_ error: any Error) -> String {
        if let tls = error as? NIOSSLError {
            return "TLS handshake with the aggregator failed (check ca_file, server_name, certificate_file and key_file): \(tls)"
        }
        if let tls = error as? BoringSSLError {
            return "TLS with the aggregator failed (check ca_file, server_name, certificate_file and key_file): \(tls)"
        }
        return "\(error)"
    }

    private func answer(_ reader: inout LineReader) async throws -> WireProtocol.Reply {
        guard let line = try await reader.next() else { throw ShipperError.connectionClosed }
        do {
            return try WireProtocol.decodeReply(line)
        } catch {
            throw ShipperError.protocolViolation("unreadable answer: \(error)")
        }
    }

    private func keepRefused(_ entry: SpoolEntry, ack: WireProtocol.Ack) throws {
        logger.error("the aggregator refused a record; it is kept in refused.log", metadata: [
            "id": "\(entry.id)", "code": "\(ack.code ?? "")", "reason": "\(ack.error ?? "")",
        ])
        let path = spool.configuration.directory + "/refused.log"
        let fd = try PosixFile.open(path, O_WRONLY | O_APPEND | O_CREAT)
        defer { close(fd) }
        let text = "# \(ack.code ?? "refused"): \(ack.error ?? "")\n\(entry.line)\n"
        var failure: FileError?
        Array(text.utf8).withUnsafeBytes { raw in
            do throws(FileError) { try PosixFile.writeAll(fd, raw, path: path) } catch { failure = error }
        }
        if let failure { throw failure }
        try PosixFile.fsync(fd, path: path)
    }
}

/// Splits a stream of byte buffers into lines, with a deadline on each.
struct LineReader {
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var pending: [UInt8] = []
    private var start = 0
    static let maximumLine = 1 << 20

    init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) { self.iterator = iterator }

    mutating func next() async throws -> String? {
        while true {
            if let nl = pending[start...].firstIndex(of: 0x0A) {
                let line = String(decoding: pending[start..<nl], as: UTF8.self)
                start = nl + 1
                if start > 65536 {
                    pending.removeSubrange(0..<start)
                    start = 0
                }
                return line
            }
            guard pending.count - start < Self.maximumLine else {
                throw ShipperError.protocolViolation("an answer longer than \(Self.maximumLine) bytes")
            }
            guard let buffer = try await iterator.next() else { return nil }
            pending.append(contentsOf: buffer.readableBytesView)
        }
    }
}
