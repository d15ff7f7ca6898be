import Aggregation
import ArgumentParser
import ConfigFiles
import Logging
import ServiceLifecycle
import SystemdIntegration

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

    @Flag(name: .long, help: "Check the configuration, print what is wrong with file, line and key, and exit.")
    var checkConfig = false

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let configuration: AggregatorConfiguration
        do {
            configuration = try AggregatorConfiguration.load(path: config)
        } catch {
            printError("meetmeter-aggregator: \(error)")
            throw ExitCode(78) // EX_CONFIG, as sysexits(3) and systemd expect
        }
        for warning in configuration.warnings { printError("meetmeter-aggregator: warning: \(warning)") }
        if checkConfig {
            print("\(config): OK (listen \(configuration.listenHost):\(configuration.listenPort), \(configuration.tokens.count) agent(s) with tokens, store \(configuration.databasePath))")
            return
        }
        DaemonLogging.bootstrap(identifier: "meetmeter-aggregator", level: logLevel)
        let logger = Logger(label: "meetmeter.aggregator")
        let store: SQLiteRecordStore
        do {
            store = try SQLiteRecordStore(path: configuration.databasePath)
        } catch {
            printError("meetmeter-aggregator: cannot open the store: \(error)")
            throw ExitCode(1)
        }
        let listener = RecordListener(configuration: ListenerConfiguration(configuration), store: store, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: ListenerService(listener: listener, store: store))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

/// The listener as a lifecycle service: ready for systemd once bound, stopping on SIGTERM after
/// the connections committed and acknowledged what they had read.
struct ListenerService: Service {
    let listener: RecordListener
    let store: SQLiteRecordStore

    func run() async throws {
        let port = try await listener.start()
        let notifier = SystemdNotifier()
        notifier.ready(status: "listening on \(listener.configuration.host):\(port), store \(store.path)")
        let watchdog = Task {
            guard let interval = notifier.watchdogInterval else { return }
            while !Task.isCancelled {
                notifier.watchdog()
                try? await Task.sleep(for: interval)
            }
        }
        defer { watchdog.cancel() }
        try await withGracefulShutdownHandler {
            try await listener.run()
        } onGracefulShutdown: {
            notifier.stopping()
            Task { await listener.shutdown() }
        }
    }
}

func printError(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
