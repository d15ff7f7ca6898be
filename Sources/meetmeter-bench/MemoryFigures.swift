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

/// Issue 9: the agent's resident memory while idle and while reading a large log at full speed,
/// and the CPU it uses while idle.
enum MemoryFigures {
    static func agent(users: Int) async throws -> [String] {
        let pair = try DeliveryFigures.Pair(name: "memory")
        defer { pair.stop() }
        let log = pair.dir + "/bbb-apps-akka.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: try BenchEnvironment.binary("meetmeter-agent"))
        agent.arguments = ["--config", try pair.agentConfig(log: log, follow: true), "--log-level", "warning"]
        agent.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try agent.run()
        defer { agent.terminate(); agent.waitUntilExit() }
        let pid = agent.processIdentifier
        try await Task.sleep(for: .seconds(2))
        let cpuBefore = Measure.cpuSeconds(pid: pid) ?? 0
        try await Task.sleep(for: .seconds(5))
        let idleCPU = (Measure.cpuSeconds(pid: pid) ?? 0) - cpuBefore
        let idle = Measure.residentKiB(pid: pid) ?? 0
        let idleOwn = Measure.anonymousKiB(pid: pid) ?? 0

        let records = 2 * users + 2
        try SyntheticAkkaLog.meeting(users: users).write(toFile: log + ".new", atomically: false, encoding: .utf8)
        // Append the whole log at once: the agent then reads as fast as it can.
        try Measure.shell("cat '\(log).new' >> '\(log)'")
        let store = try SQLiteRecordStore(path: pair.database, readOnly: true)
        var peak = idle
        var peakOwn = idleOwn
        let started = ContinuousClock.now
        // + 1: the heartbeat the agent sent when it started.
        while try await store.count() < records + 1 {
            peak = max(peak, Measure.residentKiB(pid: pid) ?? 0)
            peakOwn = max(peakOwn, Measure.anonymousKiB(pid: pid) ?? 0)
            if ContinuousClock.now - started > .seconds(300) { throw BenchSkip("not all records arrived in 300 s") }
            try await Task.sleep(for: .milliseconds(50))
        }
        let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18 + Double((ContinuousClock.now - started).components.seconds)
        return [
            "agent resident memory: idle \(idle / 1024) MiB, peak while reading \(records) records at full speed \(peak / 1024) MiB (\(Int(Double(records) / seconds)) records/s end to end)",
            "agent's own memory (resident, anonymous: without its program's and libraries' pages): idle \(idleOwn / 1024) MiB, peak while reading \(peakOwn / 1024) MiB",
            "agent CPU while idle: \(String(format: "%.3f", idleCPU)) s over 5 s",
        ]
    }
}
