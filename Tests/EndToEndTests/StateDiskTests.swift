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

/// A small tmpfs that a test mounts and always unmounts. Mounting needs root (CAP_SYS_ADMIN).
enum Tmpfs {
    /// Whether this process can mount a tmpfs here: root, and allowed to mount (a container may
    /// not be). Tried once, on a folder of its own.
    static let available: Bool = {
        guard geteuid() == 0 else { return false }
        guard let dir = try? Paths.temporaryDirectory("tmpfs-probe") else { return false }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard (try? runBlocking("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]))?.status == 0 else { return false }
        _ = try? runBlocking("/bin/umount", [dir])
        return true
    }()

    static func mount(_ dir: String, bytes: Int) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let r = try runBlocking("/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes),mode=0700", "tmpfs", dir])
        guard r.status == 0 else { throw HarnessError("mount tmpfs on \(dir): \(r.err)") }
    }

    /// Lazy, so that it also works while something still holds a file there.
    static func unmount(_ dir: String) {
        _ = try? runBlocking("/bin/umount", ["-l", dir])
    }

    static func freeBytes(_ dir: String) -> Int {
        var s = statvfs()
        guard statvfs(dir, &s) == 0 else { return -1 }
        return Int(s.f_bavail) * Int(s.f_frsize)
    }
}

/// Issue 20, item 2: a full state disk pauses the agent instead of ending it, and a genuinely
/// fatal error ends it with a status that systemd's `Restart=` sees as a failure.
@Suite(.serialized) struct StateDiskTests {
    struct Setup {
        let dir: String
        let port: Int
        let metricsPort: Int
        let token = "state-disk-token-0123456789"
        var log: String { dir + "/bbb-apps-akka.log" }
        var state: String { dir + "/state" }
        var database: String { dir + "/store.sqlite" }

        init(name: String) throws {
            dir = try Paths.temporaryDirectory(name)
            port = try freePort()
            metricsPort = try freePort()
            try """
                [listen]
                address = "127.0.0.1:\(port)"
                [store]
                path = "\(database)"
                [metrics]
                address = ""
                [[agents]]
                host = "bbb-disk"
                token = "\(token)"
                """.write(toFile: dir + "/aggregator.toml", atomically: true, encoding: .utf8)
            try """
                host = "bbb-disk"
                state_directory = "\(state)"
                [aggregator]
                address = "127.0.0.1:\(port)"
                token = "\(token)"
                batch_size = 50
                [metrics]
                address = "127.0.0.1:\(metricsPort)"
                [storage]
                enabled = false
                [heartbeat]
                interval = 3600
                [[files]]
                paths = ["\(log)"]
                software = "bbb"
                """.write(toFile: dir + "/agent.toml", atomically: true, encoding: .utf8)
        }

        func startAgent() throws -> Child {
            try Child(Paths.binary("meetmeter-agent"), ["--config", dir + "/agent.toml"], logTo: dir + "/agent.log")
        }

        func startAggregator() async throws -> Child {
            let c = try Child(Paths.binary("meetmeter-aggregator"), ["--config", dir + "/aggregator.toml"], logTo: dir + "/aggregator.log")
            try await c.waitForLog("listening")
            return c
        }

        func health() -> String {
            (try? HTTPGet.fetch(host: "127.0.0.1", port: metricsPort, path: "/health").body) ?? ""
        }

        /// Waits until the agent's `/health` shows at least `records` pending (they are spooled).
        func waitForPending(_ records: Int, agent: Child) async throws {
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline, agent.isRunning {
                if let n = Self.pending(health()), n >= records { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            if let n = Self.pending(health()), n >= records { return }
            throw HarnessError("the agent did not spool \(records) records; health: \(health())\n\(agent.log)")
        }

        static func pending(_ health: String) -> Int? {
            guard let r = health.range(of: "\"pending_records\":") else { return nil }
            return Int(health[r.upperBound...].prefix { $0.isNumber })
        }

        /// The log's records in the store (heartbeats left out).
        func stored() async throws -> [UsageRecord] {
            guard FileManager.default.fileExists(atPath: database) else { return [] }
            let store = try SQLiteRecordStore(path: database, readOnly: true)
            return try await store.records(from: Timestamp(seconds: 0), to: Timestamp(seconds: 4_000_000_000))
                .filter { $0.kind != .hostHeartbeat }
        }
    }

    @Test(.enabled(if: Tmpfs.available, "needs root to mount a tmpfs for the state directory"))
    func aFullStateDiskPausesTheAgentAndNothingIsLostOrDoubledWhenRoomComesBack() async throws {
        let setup = try Setup(name: "state-disk")
        defer { try? FileManager.default.removeItem(atPath: setup.dir) }
        // A megabyte: the first meeting's records fit in it, the second's only once the first
        // are acknowledged.
        try Tmpfs.mount(setup.state, bytes: 1 << 20)
        defer { Tmpfs.unmount(setup.state) }

        let first = SyntheticAkkaLog.meeting(users: 300, startMs: 1_795_000_000_000)
        let second = SyntheticAkkaLog.meeting(users: 600, startMs: 1_795_100_000_000)
        let expectedRecords = (2 * 300 + 2) + (2 * 600 + 2)
        let linesWritten = (first + second).split(separator: "\n").count
        try first.write(toFile: setup.log, atomically: true, encoding: .utf8)

        // The aggregator is down: records wait in the spool.
        let agent = try setup.startAgent()
        defer { agent.stop() }
        try await setup.waitForPending(2 * 300 + 2, agent: agent)

        // Something else fills the state directory's file system; then the log grows.
        _ = try await run("/bin/dd", ["if=/dev/zero", "of=\(setup.state)/filler", "bs=4096"])
        #expect(Tmpfs.freeBytes(setup.state) == 0)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: setup.log))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(second.utf8))
        try handle.close()

        var said = true
        do {
            try await agent.waitForLog("file system is full", timeout: .seconds(60))
        } catch {
            said = false
        }
        // It does not end: it waits. Two seconds more are many retries at the first backoffs.
        try await Task.sleep(for: .seconds(2))
        let runningWhileFull = agent.isRunning
        print("state disk full: agent running \(runningWhileFull), said so \(said)"
              + (runningWhileFull ? "" : ", exit status \(agent.terminationStatus)"))
        #expect(said, "the agent logs that the state disk is full:\n\(agent.log)")
        try #require(runningWhileFull, "the agent must wait for room, not exit:\n\(agent.log)")
        let health = setup.health()
        #expect(health.contains("\"state_disk_full\":true"), "\(health)")
        let status = try await run(Paths.binary("meetmeter"), ["status", "--agent", "127.0.0.1:\(setup.metricsPort)", "--aggregator", ""])
        #expect(status.status == 1, "behind while the state disk is full: \(status.out)")
        #expect(status.out.contains("state_disk_full: true"), "\(status.out)")

        // Room comes back and the aggregator starts: everything arrives, once.
        try FileManager.default.removeItem(atPath: setup.state + "/filler")
        let aggregator = try await setup.startAggregator()
        defer { aggregator.stop() }
        try await agent.waitForLog("has room again", timeout: .seconds(60))
        let deadline = ContinuousClock.now + .seconds(180)
        var stored = try await setup.stored()
        while stored.count < expectedRecords, ContinuousClock.now < deadline, agent.isRunning {
            try await Task.sleep(for: .milliseconds(200))
            stored = try await setup.stored()
        }
        #expect(agent.isRunning, "the agent is still running:\n\(agent.log)")
        agent.stop()
        #expect(agent.terminationStatus == 0, "SIGTERM ends it cleanly:\n\(agent.log.suffix(3000))")

        // By content, not id: a line read twice under another id would show here.
        let contents = stored.map { "\($0.kind.rawValue) \($0.time) \($0.payload)" }
        let distinct = Set(contents).count
        let missing = expectedRecords - distinct
        let doubled = contents.count - distinct
        print("state disk full: lines written \(linesWritten), records expected \(expectedRecords), stored \(stored.count), missing \(missing), doubled \(doubled)")
        #expect(stored.count == expectedRecords)
        #expect(missing == 0)
        #expect(doubled == 0)
        #expect(Set(stored.map(\.id.rawValue)).count == stored.count, "no id twice")
        #expect(agent.log.components(separatedBy: "file system is full").count - 1 >= 1)
    }

    /// A fault that is not a full disk (here the positions folder replaced by a file) ends the
    /// agent with a status other than 0, so that `Restart=` restarts it.
    @Test func aFatalErrorEndsTheAgentWithANonZeroStatus() async throws {
        let setup = try Setup(name: "state-fatal")
        defer { try? FileManager.default.removeItem(atPath: setup.dir) }
        try SyntheticAkkaLog.meeting(users: 50).write(toFile: setup.log, atomically: true, encoding: .utf8)
        let agent = try setup.startAgent()
        defer { agent.stop() }
        try await setup.waitForPending(2 * 50 + 2, agent: agent)
        // Its position is saved; now the folder is gone and a file stands in its place.
        let positions = setup.state + "/positions"
        let deadline = ContinuousClock.now + .seconds(60)
        while (try? FileManager.default.contentsOfDirectory(atPath: positions).contains { $0.hasSuffix(".pos") }) != true,
              ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(100))
        }
        try FileManager.default.moveItem(atPath: positions, toPath: positions + ".gone")
        try "not a folder\n".write(toFile: positions, atomically: false, encoding: .utf8)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: setup.log))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(SyntheticAkkaLog.meeting(users: 5, startMs: 1_795_200_000_000).utf8))
        try handle.close()

        let ended = ContinuousClock.now + .seconds(60)
        while agent.isRunning, ContinuousClock.now < ended {
            try await Task.sleep(for: .milliseconds(100))
        }
        let running = agent.isRunning
        agent.stop()
        #expect(!running, "a fault that is not a full disk ends the agent:\n\(agent.log)")
        #expect(agent.terminationStatus != 0, "and not with status 0:\n\(agent.log)")
        #expect(agent.log.contains("positions"), "\(agent.log)")
    }
}
