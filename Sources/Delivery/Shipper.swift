#if canImport(Glibc)
import Glibc
#endif
import Logging
import Metrics
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import SystemCalls
import UsageRecords

public struct ShipperConfiguration: Sendable {
    /// The aggregators, tried in this order; the shipper moves to the next one when one fails.
    public var addresses: [AggregatorAddress]
    /// This agent's host name, as records carry it and the aggregator authenticates it.
    public var agentHost: String
    public var token: String?
    /// TLS towards the aggregator, with the name its certificate must carry.
    public var tls: NIOSSLContext?
    public var serverName: String?
    /// Records a batch.
    public var batchSize: Int = 500
    /// Batches sent before the oldest is answered (a window): the aggregator is reading the next
    /// while it commits one. Each record is still acknowledged and released on its own answer.
    public var batchesInFlight: Int = 4
    /// Reconnection backoff, doubled after each failure up to the maximum, with jitter.
    public var initialBackoff: Duration = .milliseconds(200)
    public var maximumBackoff: Duration = .seconds(30)
    /// How long to wait for the aggregator's answers before taking the connection for dead.
    public var answerTimeout: Duration = .seconds(60)

    public init(addresses: [AggregatorAddress], agentHost: String, token: String?) {
        precondition(!addresses.isEmpty, "a shipper needs at least one aggregator address")
        self.addresses = addresses
        self.agentHost = agentHost
        self.token = token
    }

    /// One aggregator.
    public init(host: String, port: Int, agentHost: String, token: String?) {
        self.init(addresses: [AggregatorAddress(host: host, port: port)], agentHost: agentHost, token: token)
    }
}

/// Why a connection to the aggregator ended.
public enum ShipperError: Error, CustomStringConvertible {
    case refusedByAggregator(code: String, message: String)
    case protocolViolation(String)
    case connectionClosed
    case timedOut(Duration)

    public var description: String {
        switch self {
        case .refusedByAggregator(let code, let message): "the aggregator refused the connection (\(code)): \(message)"
        case .protocolViolation(let detail): "the aggregator broke the protocol: \(detail)"
        case .connectionClosed: "the aggregator closed the connection"
        case .timedOut(let wait): "no answer from the aggregator within \(wait); closed the connection to try again"
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
        self.logger = logger
    }

    /// What the shipper does once told to finish (`finish` opened).
    public enum Finishing: Sendable {
        /// Stop after the batch in flight is answered (the daemon, at SIGTERM: what is still
        /// spooled is shipped on the next start).
        case afterBatchInFlight
        /// Go on until the spool is empty and acknowledged (`--drain`, once every source is read).
        case whenSpoolEmpty
    }

    /// Ships until cancelled, or until `finish` opens and the shipper has finished as `finishing`
    /// says.
    public func run(finish: Latch = Latch(), finishing: Finishing = .afterBatchInFlight) async throws {
        var backoff = configuration.initialBackoff
        var failures = 0
        var rotation = AggregatorRotation(configuration.addresses)
        var target = await rotation.next()
        while !Task.isCancelled {
            if try await finished(finish, finishing) { return }
            let began = ContinuousClock.now
            do {
                // The backoff starts over once the aggregator took a batch, or after a connection
                // that lasted: an aggregator that greets and then fails (its store is down) must
                // not be hammered every few milliseconds.
                try await session(to: target, finish: finish, finishing: finishing) {
                    backoff = configuration.initialBackoff
                    failures = 0
                }
                return
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                if ContinuousClock.now - began > configuration.maximumBackoff {
                    backoff = configuration.initialBackoff
                }
                failures += 1
                reconnects.increment()
                let failed = target
                // To the next aggregator at once; the backoff grows only once all of them failed.
                target = await rotation.next()
                let wholeRoundFailed = failures % rotation.roundSize == 0
                let pause = (wholeRoundFailed ? backoff : configuration.initialBackoff) * Double.random(in: 0.5...1.0)
                // The first failure is worth a warning; a long outage is logged at most once a minute-ish.
                if failures == 1 || failures % 20 == 0 || rotation.roundSize > 1 && failures <= rotation.roundSize {
                    logger.warning("cannot ship records; will retry", metadata: [
                        "aggregator": "\(failed)", "error": "\(Self.explain(error))", "attempt": "\(failures)",
                        "next": "\(target)", "retry_in": "\(pause)",
                    ])
                }
                // Told to finish while the aggregator is away: nothing is in flight, stop now.
                if finishing == .afterBatchInFlight {
                    _ = await first(of: { try? await Task.sleep(for: pause) }, or: finish)
                } else {
                    try? await Task.sleep(for: pause)
                }
                if wholeRoundFailed { backoff = min(backoff * 2, configuration.maximumBackoff) }
            }
        }
    }

    /// Whether the shipper is done, once told to finish.
    private func finished(_ finish: Latch, _ finishing: Finishing) async throws -> Bool {
        guard finish.isOpen else { return false }
        switch finishing {
        case .afterBatchInFlight: return true
        case .whenSpoolEmpty: return await spool.pendingRecords == 0
        }
    }

    /// The next batch after `cursor`, waiting for one; nil when told to finish meanwhile with
    /// nothing left to send.
    private func nextBatch(after cursor: SpoolCursor?, finish: Latch, finishing: Finishing) async throws -> [SpoolEntry]? {
        while true {
            if try await finished(finish, finishing) { return nil }
            if finish.isOpen {
                // Finishing when the spool is empty, and it is not: there is a batch to read.
                return try await spool.entries(after: cursor, limit: configuration.batchSize)
            }
            let spool = self.spool
            let limit = configuration.batchSize
            let batch = try await first(of: { try await spool.entries(after: cursor, limit: limit) }, or: finish)
            if let batch { return batch }
        }
    }

    /// One more batch for the window, if one is spooled now; never waits.
    private func anotherBatch(after cursor: SpoolCursor?, finish: Latch, finishing: Finishing) async throws -> [SpoolEntry]? {
        // Told to stop after what is in flight: nothing more is sent.
        if finish.isOpen && finishing == .afterBatchInFlight { return nil }
        let batch = try await spool.availableEntries(after: cursor, limit: configuration.batchSize)
        return batch.isEmpty ? nil : batch
    }

    private func session(to target: AggregatorRotation.Target, finish: Latch, finishing: Finishing,
                         acknowledged connected: () -> Void) async throws {
        let logger = {
            var logger = self.logger
            logger[metadataKey: "aggregator"] = "\(target)"
            return logger
        }()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .channelOption(ChannelOptions.socketOption(.so_keepalive), value: 1)
            .connect(host: target.connectHost, port: target.port) { [configuration] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = configuration.tls {
                        let name = configuration.serverName ?? target.name
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
        let overdue = OverdueFlag()
        // Closes the connection when an answer is overdue, which ends the read below; the end is
        // then told as the timeout it is, not as the aggregator closing.
        func watchdog() -> Task<Void, Never> {
            Task {
                if (try? await Task.sleep(for: timeout)) != nil {
                    overdue.set()
                    raw.close(promise: nil)
                }
            }
        }
        try await channel.executeThenClose { inbound, outbound in
            var reader = AnswerReader(inbound.makeAsyncIterator(), overdue: { overdue.isSet ? timeout : nil })
            var protocolState = ShipperSession()
            // A write on a connection that failed says only that it is closed; why it closed (a
            // TLS handshake refused, a reset) is on the reading side, and that is what is thrown.
            func send(_ buffer: ByteBuffer) async throws {
                do {
                    try await outbound.write(buffer)
                } catch {
                    _ = try await reader.next()
                    throw error
                }
            }
            try await send(ByteBuffer(string: ShipperSession.hello(host: configuration.agentHost, token: configuration.token) + "\n"))
            do {
                let helloWatch = watchdog()
                defer { helloWatch.cancel() }
                _ = try protocolState.received(try await reader.next())
            }
            logger.info("connected to the aggregator")
            var heardBack = false
            // The window opens one batch at a time as batches are answered, so that a connection
            // that dies at once (a proxy, an aggregator whose store is down) costs one batch, not a
            // whole window, to resend.
            var window = 1
            // Sent and not yet answered, oldest first; `sentThrough` is where the last one ended.
            var inFlight: [[SpoolEntry]] = []
            var sentThrough: SpoolCursor?
            func write(_ batch: [SpoolEntry]) async throws {
                var out = ByteBuffer()
                out.reserveCapacity(batch.reduce(0) { $0 + $1.line.utf8.count + 1 })
                for entry in batch {
                    out.writeString(entry.line)
                    out.writeInteger(UInt8(ascii: "\n"))
                }
                protocolState.sending(count: batch.count)
                try await send(out)
                shipped.increment(by: Int64(batch.count))
                inFlight.append(batch)
                sentThrough = batch.last?.end
            }
            while true {
                // Fill the window; wait for records only when nothing is in flight.
                if inFlight.isEmpty {
                    guard let batch = try await nextBatch(after: sentThrough, finish: finish, finishing: finishing) else { return }
                    try await write(batch)
                }
                while inFlight.count < window,
                      let batch = try await anotherBatch(after: sentThrough, finish: finish, finishing: finishing) {
                    try await write(batch)
                }
                // The answers of the oldest batch, under one deadline.
                let batch = inFlight.removeFirst()
                let batchWatch = watchdog()
                defer { batchWatch.cancel() }
                var complete = false
                while !complete {
                    guard case .answered(let index, let outcome, let last) = try protocolState.received(try await reader.next()) else {
                        continue
                    }
                    complete = last
                    if !heardBack {
                        // The aggregator commits what it reads: the backoff starts over, even if
                        // the connection is cut before this batch is wholly answered.
                        heardBack = true
                        connected()
                    }
                    let entry = batch[index]
                    switch outcome {
                    case .settled:
                        break
                    case .conflict(let reason):
                        // Settled: the aggregator keeps this copy apart as evidence.
                        logger.warning("the aggregator holds another record with this id", metadata: [
                            "id": "\(entry.id)", "reason": "\(reason)",
                        ])
                    case .refused(let code, let reason):
                        refused.increment()
                        try keepRefused(entry, code: code, reason: reason)
                    }
                }
                batchWatch.cancel()
                if let last = batch.last {
                    try await spool.acknowledge(through: last.end, count: batch.count)
                    acknowledged.increment(by: Int64(batch.count))
                }
                window = min(window + 1, max(configuration.batchesInFlight, 1))
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

    private func keepRefused(_ entry: SpoolEntry, code: String, reason: String) throws {
        logger.error("the aggregator refused a record; it is kept in refused.log", metadata: [
            "id": "\(entry.id)", "code": "\(code)", "reason": "\(reason)",
        ])
        let path = spool.configuration.directory + "/refused.log"
        let fd = try PosixFile.open(path, O_WRONLY | O_APPEND | O_CREAT)
        defer { close(fd) }
        let text = "# \(code): \(reason)\n\(entry.line)\n"
        var failure: FileError?
        Array(text.utf8).withUnsafeBytes { raw in
            do throws(FileError) { try PosixFile.writeAll(fd, raw, path: path) } catch { failure = error }
        }
        if let failure { throw failure }
        try PosixFile.fsync(fd, path: path)
    }
}

/// The aggregator's answers, a line at a time, from the connection's byte buffers. The deadline
/// is the shipper's watchdog, which closes the connection.
struct AnswerReader {
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var lines = LineQueue(maximumLineBytes: 1 << 20)
    /// How long the watchdog waited, once it closed the connection for want of an answer.
    private let overdue: @Sendable () -> Duration?

    init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, overdue: @escaping @Sendable () -> Duration? = { nil }) {
        self.iterator = iterator
        self.overdue = overdue
    }

    /// The next answer; throws `connectionClosed` at the end of the stream.
    mutating func next() async throws -> String {
        while true {
            if let line = lines.pop() {
                guard line.length <= lines.maximumLineBytes else {
                    throw ShipperError.protocolViolation("an answer longer than \(lines.maximumLineBytes) bytes")
                }
                return String(decoding: line.bytes, as: UTF8.self)
            }
            let buffer: ByteBuffer?
            do {
                buffer = try await iterator.next()
            } catch {
                if let wait = overdue() { throw ShipperError.timedOut(wait) }
                throw error
            }
            guard let buffer else { throw overdue().map { ShipperError.timedOut($0) } ?? ShipperError.connectionClosed }
            buffer.withUnsafeReadableBytes { lines.append($0) }
            // No need to wait for the LF of an answer already too long.
            if lines.cutter.heldLength > lines.maximumLineBytes + 1 {
                throw ShipperError.protocolViolation("an answer longer than \(lines.maximumLineBytes) bytes")
            }
        }
    }
}

/// Set by the answer watchdog when it closes a connection for want of an answer.
final class OverdueFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}

/// The value of whichever ends first: `body`, or `latch` opening (nil). The other is cancelled.
func first<T: Sendable>(of body: @escaping @Sendable () async throws -> T, or latch: Latch) async rethrows -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask { await latch.wait(); return nil }
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
}
