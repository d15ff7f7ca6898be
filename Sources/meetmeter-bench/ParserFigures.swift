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
        let made = LockedCount()
        let agentPath = try await Measure.asyncSeconds {
            let processor = LockedProcessor(LineProcessor(parser: try ParserChoice.make(software: "bbb"),
                                                          host: "bench", source: "bench", logger: logger))
            _ = try await FileFollowerBenchmark.run(paths: [path]) { lines in processor.process(lines) }
            made.set(processor.records)
        }
        let alone = try ParserBenchmark.parse(text: day.text, repeats: 3)
        guard made.value == day.expected.count, alone.records == day.expected.count else {
            throw BenchSkip("the parser made \(made.value) and \(alone.records) records where \(day.expected.count) were expected")
        }
        let lines = Double(day.lineCount)
        let usagePercent = Int((Double(day.expected.count) / lines * 100).rounded())
        let what = "\(day.lineCount) lines, \(day.text.utf8.count / 1_000_000) MB, \(usagePercent)% usage"
        return [
            Figure(what: "bbb day read by the file follower and parsed (\(what))", ours: lines / agentPath,
                   baseline: lines / grep, baselineName: "grep -c analytics", unit: "lines/s").line,
            Figure(what: "bbb parser alone, lines already in memory (\(what))", ours: alone.linesPerSecond,
                   baseline: lines / grep, baselineName: "grep -c analytics", unit: "lines/s").line,
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
