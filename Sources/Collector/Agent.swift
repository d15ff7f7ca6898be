import Delivery
import HostSampling
import LogLines
import LogParsers
import LogSources
import Logging
import NIOSSL
import SystemCalls
import UsageRecords

/// How the agent runs.
public enum AgentMode: Sendable {
    /// Follow every source until stopped (the daemon).
    case follow
    /// Read every source to its end, ship everything, wait until the aggregator acknowledged
    /// it all, then return (the demo, tests, catching up on copied logs).
    case drain
}

/// The agent as one configuration wires it: sources → parsers → spool → shipper, each made here
/// and run by a service of its own (`AgentServices`). A reload (SIGHUP) makes a new `Agent` with
/// the same spool.
public struct Agent: Sendable {
    public let configuration: AgentConfiguration
    public let spool: Spool
    /// Told of writes that find the state directory full: the spool's and the position files'.
    public let disk: StateDisk
    let tls: NIOSSLContext?
    let logger: Logger

    /// - Parameter spool: the spool of the agent this one replaces (a reload): one folder must
    ///   never have two spools appending to it.
    /// - Parameter tls: the context made from the configuration's files; read from them when nil.
    public init(configuration: AgentConfiguration, logger: Logger, spool: Spool? = nil, tls: NIOSSLContext? = nil) throws {
        self.configuration = configuration
        self.logger = logger
        // One StateDisk for the spool and the position files: one episode, one log line.
        let disk = spool?.disk ?? StateDisk(logger: logger)
        self.disk = disk
        self.tls = try tls ?? configuration.makeTLSContext()
        self.spool = try spool ?? Spool(
            configuration: SpoolConfiguration(directory: configuration.stateDirectory + "/spool", maxBytes: configuration.spoolMaxBytes),
            logger: logger, disk: disk)
    }

    func makeShipper() -> Shipper {
        var c = ShipperConfiguration(addresses: configuration.aggregators.map { AggregatorAddress(host: $0.host, port: $0.port) },
                                     agentHost: configuration.host, token: configuration.token)
        c.batchSize = configuration.batchSize
        c.batchesInFlight = configuration.batchesInFlight
        c.tls = tls
        c.serverName = configuration.tls?.value.serverName
        return Shipper(configuration: c, spool: spool, logger: logger)
    }

    func makeHeartbeat() -> Heartbeat {
        Heartbeat(host: configuration.host, interval: configuration.heartbeatInterval,
                  size: configuration.instanceSize, spool: spool)
    }

    func makeStorageSampler() -> StorageSampler? {
        guard let storage = configuration.storage else { return nil }
        return StorageSampler(
            host: configuration.host, interval: storage.interval, recordingRoots: storage.recordingRoots,
            filesystems: storage.filesystems, spool: spool, logger: logger,
            quietPeriod: storage.quietPeriod, rewalkAfter: storage.rewalkAfter)
    }

    /// Every source with the pipeline that parses its lines into the spool.
    func makeReaders(_ mode: AgentMode) throws -> [Reader] {
        try SourceFactory.make(configuration: configuration, follow: mode == .follow, logger: logger, disk: disk).map { made in
            var sourceLogger = logger
            sourceLogger[metadataKey: "source"] = "\(made.source.name)"
            let parser = try ParserChoice.make(software: made.software, options: configuration.parserOptions)
            let processor = LineProcessor(parser: parser, host: configuration.host, source: made.source.name, logger: sourceLogger)
            return Reader(source: made.source, pipeline: SourcePipeline(processor: processor, spool: spool))
        }
    }

    /// A source and the pipeline its lines go through.
    struct Reader: Sendable {
        let source: any LineSource
        let pipeline: SourcePipeline

        func run() async throws {
            try await source.run { lines in try await pipeline.deliver(lines) }
        }

        /// What the pipeline made of the lines; lines the source passed over (a prefilter's) count
        /// as read, as `meetmeter parse` counts them.
        func counts() async -> ParseCounts {
            var counts = await pipeline.counts
            counts.lines += source.passedOver
            return counts
        }
    }
}

/// The parts of a running agent, each a service of its own.
public enum AgentPart: String, Sendable {
    case shipper, heartbeat, storageSampler = "storage sampler", readers = "sources"
}

public enum AgentError: Error, CustomStringConvertible {
    /// A part that runs until told to stop returned by itself.
    case partEnded(AgentPart)

    public var description: String {
        switch self {
        case .partEnded(let part): "the agent's \(part.rawValue) stopped by itself; the agent stops so that it is restarted"
        }
    }
}
