#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LogLines
import LogParsers
import HostSampling
import LogSources
import SystemCalls
import UsageRecords

/// A parse rate, for `meetmeter-bench` and the benchmark test to print beside baselines measured
/// in the same process. Never a pass or fail: machines differ.
public struct ParserBenchmarkResult: Sendable, CustomStringConvertible {
    public var lines: Int
    public var bytes: Int
    public var seconds: Double
    /// Records made (0 for a baseline).
    public var records: Int

    public var linesPerSecond: Double { seconds > 0 ? Double(lines) / seconds : 0 }
    public var megabytesPerSecond: Double { seconds > 0 ? Double(bytes) / seconds / 1_000_000 : 0 }

    public var description: String {
        "\(lines) lines, \(records) records in \((seconds * 1000).rounded() / 1000) s: "
            + "\(Int(linesPerSecond)) lines/s, \((megabytesPerSecond * 10).rounded() / 10) MB/s"
    }
}

public enum ParserBenchmark {
    /// The parser alone over lines already split (the agent's sources split them).
    public static func parse(text: String, software: String = "bbb", repeats: Int = 3) throws -> ParserBenchmarkResult {
        let lines = split(text).enumerated().map { i, t in
            LogLine(source: "bench", position: .stream(name: "bench", line: UInt64(i + 1)), text: t)
        }
        var best: ParserBenchmarkResult?
        for _ in 0..<max(1, repeats) {
            var parser = try ParserChoice.make(software: software, options: ParserOptions(localTimeZone: .utc))
            var records = 0
            let start = ContinuousClock.now
            for line in lines {
                if case .events(let e) = parser.parse(line) { records += e.count }
            }
            let r = ParserBenchmarkResult(lines: lines.count, bytes: text.utf8.count, seconds: elapsedSeconds(since: start), records: records)
            best = faster(best, r)
        }
        return best ?? ParserBenchmarkResult(lines: 0, bytes: 0, seconds: 0, records: 0)
    }

    /// Splitting the text into lines and parsing them, from one buffer: what `grep -c` does too.
    public static func splitAndParse(text: String, software: String = "bbb", repeats: Int = 3) throws -> ParserBenchmarkResult {
        var best: ParserBenchmarkResult?
        for _ in 0..<max(1, repeats) {
            var parser = try ParserChoice.make(software: software, options: ParserOptions(localTimeZone: .utc))
            var records = 0
            var count = 0
            let start = ContinuousClock.now
            for t in split(text) {
                count += 1
                let line = LogLine(source: "bench", position: .stream(name: "bench", line: UInt64(count)), text: t)
                if case .events(let e) = parser.parse(line) { records += e.count }
            }
            let r = ParserBenchmarkResult(lines: count, bytes: text.utf8.count, seconds: elapsedSeconds(since: start), records: records)
            best = faster(best, r)
        }
        return best ?? ParserBenchmarkResult(lines: 0, bytes: 0, seconds: 0, records: 0)
    }

    /// Baseline: counting the newlines of the same bytes with `memchr`.
    public static func countNewlines(text: String, repeats: Int = 3) -> ParserBenchmarkResult {
        var text = text
        var best: ParserBenchmarkResult?
        for _ in 0..<max(1, repeats) {
            let start = ContinuousClock.now
            let lines = text.withUTF8 { b -> Int in
                guard let base = b.baseAddress else { return 0 }
                var n = 0
                var p = base
                let end = base + b.count
                while p < end, let hit = memchr(p, 0x0A, end - p) {
                    n += 1
                    p = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) + 1
                }
                return n
            }
            let r = ParserBenchmarkResult(lines: lines, bytes: text.utf8.count, seconds: elapsedSeconds(since: start), records: 0)
            best = faster(best, r)
        }
        return best ?? ParserBenchmarkResult(lines: 0, bytes: 0, seconds: 0, records: 0)
    }

    /// Baseline: `grep -c analytics` done in process (lines holding the word).
    public static func countMatching(text: String, word: String = "analytics", repeats: Int = 3) -> ParserBenchmarkResult {
        var text = text
        let needle = ByteNeedle(word)
        var best: ParserBenchmarkResult?
        for _ in 0..<max(1, repeats) {
            let start = ContinuousClock.now
            let (lines, matching) = text.withUTF8 { b -> (Int, Int) in
                var lines = 0, matching = 0, lineStart = 0
                while lineStart < b.count {
                    let end = b.index(of: 0x0A, from: lineStart) ?? b.count
                    lines += 1
                    if b.find(needle, from: lineStart, to: end) != nil { matching += 1 }
                    lineStart = end + 1
                }
                return (lines, matching)
            }
            let r = ParserBenchmarkResult(lines: lines, bytes: text.utf8.count, seconds: elapsedSeconds(since: start), records: matching)
            best = faster(best, r)
        }
        return best ?? ParserBenchmarkResult(lines: 0, bytes: 0, seconds: 0, records: 0)
    }

    private static func faster(_ a: ParserBenchmarkResult?, _ b: ParserBenchmarkResult) -> ParserBenchmarkResult {
        guard let a, a.seconds <= b.seconds else { return b }
        return a
    }

    /// Lines by bytes, as the sources split them (splitting a String by Character would measure
    /// grapheme breaking instead).
    static func split(_ text: String) -> [String] {
        var text = text
        return text.withUTF8 { b -> [String] in
            var lines: [String] = []
            var start = 0
            while start < b.count {
                let end = b.index(of: 0x0A, from: start) ?? b.count
                lines.append(b.string(start..<end))
                start = end + 1
            }
            return lines
        }
    }
}
