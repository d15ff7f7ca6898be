import ConfigFiles
import Hummingbird
import Logging
import ServiceLifecycle

/// The console's HTTP server as a lifecycle service beside the listener; it stops with the
/// aggregator's graceful shutdown.
public struct ConsoleService: Service {
    let application: any Service

    public init(api: ConsoleAPI, address: NetworkAddress, logger: Logger) {
        application = Application(
            router: api.router(),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in
                logger.info("console listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "\(address)")"])
            },
            logger: logger)
    }

    public func run() async throws { try await application.run() }
}
