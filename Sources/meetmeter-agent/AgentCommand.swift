import ArgumentParser
import Collector
import ConfigFiles
import Delivery
import NIOSSL
import Logging
import Observability
import ServiceLifecycle
import UnixSignals
import SystemdIntegration
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

@main
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meetmeter-agent",
        abstract: "Meter a meeting host: follow its logs and journal, ship usage records to the aggregator.",
        discussion: "See meetmeter-agent(8) and agent.toml(5).")

    @Option(name: .long, help: "The configuration file.")
    var config = "/etc/meetmeter/agent.toml"

    @OptionGroup var daemon: DaemonOptions

    @Flag(name: .long, help: "Read every source to its end, ship everything, wait until the aggregator has acknowledged it all, and exit.")
    var drain = false

    func run() async throws {
        // The TLS files are read with the configuration: a bad key stops the agent (and
        // --check-config) with the file, line and key that named it.
        let (configuration, tls) = try Daemon.loadConfiguration("meetmeter-agent") { () throws -> (AgentConfiguration, NIOSSLContext?) in
            let configuration = try AgentConfiguration.load(path: config)
            return (configuration, try configuration.makeTLSContext())
        }
        if daemon.checkConfig {
            print("\(config): OK (host \(configuration.host), \(configuration.files.count) file source(s), journal \(configuration.journal == nil ? "off" : "on"), \(configuration.rules.count) rule(s), aggregator \(configuration.aggregators.map(\.description).joined(separator: ", ")))")
            return
        }
        DaemonLogging.bootstrap(identifier: "meetmeter-agent", level: daemon.logLevel)
        let registry = MetricsBootstrap.prometheus()
        let logger = Logger(label: "meetmeter.agent")
        let agent: Agent
        do {
            agent = try Agent(configuration: configuration, logger: logger, tls: tls)
        } catch {
            Daemon.printError("meetmeter-agent: cannot start: \(error)")
            throw ExitCode(1)
        }
        logger.info("agent starting", metadata: [
            "host": "\(configuration.host)", "files": "\(configuration.files.map(\.paths))",
            "journal": "\(configuration.journal == nil ? "off" : "on")",
            "aggregator": "\(configuration.aggregators.map(\.description).joined(separator: ", "))",
        ])
        if drain {
            // No signal handling: a drain that is stopped is simply killed; what it spooled stays.
            let parts = AgentServices(agent: agent, mode: .drain, logger: logger)
            try await ServiceGroup(configuration: .init(services: parts.services, logger: logger)).run()
            let counts = parts.counts.value
            Daemon.printError("meetmeter-agent: read \(counts.lines) lines, made \(counts.records) records, skipped \(counts.skippedTotal); all acknowledged")
            return
        }
        let parts = AgentServices(agent: agent, mode: .follow, logger: logger)
        // Started in this order, stopped in the reverse: the control service (no more reloads,
        // STOPPING=1), the readers, the samplers, the shipper, and the metrics endpoint last.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let address = configuration.metricsAddress {
            let spool = agent.spool
            let maxLag = configuration.maxLag
            let host = configuration.host
            let endpoint = MetricsEndpoint(host: address.host, port: address.port, registry: registry, logger: logger) {
                await AgentHealth.report(host: host, spool: spool, maxLag: maxLag)
            }
            services.append(.init(service: MetricsService(endpoint: endpoint, logger: logger), successTerminationBehavior: .ignore))
        }
        services += parts.services
        services.append(.init(service: AgentControlService(configPath: config, generations: parts.generations, logger: logger)))
        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        // The shipper waits for the answers of its batch in flight; not for ever.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(20)
        try await ServiceGroup(configuration: groupConfiguration).run()
    }
}

/// Tells systemd how the agent is (ready, reloading, stopping), pings its watchdog, and reads
/// the configuration again at SIGHUP: if it is good the agent's parts start over with it (the
/// spool stays), if not it says why and the agent goes on with the old one.
struct AgentControlService: Service {
    let configPath: String
    let generations: AgentGenerations
    let logger: Logger

    func run() async throws {
        let notifier = SystemdNotifier()
        let spool = generations.current.agent.spool
        let watchdog = Daemon.watchdog(notifier) { _ = await spool.pendingRecords; return true }
        defer { watchdog.cancel() }
        notifier.ready(status: "metering as \(generations.current.agent.configuration.host)")
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups {
                guard let next = nextAgent() else { continue }
                notifier.reloading()
                generations.publish(next)
                notifier.ready(status: "metering as \(next.configuration.host)")
            }
        }
        notifier.stopping()
    }

    /// The agent of the configuration file as it is now, or nil (and why, in the log).
    private func nextAgent() -> Agent? {
        logger.notice("SIGHUP: reading the configuration again", metadata: ["file": "\(configPath)"])
        let current = generations.current.agent
        do {
            let configuration = try AgentConfiguration.load(path: configPath)
            guard configuration.stateDirectory == current.configuration.stateDirectory else {
                throw ReloadError(description: "state_directory changed; that takes a restart, not a reload")
            }
            return try Agent(configuration: configuration, logger: logger, spool: current.spool)
        } catch {
            logger.error("the new configuration is not usable; going on with the old one", metadata: ["error": "\(error)"])
            return nil
        }
    }
}

struct ReloadError: Error, CustomStringConvertible {
    var description: String
}

/// `/health` of the agent: behind when the oldest record not yet acknowledged waited longer than
/// `[metrics] max_lag`, or while a write waits for room on the state directory's file system.
enum AgentHealth {
    static func report(host: String, spool: Spool, maxLag: Int64) async -> HealthReport {
        let age = await spool.oldestPendingAge
        let seconds = age.map { $0.components.seconds } ?? 0
        let disk = spool.disk
        var facts: [(String, JSONValue)] = [
            ("host", .string(host)),
            ("pending_records", .integer(await spool.pendingRecords)),
            ("pending_bytes", .integer(await spool.pendingBytes)),
            ("spool_disk_bytes", .integer(await spool.diskBytes)),
            ("spool_limit_bytes", .integer(spool.limitBytes)),
            ("oldest_pending_seconds", .integer(seconds)),
            ("max_lag_seconds", .integer(maxLag)),
            ("state_disk_full", .bool(disk.isFull)),
        ]
        if let lasted = disk.fullFor {
            facts.append(("state_disk_full_seconds", .integer(lasted.components.seconds)))
            facts.append(("state_disk_waiting", .array(disk.blockedWriters.map { .string($0) })))
        }
        return HealthReport(healthy: seconds <= maxLag && !disk.isFull, facts: facts)
    }
}
