import Foundation
import Observability
import TestPostgres
import Testing
import Workloads

/// Issue 16: an aggregator whose PostgreSQL database is down acknowledges nothing and says so in
/// its log, in its metrics and in `meetmeter status`; the agent keeps its records meanwhile, and
/// once the database is back every record is stored once.
@Suite(.serialized, .postgresServer, .enabled(if: PostgresServer.available, PostgresServer.unavailableReason))
struct UnreachableStoreTests {
    @Test(.timeLimit(.minutes(5)))
    func anAggregatorWithoutItsDatabaseAcknowledgesNothingAndSaysSo() async throws {
        guard let server = PostgresServer.current else { throw HarnessError("no PostgreSQL server") }
        let dir = try Paths.temporaryDirectory("unreachable-store")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try freePort()
        let agentMetrics = try freePort()
        let aggregatorMetrics = try freePort()
        let url = try server.createDatabase()
        let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
        let users = 200
        let records = 2 * users + 2
        try SyntheticAkkaLog.meeting(users: users).write(toFile: dir + "/akka.log", atomically: true, encoding: .utf8)
        try """
            [listen]
            address = "127.0.0.1:\(port)"
            [store]
            url = "\(url)"
            password_file = "\(server.passwordFile)"
            [metrics]
            address = "127.0.0.1:\(aggregatorMetrics)"
            [[agents]]
            host = "bbb-unreachable"
            token = "unreachable-store-token-0123456789"
            """.write(toFile: dir + "/aggregator.toml", atomically: true, encoding: .utf8)
        try """
            host = "bbb-unreachable"
            state_directory = "\(dir)/state"
            [aggregator]
            address = "127.0.0.1:\(port)"
            token = "unreachable-store-token-0123456789"
            [metrics]
            address = "127.0.0.1:\(agentMetrics)"
            [storage]
            enabled = false
            [heartbeat]
            interval = 3600
            [[files]]
            paths = ["\(dir)/akka.log"]
            software = "bbb"
            """.write(toFile: dir + "/agent.toml", atomically: true, encoding: .utf8)

        let aggregator = try Child(Paths.binary("meetmeter-aggregator"), ["--config", dir + "/aggregator.toml"], logTo: dir + "/aggregator.log")
        defer { aggregator.stop() }
        try await aggregator.waitForLog("listening")
        try server.stopServer(crash: true)
        var serverStopped = true
        defer { if serverStopped { try? server.startServer() } }

        let agent = try Child(Paths.binary("meetmeter-agent"), ["--config", dir + "/agent.toml"], logTo: dir + "/agent.log")
        defer { agent.stop() }
        try await aggregator.waitForLog("cannot commit records", timeout: .seconds(60))

        func sum(_ samples: [String: Double], _ name: String) -> Int {
            Int(samples.filter { $0.key == name || $0.key.hasPrefix(name + "{") }.values.reduce(0, +))
        }
        func scrape(_ port: Int) throws -> [String: Double] {
            HTTPGet.samples(try HTTPGet.fetch(host: "127.0.0.1", port: port, path: "/metrics").body)
        }
        // The agent has read the whole log and holds every record: none acknowledged.
        let filled = ContinuousClock.now + .seconds(60)
        var a = try scrape(agentMetrics)
        while sum(a, "meetmeter_agent_spool_records") < records, ContinuousClock.now < filled {
            try await Task.sleep(for: .milliseconds(100))
            a = try scrape(agentMetrics)
        }
        #expect(sum(a, "meetmeter_agent_spool_records") >= records, "the agent keeps every record")
        #expect(sum(a, "meetmeter_agent_records_acknowledged_total") == 0, "nothing acknowledged without a database")
        let g = try scrape(aggregatorMetrics)
        #expect(sum(g, "meetmeter_aggregator_store_failures_total") > 0, "the failed commits are counted")
        #expect(sum(g, "meetmeter_aggregator_records_stored_total") == 0)

        let status = try await run(Paths.binary("meetmeter"), [
            "status", "--agent", "127.0.0.1:\(agentMetrics)", "--aggregator", "127.0.0.1:\(aggregatorMetrics)",
        ])
        #expect(status.status == 1, "an aggregator that cannot store is not healthy: \(status.out)\(status.err)")
        #expect(status.out.contains("aggregator at 127.0.0.1:\(aggregatorMetrics): NOT STORING"), "\(status.out)")
        #expect(status.out.contains("store: \(url)"), "status names the database: \(status.out)")
        #expect(status.out.contains("store_failures_total"), "and shows the failures counted: \(status.out)")

        // The database comes back: everything arrives, once.
        try server.startServer()
        serverStopped = false
        let settled = ContinuousClock.now + .seconds(120)
        while sum(a, "meetmeter_agent_spool_records") > 0, ContinuousClock.now < settled {
            try await Task.sleep(for: .milliseconds(200))
            a = try scrape(agentMetrics)
        }
        let stored = Int(try server.psql(database, "SELECT count(*) FROM records WHERE kind <> 'host.heartbeat'")
            .trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(stored == records, "every record of the log once")
        let healthy = try await run(Paths.binary("meetmeter"), ["status", "--agent", "", "--aggregator", "127.0.0.1:\(aggregatorMetrics)"])
        #expect(healthy.status == 0, "storing again: \(healthy.out)")
    }
}
