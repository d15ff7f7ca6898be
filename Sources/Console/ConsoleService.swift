import ConfigFiles
import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceLifecycle

/// The console's HTTP server (HTTPS with `tls`) as a lifecycle service beside the listener; it
/// stops with the aggregator's graceful shutdown.
public struct ConsoleService: Service {
    let application: any Service

    public init(api: ConsoleAPI, address: NetworkAddress, tls: TLSConfiguration?, logger: Logger) throws {
        let scheme = tls == nil ? "http" : "https"
        application = Application(
            router: api.router(),
            server: try tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in
                logger.info("console listening", metadata: [
                    "address": "\(channel.localAddress.map { "\($0)" } ?? "\(address)")", "scheme": "\(scheme)",
                ])
            },
            logger: logger)
    }

    public func run() async throws { try await application.run() }
}
