@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads
import Logging
import Synchronization
import Testing
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

private let meetingA = "183f0bf3a0982a127bdb8161e0c44eb696b3e75c-1764000000000"
private let meetingB = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567-1764003600123"
private let chapterOfB = meetingB + "-1764004000"

private func storageLogger() -> Logger {
    var l = Logger(label: "storage-test")
    l.logLevel = .error
    return l
}

/// A BigBlueButton layout under `top`: raw, published (two formats), unpublished.
private struct BBBTree {
    let top: String
    var raw: String { top + "/var/bigbluebutton/recording/raw" }
    var published: String { top + "/var/bigbluebutton/published" }
    var unpublished: String { top + "/var/bigbluebutton/unpublished" }
    var roots: [String] { [raw, published, unpublished] }

    init(_ top: String) {
        self.top = top
        storageMakeDirectory(raw + "/" + meetingA + "/audio")
        storageMakeDirectory(raw + "/" + meetingA + "/video/" + meetingA)
        storageWriteFile(raw + "/" + meetingA + "/events.xml", size: 30_000)
        storageWriteFile(raw + "/" + meetingA + "/audio/a.opus", size: 200_000)
        storageSparseFile(raw + "/" + meetingA + "/video/" + meetingA + "/cam.webm", size: 10 << 20, dataAt: [0, 5 << 20])
        storageMakeDirectory(published + "/presentation/" + meetingA + "/shapes")
        storageWriteFile(published + "/presentation/" + meetingA + "/metadata.xml", size: 2000)
        for i in 0..<30 { storageWriteFile(published + "/presentation/" + meetingA + "/shapes/s\(i).svg", size: 700 + i) }
        storageMakeDirectory(published + "/video/" + meetingA)
        storageWriteFile(published + "/video/" + meetingA + "/video-0.m4v", size: 150_000)
        storageMakeDirectory(unpublished + "/presentation/" + meetingB)
        storageWriteFile(unpublished + "/presentation/" + meetingB + "/metadata.xml", size: 1500)
        storageMakeDirectory(raw + "/" + chapterOfB)
        storageWriteFile(raw + "/" + chapterOfB + "/events.xml", size: 12_000)
        // Not recordings: a loose file, and a symlink to a folder outside.
        storageWriteFile(published + "/index.html", size: 500)
        storageMakeDirectory(top + "/elsewhere/" + meetingB)
        storageWriteFile(top + "/elsewhere/" + meetingB + "/big", size: 1 << 20)
        #expect(symlink(top + "/elsewhere/" + meetingB, published + "/presentation/" + meetingB) == 0)
    }
}

/// A clock the test moves.
private final class TestClock: Sendable {
    private let offset = Mutex<Int64>(0)
    func advance(seconds: Int64) { offset.withLock { $0 += seconds } }
    /// Moves the clock on and gives the time just before, in one step (the clock runs in real
    /// time, so reading it and then moving it would leave a gap on a busy machine).
    func jump(seconds: Int64) -> Timestamp {
        offset.withLock { o in
            let before = Heartbeat.now().adding(seconds: o)
            o += seconds
            return before
        }
    }
    func set(seconds: Int64) { offset.withLock { $0 = seconds } }
    /// Read under the lock too, so that a jump cannot fall between reading the real time and
    /// reading the offset.
    var now: Timestamp { offset.withLock { Heartbeat.now().adding(seconds: $0) } }
}

private func storagePayload(_ r: UsageRecord) -> StorageSample? {
    if case .storageSample(let s) = r.payload { return s }
    return nil
}

@Suite struct StorageSamplerTests {
    @Test func recordingNamesGiveTheirMeeting() {
        #expect(RecordingName.meeting(of: meetingA) == meetingA)
        #expect(RecordingName.meeting(of: chapterOfB) == meetingB)
        #expect(RecordingName.meeting(of: "presentation") == nil)
        #expect(RecordingName.meeting(of: "183f0bf3a0982a127bdb8161e0c44eb696b3e75c") == nil)
        #expect(RecordingName.meeting(of: "183f0bf3a0982a127bdb8161e0c44eb696b3e75c-") == nil)
        #expect(RecordingName.meeting(of: "183f0bf3a0982a127bdb8161e0c44eb696b3e75g-1764000000000") == nil)
        #expect(RecordingName.meeting(of: meetingA + "-1-2") == nil)
        #expect(RecordingName.meeting(of: "") == nil)
    }

    @Test func oneSamplePerRecordingAndFilesystemAgreeingWithDu() async throws {
        let top = storageTestDirectory("bbb")
        defer { storageRemoveTree(top) }
        let tree = BBBTree(top)
        let spool = try Spool(configuration: SpoolConfiguration(directory: top + "/spool"))
        let sampler = StorageSampler(host: "bbb1", interval: 900, recordingRoots: tree.roots,
                                     filesystems: [top, "/tmp"], spool: spool, logger: storageLogger())
        let slot = sampler.slot(containing: Timestamp(rfc3339: "2026-11-22T10:17:42.5Z") ?? Timestamp(seconds: 0))
        #expect(slot == Timestamp(rfc3339: "2026-11-22T10:15:00Z"))
        let records = try sampler.sample(at: slot)

        let recordings = records.filter { storagePayload($0)?.scope == "recording" }
        #expect(recordings.map { storagePayload($0)?.key } == [meetingB, chapterOfB, meetingA].sorted())
        for r in records {
            #expect(r.time == slot)
            #expect(r.host == "bbb1")
            #expect(r.kind == .storageSample)
        }
        let a = recordings.first { storagePayload($0)?.key == meetingA }
        let locationsA = [tree.raw, tree.published + "/presentation", tree.published + "/video"]
        let duA = storageDuTotal(locationsA.map { $0 + "/" + meetingA })
        #expect(a.flatMap(storagePayload)?.bytes == duA)
        #expect(a.flatMap(storagePayload)?.meeting == meetingA)
        #expect(a?.extra["files"] == .integer(35))
        for folder in locationsA {
            #expect(a?.extra["locations"]?[folder] == .integer(storageDu(folder + "/" + meetingA)))
        }
        let chapter = recordings.first { storagePayload($0)?.key == chapterOfB }
        #expect(chapter.flatMap(storagePayload)?.meeting == meetingB)
        #expect(chapter.flatMap(storagePayload)?.bytes == storageDu(tree.raw + "/" + chapterOfB))
        // meetingB's published copy is a symlink out of the tree: only its unpublished copy counts.
        let b = recordings.first { storagePayload($0)?.key == meetingB }
        #expect(b.flatMap(storagePayload)?.bytes == storageDu(tree.unpublished + "/presentation/" + meetingB))

        // Two configured paths on the root filesystem are one sample, keyed by the mount point.
        let filesystems = records.filter { storagePayload($0)?.scope == "filesystem" }
        #expect(filesystems.count == 1)
        let (_, dfTarget) = try ChildProcess.run(["df", "--output=target", top])
        let mount = dfTarget.split(separator: "\n").last.map { String($0).trimmingSpaces } ?? ""
        #expect(filesystems.first.flatMap(storagePayload)?.key == mount)
        let (_, dfSize) = try ChildProcess.run(["df", "-B1", "--output=size", top])
        let size = dfSize.split(separator: "\n").last.flatMap { Int64(String($0).trimmingSpaces) }
        #expect(filesystems.first?.extra["size"] == size.map { .integer($0) })
        if let fs = filesystems.first.flatMap(storagePayload), let free = filesystems.first?.extra["free"]?.int64Value,
           let size
        {
            #expect(fs.bytes > 0 && free > 0 && fs.bytes + free <= size)
        }

        // Every record survives the wire codec unchanged.
        for r in records {
            #expect(try RecordCodec.decode(RecordCodec.encode(r)) == r)
        }
    }

    @Test func idsAreStablePerSlotAndDifferBetweenSlots() async throws {
        let top = storageTestDirectory("ids")
        defer { storageRemoveTree(top) }
        let tree = BBBTree(top)
        let spool = try Spool(configuration: SpoolConfiguration(directory: top + "/spool"))
        let sampler = StorageSampler(host: "bbb1", interval: 900, recordingRoots: tree.roots,
                                     filesystems: [top], spool: spool, logger: storageLogger())
        let t = Timestamp(rfc3339: "2026-11-22T10:15:00Z") ?? Timestamp(seconds: 0)
        let first = try sampler.sample(at: sampler.slot(containing: t.adding(seconds: 3)))
        // The tree changes, the slot does not: the same ids (the aggregator keeps the first).
        storageWriteFile(tree.raw + "/" + meetingA + "/more", size: 100_000)
        let again = try sampler.sample(at: sampler.slot(containing: t.adding(seconds: 899)))
        let next = try sampler.sample(at: sampler.slot(containing: t.adding(seconds: 900)))
        #expect(first.count == 4)
        #expect(first.map(\.id) == again.map(\.id))
        #expect(Set(first.map(\.id)).count == first.count)
        #expect(Set(next.map(\.id)).isDisjoint(with: Set(first.map(\.id))))
        // Named as heartbeats are: host, kind, key and scheduled time.
        #expect(first.allSatisfy { $0.id.rawValue.hasPrefix("bbb1:storage.sample:") && $0.id.rawValue.hasSuffix(":\(t.seconds)") })
        // A second host's samples never collide with the first's.
        let other = StorageSampler(host: "bbb2", interval: 900, recordingRoots: tree.roots, filesystems: [top],
                                   spool: spool, logger: storageLogger())
        #expect(Set(try other.sample(at: t).map(\.id)).isDisjoint(with: Set(first.map(\.id))))
        // The slot is the heartbeat's slot.
        let hb = Heartbeat(host: "bbb1", interval: 900, size: "x", spool: spool)
        #expect(sampler.slot(containing: t.adding(seconds: 1234)) == hb.slot(containing: t.adding(seconds: 1234)))
        // run() lowers its walking thread's priority by this id.
        #expect((StorageSampler.currentThreadID() ?? 0) > 0)
    }

    /// (The sampler walks on a thread of lowered priority, so on a busy machine a slot can take a
    /// while: the waits are long, and only their outcome is checked.)
    /// The agent runs the sampler, is "asleep" for an hour (the clock jumps), and resumes at the
    /// current slot without inventing the slots in between.
    @Test func runSpoolsEachSlotOnceAndDoesNotBackfill() async throws {
        let top = storageTestDirectory("run")
        defer { storageRemoveTree(top) }
        let tree = BBBTree(top)
        let spool = try Spool(configuration: SpoolConfiguration(directory: top + "/spool"))
        let clock = TestClock()
        let sampler = StorageSampler(host: "bbb1", interval: 1, recordingRoots: tree.roots, filesystems: [top],
                                     spool: spool, logger: storageLogger(), clock: { clock.now })
        let started = sampler.slot(containing: clock.now)
        let task = Task { try await sampler.run() }
        #expect(await sourceEventually(90) { await spool.pendingRecords >= 4 })
        let beforeJump = sampler.slot(containing: clock.jump(seconds: 3600))
        // Waiting for a count is not enough: the clock runs in real time, so a slot begun just
        // before the jump can add its samples after it. Wait for a sample of after the jump.
        let afterJump = beforeJump.adding(seconds: 3600)
        #expect(await sourceEventually(90) {
            let entries = (try? await spool.entries(after: nil, limit: 1000)) ?? []
            return entries.contains { entry in (try? RecordCodec.decode(entry.line)).map { $0.time >= afterJump } ?? false }
        })
        task.cancel()
        _ = try? await task.value

        let entries = try await spool.entries(after: nil, limit: 1000)
        let records = entries.compactMap { try? RecordCodec.decode($0.line) }
        #expect(records.count == entries.count)
        let slots = Set(records.map(\.time))
        // The first sample is for the slot the sampler started in, not an older one.
        let first = slots.min() ?? Timestamp(seconds: 0)
        #expect(first >= started && first <= beforeJump)
        // After the jump, slots resume at the current one; none of the hour slept through.
        let invented = slots.filter { $0 > beforeJump && $0 < afterJump }
        #expect(invented.isEmpty, "back-filled: \(invented.sorted())")
        #expect(slots.contains { $0 >= afterJump })
        // Each slot has each key once.
        #expect(Set(records.map(\.id)).count == records.count)
    }

    // MARK: Reusing the figures of finished recordings

    @Test func finishedRecordingsAreReusedUntilTheirFoldersChange() throws {
        let top = storageTestDirectory("cache")
        defer { storageRemoveTree(top) }
        let tree = BBBTree(top)
        let scanner = RecordingScanner(roots: tree.roots, quietPeriod: 3600, rewalkAfter: 86_400)
        // Two hours from now, everything made by this test has been quiet for an hour.
        let later = Heartbeat.now().adding(seconds: 7200)
        let logger = storageLogger()

        let first = scanner.scan(now: later, logger: logger)
        #expect(scanner.statistics.recordingFolders == 5)
        #expect(scanner.statistics.walked == 5)
        #expect(scanner.cachedCount == 5)
        let second = scanner.scan(now: later, logger: logger)
        #expect(scanner.statistics.reused == 5)
        #expect(scanner.statistics.walked == 0)
        #expect(second == first)

        // A file added deep in a recording changes a directory's mtime: that folder is walked.
        storageWriteFile(tree.raw + "/" + meetingA + "/video/" + meetingA + "/cam2.webm", size: 64_000)
        let third = scanner.scan(now: later, logger: logger)
        #expect(scanner.statistics.walked == 1)
        #expect(scanner.statistics.reused == 4)
        let a = third.first { $0.key == meetingA }
        #expect(a?.locations[tree.raw] == storageDu(tree.raw + "/" + meetingA))

        // A folder removed and made again under the same name is a new inode: walked.
        storageRemoveTree(tree.published + "/video/" + meetingA)
        storageMakeDirectory(tree.published + "/video/" + meetingA)
        storageWriteFile(tree.published + "/video/" + meetingA + "/video-0.m4v", size: 10_000)
        _ = scanner.scan(now: later, logger: logger)
        #expect(scanner.statistics.walked == 1)

        // A recording deleted is gone from the samples and from the cache.
        storageRemoveTree(tree.unpublished + "/presentation/" + meetingB)
        let fourth = scanner.scan(now: later, logger: logger)
        #expect(!fourth.contains { $0.key == meetingB })
        #expect(scanner.cachedCount == 4)
    }

    /// The documented limit: a finished recording's file rewritten in place goes unseen until the
    /// folder's periodic re-walk, which comes at the latest `rewalkAfter` after the last one.
    @Test func aFileGrowingInPlaceInAFinishedRecordingIsCaughtByTheRewalk() throws {
        let top = storageTestDirectory("inplace")
        defer { storageRemoveTree(top) }
        let tree = BBBTree(top)
        let scanner = RecordingScanner(roots: tree.roots, quietPeriod: 3600, rewalkAfter: 86_400)
        let later = Heartbeat.now().adding(seconds: 7200)
        let logger = storageLogger()
        let before = scanner.scan(now: later, logger: logger)
        storageAppend(tree.published + "/video/" + meetingA + "/video-0.m4v", size: 500_000)
        let stale = scanner.scan(now: later, logger: logger)
        #expect(stale == before)
        let rewalked = scanner.scan(now: later.adding(seconds: 86_400), logger: logger)
        #expect(scanner.statistics.walked == 5)
        let a = rewalked.first { $0.key == meetingA }
        #expect(a?.locations[tree.published + "/video"] == storageDu(tree.published + "/video/" + meetingA))
    }

    /// A recording still being written (anything changed within the quiet period) is walked at
    /// every pass, so a file growing in place is seen at once.
    @Test func recordingsBeingWrittenAreWalkedEveryTime() throws {
        let top = storageTestDirectory("active")
        defer { storageRemoveTree(top) }
        let tree = BBBTree(top)
        let scanner = RecordingScanner(roots: tree.roots, quietPeriod: 3600, rewalkAfter: 86_400)
        let logger = storageLogger()
        _ = scanner.scan(now: Heartbeat.now(), logger: logger)
        storageAppend(tree.raw + "/" + meetingA + "/audio/a.opus", size: 300_000)
        let after = scanner.scan(now: Heartbeat.now(), logger: logger)
        #expect(scanner.statistics.reused == 0)
        #expect(after.first { $0.key == meetingA }?.locations[tree.raw] == storageDu(tree.raw + "/" + meetingA))
    }

    /// A hard link shared by two recordings is counted once per pass, as `du -s a b` counts it,
    /// on the walking pass and on the reusing one.
    @Test func anInodeSharedByTwoRecordingsCountsOncePerPass() throws {
        let top = storageTestDirectory("shared")
        defer { storageRemoveTree(top) }
        let tree = BBBTree(top)
        let source = tree.published + "/presentation/" + meetingA + "/metadata.xml"
        storageWriteFile(source, size: 200_000)
        #expect(link(source, tree.unpublished + "/presentation/" + meetingB + "/copy.xml") == 0)
        let scanner = RecordingScanner(roots: tree.roots, quietPeriod: 3600, rewalkAfter: 86_400)
        let later = Heartbeat.now().adding(seconds: 7200)
        let folders = [tree.raw + "/" + meetingA, tree.raw + "/" + chapterOfB,
                       tree.published + "/presentation/" + meetingA, tree.published + "/video/" + meetingA,
                       tree.unpublished + "/presentation/" + meetingB]
        let expected = storageDuTotal(folders)
        let walked = scanner.scan(now: later, logger: storageLogger())
        #expect(walked.reduce(0) { $0 + $1.bytes } == expected)
        let reused = scanner.scan(now: later, logger: storageLogger())
        #expect(scanner.statistics.reused == 5)
        #expect(reused.reduce(0) { $0 + $1.bytes } == expected)
    }

    @Test func mountPointsAreFoundAsDfFindsThem() throws {
        for path in ["/", "/tmp", "/proc/self", "/dev"] {
            let (_, out) = try ChildProcess.run(["df", "--output=target", path])
            let expected = out.split(separator: "\n").last.map { String($0).trimmingSpaces }
            #expect(FilesystemUsage.mountPoint(of: path) == expected, "\(path)")
        }
        #expect(FilesystemUsage.measure("/nonexistent/path") == nil)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
