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

/// SIGBUS from a mapped file that shrinks under the reader (what journald's vacuum and rotation
/// can do to sd-journal's mappings on systemd 252): the guard maps a zero page and counts it.
extension JournalSuites {
@Suite struct JournalSigbusTests {
    @Test func aReadBeyondATruncatedMappingIsSurvivedAndCounted() throws {
        try Self.provokeSigbus()
    }

    /// Maps a file, shrinks it, touches the lost page: one SIGBUS, survived.
    static func provokeSigbus() throws {
        SigbusGuard.install()
        let dir = sourceTestDirectory("sigbus")
        defer { removeSourceTestDirectory(dir) }
        let path = dir + "/mapped"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        let size = 4 * Int(sysconf(Int32(_SC_PAGESIZE)))
        try #require(ftruncate(fd, off_t(size)) == 0)
        let map = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0)
        try #require(map != UnsafeMutableRawPointer(bitPattern: -1))
        defer { munmap(map, size) }
        let bytes = map!.assumingMemoryBound(to: UInt8.self)
        #expect(bytes[size - 1] == 0)
        let before = SigbusGuard.faults
        // The file shrinks to nothing: touching the mapping now raises SIGBUS.
        try #require(ftruncate(fd, 0) == 0)
        let value = Self.readVolatile(bytes + (size - 1))
        #expect(value == 0)
        #expect(SigbusGuard.faults == before + 1)
    }

    /// A SIGBUS while a reader follows: it throws away what it read since its last hand-over,
    /// opens the journal again and goes on from its position, losing and doubling nothing.
    @Test(.needsJournalRemote)
    func aReaderReopensAfterASigbusAndLosesNothing() async throws {
        let dir = sourceTestDirectory("jsigbus")
        defer { removeSourceTestDirectory(dir) }
        let file = dir + "/j.journal"
        let chunk = 100, chunks = 4
        await writeJournal(file, (0..<chunk).map { .message("e\($0)", time: 1_795_000_000_000_000 + UInt64($0)) })
        let reader = JournalReader(configuration: .init(directory: dir, batchLines: 16), logger: sourceLogger())
        let sink = LineSink()
        let task = Task { try await reader.run { await sink.add($0) } }
        for c in 1..<chunks {
            let want = c * chunk
            #expect(await sourceEventually(20) { await sink.count >= want })
            try Self.provokeSigbus()
            await writeJournal(file, (want..<(want + chunk)).map { .message("e\($0)", time: 1_795_000_000_000_000 + UInt64($0)) })
        }
        #expect(await sourceEventually { await sink.count >= chunks * chunk })
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        try await task.value
        #expect(await sink.texts == (0..<(chunks * chunk)).map { "e\($0)" })
        #expect(reader.counts.sigbusFaults >= chunks - 1)
        #expect(reader.counts.reopens >= chunks - 1)
    }

    @inline(never)
    static func readVolatile(_ p: UnsafeMutablePointer<UInt8>) -> UInt8 {
        UnsafeRawPointer(p).loadUnaligned(as: UInt8.self)
    }
}
}
