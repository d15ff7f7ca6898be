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

/// A journal file damaged in the middle ("Bad message"): the reader counts what it cannot read,
/// skips it, and goes on to the end; it never stops or spins.
extension JournalSuites {
@Suite struct JournalBadMessageTests {
    @Test(.needsJournalRemote)
    func aDamagedEntryIsSkippedAndCounted() async throws {
        let dir = sourceTestDirectory("jbad")
        defer { removeSourceTestDirectory(dir) }
        let file = dir + "/j.journal"
        let n = 200
        await writeJournal(file, (0..<n).map { .message("entry-\(String(1000 + $0))", time: 1_795_000_000_000_000 + UInt64($0) * 1000) })
        // Zero the 72 bytes before the payload of entry 1100: the data object's header and fields (compact format).
        var bytes = try #require(try PosixFile.readWhole(file))
        let needle = Array("MESSAGE=entry-1100".utf8)
        let at = try #require(bytes.withUnsafeBytes { hay -> Int? in
            let base = hay.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var i = 0
            while i + needle.count <= hay.count {
                guard let hit = memchr(base + i, Int32(needle[0]), hay.count - i - needle.count + 1) else { return nil }
                let at = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
                if memcmp(base + at, needle, needle.count) == 0 { return at }
                i = at + 1
            }
            return nil
        })
        for i in (at - 72)..<at { bytes[i] = 0 }
        let fd = open(file, O_WRONLY)
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        close(fd)
        let reader = JournalReader(configuration: .init(directory: dir, follow: false), logger: sourceLogger())
        let sink = LineSink()
        try await reader.run { await sink.add($0) }
        let texts = await sink.texts
        #expect(!texts.contains("entry-1100"))
        #expect(texts.contains("entry-1000"))
        #expect(texts.contains("entry-1099"))
        #expect(texts.contains("entry-1199"), "stopped at the damage")
        // libsystemd skips the damaged data object; the entry keeps its place, without MESSAGE.
        #expect(texts.count == n)
        #expect(texts.filter(\.isEmpty).count == 1)
        #expect(reader.counts.withoutMessage + reader.counts.unreadableEntries == 1)
        // Read past in one pass: not by opening the journal again and again.
        #expect(reader.counts.reopens == 0)
        print("bad message: \(reader.counts)")
    }
}
}
