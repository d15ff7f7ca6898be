import ArgumentParser
import Collector
import ConfigFiles
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
        let configuration = try Daemon.loadConfiguration("meetmeter-agent") { try AgentConfiguration.load(path: config) }
        if daemon.checkConfig {
            print("\(config): OK (host \(configuration.host), \(configuration.files.count) file source(s), journal \(configuration.journal == nil ? "off" : "on"), \(configuration.rules.count) rule(s), aggregator \(configuration.aggregatorHost):\(configuration.aggregatorPort))")
            return
        }
        DaemonLogging.bootstrap(identifier: "meetmeter-agent", level: daemon.logLevel)
        let registry = MetricsBootstrap.prometheus()
        let logger = Logger(label: "meetmeter.agent")
        let agent: Agent
        do {
            agent = try Agent(configuration: configuration, logger: logger)
        } catch {
            Daemon.printError("meetmeter-agent: cannot start: \(error)")
            throw ExitCode(1)
        }
        if drain {
            let counts = try await agent.run(mode: .drain)
            Daemon.printError("meetmeter-agent: read \(counts.lines) lines, made \(counts.records) records, skipped \(counts.skippedTotal); all acknowledged")
            return
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: AgentService(configPath: config, initial: agent, logger: logger)),
        ]
        if let address = configuration.metricsAddress {
            let spool = agent.spool
            let maxLag = configuration.maxLag
            let host = configuration.host
            let endpoint = MetricsEndpoint(host: address.host, port: address.port, registry: registry, logger: logger) {
                await AgentHealth.report(host: host, spool: spool, maxLag: maxLag)
            }
            services.append(.init(service: MetricsService(endpoint: endpoint, logger: logger), successTerminationBehavior: .ignore))
        }
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

/// The agent as a service of the lifecycle. A graceful shutdown cancels the readers, whose
/// positions already cover only what is spooled. SIGHUP re-reads the configuration: if it is good
/// the agent restarts its pipeline with it, if not it says why and goes on with the old one. If
/// the pipeline fails, the service fails and the process exits for systemd to restart it.
struct AgentService: Service {
    let configPath: String
    let initial: Agent
    let logger: Logger

    func run() async throws {
        let notifier = SystemdNotifier()
        let spool = initial.spool
        let watchdog = Daemon.watchdog(notifier) { _ = await spool.pendingRecords; return true }
        defer { watchdog.cancel() }
        try await cancelWhenGracefulShutdown {
            var agent = initial
            while true {
                let current = agent
                notifier.ready(status: "metering as \(current.configuration.host)")
                let next: Agent? = try await withThrowingTaskGroup(of: Agent?.self) { group in
                    group.addTask {
                        try await current.run(mode: .follow)
                        return nil
                    }
                    group.addTask { await nextConfiguration() }
                    let first = try await group.next() ?? nil
                    group.cancelAll()
                    return first
                }
                guard let next else { return }
                notifier.reloading()
                agent = next
            }
        }
        notifier.stopping()
    }

    /// Waits for a SIGHUP that brings a usable configuration; nil when cancelled.
    private func nextConfiguration() async -> Agent? {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups {
            logger.notice("SIGHUP: reading the configuration again", metadata: ["file": "\(configPath)"])
            do {
                let configuration = try AgentConfiguration.load(path: configPath)
                guard configuration.stateDirectory == initial.configuration.stateDirectory else {
                    throw ReloadError(description: "state_directory changed; that takes a restart, not a reload")
                }
                return try Agent(configuration: configuration, logger: logger, spool: initial.spool)
            } catch {
                logger.error("the new configuration is not usable; going on with the old one", metadata: ["error": "\(error)"])
            }
        }
        return nil
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
