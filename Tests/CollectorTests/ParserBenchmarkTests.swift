import Foundation
import Testing
import TestThreads
@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads

/// Prints the parse rate of a mixed BigBlueButton log (mostly lines that are not usage) beside
/// baselines measured in the same process. Never fails on speed.
@Suite("Parser benchmark", .ownThreads)
struct ParserBenchmarkTests {
    @Test("Parse rate against counting newlines and grep -c analytics")
    func parseRate() throws {
        let day = SyntheticBBBDay.make(meetings: 100, seed: 11, noise: 10)
        let parse = try ParserBenchmark.parse(text: day.text, repeats: 2)
        let splitParse = try ParserBenchmark.splitAndParse(text: day.text, repeats: 2)
        let newlines = ParserBenchmark.countNewlines(text: day.text)
        let grepInProcess = ParserBenchmark.countMatching(text: day.text)
        #expect(parse.records == day.expected.count)
        var report = """
            parser benchmark (\(day.lineCount) lines, \(day.text.utf8.count / 1_000_000) MB, \(Int(Double(day.expected.count) / Double(day.lineCount) * 100))% of lines make a record):
              bbb parser, lines already split: \(parse)
              split into lines + bbb parser:   \(splitParse)
              baseline, count newlines:        \(newlines)
              baseline, in-process grep -c analytics: \(grepInProcess)
              ratio parser / newline count: \(ratio(parse, newlines)); parser / in-process grep: \(ratio(parse, grepInProcess))
            """
        if let grep = try externalGrep(day.text) {
            report += "\n  /usr/bin/grep -c analytics (process, file in page cache): \(Int(grep)) lines/s; split+parse / grep: \(ratio(splitParse.linesPerSecond, grep))"
        }
        #if DEBUG
        report += "\n  (a debug build: optimised code runs many times faster; see meetmeter-bench)"
        #endif
        print(report)
    }

    func ratio(_ a: ParserBenchmarkResult, _ b: ParserBenchmarkResult) -> String { ratio(a.linesPerSecond, b.linesPerSecond) }
    func ratio(_ a: Double, _ b: Double) -> String { b > 0 ? String(format: "%.2f", a / b) : "n/a" }

    /// Lines per second of the real grep over the same text in a file, best of three.
    func externalGrep(_ text: String) throws -> Double? {
        let grep = ["/usr/bin/grep", "/bin/grep"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let grep else { return nil }
        let path = NSTemporaryDirectory() + "meetmeter-parser-bench-\(UUID().uuidString).log"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lines = Double(text.utf8.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 })
        var best = Double.infinity
        for _ in 0..<3 {
            // Not /dev/null: GNU grep notices it and stops at the first match.
            let countFile = path + ".count"
            defer { unlink(countFile) }
            let start = ContinuousClock.now
            try SpawnedProcess(grep, ["-c", "analytics", path], standardOutput: .file(countFile)).waitUntilExit()
            let d = ContinuousClock.now - start
            best = min(best, Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        }
        return lines / best
    }
}
