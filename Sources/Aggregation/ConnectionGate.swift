import Logging
import NIOCore
import Synchronization
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

/// The listener's door: admits each accepted connection under `ConnectionLimits`, closes those
/// that make room or miss their hello deadline with a fatal line saying why, and pauses accepting
/// while `accept` fails for want of descriptors. Each limit that bites is counted
/// (`meetmeter_aggregator_connections_refused_total{reason}`) and logged at most once a minute.
final class ConnectionGate: Sendable {
    typealias State = AdmissionState<ObjectIdentifier, any Channel>
    typealias Reason = State.Reason

    let limits: ConnectionLimits
    private let state: Mutex<State>
    private let throttle = Mutex(LogThrottle<Reason>())
    private let metrics: ListenerMetrics
    private let logger: Logger

    /// How long accepting pauses after `accept` failed for want of descriptors.
    static let acceptBackoff: TimeAmount = .seconds(1)

    init(limits: ConnectionLimits, metrics: ListenerMetrics, logger: Logger) {
        self.limits = limits
        self.state = Mutex(State(limits: limits))
        self.metrics = metrics
        self.logger = logger
    }

    var unauthenticatedCount: Int { state.withLock { $0.unauthenticatedCount } }

    /// Connections admitted since the start (tests wait on it rather than on the clock).
    var admittedCount: Int { admitted.withLock { $0 } }
    private let admitted = Mutex(0)

    /// A connection became active: let it in (maybe closing an older one) or refuse it, and
    /// start its hello deadline.
    func admit(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        let (admission, waiting) = state.withLock { s in (s.admit(key, handle: channel, address: address), s.unauthenticatedCount) }
        metrics.unauthenticated.record(waiting)
        admitted.withLock { $0 += 1 }
        switch admission {
        case .refused(let reason):
            close(channel, reason, address: address)
            return
        case .admitted(let evicted):
            if let evicted {
                close(evicted.handle, evicted.reason, address: evicted.handle.remoteAddress?.ipAddress ?? "unknown")
            }
        }
        channel.eventLoop.scheduleTask(in: TimeAmount(limits.helloTimeout)) { [self] in
            let expired = state.withLock { s in (s.expire(key), s.unauthenticatedCount) }
            guard let handle = expired.0 else { return }
            metrics.unauthenticated.record(expired.1)
            close(handle, .helloTimeout, address: address)
        }
    }

    /// The connection sent a valid hello; false if it was closed meanwhile and must not go on.
    func authenticate(_ channel: any Channel) -> Bool {
        let (ok, waiting) = state.withLock { s in (s.authenticate(ObjectIdentifier(channel)), s.unauthenticatedCount) }
        metrics.unauthenticated.record(waiting)
        return ok
    }

    func closed(_ channel: any Channel) {
        let waiting = state.withLock { s in
            s.remove(ObjectIdentifier(channel))
            return s.unauthenticatedCount
        }
        metrics.unauthenticated.record(waiting)
    }

    /// Sends the fatal line for `reason` and closes. Plain TCP sends it before the FIN; over TLS
    /// a peer that never finished its handshake gets none (it could not read it anyway).
    private func close(_ channel: any Channel, _ reason: Reason, address: String) {
        metrics.connectionRefused(reason: reason.rawValue)
        let fatal = fatal(reason)
        var line = ByteBuffer()
        line.writeString(fatal.encoded)
        line.writeInteger(UInt8(ascii: "\n"))
        channel.writeAndFlush(line, promise: nil)
        channel.close(promise: nil)
        say(reason, address: address)
    }

    func fatal(_ reason: Reason) -> WireProtocol.Fatal {
        switch reason {
        case .helloTimeout:
            WireProtocol.Fatal(code: "timeout", error: "no valid hello within \(Self.words(limits.helloTimeout)) of connecting")
        case .addressLimit:
            WireProtocol.Fatal(code: "busy", error: "closed to make room: more than \(limits.maxUnauthenticatedPerAddress) connections from this address have not sent a hello")
        case .unauthenticatedLimit:
            WireProtocol.Fatal(code: "busy", error: "closed to make room: more than \(limits.maxUnauthenticated) connections have not sent a hello")
        case .connectionLimit, .descriptors:
            WireProtocol.Fatal(code: "busy", error: "the aggregator has its \(limits.maxConnections) connections open; try again later")
        }
    }

    /// `10 s`, `200 ms`.
    static func words(_ d: Duration) -> String {
        let (s, atto) = d.components
        return atto == 0 ? "\(s) s" : "\(s * 1000 + atto / 1_000_000_000_000_000) ms"
    }

    /// The log line for a limit that bit, once, then at most once a minute with the count.
    private func say(_ reason: Reason, address: String, error: String? = nil) {
        guard let count = throttle.withLock({ $0.note(reason) }) else { return }
        var metadata: Logger.Metadata = ["reason": "\(reason.rawValue)", "connections": "\(count)", "last_address": "\(address)"]
        if let error { metadata["error"] = "\(error)" }
        switch reason {
        case .helloTimeout:
            metadata["hello_timeout"] = "\(Self.words(limits.helloTimeout))"
            logger.notice("closed connections that sent no hello in time", metadata: metadata)
        case .addressLimit:
            metadata["limit"] = "max_unauthenticated_per_address=\(limits.maxUnauthenticatedPerAddress)"
            logger.warning("connection limit reached: closed the oldest connection without a hello from one address", metadata: metadata)
        case .unauthenticatedLimit:
            metadata["limit"] = "max_unauthenticated=\(limits.maxUnauthenticated)"
            logger.warning("connection limit reached: closed the oldest connection without a hello", metadata: metadata)
        case .connectionLimit:
            metadata["limit"] = "max_connections=\(limits.maxConnections)"
            logger.warning("connection limit reached: refused a connection, every open one is an agent", metadata: metadata)
        case .descriptors:
            metadata["backoff"] = "\(Self.acceptBackoff.nanoseconds / 1_000_000)ms"
            logger.warning("connection limit reached: cannot accept, out of descriptors; accepting pauses and resumes", metadata: metadata)
        }
    }

    /// `accept` failed. For want of descriptors or memory, accepting pauses for
    /// `acceptBackoff`; NIO's own `AcceptBackoffHandler` does not help there: its backoff acts
    /// only through `read()`, which NIO does not call again when the first accept of a wake-up
    /// fails, so the still-readable listening socket would wake the loop at once, for ever.
    func acceptFailed(_ error: IOError, serverChannel: any Channel) {
        switch error.errnoCode {
        case EMFILE, ENFILE, ENOBUFS, ENOMEM: break
        default: return
        }
        metrics.connectionRefused(reason: Reason.descriptors.rawValue)
        say(.descriptors, address: "", error: "\(error)")
        guard let options = serverChannel.syncOptions else { return }
        // Off and on again: autoRead off drops the interest in readability; on asks for a read.
        try? options.setOption(ChannelOptions.autoRead, value: false)
        serverChannel.eventLoop.assumeIsolated().scheduleTask(in: Self.acceptBackoff) {
            guard serverChannel.isActive, let options = serverChannel.syncOptions else { return }
            try? options.setOption(ChannelOptions.autoRead, value: true)
        }
    }
}

/// First in a connection's pipeline: admits it when it becomes active and forgets it when it ends.
final class AdmissionHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    let gate: ConnectionGate

    init(gate: ConnectionGate) {
        self.gate = gate
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        gate.admit(context.channel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        gate.closed(context.channel)
        context.fireChannelInactive()
    }
}

/// On the listening channel, before NIO's own accept handlers: sees `accept` errors first.
final class AcceptErrorHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    let gate: ConnectionGate

    init(gate: ConnectionGate) {
        self.gate = gate
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError { gate.acceptFailed(error, serverChannel: context.channel) }
        context.fireErrorCaught(error)
    }
}
