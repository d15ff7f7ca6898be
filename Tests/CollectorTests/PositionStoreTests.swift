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

#if canImport(Glibc)
import Glibc
#endif

@Suite struct PositionStoreTests {
    @Test func savesAtomicallyAndReadsBack() throws {
        let dir = sourceTestDirectory("pos")
        defer { removeSourceTestDirectory(dir) }
        let store = try PositionStore(directory: dir + "/positions")
        #expect(try store.load("journal") == nil)
        try store.save("journal", ["cursor": "s=1;i=2", "time": "5"])
        try store.save("/var/log/x.log", ["file.00ff": "10 /var/log/x.log"])
        #expect(try store.load("journal") == ["cursor": "s=1;i=2", "time": "5"])
        #expect(try store.load("/var/log/x.log") == ["file.00ff": "10 /var/log/x.log"])
        // One small file per source, no temporary left behind.
        let names = try PosixFile.list(dir + "/positions").sorted()
        #expect(names.count == 2)
        #expect(names.allSatisfy { $0.hasSuffix(".pos") })
        #expect(store.path(for: "a/b") != store.path(for: "a_b"))
    }

    @Test func writesAtMostOnceASecondAndOnlyWhenChanged() throws {
        let dir = sourceTestDirectory("pos-throttle")
        defer { removeSourceTestDirectory(dir) }
        let store = try PositionStore(directory: dir)
        var saver = ThrottledPositionSaver(store: store, source: "s", interval: .seconds(1))
        try saver.update(["cursor": "1"])
        for i in 2...100 { try saver.update(["cursor": "\(i)"]) }
        #expect(saver.saves == 1)
        #expect(try store.load("s") == ["cursor": "1"])
        #expect(saver.hasPending)
        try saver.flush()
        #expect(try store.load("s") == ["cursor": "100"])
        // Idle: the same position is never written again.
        try saver.update(["cursor": "100"], force: true)
        try saver.flush()
        #expect(saver.saves == 2)
    }

    /// Issue 20, item 6: a malformed position file was skipped in silence.
    @Test func aMalformedPositionFileIsLoggedCountedAndKeptAside() throws {
        let dir = sourceTestDirectory("pos-bad")
        defer { removeSourceTestDirectory(dir) }
        let store = try PositionStore(directory: dir)
        let path = store.path(for: "s")
        let text = "version=1\ngarbage without an equals sign\n=no key\ncursor=a\ncursor=b\ntime=x\n"
        try PosixFile.replaceAtomically(path, with: Array(text.utf8))
        let (logger, logs) = capturingLogger()
        let loaded = try #require(try store.loadChecked("s", logger: logger) { key, value in
            key == "time" && UInt64(value) == nil ? "not a number" : nil
        })
        #expect(loaded.fields == ["version": "1", "cursor": "a"])
        #expect(loaded.problems.map(\.line) == [2, 3, 5, 6])
        #expect(loaded.problems.map(\.path) == Array(repeating: path, count: 4))
        #expect(loaded.problems[0].reason.contains("no '='"))
        #expect(loaded.problems[1].reason == "empty key")
        #expect(loaded.problems[2].reason.contains("given again (first on line 4)"))
        #expect(loaded.problems[3].reason == "time: not a number")
        // Kept aside, byte for byte; the next save writes a fresh file.
        #expect(loaded.keptAside == path + ".bad")
        #expect(try PosixFile.readWhole(path + ".bad") == Array(text.utf8))
        #expect(try PosixFile.readWhole(path) == nil)
        // Said: one warning per bad line naming the file and the line, and one for the file.
        let lineWarnings = logs.warnings(containing: "malformed line in a position file")
        print("warnings:\n" + logs.lines.joined(separator: "\n"))
        #expect(lineWarnings.count == 4)
        #expect(lineWarnings.allSatisfy { $0.contains("file=\(path)") })
        #expect(lineWarnings.contains { $0.contains("line=2") && $0.contains("garbage without") })
        #expect(logs.warnings(containing: "kept_aside=\(path).bad").count == 1)
        // Well formed: nothing said, nothing moved.
        try store.save("t", ["cursor": "c"])
        let (quiet, quietLogs) = capturingLogger()
        #expect(try store.loadChecked("t", logger: quiet)?.problems == [])
        #expect(quietLogs.lines.isEmpty)
        #expect(try PosixFile.readWhole(store.path(for: "t") + ".bad") == nil)
        // Not UTF-8, and empty.
        try PosixFile.replaceAtomically(store.path(for: "u"), with: [0x63, 0x3D, 0xFF, 0xFE, 0x0A])
        #expect(try store.loadChecked("u", logger: quiet)?.problems.map(\.reason) == ["not UTF-8 text"])
        try PosixFile.replaceAtomically(store.path(for: "v"), with: [])
        #expect(try store.loadChecked("v", logger: quiet)?.problems.map(\.reason) == ["the file is empty"])
    }

    /// A file follower with a damaged position file: the good lines are used, the bad ones named.
    @Test func aFileFollowerResumesFromTheWellFormedLinesOfAMalformedFile() async throws {
        let dir = sourceTestDirectory("pos-bad-file")
        defer { removeSourceTestDirectory(dir) }
        let store = try PositionStore(directory: dir + "/pos")
        let a = dir + "/a.log", b = dir + "/b.log"
        sourceAppend(a, (0..<10).map { "a \($0)\n" }.joined())
        sourceAppend(b, (0..<10).map { "b \($0)\n" }.joined())
        func follower(_ logger: Logger) -> FileFollower {
            FileFollower(configuration: .init(name: "bad", patterns: [dir + "/*.log"], follow: false, positions: store), logger: logger)
        }
        try await follower(sourceLogger()).run { _ in }
        // Damage b's line and add a stray one.
        let path = store.path(for: "bad")
        let saved = String(decoding: try PosixFile.readWhole(path) ?? [], as: UTF8.self)
        let fpB = try #require(FileFingerprint.of(prefix: Array("b 0\n".utf8))).description
        let damaged = saved.split(separator: "\n").map { $0.hasPrefix("file.\(fpB)=") ? "file.\(fpB)=forty open \(b)" : String($0) }
            .joined(separator: "\n") + "\nnonsense\n"
        try PosixFile.replaceAtomically(path, with: Array(damaged.utf8))
        sourceAppend(a, "a 10\n")
        let (logger, logs) = capturingLogger()
        let sink = LineSink()
        try await follower(logger).run { await sink.add($0) }
        // a resumes after its saved offset; b, whose line was bad, is read again from its start.
        #expect(Set(await sink.texts) == Set(["a 10"] + (0..<10).map { "b \($0)" }))
        #expect(await sink.count == 11)
        let warnings = logs.warnings(containing: "malformed line in a position file")
        print("warnings:\n" + warnings.joined(separator: "\n"))
        #expect(warnings.count == 2)
        #expect(warnings.contains { $0.contains("file=\(path)") && $0.contains("not `<offset> open|done <path>`") })
        #expect(logs.warnings(containing: "file positions restart from the well-formed lines").count == 1)
        #expect(try PosixFile.readWhole(path + ".bad") == Array(damaged.utf8))
    }
}
