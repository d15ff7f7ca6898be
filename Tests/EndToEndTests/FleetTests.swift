import Foundation
import Logging
import RecordStorage
import TestPostgres
import Testing
import UsageRecords
import Workloads

/// Issue 16 with the real binaries: several aggregators on one PostgreSQL database, agents that
/// list them all. Aggregators are killed with SIGKILL and the database is stopped while the
/// agents ship; at the end the database holds exactly the records the logs produce.
@Suite(.serialized, .postgresServer, .enabled(if: PostgresServer.available, PostgresServer.unavailableReason))
struct FleetTests {
    struct Fleet {
        let dir: String
        let ports: [Int]
        let agents: Int
        let usersPerAgent: Int
        let url: String
        let passwordFile: String

        func aggregatorConfig(_ n: Int) -> String { dir + "/aggregator-\(n).toml" }
        func agentConfig(_ n: Int) -> String { dir + "/agent-\(n).toml" }
        func agentHost(_ n: Int) -> String { "bbb-fleet-\(n)" }

        init(name: String, server: PostgresServer, aggregators: Int, agents: Int, usersPerAgent: Int) throws {
            dir = try Paths.temporaryDirectory(name)
            ports = try (0..<aggregators).map { _ in try freePort() }
            self.agents = agents
            self.usersPerAgent = usersPerAgent
            url = try server.createDatabase()
            passwordFile = server.passwordFile
            let hosts = (0..<agents).map { n in
                "[[agents]]\nhost = \"bbb-fleet-\(n)\"\ntoken = \"fleet-token-\(n)-0123456789abcdef\"\n"
            }.joined()
            for (n, port) in ports.enumerated() {
                try """
                    [listen]
                    address = "127.0.0.1:\(port)"
                    [store]
                    url = "\(url)"
                    password_file = "\(passwordFile)"
                    [metrics]
                    address = ""
                    \(hosts)
                    """.write(toFile: aggregatorConfig(n), atomically: true, encoding: .utf8)
            }
            for n in 0..<agents {
                let log = dir + "/akka-\(n).log"
                try SyntheticAkkaLog.meeting(users: usersPerAgent, startMs: 1_795_000_000_000 + Int64(n) * 1000)
                    .write(toFile: log, atomically: true, encoding: .utf8)
                // Each agent starts at another aggregator, and knows them all.
                let order = (0..<ports.count).map { ports[($0 + n) % ports.count] }
                try """
                    host = "\(agentHost(n))"
                    state_directory = "\(dir)/agent-state-\(n)"
                    [aggregator]
                    addresses = [\(order.map { "\"127.0.0.1:\($0)\"" }.joined(separator: ", "))]
                    token = "fleet-token-\(n)-0123456789abcdef"
                    batch_size = 50
                    [metrics]
                    address = ""
                    [storage]
                    enabled = false
                    [[files]]
                    paths = ["\(log)"]
                    software = "bbb"
                    """.write(toFile: agentConfig(n), atomically: true, encoding: .utf8)
            }
        }

        var database: String { String(url.split(separator: "/").last?.split(separator: "?").first ?? "") }
        var expectedRecords: Int { agents * (2 * usersPerAgent + 2) }

        /// How many records of the logs the database holds now, for the test's own figures.
        func storedCount(_ server: PostgresServer) -> Int {
            Int(((try? server.psql(database, "SELECT count(*) FROM records WHERE kind <> 'host.heartbeat'")) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }

        func startAggregator(_ n: Int, round: Int) async throws -> Child {
            let c = try Child(Paths.binary("meetmeter-aggregator"), ["--config", aggregatorConfig(n)],
                              logTo: dir + "/aggregator-\(n)-\(round).log")
            try await c.waitForLog("listening")
            return c
        }

        func startAgent(_ n: Int) throws -> Child {
            try Child(Paths.binary("meetmeter-agent"), ["--config", agentConfig(n)], logTo: dir + "/agent-\(n).log")
        }

        /// Ships what agent `n` still holds and returns what it logged.
        @discardableResult
        func drainAgent(_ n: Int) async throws -> String {
            let r = try await run(Paths.binary("meetmeter-agent"), ["--config", agentConfig(n), "--drain"], timeout: 180)
            guard r.status == 0 else { throw HarnessError("agent \(n) --drain failed: \(r.err)") }
            if ProcessInfo.processInfo.environment["FLEET_DEBUG"] != nil { print("DRAIN \(n)\n\(r.err)") }
            return r.err
        }

        /// Every agent's records are there once: per host, 2 × users + 2 ids, none twice.
        func expectExactlyOnce() async throws {
            var logger = Logger(label: "meetmeter.tests.fleet")
            logger.logLevel = .critical
            let location = StoreLocation.postgresql(try PostgresAddress(url: url, passwordFile: passwordFile))
            let records = try await RecordStores.withStore(location, readOnly: true, logger: logger) { store in
                try await store.records(from: Timestamp(seconds: 0), to: Timestamp(seconds: 4_000_000_000))
            }
            let ids = records.filter { $0.kind != .hostHeartbeat }.map(\.id.rawValue)
            #expect(Set(ids).count == ids.count, "no id twice")
            for n in 0..<agents {
                let mine = records.filter { $0.host == agentHost(n) && $0.kind != .hostHeartbeat }
                #expect(mine.count == 2 * usersPerAgent + 2, "every record of \(agentHost(n)) once")
            }
        }
    }

    /// Three aggregators, sixteen agents: ten times an aggregator (each in turn) is killed and comes back while
    /// the agents ship, the agents move to the others; then the database itself stops for a while.
    @Test(.timeLimit(.minutes(10)))
    func killedAggregatorsAndAStoppedDatabaseLoseAndDoubleNothing() async throws {
        guard let server = PostgresServer.current else { throw HarnessError("no PostgreSQL server") }
        let fleet = try Fleet(name: "fleet", server: server, aggregators: 3, agents: 16, usersPerAgent: 3000)
        defer { if ProcessInfo.processInfo.environment["FLEET_DEBUG"] == nil { try? FileManager.default.removeItem(atPath: fleet.dir) } }
        var aggregators: [Child] = []
        for n in 0..<3 { aggregators.append(try await fleet.startAggregator(n, round: 0)) }
        defer { for a in aggregators { a.stop() } }
        let agents = try (0..<fleet.agents).map { try fleet.startAgent($0) }
        defer { for a in agents { a.stop() } }
        for round in 1...10 {
            try await Task.sleep(for: .milliseconds(Int.random(in: 300...900)))
            let n = round % 3
            print("fleet: killing aggregator \(n) with \(fleet.storedCount(server)) of \(fleet.expectedRecords) records stored")
            aggregators[n].signal(SIGKILL)
            aggregators[n].stop()
            try await Task.sleep(for: .milliseconds(Int.random(in: 200...600)))
            aggregators[n] = try await fleet.startAggregator(n, round: round)
        }
        // The database goes away under all three; nothing is acknowledged meanwhile.
        print("fleet: stopping the database with \(fleet.storedCount(server)) of \(fleet.expectedRecords) records stored")
        try server.stopServer(crash: true)
        try await Task.sleep(for: .seconds(2))
        try server.startServer()
        try await Task.sleep(for: .milliseconds(500))
        let clock = ContinuousClock()
        var began = clock.now
        for a in agents { a.stop() }
        print("fleet: \(fleet.storedCount(server)) of \(fleet.expectedRecords) records stored when the agents stopped (in \(clock.now - began))")
        began = clock.now
        var drains: [String] = []
        for n in 0..<fleet.agents { drains.append(try await fleet.drainAgent(n)) }
        print("fleet: agents drained in \(clock.now - began)")
        try await fleet.expectExactlyOnce()
        let moved = agents.filter { $0.log.contains("cannot ship records") }.count
        #expect(moved > 0, "some agent lost its aggregator and moved on")
        // An aggregator answers every batch within its store's bound (stored, or failed when the
        // database is away), even one whose connections died in the crash: no agent waited out
        // its own answer timeout. (Operations stuck on dead connections once held one silent.)
        let overdue = (agents.map(\.log) + drains).filter { $0.contains("no answer from the aggregator within") }
        #expect(overdue.isEmpty, "an aggregator fell silent: \(overdue.count) agent logs tell an overdue answer")
    }

    /// An agent whose first aggregator is down ships to the next, and when that one is killed,
    /// back to the first once it is up.
    @Test(.timeLimit(.minutes(5)))
    func anAgentMovesToTheNextAggregatorAndBack() async throws {
        guard let server = PostgresServer.current else { throw HarnessError("no PostgreSQL server") }
        let fleet = try Fleet(name: "failover", server: server, aggregators: 2, agents: 1, usersPerAgent: 3000)
        defer { try? FileManager.default.removeItem(atPath: fleet.dir) }
        // Only the second is up; the agent lists the first first.
        var second = try await fleet.startAggregator(1, round: 0)
        defer { second.stop() }
        let agent = try fleet.startAgent(0)
        defer { agent.stop() }
        try await second.waitForLog("agent connected", timeout: .seconds(30))
        let first = try await fleet.startAggregator(0, round: 0)
        defer { first.stop() }
        second.signal(SIGKILL)
        second.stop()
        try await first.waitForLog("agent connected", timeout: .seconds(30))
        second = try await fleet.startAggregator(1, round: 1)
        agent.stop()
        try await fleet.drainAgent(0)
        try await fleet.expectExactlyOnce()
    }
}
