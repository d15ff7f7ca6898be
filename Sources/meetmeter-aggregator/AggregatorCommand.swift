import Aggregation
import ArgumentParser
import Billing
import Console
import ConfigFiles
import RecordStorage
import NIOSSL
import Logging
import Observability
import ServiceLifecycle
import SystemdIntegration
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

@main
struct AggregatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meetmeter-aggregator",
        abstract: "Receive usage records from meetmeter agents and keep each exactly once.",
        discussion: "See meetmeter-aggregator(8) and aggregator.toml(5).")

    @Option(name: .long, help: "The configuration file.")
    var config = "/etc/meetmeter/aggregator.toml"

    @OptionGroup var daemon: DaemonOptions

    func run() async throws {
        // The TLS files are read here, with the configuration: a bad key stops the daemon (and
        // --check-config) with the file, line and key that named it.
        let (configuration, tls, consolePolicy, consoleTLS) = try Daemon.loadConfiguration("meetmeter-aggregator") {
            () throws -> (AggregatorConfiguration, NIOSSLContext?, BillingPolicy?, TLSConfiguration?) in
            let configuration = try AggregatorConfiguration.load(path: config)
            let policy = try configuration.console.map { (console) throws(ConfigError) in try ConsolePolicy.load(console) }
            return (configuration, try configuration.makeTLSContext(), policy, try configuration.console?.makeTLSConfiguration())
        }
        for warning in configuration.warnings { Daemon.printError("meetmeter-aggregator: warning: \(warning)") }
        if daemon.checkConfig {
            let console = configuration.console.map { ", console \($0.tls == nil ? "http" : "https")://\($0.address) with \($0.viewers.count) token(s), policy \($0.policy)" } ?? ""
            print("\(config): OK (listen \(configuration.listenHost):\(configuration.listenPort), \(configuration.tokens.count) agent(s) with tokens, store \(configuration.store.engine) \(configuration.store)\(console))")
            return
        }
        DaemonLogging.bootstrap(identifier: "meetmeter-aggregator", level: daemon.logLevel)
        let registry = MetricsBootstrap.prometheus()
        let logger = Logger(label: "meetmeter.aggregator")
        var listenerConfiguration = ListenerConfiguration(configuration, tls: tls)
        let descriptors = DescriptorLimit.raiseSoftToHard()
        let (limits, limitsWarning) = configuration.connections.fitted(toDescriptors: descriptors.soft)
        listenerConfiguration.connections = limits
        var limitMetadata: Logger.Metadata = [
            "soft": "\(descriptors.soft)", "hard": "\(descriptors.hard)", "soft_at_start": "\(descriptors.before)",
            "max_connections": "\(limits.maxConnections)", "max_unauthenticated": "\(limits.maxUnauthenticated)",
            "max_unauthenticated_per_address": "\(limits.maxUnauthenticatedPerAddress)",
            "hello_timeout": "\(limits.helloTimeout.components.seconds)s",
        ]
        if let error = descriptors.error { limitMetadata["error"] = "\(error)" }
        logger.info("descriptor limit (RLIMIT_NOFILE)", metadata: limitMetadata)
        if let limitsWarning { logger.warning("\(limitsWarning)") }
        do {
            try await RecordStores.withStore(configuration.store, logger: logger) { store in
                let listener = RecordListener(configuration: listenerConfiguration, store: GroupCommit(store), logger: logger)
                var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: ListenerService(listener: listener, store: store))]
                if let address = configuration.metricsAddress {
                    let endpoint = MetricsEndpoint(host: address.host, port: address.port, registry: registry, logger: logger) {
                        await AggregatorHealth.report(store: store)
                    }
                    services.append(.init(service: MetricsService(endpoint: endpoint, logger: logger), successTerminationBehavior: .ignore))
                }
                if let console = configuration.console, let consolePolicy {
                    let api = ConsoleAPI(settings: console, policy: consolePolicy, store: store, logger: logger)
                    services.append(.init(service: try ConsoleService(api: api, address: console.address, tls: consoleTLS, logger: logger)))
                }
                let group = ServiceGroup(configuration: .init(
                    services: services,
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
                try await group.run()
            }
        } catch let error as StoreError {
            Daemon.printError("meetmeter-aggregator: cannot open the store: \(error)")
            throw ExitCode(1)
        }
    }
}

/// The listener as a lifecycle service: ready for systemd once bound, stopping on SIGTERM after
/// the connections committed and acknowledged what they had read.
struct ListenerService: Service {
    let listener: RecordListener
    let store: any RecordStore

    func run() async throws {
        let port = try await listener.start()
        let notifier = SystemdNotifier()
        notifier.ready(status: "listening on \(listener.configuration.host):\(port), store \(store.location)")
        let store = self.store
        let watchdog = Daemon.watchdog(notifier) { (try? await store.ping()) != nil }
        defer { watchdog.cancel() }
        try await withGracefulShutdownHandler {
            try await listener.run()
        } onGracefulShutdown: {
            notifier.stopping()
            Task { await listener.shutdown() }
        }
    }
}

/// `/health` of the aggregator: healthy while its store answers; each host's last record and lag.
enum AggregatorHealth {
    static func report(store: any RecordStore) async -> HealthReport {
        do {
            let count = try await store.count()
            let hosts = try await store.hostHealth()
            let list: [JSONValue] = hosts.map(\.jsonValue)
            // Records that came again with other content: the operator must see them (issue 20).
            let conflicts = try await store.conflictCounts()
            let latest: [JSONValue] = try await store.conflicts(limit: 5).map { c in
                .object(["id": .string(c.id), "host": .string(c.host), "last_received": .string(c.lastReceived.rfc3339), "count": .integer(Int64(c.count))])
            }
            return HealthReport(healthy: true, facts: [
                ("store", .string(store.location)), ("records", .integer(count)), ("hosts", .array(list)),
                ("conflicts", .integer(Int64(conflicts.arrivals))), ("latest_conflicts", .array(latest)),
            ])
        } catch {
            return HealthReport(healthy: false, facts: [("store", .string(store.location)), ("error", .string("\(error)"))])
        }
    }
}
