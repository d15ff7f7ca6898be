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

/// Rotation, truncation, deletion and inode reuse done by hand, each with exact counts.
@Suite struct FileEdgeCaseTests {
    func lines(_ prefix: String, _ range: Range<Int>) -> String {
        range.map { "\(prefix) \($0)\n" }.joined()
    }

    func follower(_ patterns: [String], _ store: PositionStore?, follow: Bool = true) -> FileFollower {
        FileFollower(configuration: .init(name: "edge", patterns: patterns, follow: follow, positions: store,
                                          pollInterval: .milliseconds(500), rotatedGrace: .milliseconds(200)),
                     logger: sourceLogger())
    }

    @Test func filesThatAppearLaterAreFollowedFromTheirStart() async throws {
        let dir = sourceTestDirectory("later")
        defer { removeSourceTestDirectory(dir) }
        let sink = LineSink()
        let f = follower([dir + "/logs/*.log"], nil)
        let task = Task { try await f.run { await sink.add($0) } }
        try await Task.sleep(for: .milliseconds(100))
        mkdir(dir + "/logs", 0o755)   // even the folder appears later (slow poll, then inotify)
        sourceAppend(dir + "/logs/a.log", lines("a", 0..<10))
        #expect(await sourceEventually { await sink.count == 10 })
        sourceAppend(dir + "/logs/b.log", lines("b", 0..<5))
        sourceAppend(dir + "/logs/a.log", lines("a", 10..<12))
        #expect(await sourceEventually { await sink.count == 17 })
        task.cancel()
        try await task.value
        #expect(Set(await sink.texts) == Set((0..<12).map { "a \($0)" } + (0..<5).map { "b \($0)" }))
    }

    @Test func truncationInPlaceStartsOverAndDeletionIsSurvived() async throws {
        let dir = sourceTestDirectory("trunc")
        defer { removeSourceTestDirectory(dir) }
        let path = dir + "/a.log"
        sourceAppend(path, lines("first", 0..<20))
        let sink = LineSink()
        let f = follower([path], nil)
        let task = Task { try await f.run { await sink.add($0) } }
        #expect(await sourceEventually { await sink.count == 20 })
        truncate(path, 0)
        sourceAppend(path, lines("second", 0..<5))
        #expect(await sourceEventually { await sink.count == 25 })
        unlink(path)
        try await Task.sleep(for: .milliseconds(300))
        sourceAppend(path, lines("third", 0..<7))
        #expect(await sourceEventually { await sink.count == 32 })
        task.cancel()
        try await task.value
        #expect(await sink.texts == (0..<20).map { "first \($0)" } + (0..<5).map { "second \($0)" } + (0..<7).map { "third \($0)" })
        #expect(f.counts.truncations == 1)
    }

    @Test func aNewFileOnAReusedInodeIsReadFromItsStart() async throws {
        let dir = sourceTestDirectory("inode")
        defer { removeSourceTestDirectory(dir) }
        let store = try PositionStore(directory: dir + "/pos")
        let path = dir + "/a.log"
        sourceAppend(path, lines("old", 0..<10))
        let sink = LineSink()
        try await follower([path], store, follow: false).run { await sink.add($0) }
        var st = stat()
        stat(path, &st)
        let oldInode = st.st_ino
        // While the agent is down the file is deleted and a new one, longer than the saved
        // offset, is created (often on the same inode).
        unlink(path)
        sourceAppend(path, lines("new file, other first line", 0..<30))
        stat(path, &st)
        let sink2 = LineSink()
        try await follower([path], store, follow: false).run { await sink2.add($0) }
        #expect(await sink2.texts == (0..<30).map { "new file, other first line \($0)" })
        print("inode reused: \(st.st_ino == oldInode)")
    }

    @Test(arguments: ["rename", "copytruncate"])
    func aFileRotatedWhileTheAgentWasDownIsFinishedFromItsSavedOffset(how: String) async throws {
        let dir = sourceTestDirectory("down-\(how)")
        defer { removeSourceTestDirectory(dir) }
        let store = try PositionStore(directory: dir + "/pos")
        let path = dir + "/a.log"
        sourceAppend(path, lines("one", 0..<40))
        let sink = LineSink()
        try await follower([path], store, follow: false).run { await sink.add($0) }
        #expect(await sink.count == 40)
        sourceAppend(path, lines("one", 40..<55))   // written while down, before the rotation
        if how == "rename" {
            rename(path, path + ".1")
        } else {
            #expect(system("cp '\(path)' '\(path).1' && truncate -s 0 '\(path)'") == 0)
        }
        sourceAppend(path, lines("two", 0..<9))
        let f = follower([path], store, follow: false)
        try await f.run { await sink.add($0) }
        #expect(await sink.texts == (0..<55).map { "one \($0)" } + (0..<9).map { "two \($0)" })
        #expect(f.counts.recoveredRotated == 1)
        // And once more: nothing is read twice.
        let again = LineSink()
        try await follower([path], store, follow: false).run { await again.add($0) }
        #expect(await again.count == 0)
    }

    /// Compressed by gzip while down: finished from its saved offset in the decompressed content
    /// (issue 20; this test said "lost" before gzip files were read).
    @Test func aFileRotatedAndGzippedWhileDownIsFinishedFromItsSavedOffset() async throws {
        let dir = sourceTestDirectory("down-gz")
        defer { removeSourceTestDirectory(dir) }
        let store = try PositionStore(directory: dir + "/pos")
        let path = dir + "/a.log"
        sourceAppend(path, lines("one", 0..<10))
        try await follower([path], store, follow: false).run { _ in }
        sourceAppend(path, lines("one", 10..<20))
        rename(path, path + ".1")
        #expect(system("gzip '\(path).1'") == 0)
        sourceAppend(path, lines("two", 0..<3))
        let sink = LineSink()
        let f = follower([path], store, follow: false)
        try await f.run { await sink.add($0) }
        #expect(await sink.texts == (10..<20).map { "one \($0)" } + (0..<3).map { "two \($0)" })
        #expect(f.counts.recoveredRotated == 1)
        #expect(f.counts.lostFiles == 0)
        // The same positions as the plain file's: a line read before and after compression is one record.
        let fp = FileFingerprint.of(prefix: Array("one 0\n".utf8))!.value
        let offsets: [UInt64] = (0..<10).map { 60 + 7 * UInt64($0) }   // "one 0\n"..."one 9\n" are 6 bytes, then 7
        let expected: [SourcePosition] = offsets.map { .file(fingerprint: fp, offset: $0) }
        let got = await sink.lines.prefix(10).map(\.position)
        #expect(got == expected)
        let g = follower([path], store, follow: false)
        try await g.run { _ in }
        #expect(g.counts.lines == 0)
    }

    /// Compressed other than by gzip while down: what was written after the saved offset is lost,
    /// and said once.
    @Test(.enabled(if: access("/usr/bin/xz", X_OK) == 0, "needs /usr/bin/xz (apt-get install xz-utils)"))
    func aFileRotatedAndCompressedByXzWhileDownIsReportedLost() async throws {
        let dir = sourceTestDirectory("down-xz")
        defer { removeSourceTestDirectory(dir) }
        let store = try PositionStore(directory: dir + "/pos")
        let path = dir + "/a.log"
        sourceAppend(path, lines("one", 0..<10))
        try await follower([path], store, follow: false).run { _ in }
        sourceAppend(path, lines("one", 10..<20))
        rename(path, path + ".1")
        #expect(system("xz '\(path).1'") == 0)
        sourceAppend(path, lines("two", 0..<3))
        let sink = LineSink()
        let f = follower([path], store, follow: false)
        try await f.run { await sink.add($0) }
        #expect(await sink.texts == (0..<3).map { "two \($0)" })
        #expect(f.counts.lostFiles == 1)
        // Said once: the next start does not report it again.
        let g = follower([path], store, follow: false)
        try await g.run { _ in }
        #expect(g.counts.lostFiles == 0)
    }

    @Test func aFirstLineWrittenInPiecesGetsOneIdentity() async throws {
        let dir = sourceTestDirectory("growing")
        defer { removeSourceTestDirectory(dir) }
        let path = dir + "/a.log"
        sourceAppend(path, "2026-11-22 10:00:00.001 the first ")
        let sink = LineSink()
        let f = follower([path], nil)
        let task = Task { try await f.run { await sink.add($0) } }
        try await Task.sleep(for: .milliseconds(150))
        sourceAppend(path, "line\nsecond\n")
        #expect(await sourceEventually { await sink.count == 2 })
        task.cancel()
        try await task.value
        let live = await sink.lines.map(\.position)
        let replay = LineSink()
        try await follower([path], nil, follow: false).run { await replay.add($0) }
        #expect(await replay.lines.map(\.position) == live)
    }
}

/// Idle sources neither spin nor write: they wait on inotify / the journal's descriptor.
@Suite struct FileIdleTests {
    @Test func anIdleFollowerWakesRarelyAndWritesNothing() async throws {
        let dir = sourceTestDirectory("idle")
        defer { removeSourceTestDirectory(dir) }
        let store = try PositionStore(directory: dir + "/pos")
        let path = dir + "/a.log"
        sourceAppend(path, "one\ntwo\n")
        let f = FileFollower(configuration: .init(name: "idle", patterns: [path], positions: store, pollInterval: .seconds(2)),
                             logger: sourceLogger())
        let sink = LineSink()
        let task = Task { try await f.run { await sink.add($0) } }
        #expect(await sourceEventually { await sink.count == 2 })
        // Lines are handed over before their position is saved: wait for the save of the end (8).
        #expect(await sourceEventually { (try? store.load("idle"))??.values.contains { $0.hasPrefix("8 ") } == true })
        try await Task.sleep(for: .milliseconds(300))
        var st = stat()
        stat(store.path(for: "idle"), &st)
        let mtime = st.st_mtim
        let wakeupsBefore = f.counts.wakeups
        try await Task.sleep(for: .milliseconds(1500))
        stat(store.path(for: "idle"), &st)
        #expect(st.st_mtim.tv_sec == mtime.tv_sec && st.st_mtim.tv_nsec == mtime.tv_nsec, "position rewritten while idle")
        #expect(f.counts.wakeups - wakeupsBefore <= 1, "\(f.counts.wakeups - wakeupsBefore) wakeups in 1.5 s idle")
        task.cancel()
        try await task.value
    }
}
