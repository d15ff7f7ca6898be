@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads
import Logging
import Testing
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

/// Issue 20, item 6: a malformed journal position made the reader start again without a word.
extension JournalSuites {
@Suite(.serialized) struct JournalPositionTests {
    @Test(.needsJournalRemote)
    func aMalformedPositionIsSaidKeptAsideAndTheRestartPointNamed() async throws {
        let dir = sourceTestDirectory("jpos-bad")
        defer { removeSourceTestDirectory(dir) }
        let store = try PositionStore(directory: dir + "-positions")
        defer { removeSourceTestDirectory(dir + "-positions") }
        let t0: UInt64 = 1_795_000_000_000_000
        await writeJournal(dir + "/j.journal", (0..<10).map { .message("entry \($0)", time: t0 + UInt64($0) * 1000, [("SYSLOG_IDENTIFIER", "x")]) })
        func reader(_ logger: Logger) -> JournalReader {
            JournalReader(configuration: .init(directory: dir, follow: false, positions: store), logger: logger)
        }
        let first = LineSink()
        try await reader(sourceLogger()).run { await first.add($0) }
        #expect(await first.count == 10)
        let path = store.path(for: "journal")
        // Well formed: resumes after its cursor and says nothing.
        let (quiet, quietLogs) = capturingLogger()
        let again = LineSink()
        try await reader(quiet).run { await again.add($0) }
        #expect(await again.count == 0)
        #expect(quietLogs.warnings(containing: "").isEmpty)
        // The cursor line damaged by hand.
        let saved = String(decoding: try PosixFile.readWhole(path) ?? [], as: UTF8.self)
        var lines = saved.split(separator: "\n").map(String.init)
        let cursorLine = try #require(lines.firstIndex { $0.hasPrefix("cursor=") })
        lines[cursorLine] = "cursor " + lines[cursorLine].dropFirst(7)
        let damaged = lines.joined(separator: "\n") + "\n"
        try PosixFile.replaceAtomically(path, with: Array(damaged.utf8))
        let (logger, logs) = capturingLogger()
        let third = LineSink()
        try await reader(logger).run { await third.add($0) }
        print("warnings:\n" + logs.warnings(containing: "").joined(separator: "\n"))
        // It starts again from the oldest entry, and says so, naming the file and the line.
        #expect(await third.count == 10)
        #expect(logs.warnings(containing: "malformed line in a position file").contains { $0.contains("file=\(path)") && $0.contains("line=\(cursorLine + 1)") })
        #expect(logs.warnings(containing: "reading the journal from the oldest entry").count == 1)
        #expect(try PosixFile.readWhole(path + ".bad") == Array(damaged.utf8))
    }
}
}
