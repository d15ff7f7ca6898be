import Billing
import Hummingbird
import RecordStorage
import UsageRecords

/// The hosts and their health: what the store holds of each (last record, last arrival, lag,
/// last heartbeat), and what the period's records say of it (boots, gaps between heartbeats).
/// The state is read from those figures against the aggregator's clock:
/// - `silent`: no heartbeat for more than two of its intervals (the agent, or its link, is down);
/// - `catching-up`: the latest record arrived more than two intervals after it was written
///   (the agent is draining its spool after an outage);
/// - `no-heartbeat`: the host never sent one (heartbeats turned off, or an old agent);
/// - `current` otherwise.
extension ConsoleAPI {
    struct HostReport {
        var stored: RecordStorage.HostHealth
        var derived: Billing.HostHealth?
        var state: String
    }

    func addHostRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/v1/hosts") { request, _ in
            guard try viewer(request).isOperator else { throw ConsoleError.notFound }
            let period = try period(request)
            let hosts = try await hosts(period)
            return Answer.json(.object(["period": .string(period.label), "hosts": .array(hosts.map(Self.json))]))
        }
    }

    func hosts(_ period: Period) async throws -> [HostReport] {
        let stored = try await reading("hosts") { try await store.hostHealth() }
        let records = try await reading("the records of \(period.label)") { try await store.records(overlapping: period.start, to: period.end) }
        var derived: [String: Billing.HostHealth] = [:]
        for h in UsageReport.derive(from: records, in: period).hosts { derived[h.host] = h }
        let now = now()
        return stored.map { h in
            let d = derived[h.host]
            let state: String
            if let beat = h.lastHeartbeat {
                let interval = d?.heartbeatInterval ?? 60
                if now.microseconds(since: beat) > 2 * interval * 1_000_000 {
                    state = "silent"
                } else if h.lagMicroseconds > 2 * interval * 1_000_000 {
                    state = "catching-up"
                } else {
                    state = "current"
                }
            } else {
                state = "no-heartbeat"
            }
            return HostReport(stored: h, derived: d, state: state)
        }
    }

    static func json(_ h: HostReport) -> JSONValue {
        guard case .object(var o) = h.stored.jsonValue else { return h.stored.jsonValue }
        o["state"] = .string(h.state)
        o["heartbeat_interval_seconds"] = h.derived?.heartbeatInterval.map { .integer($0) } ?? .null
        o["boots"] = .array((h.derived?.boots ?? []).map(JSONValue.string))
        o["gaps"] = .array((h.derived?.gaps ?? []).map { .object(["from": .string($0.from.rfc3339), "to": .string($0.to.rfc3339)]) })
        return .object(o)
    }
}
