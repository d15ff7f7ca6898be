import HostSampling
import LogLines
import LogParsers
import LogSources
import Workloads
import Aggregation
import RecordStorage
import Collector
import Foundation
import UsageRecords

/// Issue 5: records per second from one agent into the aggregator's SQLite store, against the
/// store alone taking the same records in the same batches; and the delay from a log line
/// written to its record stored, at the median and the 99th percentile.
enum DeliveryFigures {
    struct Pair {
        let dir: String
        let port: Int
        let aggregator: Process
        var database: String { dir + "/store.sqlite" }

        init(name: String) throws {
            dir = try BenchEnvironment.temporaryDirectory(name)
            port = try DeliveryFigures.freePort()
            aggregator = try DeliveryFigures.startAggregator(dir: dir, port: port, store: "path = \"\(dir)/store.sqlite\"")
        }

        func agentConfig(log: String, follow: Bool) throws -> String {
            let path = dir + "/agent-\(follow ? "follow" : "drain").toml"
            try """
                host = "bench"
                state_directory = "\(dir)/agent-state"
                [aggregator]
                address = "127.0.0.1:\(port)"
                [metrics]
                address = ""
                [storage]
                enabled = false
                [[files]]
                paths = ["\(log)"]
                software = "bbb"
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        func stop() {
            aggregator.terminate()
            aggregator.waitUntilExit()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    static func throughput(users: Int) async throws -> [String] {
        let pair = try Pair(name: "delivery")
        defer { pair.stop() }
        let log = pair.dir + "/bbb-apps-akka.log"
        try SyntheticAkkaLog.meeting(users: users).write(toFile: log, atomically: true, encoding: .utf8)
        let records = 2 * users + 2
        let agent = try BenchEnvironment.binary("meetmeter-agent")
        let config = try pair.agentConfig(log: log, follow: false)
        let seconds = try Measure.seconds(repeats: 1) {
            try Measure.shell("'\(agent)' --config '\(config)' --drain --log-level warning 2>/dev/null")
        }
        let store = try SQLiteRecordStore(path: pair.database, readOnly: true)
        let stored = try await store.count()
        guard stored == records else { throw BenchSkip("the store holds \(stored) of \(records) records") }

        // Baseline: the same records straight into a store of its own, 500 a transaction.
        let direct = try await store.records(from: Timestamp(seconds: 0), to: Timestamp(seconds: 4_000_000_000))
        let baselineStore = try SQLiteRecordStore(path: pair.dir + "/baseline.sqlite")
        let baseline = try await Measure.asyncSeconds(repeats: 1) {
            var i = 0
            while i < direct.count {
                _ = try await baselineStore.store(Array(direct[i..<min(i + 500, direct.count)]), receivedAt: Timestamp(seconds: 1))
                i += 500
            }
        }
        return [Figure(what: "agent to aggregator, \(records) records (read, parse, spool, ship, commit)",
                       ours: Double(records) / seconds, baseline: Double(records) / baseline,
                       baselineName: "store alone, 500 a transaction", unit: "records/s").line]
    }

    static func delay(records: Int) async throws -> [String] {
        let pair = try Pair(name: "delay")
        defer { pair.stop() }
        let log = pair.dir + "/bbb-apps-akka.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: try BenchEnvironment.binary("meetmeter-agent"))
        agent.arguments = ["--config", try pair.agentConfig(log: log, follow: true), "--log-level", "warning"]
        agent.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try agent.run()
        defer { agent.terminate(); agent.waitUntilExit() }
        try await Task.sleep(for: .seconds(1))
        // A steady writer: 200 lines a second, each stamped with the moment it is written.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let meeting = SyntheticAkkaLog.meetingID(startMs: 1)
        for i in 0..<records {
            let now = Heartbeat.now()
            handle.write(Data(SyntheticAkkaLog.joined(meeting: meeting, user: "w_d\(i)", ms: now.microseconds / 1000).utf8))
            try await Task.sleep(for: .milliseconds(5))
        }
        try handle.close()
        let store = try SQLiteRecordStore(path: pair.database, readOnly: true)
        let deadline = ContinuousClock.now + .seconds(60)
        var stored: [StoredRecord] = []
        repeat {
            try await Task.sleep(for: .milliseconds(100))
            // Heartbeats are not lines of the log.
            stored = try await store.storedRecords(from: Timestamp(seconds: 0), to: Timestamp(seconds: 4_000_000_000))
                .filter { $0.record.kind == .userJoined }
        } while stored.count < records && ContinuousClock.now < deadline
        guard stored.count == records else { throw BenchSkip("the store holds \(stored.count) of \(records) records after 60 s") }
        let delays = stored.map { Double($0.receivedAt.microseconds(since: $0.record.time)) / 1000 }.sorted()
        let median = Measure.quantile(delays, 0.5)
        let p99 = Measure.quantile(delays, 0.99)
        return ["log line written to record received by the aggregator, \(records) lines at 200/s: median \(String(format: "%.1f", median)) ms, p99 \(String(format: "%.1f", p99)) ms (agent file poll fallback 2 s, inotify otherwise)"]
    }

    /// A `meetmeter-aggregator` on 127.0.0.1:`port` that takes any agent, with `store` as its
    /// `[store]` table's lines; returned once it accepts a connection.
    static func startAggregator(dir: String, port: Int, store: String) throws -> Process {
        try """
            [listen]
            address = "127.0.0.1:\(port)"
            allow_unauthenticated = true
            [store]
            \(store)
            [metrics]
            address = ""
            """.write(toFile: dir + "/aggregator.toml", atomically: true, encoding: .utf8)
        let aggregator = Process()
        aggregator.executableURL = URL(fileURLWithPath: try BenchEnvironment.binary("meetmeter-aggregator"))
        aggregator.arguments = ["--config", dir + "/aggregator.toml", "--log-level", "warning"]
        aggregator.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try aggregator.run()
        for _ in 0..<200 {
            if canConnect(port: port) { return aggregator }
            usleep(50_000)
        }
        aggregator.terminate()
        throw BenchSkip("the aggregator did not start listening")
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw BenchSkip("cannot find a free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
