import Aggregation
import Collector
import Delivery
import LogLines
import LogParsers
import LogSources
import Workloads
import Foundation
import Testing
import UsageRecords

/// Issue 20, item 1, with the real daemons: the agent follows bbb-apps-akka.log into a real
/// aggregator, is stopped; 500 lines, logrotate, 500 lines, logrotate, 500 lines; then
/// `meetmeter-agent --drain`. Every record arrives once. Item 6: the drain's summary counts every
/// line read, the ones the prefilter passed over included.
@Suite(.serialized) struct RotationCatchUpTests {
    static let logrotate = "/usr/sbin/logrotate"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: logrotate), "needs /usr/sbin/logrotate (apt-get install logrotate)"),
          arguments: ["create", "copytruncate", "delaycompress"])
    func twoRotationsWhileTheAgentIsStoppedLoseAndDoubleNoRecord(mode: String) async throws {
        let users = 700
        let setup = try DeliveryFaultTests.Setup(name: "rotate-down-\(mode)", users: 1)
        defer { try? FileManager.default.removeItem(atPath: setup.dir) }
        // The Setup's log is written again below, in parts.
        let lines = SyntheticAkkaLog.meeting(users: users).split(separator: "\n").map { String($0) + "\n" }
        let analytics = lines.filter { $0.contains("-- analytics -- ") }.count
        #expect(analytics == 2 * users + 2)
        let first = lines.count - 1500
        try lines[..<first].joined().write(toFile: setup.log, atomically: false, encoding: .utf8)
        let conf = setup.dir + "/logrotate.conf"
        try """
            \(setup.log) {
              rotate 10
              \(mode == "copytruncate" ? "copytruncate" : "create 0644")
              \(mode == "delaycompress" ? "compress\n  delaycompress" : "nocompress")
            }

            """.write(toFile: conf, atomically: true, encoding: .utf8)
        func append(_ part: ArraySlice<String>) throws {
            let h = try FileHandle(forWritingTo: URL(fileURLWithPath: setup.log))
            try h.seekToEnd()
            try h.write(contentsOf: Data(part.joined().utf8))
            try h.close()
        }
        func rotate() async throws {
            let r = try await run(Self.logrotate, ["-f", "-s", setup.dir + "/logrotate.state", conf])
            #expect(r.status == 0, "logrotate: \(r.err)")
        }
        let aggregator = try await setup.startAggregator()
        defer { aggregator.stop() }
        let firstRecords = lines[..<first].filter { $0.contains("-- analytics -- ") }.count
        let agent = try setup.startAgent(0)
        var stored = 0
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            stored = try await setup.storedIDs().count
            if stored >= firstRecords { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(stored == firstRecords, "the running agent stored \(stored) of \(firstRecords)")
        agent.stop()   // SIGTERM: positions saved

        try append(lines[first..<(first + 500)])
        try await rotate()
        try append(lines[(first + 500)..<(first + 1000)])
        try await rotate()
        try append(lines[(first + 1000)...])
        let files = try FileManager.default.contentsOfDirectory(atPath: setup.dir).filter { $0.hasPrefix("bbb-apps-akka.log") }.sorted()

        let r = try await run(Paths.binary("meetmeter-agent"), ["--config", setup.agentConfig, "--drain", "--log-level", "notice"], timeout: 180)
        #expect(r.status == 0, "agent --drain: \(r.err)")
        let ids = try await setup.storedIDs()
        let distinct = Set(ids).count
        let missing = analytics - distinct, doubled = ids.count - distinct
        print("""
            rotation while stopped (\(mode)): files \(files); lines written \(lines.count) (\(first) before the stop, \
            1500 after), records expected \(analytics), stored \(ids.count), missing \(missing), doubled \(doubled)
            """)
        #expect(ids.count == analytics)
        #expect(missing == 0)
        #expect(doubled == 0)
        // The catching up is said, file by file, with counts.
        #expect(r.err.contains("catching up"), "\(r.err)")
        #expect(r.err.contains("caught up on a rotated file"), "\(r.err)")
        // Item 6: every line read after the stop is counted, noise included.
        #expect(r.err.contains("meetmeter-agent: read 1500 lines, made \(analytics - firstRecords) records"), "\(r.err)")
    }

    /// Item 6: the summary of `--drain` and of `meetmeter parse` count the lines the file has.
    @Test func theSummariesCountEveryLineOfTheFile() async throws {
        let users = 40
        let setup = try DeliveryFaultTests.Setup(name: "summary-count", users: users)
        defer { try? FileManager.default.removeItem(atPath: setup.dir) }
        let wc = try await run("/usr/bin/wc", ["-l", setup.log])
        let fileLines = Int(wc.out.split(separator: " ").first ?? "") ?? -1
        #expect(fileLines == 3 * users + 2)
        let aggregator = try await setup.startAggregator()
        defer { aggregator.stop() }
        let r = try await run(Paths.binary("meetmeter-agent"), ["--config", setup.agentConfig, "--drain"], timeout: 120)
        #expect(r.status == 0, "\(r.err)")
        print("wc -l: \(fileLines); agent: \(r.err.split(separator: "\n").last ?? "")")
        #expect(r.err.contains("meetmeter-agent: read \(fileLines) lines, made \(2 * users + 2) records, skipped 0"), "\(r.err)")
        let p = try await run(Paths.binary("meetmeter"), ["parse", "--host", "bbb-fault", setup.log])
        #expect(p.err.contains("meetmeter: read \(fileLines) lines, made \(2 * users + 2) records, skipped 0 lines"), "\(p.err)")
    }
}
