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

func temporaryDirectory(_ name: String) -> String {
    var template = Array("/tmp/meetmeter-\(name)-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    return path
}

func removeTree(_ path: String) {
    _ = path.withCString { p in system("rm -rf '\(String(cString: p))'") }
}

func sampleRecords(_ n: Int, from start: Int = 0, host: String = "h") -> [UsageRecord] {
    (start..<(start + n)).map { i in
        UsageRecord(id: RecordID(rawValue: "\(host):t:\(i)"), time: Timestamp(seconds: 1_800_000_000 + Int64(i)), host: host,
                    payload: .userJoined(UserJoined(meeting: "m\(i % 7)", user: "u\(i)", role: "VIEWER")))
    }
}

@Suite struct SpoolTests {
    @Test func appendReadAcknowledgeAndReopen() async throws {
        let dir = temporaryDirectory("spool")
        defer { removeTree(dir) }
        do {
            let spool = try Spool(configuration: SpoolConfiguration(directory: dir, maxBytes: 1 << 20, segmentBytes: 4096))
            try await spool.append(sampleRecords(100))
            let first = try await spool.entries(after: nil, limit: 30)
            #expect(first.map(\.id) == (0..<30).map { "h:t:\($0)" })
            try await spool.acknowledge(through: first.last!.end, count: first.count)
            #expect(await spool.pendingRecords == 70)
        }
        // A new process sees exactly the unacknowledged records, in order.
        let reopened = try Spool(configuration: SpoolConfiguration(directory: dir, maxBytes: 1 << 20, segmentBytes: 4096))
        #expect(await reopened.pendingRecords == 70)
        var ids: [String] = []
        var cursor: SpoolCursor?
        while ids.count < 70 {
            let batch = try await reopened.entries(after: cursor, limit: 25)
            ids += batch.map(\.id)
            cursor = batch.last?.end
        }
        #expect(ids == (30..<100).map { "h:t:\($0)" })
        let decoded = try RecordCodec.decode(try await reopened.entries(after: nil, limit: 1)[0].line)
        #expect(decoded == sampleRecords(1, from: 30)[0])
        try await reopened.acknowledge(through: cursor!, count: 70)
        #expect(await reopened.pendingRecords == 0)
        #expect(await reopened.pendingBytes == 0)
        // Finished segments are deleted: only the one being written remains.
        let segments = try PosixFile.list(dir).filter { $0.hasPrefix("segment-") }
        #expect(segments.count == 1)
    }

    @Test func aTornLastRecordIsCutAndTheRestKept() async throws {
        let dir = temporaryDirectory("spool-torn")
        defer { removeTree(dir) }
        do {
            let spool = try Spool(configuration: SpoolConfiguration(directory: dir))
            try await spool.append(sampleRecords(10))
        }
        // Half a record written when the power went.
        let path = dir + "/segment-000000000001.log"
        let fd = open(path, O_WRONLY | O_APPEND)
        _ = "0badc0de {\"id\":\"h:t:10\",\"ki".withCString { write(fd, $0, strlen($0)) }
        close(fd)
        let spool = try Spool(configuration: SpoolConfiguration(directory: dir))
        #expect(await spool.pendingRecords == 10)
        let all = try await spool.entries(after: nil, limit: 100)
        #expect(all.count == 10)
        // Appending after the repair continues cleanly.
        try await spool.append(sampleRecords(1, from: 10))
        #expect(try await spool.entries(after: nil, limit: 100).count == 11)
    }

    @Test func aCorruptRecordIsSkippedAndCounted() async throws {
        let dir = temporaryDirectory("spool-crc")
        defer { removeTree(dir) }
        do {
            let spool = try Spool(configuration: SpoolConfiguration(directory: dir))
            try await spool.append(sampleRecords(3))
        }
        let path = dir + "/segment-000000000001.log"
        var bytes = try #require(try PosixFile.readWhole(path))
        let second = bytes.firstIndex(of: 0x0A)! + 20
        bytes[second] ^= 0x01
        try PosixFile.replaceAtomically(path, with: bytes)
        let spool = try Spool(configuration: SpoolConfiguration(directory: dir))
        let all = try await spool.entries(after: nil, limit: 100)
        #expect(all.map(\.id) == ["h:t:0", "h:t:2"])
    }

    @Test func aFullSpoolMakesAppendWaitUntilAcknowledged() async throws {
        let dir = temporaryDirectory("spool-full")
        defer { removeTree(dir) }
        let spool = try Spool(configuration: SpoolConfiguration(directory: dir, maxBytes: 64 * 1024, segmentBytes: 16 * 1024))
        // Fill it.
        var n = 0
        while await spool.pendingBytes < 60 * 1024 {
            try await spool.append(sampleRecords(10, from: n))
            n += 10
        }
        let writer = Task { try await spool.append(sampleRecords(50, from: n)) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(await spool.pendingRecords == Int64(n), "the append waits while the spool is full")
        // Acknowledge everything that is there; the waiting append goes through.
        var cursor: SpoolCursor?
        var acked = 0
        while acked < n {
            let batch = try await spool.entries(after: cursor, limit: 100)
            cursor = batch.last!.end
            acked += batch.count
        }
        try await spool.acknowledge(through: cursor!, count: acked)
        try await writer.value
        #expect(await spool.pendingRecords == 50)
    }

    @Test func waitingForRecordsEndsOnCancel() async throws {
        let dir = temporaryDirectory("spool-cancel")
        defer { removeTree(dir) }
        let spool = try Spool(configuration: SpoolConfiguration(directory: dir))
        let reader = Task { try await spool.entries(after: nil, limit: 10) }
        try await Task.sleep(for: .milliseconds(50))
        reader.cancel()
        await #expect(throws: CancellationError.self) { _ = try await reader.value }
    }

    /// What the spool's segment files hold on disk, by the file system's own count.
    static func segmentBytesOnDisk(_ dir: String) throws -> UInt64 {
        var total: UInt64 = 0
        for name in try PosixFile.list(dir) where name.hasPrefix("segment-") {
            var st = stat()
            if stat(dir + "/" + name, &st) == 0 { total += UInt64(st.st_size) }
        }
        return total
    }

    /// Issue 20, item 6: the limit bounds the bytes on disk, acknowledged parts of a segment
    /// included, while a writer fills and a reader acknowledges a few records at a time.
    @Test func theLimitBoundsTheBytesOnDiskWhileFillingAndAcknowledging() async throws {
        let dir = temporaryDirectory("spool-disk-bound")
        defer { removeTree(dir) }
        let limit: UInt64 = 64 * 1024
        let spool = try Spool(configuration: SpoolConfiguration(directory: dir, maxBytes: limit, segmentBytes: 16 * 1024))
        #expect(spool.limitBytes == limit)
        let total = 3000
        let writer = Task {
            var most: UInt64 = 0
            for start in stride(from: 0, to: total, by: 10) {
                try await spool.append(sampleRecords(10, from: start))
                most = max(most, try Self.segmentBytesOnDisk(dir))
            }
            return most
        }
        // Acknowledge 7 at a time once the spool is full, so that segments are often partly done.
        while await spool.pendingBytes < limit - 2048 { try await Task.sleep(for: .milliseconds(5)) }
        var ids: [String] = []
        var most: UInt64 = 0
        var cursor: SpoolCursor?
        while ids.count < total {
            let batch = try await spool.entries(after: cursor, limit: 7)
            ids += batch.map(\.id)
            cursor = batch.last?.end
            if let cursor { try await spool.acknowledge(through: cursor, count: batch.count) }
            most = max(most, try Self.segmentBytesOnDisk(dir), await spool.diskBytes)
        }
        most = max(most, try await writer.value)
        print("spool on disk: limit \(limit), most seen \(most) (\(Double(most) / Double(limit))x), records \(ids.count) of \(total), distinct \(Set(ids).count)")
        #expect(most <= limit, "bytes on disk never above the limit")
        #expect(ids == (0..<total).map { "h:t:\($0)" }, "every record once, in order")
        #expect(await spool.pendingRecords == 0)
        // Everything acknowledged: what is left on disk is at most the last segment.
        #expect(try Self.segmentBytesOnDisk(dir) <= spool.segmentLimit + 16 * 1024)
    }

    /// A spool never gets to fill its file system: the limit is lowered to the room there is.
    @Test func theLimitNeverExceedsTheRoomOnTheFileSystem() throws {
        let petabyte: UInt64 = 1 << 50
        let lowered = Spool.limit(configured: petabyte, directory: "/tmp", pending: 0)
        #expect(lowered < petabyte)
        #expect(lowered >= 64 << 10)
        // What is already spooled counts as room: it is the spool's own.
        // (Other programs write meanwhile, so within a margin.)
        let withPending = Spool.limit(configured: petabyte, directory: "/tmp", pending: 1 << 30)
        #expect(withPending > lowered + (1 << 29))
        #expect(Spool.limit(configured: 1 << 20, directory: "/tmp", pending: 0) <= 1 << 20)
    }
}
