import Aggregation
import RecordStorage
import Collector
import Delivery
import LogLines
import LogParsers
import LogSources
import Workloads
import Foundation
import Observability
import Testing
import UsageRecords

/// Issue 9: both daemons' metrics, scraped during a real agent-to-aggregator run, count exactly
/// what was sent; `/health` says whether each keeps up; `meetmeter status` prints both.
@Suite(.serialized) struct MetricsTests {
    @Test func scrapedCountsEqualWhatWasSent() async throws {
        let dir = try Paths.temporaryDirectory("metrics")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try freePort()
        let agentMetrics = try freePort()
        let aggregatorMetrics = try freePort()
        let users = 300
        let records = 2 * users + 2
        let log = dir + "/bbb-apps-akka.log"
        let text = SyntheticAkkaLog.meeting(users: users)
        let lines = text.split(separator: "\n").count
        try text.write(toFile: log, atomically: true, encoding: .utf8)
        try """
            [listen]
            address = "127.0.0.1:\(port)"
            [store]
            path = "\(dir)/store.sqlite"
            [metrics]
            address = "127.0.0.1:\(aggregatorMetrics)"
            [[agents]]
            host = "bbb-metrics"
            token = "metrics-test-token-0123456789"
            """.write(toFile: dir + "/aggregator.toml", atomically: true, encoding: .utf8)
        try """
            host = "bbb-metrics"
            state_directory = "\(dir)/state"
            [aggregator]
            address = "127.0.0.1:\(port)"
            token = "metrics-test-token-0123456789"
            [metrics]
            address = "127.0.0.1:\(agentMetrics)"
            [storage]
            enabled = false
            [heartbeat]
            interval = 3600
            [[files]]
            paths = ["\(log)"]
            software = "bbb"
            """.write(toFile: dir + "/agent.toml", atomically: true, encoding: .utf8)
        let aggregator = try Child(Paths.binary("meetmeter-aggregator"), ["--config", dir + "/aggregator.toml"], logTo: dir + "/aggregator.log")
        defer { aggregator.stop() }
        try await aggregator.waitForLog("listening")
        let agent = try Child(Paths.binary("meetmeter-agent"), ["--config", dir + "/agent.toml"], logTo: dir + "/agent.log")
        defer { agent.stop() }

        // Everything read is stored, plus the first heartbeat.
        let store = try SQLiteRecordStore(path: dir + "/store.sqlite", readOnly: true)
        let deadline = ContinuousClock.now + .seconds(60)
        while try await store.count() < records + 1, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let stored = try await store.count()
        // One heartbeat at the start, and one more for each top of the hour the run crosses.
        let heartbeats = try await store.records(from: Timestamp(seconds: 0), to: Timestamp(seconds: 4_000_000_000))
            .filter { $0.kind == .hostHeartbeat }.count
        #expect(heartbeats >= 1)
        #expect(stored == records + heartbeats, "the log's records and the heartbeats")

        func sum(_ samples: [String: Double], _ name: String) -> Int {
            Int(samples.filter { $0.key == name || $0.key.hasPrefix(name + "{") }.values.reduce(0, +))
        }
        func scrape(_ port: Int) throws -> [String: Double] {
            HTTPGet.samples(try HTTPGet.fetch(host: "127.0.0.1", port: port, path: "/metrics").body)
        }
        // The agent counts an acknowledgement after the aggregator's commit (and its own spool's
        // fsyncs), the aggregator its stored records after the commit returns: wait for both.
        var a = try scrape(agentMetrics)
        var g = try scrape(aggregatorMetrics)
        let settled = ContinuousClock.now + .seconds(60)
        while sum(a, "meetmeter_agent_records_acknowledged_total") < stored || sum(a, "meetmeter_agent_spool_records") > 0
            || sum(g, "meetmeter_aggregator_records_stored_total") < stored, ContinuousClock.now < settled
        {
            try await Task.sleep(for: .milliseconds(100))
            a = try scrape(agentMetrics)
            g = try scrape(aggregatorMetrics)
        }
        #expect(sum(a, "meetmeter_agent_lines_read_total") == lines)
        #expect(sum(a, "meetmeter_agent_records_made_total") == records)
        #expect(sum(a, "meetmeter_agent_records_acknowledged_total") == stored)
        #expect(sum(a, "meetmeter_agent_spool_records") == 0)
        #expect(sum(g, "meetmeter_aggregator_records_received_total") == stored)
        #expect(sum(g, "meetmeter_aggregator_records_stored_total") == stored)
        #expect(sum(g, "meetmeter_aggregator_records_duplicate_total") == 0)

        let health = try HTTPGet.fetch(host: "127.0.0.1", port: agentMetrics, path: "/health")
        #expect(health.status == 200)
        #expect(health.body.contains("\"pending_records\":0"), "\(health.body)")
        let aggregatorHealth = try HTTPGet.fetch(host: "127.0.0.1", port: aggregatorMetrics, path: "/health")
        #expect(aggregatorHealth.status == 200)
        #expect(aggregatorHealth.body.contains("bbb-metrics"), "\(aggregatorHealth.body)")

        let status = try await run(Paths.binary("meetmeter"), ["status", "--agent", "127.0.0.1:\(agentMetrics)", "--aggregator", "127.0.0.1:\(aggregatorMetrics)"])
        #expect(status.status == 0, "\(status.out)\(status.err)")
        #expect(status.out.contains("agent at 127.0.0.1:\(agentMetrics): keeping up"), "\(status.out)")
        #expect(status.out.contains("records_stored_total \(stored)"), "\(status.out)")
    }
}
