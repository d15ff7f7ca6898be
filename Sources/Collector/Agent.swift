import Logging
import UsageRecords

/// A source as the agent runs it: a name and a reading loop that hands over batches of lines and
/// moves its position only after the hand-over returned (the records are then safe).
public struct SourceRunner: Sendable {
    public var name: String
    public var software: String
    public var run: @Sendable (_ deliver: @escaping @Sendable ([LogLine]) async throws -> Void) async throws -> Void
    /// Lines the source read but never handed over (a file follower's prefilter passed over
    /// them): they count as read, as `meetmeter parse` counts them.
    public var passedOver: @Sendable () -> Int

    public init(name: String, software: String, passedOver: @escaping @Sendable () -> Int = { 0 },
                run: @escaping @Sendable (_ deliver: @escaping @Sendable ([LogLine]) async throws -> Void) async throws -> Void)
    {
        self.name = name
        self.software = software
        self.passedOver = passedOver
        self.run = run
    }
}

/// The parts of a running agent, each a task of its own.
public enum AgentPart: String, Sendable {
    case shipper, heartbeat, storageSampler = "storage sampler", readers = "sources"
}

public enum AgentError: Error, CustomStringConvertible {
    /// A part that runs until cancelled returned by itself.
    case partEnded(AgentPart)

    public var description: String {
        switch self {
        case .partEnded(let part): "the agent's \(part.rawValue) stopped by itself; the agent stops so that it is restarted"
        }
    }
}

/// The agent: sources → parsers → spool → shipper, wired from agent.toml.
public struct Agent: Sendable {
    public enum Mode: Sendable {
        /// Follow every source until stopped (the daemon).
        case follow
        /// Read every source to its end, ship everything, wait until the aggregator acknowledged
        /// it all, then return (the demo, tests, catching up on copied logs).
        case drain
    }

    public let configuration: AgentConfiguration
    public let spool: Spool
    let logger: Logger
    let makeSources: @Sendable (Mode) throws -> [SourceRunner]
    let makeParser: @Sendable (_ software: String) throws -> any LogParser

    /// - Parameter spool: the spool of the agent this one replaces (a reload): one folder must
    ///   never have two spools appending to it.
    /// - Parameter disk: told of writes that find the state directory full; the spool's own
    ///   when a spool is given.
    public init(configuration: AgentConfiguration, logger: Logger, spool: Spool? = nil, disk: StateDisk? = nil,
                makeParser: @escaping @Sendable (_ software: String) throws -> any LogParser,
                makeSources: @escaping @Sendable (Mode) throws -> [SourceRunner]) throws
    {
        self.configuration = configuration
        self.logger = logger
        self.makeSources = makeSources
        self.makeParser = makeParser
        self.spool = try spool ?? Spool(
            configuration: SpoolConfiguration(directory: configuration.stateDirectory + "/spool", maxBytes: configuration.spoolMaxBytes),
            logger: logger, disk: disk)
    }

    var shipper: Shipper {
        var c = ShipperConfiguration(host: configuration.aggregatorHost, port: configuration.aggregatorPort,
                                     agentHost: configuration.host, token: configuration.token)
        c.batchSize = configuration.batchSize
        c.tls = configuration.tlsContext
        c.serverName = configuration.tls?.serverName
        return Shipper(configuration: c, spool: spool, logger: logger)
    }

    /// Runs until cancelled (follow) or until everything read is acknowledged (drain). Returns the
    /// parse counts of every source.
    @discardableResult
    public func run(mode: Mode) async throws -> ParseCounts {
        let sources = try makeSources(mode)
        var pipelines: [SourcePipeline] = []
        for source in sources {
            var sourceLogger = logger
            sourceLogger[metadataKey: "source"] = "\(source.name)"
            let processor = LineProcessor(parser: try makeParser(source.software), host: configuration.host,
                                          source: source.name, logger: sourceLogger)
            pipelines.append(SourcePipeline(processor: processor, spool: spool))
        }
        let shipper = self.shipper
        let heartbeat = Heartbeat(host: configuration.host, interval: configuration.heartbeatInterval,
                                  size: configuration.instanceSize, spool: spool)
        logger.info("agent starting", metadata: [
            "host": "\(configuration.host)", "sources": "\(sources.map(\.name))",
            "aggregator": "\(configuration.aggregatorHost):\(configuration.aggregatorPort)",
        ])
        try await withThrowingTaskGroup(of: AgentPart.self) { group in
            group.addTask { try await shipper.run(); return .shipper }
            if mode == .follow {
                group.addTask { try await heartbeat.run(); return .heartbeat }
                if let storage = configuration.storage {
                    let sampler = StorageSampler(
                        host: configuration.host, interval: storage.interval, recordingRoots: storage.recordingRoots,
                        filesystems: storage.filesystems, spool: spool, logger: logger,
                        quietPeriod: storage.quietPeriod, rewalkAfter: storage.rewalkAfter)
                    group.addTask { try await sampler.run(); return .storageSampler }
                }
            }
            let readerParts = Array(zip(sources, pipelines))
            group.addTask {
                try await withThrowingTaskGroup(of: Void.self) { readers in
                    for (source, pipeline) in readerParts {
                        readers.addTask {
                            try await source.run { lines in try await pipeline.deliver(lines) }
                        }
                    }
                    try await readers.waitForAll()
                }
                return .readers
            }
            // Every part runs until cancelled; the first to end otherwise, by an error or not,
            // ends the agent with an error (a daemon that stops by itself must not look like one
            // that was told to: systemd restarts only what fails).
            while true {
                let ended: AgentPart?
                do {
                    ended = try await group.next()
                } catch where Task.isCancelled {
                    // Told to stop: a part that ends with an error while it is cancelled (a
                    // sleep or a write cut short) is stopping, not failing. A failure exits 1
                    // only when it was not asked for, so that systemd restarts the agent.
                    logger.debug("a part ended with an error while stopping", metadata: ["error": "\(error)"])
                    break
                }
                guard let part = ended else { break }
                if Task.isCancelled { break }
                if part == .readers {
                    if mode == .drain { break }
                    if sources.isEmpty { continue }
                }
                throw AgentError.partEnded(part)
            }
            if mode == .drain && !Task.isCancelled {
                // Everything is read and spooled; wait for the aggregator to have all of it.
                var waited = 0
                while await spool.pendingRecords > 0 {
                    try await Task.sleep(for: .milliseconds(50))
                    waited += 1
                    if waited % 200 == 0 {
                        let pending = await spool.pendingRecords
                        logger.info("waiting for the aggregator to acknowledge", metadata: ["pending": "\(pending)"])
                    }
                }
            }
            group.cancelAll()
        }
        var total = ParseCounts()
        for p in pipelines { total.add(await p.counts) }
        // The pipelines see only the lines handed over; the summary counts every line read.
        for s in sources { total.lines += s.passedOver() }
        return total
    }
}


extension Agent {
    /// The agent as agent.toml describes it: its file and journal sources, each read by the parser
    /// of its `software`.
    public init(configuration: AgentConfiguration, logger: Logger, spool: Spool? = nil) throws {
        // One StateDisk for the spool and the position files: one episode, one log line.
        let disk = spool?.disk ?? StateDisk(logger: logger)
        try self.init(configuration: configuration, logger: logger, spool: spool, disk: disk,
                      makeParser: { try ParserChoice.make(software: $0, options: configuration.parserOptions) }) { mode in
            try SourceFactory.make(configuration: configuration, follow: mode == .follow, logger: logger, disk: disk).map { made in
                let source = made.source
                let follower = source as? FileFollower
                return SourceRunner(name: source.name, software: made.software,
                                    passedOver: { follower?.counts.passedOver ?? 0 }) { deliver in
                    try await source.run(deliver: deliver)
                }
            }
        }
    }
}
