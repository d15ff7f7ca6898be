@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The benchmark functions count right (their rates are printed, never asserted).
@Suite struct FileBenchmarkTests {
    @Test func fileBenchmarkCountsEveryLine() async throws {
        let dir = sourceTestDirectory("bench")
        defer { removeSourceTestDirectory(dir) }
        let path = dir + "/big.log"
        let n = 200_000
        let status = try await offPool { system("seq -f '2026-11-22T10:00:00.000Z INFO some log line number %g with text' 1 \(n) > '\(path)'") }
        #expect(status == 0)
        let result = try await FileFollowerBenchmark.run(paths: [path])
        #expect(result.lines == n)
        print("FileFollowerBenchmark: \(result)")
    }

    @Test(.needsJournalRemote)
    func journalBenchmarkCountsEveryEntry() async throws {
        let dir = sourceTestDirectory("jbench")
        defer { removeSourceTestDirectory(dir) }
        let n = 20_000
        await writeJournal(dir + "/j.journal", (0..<n).map { .message("entry \($0) with some text", time: 1_795_000_000_000_000 + UInt64($0), [("SYSLOG_IDENTIFIER", "bench")]) })
        let result = try await JournalBenchmark.run(directory: dir)
        let plain = try JournalBenchmark.plainNextLoop(directory: dir)
        #expect(result.lines == n)
        #expect(plain.lines == n)
        print("JournalBenchmark: \(result); plain sd_journal_next loop: \(plain)")
    }
}
