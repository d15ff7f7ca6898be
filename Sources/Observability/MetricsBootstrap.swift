import CoreMetrics
import Prometheus
import Synchronization

/// Points swift-metrics at a Prometheus registry, once per process.
public enum MetricsBootstrap {
    private static let registry = Mutex<PrometheusCollectorRegistry?>(nil)

    /// The process's registry; the first call bootstraps the metrics system with it.
    public static func prometheus() -> PrometheusCollectorRegistry {
        registry.withLock { r in
            if let r { return r }
            let made = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: made))
            r = made
            return made
        }
    }
}
