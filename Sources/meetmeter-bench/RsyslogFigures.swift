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

/// Issue 17: our agent end to end (the file read, parsed, spooled, shipped, acknowledged after
/// the aggregator's commit) against Debian's rsyslog on the same file in the same run: imfile
/// reading it, omfwd forwarding every line over TCP to a sink that counts them. The file is a
/// usage-heavy day of BigBlueButton logging (one line in three about usage), with the metadata
/// front ends send (`SyntheticBBBDay.Metadata.realistic`).
enum RsyslogFigures {
    static let rsyslogd = "/usr/sbin/rsyslogd"

    static func endToEnd(meetings: Int) async throws -> [String] {
        let pair = try DeliveryFigures.Pair(name: "rsyslog")
        defer { pair.stop() }
        let day = SyntheticBBBDay.make(meetings: meetings, seed: 17, noise: 1, metadata: .realistic)
        let log = pair.dir + "/bbb-apps-akka.log"
        try day.text.write(toFile: log, atomically: true, encoding: .utf8)
        let bytes = Double(day.text.utf8.count)
        let usage = day.expected.count
        // What rsyslog forwards: one message a line of the file as written.
        let newlines = day.text.utf8.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }

        let agent = try BenchEnvironment.binary("meetmeter-agent")
        let config = try pair.agentConfig(log: log, follow: false)
        let ours = try Measure.seconds(repeats: 1) {
            try Measure.shell("'\(agent)' --config '\(config)' --drain --log-level warning 2>/dev/null")
        }
        let store = try SQLiteRecordStore(path: pair.database, readOnly: true)
        let stored = try await store.count()
        var lines = [
            "the usage-heavy day: \(newlines) lines, \(Int(bytes / 1e6)) MB, \(usage) usage facts, \(stored) records stored",
        ]

        guard let theirs = try rsyslog(file: log, lines: newlines, dir: pair.dir) else {
            lines.append(Figure(what: "agent end to end, the usage-heavy day", ours: bytes / 1e6 / ours, baseline: nil, baselineName: nil, unit: "MB/s").line
                + " (rsyslog skipped: \(rsyslogd) is not installed; apt-get install rsyslog)")
            return lines
        }
        lines.append(Figure(what: "agent end to end, the usage-heavy day (read, parse, spool, ship, commit)", ours: bytes / 1e6 / ours,
                            baseline: bytes / 1e6 / theirs, baselineName: "rsyslog imfile -> omfwd TCP, every line", unit: "MB/s").line)
        return lines
    }

    /// Seconds rsyslog takes to forward every line of `file`, or nil when it is not installed
    /// (installed with apt-get when run as root and missing).
    static func rsyslog(file: String, lines: Int, dir: String) throws -> Double? {
        if !FileManager.default.isExecutableFile(atPath: rsyslogd), getuid() == 0 {
            try? Measure.shell("DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsyslog >/dev/null 2>&1")
        }
        guard FileManager.default.isExecutableFile(atPath: rsyslogd) else { return nil }
        let sink = try LineSink()
        sink.start()
        let work = dir + "/rsyslog-work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let conf = dir + "/rsyslog.conf"
        try """
            global(workDirectory="\(work)")
            module(load="imfile")
            input(type="imfile" File="\(file)" Tag="bbb-apps-akka" ruleset="forward")
            ruleset(name="forward") {
              action(type="omfwd" target="127.0.0.1" port="\(sink.port)" protocol="tcp" template="RSYSLOG_ForwardFormat")
            }
            """.write(toFile: conf, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: rsyslogd)
        process.arguments = ["-n", "-f", conf, "-i", dir + "/rsyslog.pid"]
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let start = DispatchTime.now().uptimeNanoseconds
        try process.run()
        defer {
            // rsyslogd waits on SIGTERM for its queue to a sink that is no longer read: SIGKILL,
            // once the figure is taken.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        guard sink.wait(forLines: lines, timeout: 600) else {
            throw BenchSkip("rsyslog forwarded \(sink.count) of \(lines) lines in 600 s")
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

/// A TCP sink on 127.0.0.1 that counts the lines it receives, on a thread of its own.
final class LineSink: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let lock = NSCondition()
    private var lines = 0

    var count: Int { lock.lock(); defer { lock.unlock() }; return lines }

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        listener = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw BenchSkip("the sink cannot listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Accepts one connection and counts its lines until it ends.
    func start() {
        Thread { [self] in serve() }.start()
    }

    private func serve() {
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            var newlines = 0
            for i in 0..<n where buffer[i] == 0x0A { newlines += 1 }
            lock.lock()
            lines += newlines
            lock.broadcast()
            lock.unlock()
        }
        close(connection)
    }

    func wait(forLines target: Int, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while lines < target {
            if !lock.wait(until: deadline) { return lines >= target }
        }
        return true
    }

    deinit { close(listener) }
}
