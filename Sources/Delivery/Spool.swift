#if canImport(Glibc)
import Glibc
#endif

import SystemCalls
import Logging
import Metrics
import UsageRecords

/// Where a spooled record ends: its segment and the byte after its frame.
public struct SpoolCursor: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var segment: UInt64
    public var offset: UInt64
    public init(segment: UInt64, offset: UInt64) {
        self.segment = segment
        self.offset = offset
    }

    public static func < (a: SpoolCursor, b: SpoolCursor) -> Bool { (a.segment, a.offset) < (b.segment, b.offset) }
    public var description: String { "\(segment):\(offset)" }
}

/// A record waiting in the spool: its encoded line and where it ends.
public struct SpoolEntry: Sendable {
    public var line: String
    public var id: String
    public var end: SpoolCursor
}

public struct SpoolConfiguration: Sendable {
    public var directory: String
    /// The most bytes the spool's segment files may hold on disk, acknowledged parts of a segment
    /// included (a segment is deleted only once all of it is acknowledged); when an append would
    /// go over, it waits.
    public var maxBytes: UInt64
    public var segmentBytes: UInt64

    public init(directory: String, maxBytes: UInt64 = 256 * 1024 * 1024, segmentBytes: UInt64 = 8 * 1024 * 1024) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.segmentBytes = min(segmentBytes, max(maxBytes / 4, 4096))
    }
}

/// The agent's disk buffer between reading and shipping (DESIGN.md principles 3–5).
///
/// Records are appended to segment files as `<crc32 hex> <record line>\n` and fsynced before
/// `append` returns, so the caller may then advance its source position. The shipper reads them
/// back in order and acknowledges what the aggregator committed; fully acknowledged segments are
/// deleted. The spool is bounded by what its segment files hold on disk: when full, `append`
/// waits, so the sources stop reading and their positions stay put — nothing is dropped. A write
/// that fails because the file system is full is undone (the segment cut back to its last whole
/// record) and retried with backoff the same way (`StateDisk`).
public actor Spool: RecordSink {
    public let configuration: SpoolConfiguration
    private let logger: Logger
    private var segments: [UInt64] = []
    private var sizes: [UInt64: UInt64] = [:]
    private var writeFD: Int32 = -1
    private var acked: SpoolCursor
    private var waitersForData: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var waitersForSpace: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter: UInt64 = 0
    private var corruptFrames = 0
    private var pendingRecordCount: Int64 = 0

    private let bytesGauge: Gauge
    private let recordsGauge: Gauge
    private let fullCounter: Counter
    private let diskBytesGauge: Gauge
    private var isFull = false
    /// Told of writes that fail for want of room; shared with the agent's position stores.
    public nonisolated let disk: StateDisk
    /// The `acked` file is behind the acknowledged position (its write found no room): written
    /// again at the next acknowledgement or append.
    private var ackFileStale = false
    /// The size at which a segment is closed and the next begun: `configuration.segmentBytes`,
    /// or a quarter of `limitBytes` when that is less, so that the one segment that is partly
    /// acknowledged never keeps much of the limit from use.
    public nonisolated let segmentLimit: UInt64
    /// The limit in force: `maxBytes`, or less when the file system had less room at start (the
    /// spool must never fill the disk that BigBlueButton records to).
    public nonisolated let limitBytes: UInt64
    /// When each appended batch that is not yet acknowledged arrived, oldest first, by the cursor
    /// of its end: the age of the oldest tells whether the agent is keeping up.
    private var appendTimes: [(end: SpoolCursor, at: ContinuousClock.Instant)] = []

    private var ackPath: String { configuration.directory + "/acked" }
    private func segmentPath(_ seq: UInt64) -> String { Self.segmentPath(configuration.directory, seq) }

    private static func segmentPath(_ directory: String, _ seq: UInt64) -> String {
        let digits = String(seq)
        return directory + "/segment-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits + ".log"
    }

    /// What is on disk when the spool opens.
    private struct Recovered {
        var segments: [UInt64]
        var sizes: [UInt64: UInt64]
        var acked: SpoolCursor
        var writeFD: Int32
        var pendingRecords: Int64
    }

    /// Opens (or creates) the spool in its folder, repairing a torn last record left by a crash.
    public init(configuration: SpoolConfiguration, logger: Logger = Logger(label: "meetmeter.spool"),
                disk: StateDisk? = nil) throws
    {
        let r = try Self.recover(configuration.directory, logger: logger)
        self.configuration = configuration
        self.logger = logger
        self.disk = disk ?? StateDisk(logger: logger)
        self.diskBytesGauge = Gauge(label: "meetmeter_agent_spool_disk_bytes")
        self.bytesGauge = Gauge(label: "meetmeter_agent_spool_bytes")
        self.recordsGauge = Gauge(label: "meetmeter_agent_spool_records")
        self.fullCounter = Counter(label: "meetmeter_agent_spool_full_total")
        self.segments = r.segments
        self.sizes = r.sizes
        self.acked = r.acked
        self.writeFD = r.writeFD
        self.pendingRecordCount = r.pendingRecords
        let pending = r.segments.reduce(UInt64(0)) { $0 + (r.sizes[$1] ?? 0) }
        let limit = Self.limit(configured: configuration.maxBytes, directory: configuration.directory, pending: pending)
        if limit < configuration.maxBytes {
            logger.warning("the spool's file system has less room than spool.max_bytes; the spool is kept smaller", metadata: [
                "directory": "\(configuration.directory)", "max_bytes": "\(configuration.maxBytes)", "limit": "\(limit)",
            ])
        }
        self.limitBytes = limit
        self.segmentLimit = min(configuration.segmentBytes, max(limit / 4, 4096))
        if r.pendingRecords > 0, let last = r.segments.last {
            // Records left from before a restart count as arrived now: their real age is unknown.
            self.appendTimes = [(SpoolCursor(segment: last, offset: r.sizes[last] ?? 0), .now)]
        }
    }

    /// The configured limit, lowered to what the file system can hold beside what is already
    /// spooled, keeping 5% of it (at most 1 GiB) free for everyone else; never below 64 KiB.
    static func limit(configured: UInt64, directory: String, pending: UInt64) -> UInt64 {
        var fs = statvfs()
        guard statvfs(directory, &fs) == 0 else { return configured }
        let size = UInt64(fs.f_blocks) * UInt64(fs.f_frsize)
        let free = UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
        let reserve = min(size / 20, 1 << 30)
        let room = pending + (free > reserve ? free - reserve : 0)
        return max(min(configured, room), 64 << 10)
    }

    /// How long the oldest record not yet acknowledged has waited (since it was spooled, or since
    /// the agent started for records left from before); nil when everything is acknowledged.
    public var oldestPendingAge: Duration? {
        guard pendingRecordCount > 0, let first = appendTimes.first else { return nil }
        return ContinuousClock.now - first.at
    }

    private static func recover(_ directory: String, logger: Logger) throws -> Recovered {
        try PosixFile.makeDirectory(directory)
        var found: [UInt64] = []
        for name in try PosixFile.list(directory) where name.hasPrefix("segment-") && name.hasSuffix(".log") {
            if let seq = UInt64(name.dropFirst(8).dropLast(4)) { found.append(seq) }
        }
        found.sort()
        var acked = SpoolCursor(segment: found.first ?? 1, offset: 0)
        if let bytes = try PosixFile.readWhole(directory + "/acked"),
           let text = String(validating: bytes, as: UTF8.self)
        {
            let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
            if parts.count == 2, let s = UInt64(parts[0]), let o = UInt64(parts[1]) {
                acked = SpoolCursor(segment: s, offset: o)
            }
        }
        if found.isEmpty { found = [acked.segment] }
        // Segments before the acknowledged one are done; a crash may have left them.
        for seq in found where seq < acked.segment { unlink(segmentPath(directory, seq)) }
        var segments = found.filter { $0 >= acked.segment }
        if segments.isEmpty { segments = [acked.segment] }
        var sizes: [UInt64: UInt64] = [:]
        for seq in segments {
            let path = segmentPath(directory, seq)
            let fd = try PosixFile.open(path, O_RDWR | O_CREAT)
            defer { close(fd) }
            var size = try PosixFile.size(fd, path: path)
            if seq == segments.last {
                size = try repairTail(fd: fd, size: size, path: path, logger: logger)
            }
            sizes[seq] = size
        }
        if acked.segment < segments[0] || (acked.segment == segments[0] && acked.offset > sizes[segments[0]] ?? 0) {
            acked = SpoolCursor(segment: segments[0], offset: 0)
        }
        let writeFD = try PosixFile.open(segmentPath(directory, segments[segments.count - 1]), O_WRONLY | O_APPEND)
        var pending: Int64 = 0
        for seq in segments {
            guard let bytes = try PosixFile.readWhole(segmentPath(directory, seq)) else { continue }
            let from = seq == acked.segment ? Int(min(acked.offset, UInt64(bytes.count))) : 0
            pending += Int64(bytes[from...].lazy.filter { $0 == 0x0A }.count)
        }
        return Recovered(segments: segments, sizes: sizes, acked: acked, writeFD: writeFD, pendingRecords: pending)
    }

    deinit {
        if writeFD >= 0 { close(writeFD) }
    }

    /// Cuts a record that a crash left half written at the end of the last segment.
    private static func repairTail(fd: Int32, size: UInt64, path: String, logger: Logger) throws -> UInt64 {
        guard size > 0 else { return 0 }
        let window = min(size, UInt64(RecordCodec.maximumLineBytes + 16))
        let tail = try PosixFile.pread(fd, count: Int(window), offset: size - window, path: path)
        if tail.last == 0x0A { return size }
        let keep: UInt64
        if let nl = tail.lastIndex(of: 0x0A) {
            keep = size - window + UInt64(nl + 1)
        } else {
            keep = size - window
        }
        logger.warning("cut a torn record at the end of the spool", metadata: [
            "file": "\(path)", "bytes": "\(size - keep)",
        ])
        guard ftruncate(fd, off_t(keep)) == 0 else { throw FileError(path: path, operation: "truncate", errno: errno) }
        try PosixFile.fsync(fd, path: path)
        return keep
    }

    // MARK: Writing

    /// Bytes held that the aggregator has not acknowledged.
    public var pendingBytes: UInt64 {
        var total: UInt64 = 0
        for seq in segments { total += sizes[seq] ?? 0 }
        return total - (segments.first == acked.segment ? acked.offset : 0)
    }

    public var pendingRecords: Int64 { pendingRecordCount }

    /// Bytes the segment files hold on disk: what the limit bounds.
    public var diskBytes: UInt64 {
        var total: UInt64 = 0
        for seq in segments { total += sizes[seq] ?? 0 }
        return total
    }

    /// Whether every record written is acknowledged: then the last segment, all of it done, can
    /// make way for a fresh one.
    private var allAcknowledged: Bool {
        guard let last = segments.last else { return true }
        return acked.segment == last && acked.offset >= sizes[last] ?? 0
    }

    /// Whether `count` more bytes fit under the limit on disk, counting as free what a fresh
    /// segment would reclaim when everything is acknowledged. A batch larger than the whole spool
    /// is let in when the spool holds nothing pending, or it could never be.
    private func fits(_ count: UInt64) -> Bool {
        let held = allAcknowledged ? 0 : diskBytes
        return held == 0 || held + count <= limitBytes
    }

    /// Appends the records and fsyncs them. Returns only when they are safe on disk; waits while
    /// the spool is full.
    public func append(_ records: [UsageRecord]) async throws {
        guard !records.isEmpty else { return }
        var frames: [UInt8] = []
        frames.reserveCapacity(records.count * 256)
        for record in records {
            // `crc32hex line\n`, the record encoded in place and its checksum written before it.
            let head = frames.count
            frames.append(contentsOf: [0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x20])
            RecordCodec.encode(record, into: &frames)
            var crc = CRC32.checksum(frames[(head + 9)...])
            for i in (head..<(head + 8)).reversed() {
                let digit = UInt8(crc & 0xF)
                frames[i] = digit < 10 ? 0x30 + digit : 0x61 + digit - 10
                crc >>= 4
            }
            frames.append(0x0A)
        }
        var backoff = disk.initialBackoff
        // Each waiting append is a writer of its own: a small one that gets through while a
        // larger one still finds no room must not end the episode.
        let writer = "spool append \(nextWaiter)"
        nextWaiter += 1
        while true {
            while !fits(UInt64(frames.count)) {
                if !isFull {
                    isFull = true
                    fullCounter.increment()
                    logger.warning("spool is full; reading stops until the aggregator acknowledges records",
                                   metadata: ["bytes": "\(diskBytes)", "pending_bytes": "\(pendingBytes)", "limit": "\(limitBytes)"])
                }
                try Task.checkCancellation()
                await wait(forSpace: true)
            }
            if isFull {
                isFull = false
                logger.info("spool has room again; reading resumes", metadata: ["bytes": "\(diskBytes)"])
            }
            do {
                try write(frames, records: records.count)
                disk.succeeded(writer)
                break
            } catch {
                guard StateDisk.isNoRoom(error) else { throw error }
                // Nothing of the batch counts as spooled: the caller keeps its position and waits.
                disk.failed(writer, error)
                do {
                    try await Task.sleep(for: backoff)
                } catch {
                    disk.withdrew(writer)
                    throw error
                }
                backoff = disk.next(after: backoff)
            }
        }
        writeStaleAckFile()
        updateGauges()
        wakeAll(&waitersForData)
    }

    /// Writes one batch at the end of the last segment (a fresh one when that is full, or when it
    /// is all acknowledged and the batch would not fit beside it) and fsyncs it. A write or fsync
    /// that fails is undone: the segment is cut back to its last whole record, so that a retry
    /// appends where the reader expects the next frame.
    private func write(_ frames: [UInt8], records: Int) throws(FileError) {
        guard let current = segments.last else { return }
        let size = sizes[current] ?? 0
        if size >= segmentLimit || (size > 0 && allAcknowledged && diskBytes + UInt64(frames.count) > limitBytes) {
            try roll(after: current)
        }
        guard let last = segments.last else { return }
        let path = segmentPath(last)
        let fd = writeFD
        let before = sizes[last] ?? 0
        var failure: FileError?
        frames.withUnsafeBytes { raw in
            do throws(FileError) { try PosixFile.writeAll(fd, raw, path: path) } catch { failure = error }
        }
        if failure == nil {
            do throws(FileError) { try PosixFile.fsync(fd, path: path) } catch { failure = error }
        }
        if let failure {
            // Cutting back needs no room. If it fails, the segment no longer matches what the
            // spool knows of it: that is not a full disk, and the agent stops.
            guard ftruncate(fd, off_t(before)) == 0 else {
                throw FileError(path: path, operation: "truncate after a failed write (\(failure))", errno: errno)
            }
            throw failure
        }
        sizes[last] = before + UInt64(frames.count)
        pendingRecordCount += Int64(records)
        appendTimes.append((SpoolCursor(segment: last, offset: sizes[last] ?? 0), .now))
    }

    /// Begins segment `current + 1`. The new file is made and made durable before the old one is
    /// let go, so a failure (no room for the folder entry) leaves the spool as it was.
    private func roll(after current: UInt64) throws(FileError) {
        try PosixFile.fsync(writeFD, path: segmentPath(current))
        let next = current + 1
        let path = segmentPath(next)
        let fd = try PosixFile.open(path, O_WRONLY | O_APPEND | O_CREAT)
        do throws(FileError) {
            try PosixFile.fsyncDirectory(configuration.directory)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        close(writeFD)
        writeFD = fd
        segments.append(next)
        sizes[next] = 0
        if acked.segment == current && acked.offset >= sizes[current] ?? 0 {
            // Everything before the new segment is acknowledged: its file goes now. The `acked`
            // file may still name it; on opening, a position in a segment that is gone means the
            // start of the next.
            acked = SpoolCursor(segment: next, offset: 0)
            dropFinishedSegments()
        }
    }

    // MARK: Reading and acknowledging

    /// The first acknowledged-not-yet position: where a new connection starts sending.
    public var acknowledged: SpoolCursor { acked }

    /// Up to `limit` records after `cursor` (or after the acknowledged position); waits until there
    /// is at least one.
    public func entries(after cursor: SpoolCursor?, limit: Int, maxBytes: Int = 1 << 20) async throws -> [SpoolEntry] {
        while true {
            let found = try availableEntries(after: cursor, limit: limit, maxBytes: maxBytes)
            if !found.isEmpty { return found }
            try Task.checkCancellation()
            await wait(forSpace: false)
        }
    }

    /// Up to `limit` records after `cursor` (or after the acknowledged position), none when there
    /// are none yet: the shipper tops up its window of batches in flight without waiting.
    public func availableEntries(after cursor: SpoolCursor?, limit: Int, maxBytes: Int = 1 << 20) throws -> [SpoolEntry] {
        try read(from: max(cursor ?? acked, acked), limit: limit, maxBytes: maxBytes)
    }

    private func read(from start: SpoolCursor, limit: Int, maxBytes: Int) throws -> [SpoolEntry] {
        var out: [SpoolEntry] = []
        var cursor = start
        var budget = maxBytes
        while out.count < limit, budget > 0 {
            guard let size = sizes[cursor.segment] else { break }
            if cursor.offset >= size {
                // Move on to the next segment if there is one.
                guard let next = segments.first(where: { $0 > cursor.segment }) else { break }
                cursor = SpoolCursor(segment: next, offset: 0)
                continue
            }
            let path = segmentPath(cursor.segment)
            let fd = try PosixFile.open(path, O_RDONLY)
            defer { close(fd) }
            let want = Int(min(UInt64(max(budget, RecordCodec.maximumLineBytes + 16)), size - cursor.offset))
            let bytes = try PosixFile.pread(fd, count: want, offset: cursor.offset, path: path)
            // Frames are cut as every line is (LineCutter); an unfinished last frame is read again
            // from its start by the next call.
            var cutter = LineCutter(maximumLineBytes: RecordCodec.maximumLineBytes + 16)
            var start = 0
            var progressed = false
            let segmentOffset = cursor.offset
            bytes.withUnsafeBufferPointer { all in
                _ = cutter.cut(all) { line in
                    let end = SpoolCursor(segment: cursor.segment, offset: segmentOffset + UInt64(start + line.extent))
                    if !line.wasCut, let entry = Self.decodeFrame(line.bytes, end: end) {
                        out.append(entry)
                        budget -= line.bytes.count
                    } else {
                        corruptFrames += 1
                        logger.error("skipped a spooled record whose checksum does not match (disk corruption?)",
                                     metadata: ["file": "\(path)", "offset": "\(segmentOffset + UInt64(start))"])
                    }
                    start += line.extent
                    progressed = true
                    return out.count < limit && budget > 0
                }
            }
            cursor = SpoolCursor(segment: cursor.segment, offset: cursor.offset + UInt64(start))
            if !progressed { break }
        }
        return out
    }

    private static func decodeFrame(_ frame: UnsafeBufferPointer<UInt8>, end: SpoolCursor) -> SpoolEntry? {
        guard frame.count > 9, frame[8] == 0x20,
              let expected = UInt32(String(decoding: frame.prefix(8), as: UTF8.self), radix: 16)
        else { return nil }
        let body = frame.dropFirst(9)
        guard CRC32.checksum(body) == expected, let line = String(validating: body, as: UTF8.self) else { return nil }
        // The id is needed to match acknowledgements; it is the first field of every encoded record.
        var id = ""
        if line.hasPrefix("{\"id\":\""), let close = line.dropFirst(7).firstIndex(of: "\"") {
            id = String(line[line.index(line.startIndex, offsetBy: 7)..<close])
        }
        return SpoolEntry(line: line, id: id, end: end)
    }

    /// Marks everything up to `cursor` as committed by the aggregator; deletes finished segments.
    public func acknowledge(through cursor: SpoolCursor, count: Int) throws {
        guard cursor > acked else { return }
        acked = cursor
        pendingRecordCount = max(0, pendingRecordCount - Int64(count))
        let done = appendTimes.prefix { $0.end <= cursor }.count
        appendTimes.removeFirst(done)
        dropFinishedSegments()
        do {
            try writeAckFile()
        } catch {
            guard StateDisk.isNoRoom(error) else { throw error }
            // The records are the aggregator's now; should the agent stop before the file is
            // written, it sends some again and the aggregator answers "duplicate". Deleting
            // finished segments above is what gives the room back.
            ackFileStale = true
            disk.failed("spool acknowledgements", error)
        }
        updateGauges()
        wakeAll(&waitersForSpace)
    }

    /// Deletes the segments before the acknowledged position (the last one stays, it is written to).
    private func dropFinishedSegments() {
        while segments.count > 1, let first = segments.first, first < acked.segment
            || (first == acked.segment && acked.offset >= sizes[first] ?? 0)
        {
            unlink(segmentPath(first))
            segments.removeFirst()
            sizes[first] = nil
            if acked.segment <= first, let next = segments.first { acked = SpoolCursor(segment: next, offset: 0) }
        }
    }

    private func writeAckFile() throws(FileError) {
        try PosixFile.replaceAtomically(ackPath, with: Array("\(acked.segment) \(acked.offset)\n".utf8))
        if ackFileStale {
            ackFileStale = false
            disk.succeeded("spool acknowledgements")
        }
    }

    private func writeStaleAckFile() {
        guard ackFileStale else { return }
        do {
            try writeAckFile()
        } catch {
            // Not a full disk: the next acknowledgement tries again and throws it to the shipper.
            if StateDisk.isNoRoom(error) { disk.failed("spool acknowledgements", error) }
        }
    }

    private func updateGauges() {
        bytesGauge.record(Double(pendingBytes))
        recordsGauge.record(Double(pendingRecordCount))
        diskBytesGauge.record(Double(diskBytes))
    }

    // MARK: Waiting

    private func wait(forSpace: Bool) async {
        let id = nextWaiter
        nextWaiter += 1
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                if Task.isCancelled {
                    c.resume()
                } else if forSpace {
                    waitersForSpace[id] = c
                } else {
                    waitersForData[id] = c
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func cancelWaiter(_ id: UInt64) {
        waitersForData.removeValue(forKey: id)?.resume()
        waitersForSpace.removeValue(forKey: id)?.resume()
    }

    private func wakeAll(_ waiters: inout [UInt64: CheckedContinuation<Void, Never>]) {
        let all = waiters
        waiters = [:]
        for (_, c) in all { c.resume() }
    }
}
