import Logging
import ServiceLifecycle

/// The metrics endpoint as a lifecycle service. A port it cannot bind is logged, not fatal:
/// metering matters more than being watched. Add it with `successTerminationBehavior: .ignore`.
public struct MetricsService: Service {
    let endpoint: MetricsEndpoint
    let logger: Logger

    public init(endpoint: MetricsEndpoint, logger: Logger) {
        self.endpoint = endpoint
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await endpoint.start()
        } catch {
            logger.error("cannot serve metrics; going on without", metadata: [
                "address": "\(endpoint.host):\(endpoint.requestedPort)", "error": "\(error)",
            ])
            return
        }
        try? await gracefulShutdown()
        await endpoint.stop()
    }
}
