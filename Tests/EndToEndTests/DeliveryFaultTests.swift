import Aggregation
import RecordStorage
import Collector
import Delivery
import LogLines
import LogParsers
import LogSources
import Workloads
import Foundation
import Testing
import UsageRecords

/// Issue 5's fault tests with the real binaries on 127.0.0.1: whatever is killed or cut, the
/// store ends up with exactly the records the log produces — none missing, none twice.
@Suite(.serialized) struct DeliveryFaultTests {
    /// An akka-apps log of `users` joins and leaves in one meeting: 2 × users + 2 records.
    static func writeLog(_ path: String, users: Int) throws {
        try SyntheticAkkaLog.meeting(users: users).write(toFile: path, atomically: true, encoding: .utf8)
    }

    struct Setup {
        let dir: String
        let port: Int
        let log: String
        var aggregatorConfig: String { dir + "/aggregator.toml" }
        var agentConfig: String { dir + "/agent.toml" }
        var database: String { dir + "/store.sqlite" }

        init(name: String, users: Int, spoolBytes: Int = 256 << 20) throws {
            dir = try Paths.temporaryDirectory(name)
            port = try freePort()
            log = dir + "/bbb-apps-akka.log"
            try DeliveryFaultTests.writeLog(log, users: users)
            let token = "fault-test-token-0123456789"
            try """
                [listen]
                address = "127.0.0.1:\(port)"
                [store]
                path = "\(database)"
                [metrics]
                address = ""
                [[agents]]
                host = "bbb-fault"
                token = "\(token)"
                """.write(toFile: aggregatorConfig, atomically: true, encoding: .utf8)
            try """
                host = "bbb-fault"
                state_directory = "\(dir)/agent-state"
                [aggregator]
                address = "127.0.0.1:\(port)"
                token = "\(token)"
                batch_size = 50
                [spool]
                max_bytes = \(spoolBytes)
                [metrics]
                address = ""
                [storage]
                enabled = false
                [[files]]
                paths = ["\(log)"]
                software = "bbb"
                """.write(toFile: agentConfig, atomically: true, encoding: .utf8)
        }

        func startAggregator(_ n: Int = 0) async throws -> Child {
            let c = try Child(Paths.binary("meetmeter-aggregator"), ["--config", aggregatorConfig], logTo: dir + "/aggregator-\(n).log")
            try await c.waitForLog("listening")
            return c
        }

        func startAgent(_ n: Int) throws -> Child {
            try Child(Paths.binary("meetmeter-agent"), ["--config", agentConfig], logTo: dir + "/agent-\(n).log")
        }

        func drainAgent() async throws {
            let r = try await run(Paths.binary("meetmeter-agent"), ["--config", agentConfig, "--drain"], timeout: 120)
            guard r.status == 0 else { throw HarnessError("agent --drain failed: \(r.err)") }
        }

        /// The ids of the log's records (an agent that follows also sends heartbeats: not counted).
        func storedIDs() async throws -> [String] {
            let store = try SQLiteRecordStore(path: database)
            return try await store.records(from: Timestamp(seconds: 0), to: Timestamp(seconds: 4_000_000_000))
                .filter { $0.kind != .hostHeartbeat }.map(\.id.rawValue)
        }
    }

    func expectExactly(_ setup: Setup, users: Int) async throws {
        let ids = try await setup.storedIDs()
        #expect(ids.count == 2 * users + 2, "every record once")
        #expect(Set(ids).count == ids.count, "no id twice")
    }

    @Test func killingTheAgentAgainAndAgainLosesAndDoublesNothing() async throws {
        let users = 3000
        let setup = try Setup(name: "kill-agent", users: users)
        defer { try? FileManager.default.removeItem(atPath: setup.dir) }
        let aggregator = try await setup.startAggregator()
        defer { aggregator.stop() }
        for round in 0..<8 {
            let agent = try setup.startAgent(round)
            try await Task.sleep(for: .milliseconds(Int.random(in: 50...400)))
            agent.signal(SIGKILL)
            agent.stop()
        }
        try await setup.drainAgent()
        try await expectExactly(setup, users: users)
    }

    @Test func killingTheAggregatorLosesAndDoublesNothing() async throws {
        let users = 3000
        let setup = try Setup(name: "kill-aggregator", users: users)
        defer { try? FileManager.default.removeItem(atPath: setup.dir) }
        let agent = try setup.startAgent(0)
        defer { agent.stop() }
        for round in 0..<5 {
            let aggregator = try await setup.startAggregator(round)
            try await Task.sleep(for: .milliseconds(Int.random(in: 100...400)))
            aggregator.signal(SIGKILL)
            aggregator.stop()
        }
        let aggregator = try await setup.startAggregator(99)
        defer { aggregator.stop() }
        agent.stop()
        try await setup.drainAgent()
        try await expectExactly(setup, users: users)
    }

    @Test func aFullSpoolStopsReadingAndDrainsWhenTheAggregatorReturns() async throws {
        let users = 2000
        // About 600 bytes a record: a 128 KiB spool holds a few hundred, far fewer than 4002.
        let setup = try Setup(name: "spool-full", users: users, spoolBytes: 128 << 10)
        defer { try? FileManager.default.removeItem(atPath: setup.dir) }
        let agent = try setup.startAgent(0)
        defer { agent.stop() }
        try await agent.waitForLog("spool is full", timeout: .seconds(30))
        let aggregator = try await setup.startAggregator()
        defer { aggregator.stop() }
        agent.stop()
        try await setup.drainAgent()
        try await expectExactly(setup, users: users)
    }
}
