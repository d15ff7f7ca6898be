import HostSampling
import LogLines
import LogParsers
import LogSources
import Workloads
import Collector
import Foundation
import Logging

/// Issue 4: the BigBlueButton parser over a mixed day of logs (mostly lines that are not usage)
/// against `grep -c analytics` on the same file in the page cache. Two figures: the agent's
/// whole path (the file follower splitting lines, then the parser) and the parser alone over
/// lines already in memory.
enum ParserFigures {
    static func mixedDay(meetings: Int) async throws -> [String] {
        let day = SyntheticBBBDay.make(meetings: meetings, seed: 7, noise: 10)
        let dir = try BenchEnvironment.temporaryDirectory("parser")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bbb-day.log"
        try day.text.write(toFile: path, atomically: false, encoding: .utf8)
        let grep = try Measure.command("grep -c analytics '\(path)'", output: dir + "/grep.out")

        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        // The agent's path: the follower, the parser's prefilter on the raw bytes, the parser.
        func agentPath(prefiltered: Bool) async throws -> Double {
            let made = LockedCount()
            let seconds = try await Measure.asyncSeconds {
                let processor = LockedProcessor(LineProcessor(parser: try ParserChoice.make(software: "bbb"),
                                                              host: "bench", source: "bench", logger: logger))
                let prefilter = prefiltered ? ParserChoice.prefilter(software: "bbb", options: ParserOptions()) : nil
                _ = try await FileFollowerBenchmark.run(paths: [path], prefilter: prefilter) { lines in processor.process(lines) }
                made.set(processor.records)
            }
            guard made.value == day.expected.count else {
                throw BenchSkip("the follower and parser made \(made.value) records where \(day.expected.count) were expected")
            }
            return seconds
        }
        // The best of three, as for the parser alone: this machine is shared and noisy.
        func best(prefiltered: Bool) async throws -> Double {
            var seconds = Double.infinity
            for _ in 0..<3 { seconds = min(seconds, try await agentPath(prefiltered: prefiltered)) }
            return seconds
        }
        let prefiltered = try await best(prefiltered: true)
        let everyLine = try await best(prefiltered: false)
        let alone = try ParserBenchmark.parse(text: day.text, repeats: 3)
        guard alone.records == day.expected.count else {
            throw BenchSkip("the parser made \(alone.records) records where \(day.expected.count) were expected")
        }
        let lines = Double(day.lineCount)
        let usagePercent = Int((Double(day.expected.count) / lines * 100).rounded())
        let what = "\(day.lineCount) lines, \(day.text.utf8.count / 1_000_000) MB, \(usagePercent)% usage"
        return [
            Figure(what: "bbb day read by the file follower, prefiltered and parsed, as the agent does (\(what))",
                   ours: lines / prefiltered, baseline: lines / grep, baselineName: "grep -c analytics", unit: "lines/s").line,
            Figure(what: "the same without the prefilter, every line made a LogLine (\(what))", ours: lines / everyLine,
                   baseline: lines / grep, baselineName: "grep -c analytics", unit: "lines/s").line,
            Figure(what: "bbb parser alone, lines already in memory (\(what))", ours: alone.linesPerSecond,
                   baseline: lines / grep, baselineName: "grep -c analytics", unit: "lines/s").line,
        ]
    }
}

extension ParserFigures {
    /// Issue 17: `meetmeter parse` over the realistic day (a third of the lines usage, a dozen
    /// `meta_*` keys, names with quotes, backslashes and many scripts), in MB of log a second,
    /// against `wc -l` on the same file in the page cache.
    static func realisticDay(meetings: Int) throws -> [String] {
        let day = SyntheticBBBDay.make(meetings: meetings, seed: 17, noise: 1, metadata: .realistic)
        let dir = try BenchEnvironment.temporaryDirectory("parse")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bbb-apps-akka.log"
        try day.text.write(toFile: path, atomically: false, encoding: .utf8)
        let meetmeter = try BenchEnvironment.binary("meetmeter")
        let out = dir + "/records.jsonl"
        let ours = try Measure.command("'\(meetmeter)' parse --software bbb '\(path)' 2>/dev/null", output: out)
        let wc = try Measure.command("wc -l '\(path)'", output: dir + "/wc.out")
        let made = try String(contentsOfFile: out, encoding: .utf8).utf8.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        guard made == day.expected.count else {
            throw BenchSkip("meetmeter parse made \(made) records where \(day.expected.count) were expected")
        }
        let bytes = Double(day.text.utf8.count)
        let share = Int((Double(made) / Double(day.lineCount) * 100).rounded())
        return [
            Figure(what: "meetmeter parse, the realistic day (\(day.lineCount) lines, \(Int(bytes / 1e6)) MB, \(share)% usage, \(made) records)",
                   ours: bytes / ours / 1e6, baseline: bytes / wc / 1e6, baselineName: "wc -l", unit: "MB/s").line,
        ]
    }
}

/// The bench's counters, shared with the follower's delivery closure.
private final class LockedCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func set(_ v: Int) { lock.withLock { count = v } }
}

private final class LockedProcessor: @unchecked Sendable {
    private let lock = NSLock()
    private var processor: LineProcessor
    private(set) var records = 0
    init(_ p: LineProcessor) { processor = p }
    func process(_ lines: [LogLine]) { lock.withLock { records += processor.process(lines).count } }
}
