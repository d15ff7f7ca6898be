import HostSampling
import LogLines
import LogParsers
import LogSources
import Workloads
import Collector
import Foundation

/// Issue 3: file lines per second against `wc -l`, journal entries per second against a plain
/// sd_journal_next loop, on the same data.
enum SourceFigures {
    static func files(lines: Int) async throws -> [String] {
        let dir = try BenchEnvironment.temporaryDirectory("files")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/big.log"
        try Measure.shell("seq -f '2026-11-22T10:00:00.000Z INFO  o.b.core.running.MeetingActor - some log line number %g with text' 1 \(lines) > '\(path)'")
        var counted = 0
        let ours = try await Measure.asyncSeconds {
            counted = try await FileFollowerBenchmark.run(paths: [path]).lines
        }
        let wc = try Measure.command("wc -l '\(path)'")
        guard counted == lines else { throw BenchSkip("the follower counted \(counted) of \(lines) lines") }
        return [Figure(what: "file follower, \(lines) lines", ours: Double(lines) / ours,
                       baseline: Double(lines) / wc, baselineName: "wc -l", unit: "lines/s").line]
    }

    static func journal(entries: Int) async throws -> [String] {
        let remote = "/lib/systemd/systemd-journal-remote"
        guard FileManager.default.isExecutableFile(atPath: remote) else {
            throw BenchSkip("needs \(remote) (apt-get install systemd-journal-remote)")
        }
        let dir = try BenchEnvironment.temporaryDirectory("journal")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Export format: one field a line, a blank line between entries.
        let awk = #"{ printf "__REALTIME_TIMESTAMP=%d\nSYSLOG_IDENTIFIER=bbb-apps-akka\nMESSAGE=entry %d with some text of a usual length\n\n", 1795000000000000 + $1, $1 }"#
        try Measure.shell("seq 1 \(entries) | awk '\(awk)' | \(remote) --output='\(dir)/bench.journal' --split-mode=none - 2>/dev/null")
        var ours = 0.0
        var plain = 0.0
        var counted = 0
        ours = try await Measure.asyncSeconds { counted = try await JournalBenchmark.run(directory: dir).lines }
        plain = try Measure.seconds { _ = try JournalBenchmark.plainNextLoop(directory: dir) }
        guard counted == entries else { throw BenchSkip("the reader counted \(counted) of \(entries) entries") }
        return [Figure(what: "journal reader, \(entries) entries", ours: Double(entries) / ours,
                       baseline: Double(entries) / plain, baselineName: "plain sd_journal_next+get_data loop", unit: "entries/s").line]
    }
}

/// Issue 8: the storage walk against `du -s` on a tree of 200,000 files.
enum StorageFigures {
    static func walk(files: Int) throws -> [String] {
        [try StorageWalkBenchmark.run(files: files)]
    }
}
