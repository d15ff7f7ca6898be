import SystemCalls
import Logging
import Synchronization
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

/// Recording folder names: BigBlueButton names a recording by its meeting's internal id,
/// `<sha1 hex>-<epoch ms>`, and a chapter segment (recording breaks) by that id and a
/// `-<break timestamp>` suffix.
public enum RecordingName {
    /// The internal meeting id a recording folder's name derives from, or nil if the name is not
    /// a recording id.
    public static func meeting(of name: String) -> String? {
        let parts = name.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        let hash = parts[0]
        guard hash.count == 40, hash.allSatisfy(isHex) else { return nil }
        guard (10...16).contains(parts[1].count), parts[1].allSatisfy(isDigit) else { return nil }
        if parts.count == 3 {
            guard (1...16).contains(parts[2].count), parts[2].allSatisfy(isDigit) else { return nil }
        }
        return String(decoding: hash, as: UTF8.self) + "-" + String(decoding: parts[1], as: UTF8.self)
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private static func isHex(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)
    }
}

/// One recording's storage in one sampling pass, summed over every place it was found (raw,
/// each published and unpublished format).
public struct RecordingUsage: Sendable, Equatable {
    var key: String
    var meeting: String?
    var bytes: Int64 = 0
    var files = 0
    /// Bytes by the folder holding the recording (`…/recording/raw`, `…/published/presentation`).
    var locations: [String: Int64] = [:]
}

/// What a pass did, for the log and the tests.
public struct ScanStatistics: Sendable, Equatable {
    public var recordingFolders = 0
    /// Folders walked entry by entry.
    var walked = 0
    /// Folders whose figure from an earlier walk was reused (see `RecordingScanner`).
    public var reused = 0
    /// Entries looked at by the walks of this pass.
    var entries = 0
    var vanished = 0
    var unreadable = 0
    var problems: [String] = []
    var microseconds: Int64 = 0
}

/// A recording folder as the last full walk saw it.
struct CachedRecording: Sendable {
    var stamps: [DirectoryStamp]
    var bytes: Int64
    var files: Int
    var linkedInodes: [InodeKey]
    /// Newest ctime (ns) of anything in the folder at that walk.
    var newestChange: Int64
    /// When that walk started (ns since the epoch, the agent's clock).
    var measuredAt: Int64
}

/// Finds recording folders under the configured roots and measures each.
///
/// Layout: a folder directly under a root whose name is a recording id is a recording
/// (`recording/raw/<id>`); any other folder directly under a root is a group (a format:
/// `published/presentation`), and every folder in a group is a recording. Loose files are not a
/// recording's; the filesystem samples count them.
///
/// Cost: a full walk stats every entry. On a host with hundreds of thousands of files that is the
/// whole of the sampler's cost, and almost all of it is spent on recordings that no longer change
/// (published ones, archived raw ones). So a folder's figure from its last full walk is reused,
/// without looking at its files, when all of these hold:
///
/// 1. at that walk, nothing in the folder had changed (ctime, which no one can set back, of every
///    file and folder) for `quietPeriod` seconds: the recording was finished, not being archived,
///    processed or published;
/// 2. every directory of the folder still has the inode, mtime and ctime it had then (one
///    `openat` + `fstat` per directory): no entry was added, removed or renamed anywhere in it;
/// 3. that walk is younger than a per-folder age between `rewalkAfter / 2` and `rewalkAfter`
///    (spread by a hash of the path so that the re-walks of a host do not all fall in one pass);
/// 4. none of its hard-linked inodes was already counted in this pass by another folder.
///
/// What this can miss: a file of a finished recording rewritten in place (same name, so no
/// directory changes) after a quiet period. BigBlueButton does not do that (a rebuild deletes
/// and recreates the folders), and the periodic full re-walk bounds the error to `rewalkAfter`.
/// A recording that is still being written is never reused (rule 1), so its growth is sampled at
/// every slot. Rule 1 also makes the mtime comparison safe from coarse timestamps: a change made
/// right after a directory was stamped cannot carry the same mtime as one an hour older.
public final class RecordingScanner: Sendable {
    let roots: [String]
    let quietPeriod: Int64
    let rewalkAfter: Int64
    private let cache = Mutex<[String: CachedRecording]>([:])
    private let lastStatistics = Mutex(ScanStatistics())
    /// Roots found missing, so that the log says so once, not at every pass.
    private let missingRoots = Mutex<Set<String>>([])

    /// `quietPeriod` and `rewalkAfter` in seconds; either 0 turns the reuse off (every pass walks
    /// everything).
    public init(roots: [String], quietPeriod: Int64, rewalkAfter: Int64) {
        self.roots = roots
        self.quietPeriod = quietPeriod
        self.rewalkAfter = rewalkAfter
    }

    public var statistics: ScanStatistics { lastStatistics.withLock { $0 } }
    var cachedCount: Int { cache.withLock { $0.count } }

    /// Measures every recording under the roots. `now` is the agent's clock when the pass starts.
    public func scan(now: Timestamp, logger: Logger) -> [RecordingUsage] {
        let started = Self.monotonicMicroseconds()
        let nowNs = now.microseconds &* 1000
        let previous = cache.withLock { $0 }
        var next: [String: CachedRecording] = [:]
        var stats = ScanStatistics()
        var walker = TreeWalker(recordStamps: true)
        var folders: Set<InodeKey> = []
        var usage: [String: RecordingUsage] = [:]

        func measure(containerFD: Int32, container: String, name: String) {
            var st = stat()
            guard fstatat(containerFD, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                if errno != ENOENT { Self.note(&stats, FileError(path: container + "/" + name, operation: "stat", errno: errno)) }
                return
            }
            guard (st.st_mode & S_IFMT) == S_IFDIR else { return }
            // The same folder reached through two configured roots counts once.
            guard folders.insert(InodeKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))).inserted else { return }
            stats.recordingFolders += 1
            let path = container + "/" + name
            var bytes: Int64
            var files: Int
            if let cached = previous[path], reusable(cached, path: path, now: nowNs),
               Self.unchanged(containerFD: containerFD, name: name, stamps: cached.stamps),
               !cached.linkedInodes.contains(where: { walker.seen.contains($0) })
            {
                for key in cached.linkedInodes { walker.seen.insert(key) }
                next[path] = cached
                stats.reused += 1
                bytes = cached.bytes
                files = cached.files
            } else {
                let fd = openat(containerFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard fd >= 0 else {
                    if errno != ENOENT { Self.note(&stats, FileError(path: path, operation: "open", errno: errno)) }
                    return
                }
                let totals = walker.walk(ownedDirectory: fd, path: path)
                stats.walked += 1
                stats.entries += totals.files + totals.directories
                stats.vanished += totals.vanished
                stats.unreadable += totals.unreadable
                if let problem = totals.problem, stats.problems.count < 10 { stats.problems.append(problem) }
                bytes = totals.bytes
                files = totals.files
                if totals.unreadable == 0, totals.vanished == 0, !walker.stamps.isEmpty {
                    next[path] = CachedRecording(stamps: walker.stamps, bytes: totals.bytes, files: totals.files,
                                                 linkedInodes: totals.linkedInodes, newestChange: totals.newestChange,
                                                 measuredAt: nowNs)
                }
            }
            var u = usage[name] ?? RecordingUsage(key: name, meeting: RecordingName.meeting(of: name))
            u.bytes += bytes
            u.files += files
            u.locations[container, default: 0] += bytes
            usage[name] = u
        }

        for root in roots {
            let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard rootFD >= 0 else {
                // A root that does not exist yet (no recording was ever unpublished) is normal.
                if errno != ENOENT {
                    Self.note(&stats, FileError(path: root, operation: "open", errno: errno))
                } else if missingRoots.withLock({ $0.insert(root).inserted }) {
                    logger.info("recording root does not exist (yet); sampling it when it does", metadata: ["root": "\(root)"])
                }
                continue
            }
            _ = missingRoots.withLock { $0.remove(root) }
            defer { close(rootFD) }
            for name in Self.subdirectories(of: rootFD, path: root, stats: &stats) {
                if RecordingName.meeting(of: name) != nil {
                    measure(containerFD: rootFD, container: root, name: name)
                    continue
                }
                let groupFD = openat(rootFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard groupFD >= 0 else {
                    if errno != ENOENT && errno != ENOTDIR && errno != ELOOP {
                        Self.note(&stats, FileError(path: root + "/" + name, operation: "open", errno: errno))
                    }
                    continue
                }
                defer { close(groupFD) }
                let group = root + "/" + name
                for recording in Self.subdirectories(of: groupFD, path: group, stats: &stats) {
                    measure(containerFD: groupFD, container: group, name: recording)
                }
            }
        }

        cache.withLock { $0 = next }
        stats.microseconds = Self.monotonicMicroseconds() - started
        lastStatistics.withLock { $0 = stats }
        logger.debug("storage pass", metadata: [
            "recordings": "\(usage.count)", "folders": "\(stats.recordingFolders)", "walked": "\(stats.walked)",
            "reused": "\(stats.reused)", "entries": "\(stats.entries)", "vanished": "\(stats.vanished)",
            "ms": "\(stats.microseconds / 1000)",
        ])
        if stats.unreadable > 0 || !stats.problems.isEmpty {
            logger.warning("storage pass could not read everything; figures may be low", metadata: [
                "unreadable": "\(stats.unreadable)", "first": "\(stats.problems.first ?? "")",
            ])
        }
        return usage.keys.sorted().compactMap { usage[$0] }
    }

    private func reusable(_ c: CachedRecording, path: String, now: Int64) -> Bool {
        guard quietPeriod > 0, rewalkAfter > 0 else { return false }
        let quietNs = max(quietPeriod, 2) * 1_000_000_000
        guard c.newestChange <= c.measuredAt - quietNs else { return false }
        let half = max(rewalkAfter / 2, 1)
        let maxAge = (half + Int64(StableHash.fnv1a64(path) % UInt64(half))) * 1_000_000_000
        let age = now - c.measuredAt
        return age >= 0 && age < maxAge
    }

    /// Whether every directory of a recording folder still is what it was (inode, mtime, ctime).
    static func unchanged(containerFD: Int32, name: String, stamps: [DirectoryStamp]) -> Bool {
        var open: [(index: Int, fd: Int32)] = []
        defer { for o in open { close(o.fd) } }
        for (i, stamp) in stamps.enumerated() {
            while let top = open.last, top.index != stamp.parent {
                close(top.fd)
                open.removeLast()
            }
            let parentFD: Int32
            if i == 0 {
                parentFD = containerFD
            } else {
                guard let top = open.last else { return false }
                parentFD = top.fd
            }
            let fd = openat(parentFD, i == 0 ? name : stamp.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { return false }
            open.append((i, fd))
            var st = stat()
            guard fstat(fd, &st) == 0,
                  UInt64(st.st_dev) == stamp.key.device, UInt64(st.st_ino) == stamp.key.inode,
                  TreeWalker.nanoseconds(st.st_mtim) == stamp.mtime, TreeWalker.nanoseconds(st.st_ctim) == stamp.ctime
            else { return false }
        }
        return !stamps.isEmpty
    }

    /// The names of the folders in a folder (not following symlinks), sorted.
    static func subdirectories(of fd: Int32, path: String, stats: inout ScanStatistics) -> [String] {
        let own = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard own >= 0, let dir = fdopendir(own) else {
            if own >= 0 { close(own) }
            note(&stats, FileError(path: path, operation: "opendir", errno: errno))
            return []
        }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { note(&stats, FileError(path: path, operation: "readdir", errno: errno)) }
                break
            }
            let namePointer = (UnsafeRawPointer(entry) + TreeWalker.nameOffset).assumingMemoryBound(to: CChar.self)
            if namePointer[0] == 0x2E { continue } // ".", "..", hidden work folders
            let type = entry.pointee.d_type
            if type == UInt8(DT_DIR) {
                names.append(String(cString: namePointer))
            } else if type == UInt8(DT_UNKNOWN) {
                var st = stat()
                if fstatat(fd, namePointer, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                    names.append(String(cString: namePointer))
                }
            }
        }
        return names.sorted()
    }

    private static func note(_ stats: inout ScanStatistics, _ error: FileError) {
        stats.unreadable += 1
        if stats.problems.count < 10 { stats.problems.append(error.description) }
    }

    public static func monotonicMicroseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }
}
