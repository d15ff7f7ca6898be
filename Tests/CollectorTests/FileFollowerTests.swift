@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads
import Testing
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

@Suite struct FileFollowerTests {
    @Test func oneShotReadsEveryLineWithItsOffsetAndTheUnfinishedLast() async throws {
        let dir = sourceTestDirectory("oneshot")
        defer { removeSourceTestDirectory(dir) }
        sourceAppend(dir + "/a.log", "first\nsecond\r\nthird")
        let follower = FileFollower(configuration: .init(name: "t", patterns: [dir + "/*.log"], follow: false), logger: sourceLogger())
        let sink = LineSink()
        try await follower.run { await sink.add($0) }
        let lines = await sink.lines
        #expect(lines.map(\.text) == ["first", "second", "third"])
        let fp = FileFingerprint.of(prefix: Array("first\n".utf8))!.value
        #expect(lines.map(\.position) == [.file(fingerprint: fp, offset: 0), .file(fingerprint: fp, offset: 6),
                                          .file(fingerprint: fp, offset: 14)])
    }

    @Test func fingerprintIsStableWhileTheFirstLineGrows() {
        #expect(FileFingerprint.of(prefix: Array("2026-11-22 10:00".utf8)) == nil)
        let a = FileFingerprint.of(prefix: Array("2026-11-22 10:00 start\n".utf8))
        let b = FileFingerprint.of(prefix: Array("2026-11-22 10:00 start\nmore lines\nand more\n".utf8))
        #expect(a != nil && a == b)
        let long = [UInt8](repeating: 65, count: 300)
        #expect(FileFingerprint.of(prefix: long)?.length == 256)
        #expect(FileFingerprint.of(prefix: long.prefix(256)) == FileFingerprint.of(prefix: long))
    }

    @Test func followHoldsAnUnfinishedLineUntilItsNewline() async throws {
        let dir = sourceTestDirectory("partial")
        defer { removeSourceTestDirectory(dir) }
        let path = dir + "/a.log"
        sourceAppend(path, "one\ntw")
        let follower = FileFollower(configuration: .init(name: "t", patterns: [path]), logger: sourceLogger())
        let sink = LineSink()
        let task = Task { try await follower.run { await sink.add($0) } }
        #expect(await sourceEventually { await sink.count == 1 })
        try await Task.sleep(for: .milliseconds(200))
        #expect(await sink.texts == ["one"])
        sourceAppend(path, "o\nthree\n")
        #expect(await sourceEventually { await sink.count == 3 })
        #expect(await sink.texts == ["one", "two", "three"])
        task.cancel()
        try await task.value
    }

    @Test func overlongLinesKeepTheirStartAndAreCounted() async throws {
        let dir = sourceTestDirectory("overlong")
        defer { removeSourceTestDirectory(dir) }
        let path = dir + "/a.log"
        let big = String(repeating: "x", count: 5000)
        sourceAppend(path, "short\n" + big + "\nafter\n" + big + big)
        let store = try PositionStore(directory: dir + "/positions")
        let follower = FileFollower(configuration: .init(name: "t", patterns: [path], follow: true, positions: store, maxLineBytes: 1024), logger: sourceLogger())
        let sink = LineSink()
        try await runSource(follower, sink: sink) { await sink.count == 3 }
        sourceAppend(path, "\nlast\n")
        let sink2 = LineSink()
        // A restart resumes after "after" and finishes the overlong line that was still open.
        let again = FileFollower(configuration: .init(name: "t", patterns: [path], follow: false, positions: store, maxLineBytes: 1024), logger: sourceLogger())
        try await again.run { await sink2.add($0) }
        let texts = await sink.texts + sink2.texts
        #expect(texts == ["short", String(repeating: "x", count: 1024), "after", String(repeating: "x", count: 1024), "last"])
        #expect(follower.counts.overlongLines == 1)
        #expect(again.counts.overlongLines == 1)
    }
}
