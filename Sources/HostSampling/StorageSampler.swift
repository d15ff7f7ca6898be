import SystemCalls
import Logging
import NIOPosix
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

/// Samples storage on a fixed schedule and spools `storage.sample` records (issue 8):
///
/// - one record per recording found under the recording roots (scope `recording`, key the
///   recording id, `meeting` derived from it, `bytes` allocated as `du` counts them, summed over
///   raw, published and unpublished copies; extra fields `files` and `locations`, the bytes by
///   holding folder);
/// - one record per configured filesystem (scope `filesystem`, key its mount point, `bytes` used,
///   extra fields `free` (available to unprivileged users, as df's Avail) and `size`).
///
/// Like heartbeats, samples carry their scheduled time and are named by host, kind, key and that
/// time (DESIGN.md principles 2 and 6): a sample taken twice for a slot is stored once, and slots
/// missed while the agent was down are not invented afterwards.
public struct StorageSampler: Sendable {
    /// BigBlueButton's recording folders: raw archives, and the published and unpublished
    /// recordings of every format.
    public static let bigBlueButtonRecordingRoots = [
        "/var/bigbluebutton/recording/raw", "/var/bigbluebutton/published", "/var/bigbluebutton/unpublished",
    ]
    public static let defaultFilesystems = ["/", "/var/bigbluebutton"]
    public static let defaultInterval: Int64 = 900

    public let host: String
    public let interval: Int64
    public let recordingRoots: [String]
    public let filesystems: [String]
    let spool: any RecordSink
    let logger: Logger
    let clock: @Sendable () -> Timestamp
    let scanner: RecordingScanner

    /// - Parameters:
    ///   - interval: seconds between samples; slots are multiples of it since the epoch.
    ///   - quietPeriod, rewalkAfter: seconds; when a recording's figure may be reused without
    ///     walking its files (see `RecordingScanner`). Either 0 walks everything every time.
    public init(host: String, interval: Int64 = StorageSampler.defaultInterval,
                recordingRoots: [String] = StorageSampler.bigBlueButtonRecordingRoots,
                filesystems: [String] = StorageSampler.defaultFilesystems,
                spool: any RecordSink, logger: Logger,
                quietPeriod: Int64 = 3600, rewalkAfter: Int64 = 86_400,
                clock: @escaping @Sendable () -> Timestamp = Heartbeat.now)
    {
        self.host = host
        self.interval = max(interval, 1)
        self.recordingRoots = recordingRoots
        self.filesystems = filesystems
        self.spool = spool
        self.logger = logger
        self.clock = clock
        self.scanner = RecordingScanner(roots: recordingRoots, quietPeriod: quietPeriod, rewalkAfter: rewalkAfter)
    }

    /// The slot a time falls in, as heartbeats compute it.
    public func slot(containing t: Timestamp) -> Timestamp {
        Heartbeat.slot(containing: t, interval: interval)
    }

    /// Measures now and returns the records for `slot`. Blocking file-system work: `run` calls it
    /// on a thread of its own. Problems reading parts of the trees are logged, not thrown.
    public func sample(at slot: Timestamp) throws -> [UsageRecord] {
        var records: [UsageRecord] = []
        for r in scanner.scan(now: clock(), logger: logger) {
            var locations: [String: JSONValue] = [:]
            for (folder, bytes) in r.locations { locations[folder] = .integer(bytes) }
            records.append(record(slot: slot, sample: StorageSample(scope: "recording", key: r.key, meeting: r.meeting, bytes: r.bytes),
                                  extra: ["files": .integer(r.files), "locations": .object(locations)]))
        }
        var mounts: Set<String> = []
        for path in filesystems {
            guard let fs = FilesystemUsage.measure(path) else {
                logger.warning("cannot measure filesystem", metadata: ["path": "\(path)", "error": "\(String(cString: strerror(errno)))"])
                continue
            }
            // Two configured paths on one filesystem are one sample.
            guard mounts.insert(fs.mountPoint).inserted else { continue }
            records.append(record(slot: slot, sample: StorageSample(scope: "filesystem", key: fs.mountPoint, bytes: fs.used),
                                  extra: ["free": .integer(fs.free), "size": .integer(fs.size)]))
        }
        return records
    }

    /// The calling thread's kernel id, from /proc/thread-self (gettid is not imported).
    static func currentThreadID() -> id_t? {
        var buffer = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let last = text.split(separator: "/").last else { return nil }
        return id_t(last)
    }

    func record(slot: Timestamp, sample: StorageSample, extra: [String: JSONValue]) -> UsageRecord {
        UsageRecord(id: .sample(host: host, kind: .storageSample, key: sample.scope + ":" + sample.key, scheduled: slot),
                    time: slot, host: host, payload: .storageSample(sample), extra: extra)
    }

    /// Samples at every slot until cancelled. The first sample is for the slot the agent starts
    /// in (a restart within a slot repeats its ids, which the aggregator drops); after a sleep or a
    /// pass longer than the interval it skips to the current slot rather than back-filling.
    public func run() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        // The walk is background work on a host that serves live audio and video: its thread
        // runs at nice 10 (on Linux the nice value is per thread; the I/O schedulers that honour
        // priorities derive the thread's I/O priority from it).
        _ = try? await pool.runIfActive {
            if let tid = Self.currentThreadID() { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid, 10) }
        }
        var slot = self.slot(containing: clock())
        while !Task.isCancelled {
            let taken = slot
            let records = try await pool.runIfActive { try self.sample(at: taken) }
            if !records.isEmpty { try await spool.append(records) }
            slot = slot.adding(seconds: interval)
            let wait = slot.microseconds(since: clock())
            if wait > 0 { try await Task.sleep(for: .microseconds(wait)) }
            // After a long sleep, a clock step or a pass longer than the interval, skip to the
            // current slot; do not back-fill.
            let current = self.slot(containing: clock())
            if current > slot {
                logger.info("storage sampling skipped slots", metadata: ["from": "\(slot)", "to": "\(current)"])
                slot = current
            }
        }
    }
}

/// Used and free bytes of a filesystem, from statvfs.
struct FilesystemUsage: Sendable, Equatable {
    var mountPoint: String
    /// Blocks in use (`f_blocks - f_bfree`), as df's Used.
    var used: Int64
    /// Blocks available to unprivileged users (`f_bavail`), as df's Avail.
    var free: Int64
    var size: Int64

    /// nil (errno set) if the path cannot be measured.
    static func measure(_ path: String) -> FilesystemUsage? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        let unit = Int64(s.f_frsize)
        return FilesystemUsage(mountPoint: mountPoint(of: path) ?? path,
                               used: (Int64(s.f_blocks) - Int64(s.f_bfree)) * unit,
                               free: Int64(s.f_bavail) * unit, size: Int64(s.f_blocks) * unit)
    }

    /// The mount point holding `path`: the highest folder above it (symlinks resolved) on the same
    /// device.
    static func mountPoint(of path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        var current = String(cString: resolved)
        Glibc.free(resolved)
        var st = stat()
        guard stat(current, &st) == 0 else { return nil }
        let device = st.st_dev
        while current != "/" {
            let parent = PosixFile.directory(of: current)
            var pst = stat()
            guard stat(parent, &pst) == 0, pst.st_dev == device else { break }
            current = parent
        }
        return current
    }
}
