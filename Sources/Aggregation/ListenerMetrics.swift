import Metrics
import Synchronization

/// The listener's counters. The executable chooses the backend; without one they cost nothing.
final class ListenerMetrics: Sendable {
    let connections = Counter(label: "meetmeter_aggregator_connections_total")
    let openConnections = Meter(label: "meetmeter_aggregator_connections_open")
    let received = Counter(label: "meetmeter_aggregator_records_received_total")
    let stored = Counter(label: "meetmeter_aggregator_records_stored_total")
    let duplicates = Counter(label: "meetmeter_aggregator_records_duplicate_total")
    /// Duplicates whose content differs from the held record (counted among the duplicates too).
    let conflicting = Counter(label: "meetmeter_aggregator_records_conflicting_total")
    let storeFailures = Counter(label: "meetmeter_aggregator_store_failures_total")
    /// Connections open that have not yet sent a valid hello.
    let unauthenticated = Gauge(label: "meetmeter_aggregator_connections_unauthenticated")
    private let refusedByCode = Mutex<[String: Counter]>([:])
    private let peersRefusedByCode = Mutex<[String: Counter]>([:])
    private let connectionsRefusedByReason = Mutex<[String: Counter]>([:])

    func refused(code: String) {
        counter(refusedByCode, "meetmeter_aggregator_records_refused_total", code).increment()
    }

    /// A connection ended by a fatal message (auth, version, hello, too-long, garbage).
    func peerRefused(code: String) {
        counter(peersRefusedByCode, "meetmeter_aggregator_peers_refused_total", code).increment()
    }

    /// A connection closed or not accepted before its hello, because a limit bit (ConnectionGate).
    func connectionRefused(reason: String) {
        counter(connectionsRefusedByReason, "meetmeter_aggregator_connections_refused_total", reason, dimension: "reason").increment()
    }

    private func counter(_ box: borrowing Mutex<[String: Counter]>, _ label: String, _ code: String, dimension: String = "code") -> Counter {
        box.withLock { counters in
            if let c = counters[code] { return c }
            let c = Counter(label: label, dimensions: [(dimension, code)])
            counters[code] = c
            return c
        }
    }
}
