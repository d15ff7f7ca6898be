import LogLines
import LogParsers
import HostSampling
import LogSources
import SystemCalls
import UsageRecords
import CSystemd
import Logging

/// A reading rate, for `meetmeter-bench` to print beside its baselines (`wc -l`, a plain
/// sd_journal_next loop). Not a test: nothing here fails because a machine is slow.
public struct SourceBenchmarkResult: Sendable, CustomStringConvertible {
    public var lines: Int
    public var bytes: UInt64
    public var seconds: Double

    public var linesPerSecond: Double { seconds > 0 ? Double(lines) / seconds : 0 }

    public var description: String {
        "\(lines) lines in \((seconds * 1000).rounded() / 1000) s: \(Int(linesPerSecond)) lines/s"
    }
}

func elapsedSeconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// Reads files to their end through `FileFollower` (one-shot, no positions saved), handing the
/// lines to a deliver step that only counts them.
public enum FileFollowerBenchmark {
    /// `each` sees every batch of lines (a parser, for the parse rate); by default they are only
    /// counted. With a `prefilter`, as the agent runs a parser's, the lines counted are all the
    /// lines read, passed over or not.
    public static func run(paths: [String], maxLineBytes: Int = 1 << 20, batchLines: Int = 2048,
                           prefilter: (any LinePrefilter)? = nil,
                           each: @escaping @Sendable ([LogLine]) -> Void = { _ in }) async throws -> SourceBenchmarkResult {
        var logger = Logger(label: "meetmeter.bench")
        logger.logLevel = .error
        let follower = FileFollower(configuration: .init(name: "bench", patterns: paths, follow: false,
                                                         maxLineBytes: maxLineBytes, batchLines: batchLines,
                                                         prefilter: prefilter),
                                    logger: logger)
        let start = ContinuousClock.now
        try await follower.run { lines in each(lines) }
        let seconds = elapsedSeconds(since: start)
        return SourceBenchmarkResult(lines: follower.counts.lines, bytes: follower.counts.bytes, seconds: seconds)
    }
}

/// Reads a journal folder (or the system journal) to its end through `JournalReader`, and the
/// baseline: a plain sd_journal_next loop that reads the same cursor, time and MESSAGE.
public enum JournalBenchmark {
    public static func run(directory: String?, units: [String] = [], identifiers: [String] = [],
                           batchLines: Int = 1024) async throws -> SourceBenchmarkResult
    {
        var logger = Logger(label: "meetmeter.bench")
        logger.logLevel = .error
        let reader = JournalReader(configuration: .init(directory: directory, units: units, identifiers: identifiers,
                                                        follow: false, batchLines: batchLines),
                                   logger: logger)
        let counted = LockedBox((0, UInt64(0)))
        let start = ContinuousClock.now
        try await reader.run { lines in
            let bytes = lines.reduce(UInt64(0)) { $0 + UInt64($1.text.utf8.count) }
            counted.update { $0.0 += lines.count; $0.1 += bytes }
        }
        let seconds = elapsedSeconds(since: start)
        let (lines, bytes) = counted.value
        return SourceBenchmarkResult(lines: lines, bytes: bytes, seconds: seconds)
    }

    /// The baseline: sd_journal_next, sd_journal_get_cursor, the realtime timestamp and MESSAGE
    /// per entry, nothing else, on the calling thread.
    public static func plainNextLoop(directory: String?) throws -> SourceBenchmarkResult {
        let start = ContinuousClock.now
        let j = try Journal(directory: directory)
        try j.seekHead()
        var lines = 0
        var bytes: UInt64 = 0
        while try j.next() {
            _ = try j.cursor()
            _ = try j.realtime()
            bytes += UInt64(try j.field("MESSAGE")?.utf8.count ?? 0)
            lines += 1
        }
        return SourceBenchmarkResult(lines: lines, bytes: bytes, seconds: elapsedSeconds(since: start))
    }
}
