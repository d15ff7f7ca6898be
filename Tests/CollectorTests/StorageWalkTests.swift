import Foundation
@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads
import Synchronization
import Testing
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

// Helpers shared by the Storage* tests (named storage… so they cannot clash with other suites').

func storageTestDirectory(_ name: String) -> String {
    var template = Array("/tmp/meetmeter-storage-\(name)-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
    guard let made else { Issue.record("mkdtemp failed: \(errno)"); return "/tmp/meetmeter-storage-missing" }
    return String(cString: made)
}

func storageRemoveTree(_ path: String) {
    guard path.hasPrefix("/tmp/meetmeter-storage-") else { return }
    _ = try? ChildProcess.run(["rm", "-rf", path])
}

func storageMakeDirectory(_ path: String) {
    do { try PosixFile.makeDirectory(path) } catch { Issue.record("mkdir \(path): \(error)") }
}

/// A file of `size` bytes of data (allocated, not sparse).
func storageWriteFile(_ path: String, size: Int) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { Issue.record("create \(path): \(errno)"); return }
    defer { close(fd) }
    let bytes = [UInt8](repeating: 0x78, count: size)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

func storageAppend(_ path: String, size: Int) {
    let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
    guard fd >= 0 else { Issue.record("open \(path): \(errno)"); return }
    defer { close(fd) }
    let bytes = [UInt8](repeating: 0x79, count: size)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

/// A sparse file of `size` bytes (ftruncate) with a few bytes written at `dataAt`.
func storageSparseFile(_ path: String, size: Int64, dataAt: [Int64]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { Issue.record("create \(path): \(errno)"); return }
    defer { close(fd) }
    #expect(ftruncate(fd, off_t(size)) == 0)
    for offset in dataAt {
        let bytes: [UInt8] = [1, 2, 3]
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
    }
}

func storageDu(_ path: String) -> Int64 {
    do { return try ChildProcess.du(path) } catch {
        Issue.record("du: \(error)")
        return -1
    }
}

/// `du -sB1 -c A B …`: the total of several trees, each inode once across them.
func storageDuTotal(_ paths: [String]) -> Int64 {
    do {
        let (_, output) = try ChildProcess.run(["du", "-sB1", "-c"] + paths)
        let last = output.split(separator: "\n").last ?? ""
        return Int64(last.split(separator: "\t").first ?? "") ?? -1
    } catch {
        Issue.record("du: \(error)")
        return -1
    }
}

func storageMeasure(_ root: String) -> (bytes: Int64, files: Int) {
    do { return try TreeUsage.measure(root: root) } catch {
        Issue.record("measure \(root): \(error)")
        return (-1, -1)
    }
}

@Suite struct StorageWalkTests {
    /// Every kind of entry a recording tree can hold, and those it should not but might.
    @Test func walkAgreesWithDuOnAMixedTree() throws {
        let top = storageTestDirectory("mixed")
        defer { storageRemoveTree(top) }
        let root = top + "/tree"
        let outside = top + "/outside"
        storageMakeDirectory(outside)
        storageWriteFile(outside + "/big", size: 3 << 20)
        storageWriteFile(outside + "/shared", size: 20_000)
        storageMakeDirectory(root + "/a/b/c/d/e")
        storageMakeDirectory(root + "/empty")
        storageWriteFile(root + "/zero", size: 0)
        storageWriteFile(root + "/one", size: 1)
        storageWriteFile(root + "/a/page", size: 4096)
        storageWriteFile(root + "/a/b/page-and-one", size: 4097)
        storageWriteFile(root + "/a/b/c/d/e/deep", size: 100_000)
        // Sparse: a 1 GiB file occupying a few blocks, and one with no data at all.
        storageSparseFile(root + "/a/sparse", size: 1 << 30, dataAt: [0, 512 << 20])
        storageSparseFile(root + "/a/b/hole", size: 64 << 20, dataAt: [])
        // Hard links: three names of one inode inside, one name of an inode that lives outside.
        storageWriteFile(root + "/a/linked", size: 50_000)
        #expect(link(root + "/a/linked", root + "/a/b/linked-again") == 0)
        #expect(link(root + "/a/linked", root + "/a/b/c/linked-third") == 0)
        #expect(link(outside + "/shared", root + "/a/shared-from-outside") == 0)
        // Symlinks: out of the tree (folder and file), within it, dangling, and one whose target
        // is too long to fit in the inode (a symlink with a block of its own on ext4).
        #expect(symlink(outside, root + "/to-outside") == 0)
        #expect(symlink(outside + "/big", root + "/a/to-big") == 0)
        #expect(symlink("/usr", root + "/a/b/to-usr") == 0)
        #expect(symlink("b", root + "/a/to-b") == 0)
        #expect(symlink("/nonexistent/target", root + "/dangling") == 0)
        #expect(symlink(String(repeating: "long/", count: 40) + "target", root + "/a/slow-symlink") == 0)
        #expect(mkfifo(root + "/a/fifo", 0o644) == 0)

        let ours = storageMeasure(root)
        #expect(ours.bytes == storageDu(root))
        // zero, one, page, page-and-one, deep, sparse, hole, linked (once), shared, 6 symlinks, fifo
        #expect(ours.files == 16)
        // The 3 MiB behind the symlinks is not ours.
        #expect(ours.bytes < 1 << 20)
    }

    @Test func aSymlinkedRootIsEnteredButNothingBelowIsFollowed() throws {
        let top = storageTestDirectory("symroot")
        defer { storageRemoveTree(top) }
        storageMakeDirectory(top + "/real/x")
        storageWriteFile(top + "/real/x/file", size: 10_000)
        storageMakeDirectory(top + "/elsewhere")
        storageWriteFile(top + "/elsewhere/big", size: 1 << 20)
        #expect(symlink(top + "/elsewhere", top + "/real/x/link") == 0)
        #expect(symlink(top + "/real", top + "/alias") == 0)
        // /var/bigbluebutton is often a symlink to a bigger disk: the configured root is resolved.
        let viaAlias = storageMeasure(top + "/alias")
        #expect(viaAlias.bytes == storageDu(top + "/real"))
        #expect(viaAlias.files == 2)
    }

    @Test func aDeepTreeAgreesWithDu() throws {
        let top = storageTestDirectory("deep")
        defer { storageRemoveTree(top) }
        var path = top + "/root"
        storageMakeDirectory(path)
        for level in 0..<300 {
            path += "/d"
            #expect(mkdir(path, 0o755) == 0)
            if level % 50 == 0 { storageWriteFile(path + "/f", size: 5000) }
        }
        let ours = storageMeasure(top + "/root")
        #expect(ours.bytes == storageDu(top + "/root"))
        #expect(ours.files == 6)
    }

    @Test func aMissingRootThrowsAndAFileRootIsItsOwnSize() throws {
        let top = storageTestDirectory("roots")
        defer { storageRemoveTree(top) }
        #expect(throws: FileError.self) { try TreeUsage.measure(root: top + "/missing") }
        storageWriteFile(top + "/file", size: 70_000)
        let file = storageMeasure(top + "/file")
        #expect(file.bytes == storageDu(top + "/file"))
        #expect(file.files == 1)
    }

    /// Entries removed or replaced between readdir and their stat/open, deterministically: the
    /// walker's hook changes the tree at exactly that moment.
    @Test func entriesVanishingOrReplacedMidWalkAreNotErrors() throws {
        let top = storageTestDirectory("vanish")
        defer { storageRemoveTree(top) }
        let root = top + "/tree"
        let away = top + "/away"
        storageMakeDirectory(away)
        storageMakeDirectory(root + "/gone-dir/inner")
        storageWriteFile(root + "/gone-dir/inner/file", size: 9000)
        storageMakeDirectory(root + "/swapped/inner")
        storageWriteFile(root + "/swapped/inner/file", size: 9000)
        storageMakeDirectory(root + "/kept")
        for i in 0..<20 { storageWriteFile(root + "/kept/f\(i)", size: 3000) }
        storageWriteFile(root + "/gone-file", size: 8000)

        var walker = TreeWalker()
        walker.beforeEntry = { relative in
            switch relative {
            case "gone-file": unlink(root + "/gone-file")
            case "gone-dir": storageRemoveTree(root + "/gone-dir")
            case "kept/f7": unlink(root + "/kept/f7")
            case "swapped":
                // Replaced by a symlink out of the tree: counted as the symlink, never entered.
                rename(root + "/swapped", away + "/swapped")
                symlink(away, root + "/swapped")
            default: break
            }
        }
        let totals = try TreeUsage.walk(root: root, walker: &walker)
        #expect(totals.vanished == 3, "gone-file, gone-dir, kept/f7")
        #expect(totals.unreadable == 0)
        #expect(totals.problem == nil)
        #expect(totals.bytes == storageDu(root))
        #expect(totals.files == 19 + 1, "19 kept files and the symlink")
    }

    /// A concurrent writer creates and deletes files and folders while the tree is walked again
    /// and again: no walk fails, every figure lies between the still and the busiest tree, and
    /// once the writer stops the walk agrees with du to the byte.
    @Test func walksSurviveAConcurrentWriter() async throws {
        let top = storageTestDirectory("churn")
        defer { storageRemoveTree(top) }
        let root = top + "/tree"
        for d in 0..<10 {
            storageMakeDirectory(root + "/still\(d)")
            for f in 0..<100 { storageWriteFile(root + "/still\(d)/f\(f)", size: 1000 + f * 37) }
        }
        let churn = root + "/churn"
        storageMakeDirectory(churn)
        // Make the churn folder as large as it will get, so its own blocks do not move the floor.
        for i in 0..<400 { storageWriteFile(churn + "/pre\(i)-with-a-long-name-to-fill-the-directory", size: 0) }
        for i in 0..<400 { unlink(churn + "/pre\(i)-with-a-long-name-to-fill-the-directory") }
        let floor = storageDu(root)

        // The writer is a thread of its own, not a task: on a loaded machine the walks below could
        // otherwise hold every thread of the cooperative pool and starve it.
        let shared = ChurnState()
        let writer = Thread {
            var round = 0
            while !shared.stop.load(ordering: .relaxed) {
                shared.progress.store(round, ordering: .relaxed)
                let dir = churn + "/d\(round % 8)"
                mkdir(dir, 0o755)
                for i in 0..<20 { storageWriteFile(dir + "/f\(i)", size: 4096) }
                for i in 0..<20 { unlink(dir + "/f\(i)") }
                rmdir(dir)
                round += 1
            }
            shared.rounds.store(round, ordering: .releasing)
        }
        writer.start()
        var walks = 0
        var vanished = 0
        let deadline = ContinuousClock.now + .seconds(20)
        // Walk until the writer has been busy for a while (it may start late on a loaded machine).
        while walks < 30 || (shared.progress.load(ordering: .relaxed) < 200 && ContinuousClock.now < deadline) {
            var walker = TreeWalker()
            let totals = try TreeUsage.walk(root: root, walker: &walker)
            #expect(totals.unreadable == 0, "\(totals.problem ?? "")")
            #expect(totals.bytes >= floor)
            // At most 8 folders of 20 pages each could be alive at once.
            #expect(totals.bytes <= floor + 8 * (20 * 4096 + 4096))
            vanished += totals.vanished
            walks += 1
            await Task.yield()   // a turn for the other suites' tasks between walks
        }
        shared.stop.store(true, ordering: .relaxed)
        while shared.rounds.load(ordering: .acquiring) < 0 { try await Task.sleep(for: .milliseconds(5)) }
        let rounds = shared.rounds.load(ordering: .acquiring)
        #expect(rounds > 0)
        print("storage churn: \(walks) walks during \(rounds) writer rounds, \(vanished) entries vanished mid-walk")
        #expect(storageMeasure(root).bytes == storageDu(root))
    }
}

/// What the churn test's writer thread and its walks share.
final class ChurnState: Sendable {
    let stop = Atomic<Bool>(false)
    let progress = Atomic<Int>(0)
    /// -1 until the writer has stopped; then its rounds.
    let rounds = Atomic<Int>(-1)
}

/// Runs the benchmark only when asked (MEETMETER_STORAGE_BENCH=files), and prints its line: a
/// rate, not a pass/fail.
@Suite struct StorageWalkBenchmarkTests {
    @Test(.enabled(if: getenv("MEETMETER_STORAGE_BENCH") != nil))
    func storageWalkBenchmark() throws {
        let files = getenv("MEETMETER_STORAGE_BENCH").flatMap { Int(String(cString: $0)) } ?? 200_000
        let line = try StorageWalkBenchmark.run(files: files)
        print(line)
        #expect(line.contains("bytes equal"))
    }
}
