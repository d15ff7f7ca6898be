#if canImport(Glibc)
import Glibc
#endif

import LogLines
import SystemCalls
import UsageRecords
import Logging
import Metrics
import NIOPosix

/// How a `FileFollower` reads.
public struct FileFollowerConfiguration: Sendable {
    /// The source's name (positions and records are kept under it).
    public var name: String
    /// Absolute paths or glob patterns (`/var/log/bigbluebutton/*.log`).
    public var patterns: [String]
    /// true: follow until cancelled. false: read every file to its end once and return (for
    /// `meetmeter parse` and draining); the unfinished last line of a file is then handed over
    /// too, since the input ends there, but the saved position stays before it.
    public var follow: Bool
    /// Where positions are kept; nil reads every file from its start and saves nothing.
    public var positions: PositionStore?
    /// A longer line is cut: its first `maxLineBytes` bytes are handed over as the line and the
    /// rest, up to its newline, is skipped, counted and logged once per line.
    public var maxLineBytes: Int
    /// Lines per hand-over.
    public var batchLines: Int
    /// The parser's look at each line's bytes (`ParserChoice.prefilter`): lines it passes over
    /// are counted but never made into `LogLine`s. Nil hands over every line.
    public var prefilter: (any LinePrefilter)?
    /// The slow poll behind inotify: files in folders inotify cannot watch, or moved elsewhere.
    public var pollInterval: Duration
    /// How long a rotated (renamed or deleted) file is kept open after it last grew, for a writer
    /// that has not yet reopened its log.
    public var rotatedGrace: Duration

    public init(name: String, patterns: [String], follow: Bool = true, positions: PositionStore? = nil,
                maxLineBytes: Int = 1 << 20, batchLines: Int = 2048, prefilter: (any LinePrefilter)? = nil,
                pollInterval: Duration = .seconds(2), rotatedGrace: Duration = .seconds(5))
    {
        self.prefilter = prefilter
        self.name = name
        self.patterns = patterns
        self.follow = follow
        self.positions = positions
        self.maxLineBytes = maxLineBytes
        self.batchLines = batchLines
        self.pollInterval = pollInterval
        self.rotatedGrace = rotatedGrace
    }
}

/// What a file follower has done, for logs, tests and `meetmeter parse`.
public struct FileFollowerCounts: Sendable, Equatable {
    /// Lines read, handed over or not.
    public var lines = 0
    /// Of those, the lines the prefilter passed over.
    public var passedOver = 0
    public var bytes: UInt64 = 0
    public var overlongLines = 0
    public var filesOpened = 0
    public var rotations = 0
    public var truncations = 0
    /// Files rotated while the agent was down and finished from their saved offset.
    public var recoveredRotated = 0
    /// Rotated files never seen before, newer than the last file read, read from their start
    /// while catching up (the middle files of several rotations while the agent was down).
    public var caughtUpFiles = 0
    /// Lines read from rotated files while catching up (finished or read whole).
    public var caughtUpLines = 0
    /// Rotated files left alone because they are older than the last file read (history from
    /// before the agent first ran, or already read under another name).
    public var olderRotatedSkipped = 0
    /// Files being read when the agent stopped that were deleted or compressed before it came
    /// back: anything written to them after the saved offset is lost, and said so.
    public var lostFiles = 0
    /// Times the follower woke from waiting (inotify or the slow poll): the idle cost.
    public var wakeups = 0

    public init() {}
}

/// Follows log files by path and glob: reads each from its saved offset (from the start the first
/// time), hands over complete lines, survives rotation by rename and by copytruncate, truncation,
/// deletion and inode reuse (files are known by `FileFingerprint`, not inode), catches up on the
/// files rotated while the agent was down (however many times, compressed or not: see
/// `RotatedSibling` and `FollowState.catchUp`), and wakes on inotify with a slow poll behind it.
public struct FileFollower: LineSource {
    public let configuration: FileFollowerConfiguration
    let logger: Logger
    private let countsBox = LockedBox(FileFollowerCounts())

    public var name: String { configuration.name }
    /// What the follower has done so far (updated after every pass).
    public var counts: FileFollowerCounts { countsBox.value }
    public var passedOver: Int { counts.passedOver }

    public init(configuration: FileFollowerConfiguration, logger: Logger) {
        self.configuration = configuration
        var l = logger
        l[metadataKey: "source"] = "\(configuration.name)"
        self.logger = l
    }

    public func run(deliver: @escaping @Sendable ([LogLine]) async throws -> Void) async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        var state = try FollowState(configuration: configuration, logger: logger)
        let waiter = configuration.follow ? try ReadinessWaiter() : nil
        let watcher = configuration.follow ? DirectoryWatcher(patterns: configuration.patterns, logger: logger) : nil
        var saver = ThrottledPositionSaver(store: configuration.positions, source: configuration.name)

        func publish() {
            countsBox.value = state.counts
        }
        do {
            while true {
                try Task.checkCancellation()
                try state.discover()
                var progressed = false
                for file in state.readOrder() {
                    while let batch = try state.readBatch(file) {
                        if !batch.lines.isEmpty {
                            try await deliver(batch.lines)
                        }
                        state.commit(file, batch)
                        try await saver.updateWaitingForRoom(state.positionFields())
                        progressed = true
                        try Task.checkCancellation()
                    }
                }
                state.retireFinished(follow: configuration.follow)
                publish()
                // A truncation found while reading opened older files to read first: go round again.
                let again = state.takeAnotherPass()
                if !configuration.follow && !again {
                    try await saver.updateWaitingForRoom(state.positionFields(), force: true)
                    return
                }
                if !progressed && !again {
                    try await saver.flushWaitingForRoom()
                    watcher!.refresh()
                    let timeout = Int32(clamping: configuration.pollInterval.components.seconds * 1000
                        + configuration.pollInterval.components.attoseconds / 1_000_000_000_000_000)
                    _ = try await waiter!.wait(on: pool, fds: watcher!.fds, timeoutMilliseconds: timeout)
                    watcher!.drain()
                    state.counts.wakeups += 1
                }
            }
        } catch {
            publish()
            // Whatever stopped us, the last delivered position is the one to keep.
            try? saver.update(state.positionFields(), force: true)
            if error.isCancellation || Task.isCancelled { return }
            throw error
        }
    }
}

/// One file being read.
final class TrackedFile {
    let fd: Int32
    var path: String
    let device: UInt64
    let inode: UInt64
    var fingerprint: FileFingerprint?
    /// Offset after the last delivered line: where a restart resumes.
    var committed: UInt64
    /// Start of the line being assembled.
    var lineStart: UInt64
    /// How far the file has been read.
    var scanned: UInt64
    /// The kept bytes of the line being assembled (at most maxLineBytes).
    var head: [UInt8] = []
    var overlong = false
    /// The path no longer leads here (renamed or deleted): read to the end, then close.
    var rotated = false
    var lastGrowth = ContinuousClock.now
    /// Read once more at the end, even without a newline (one-shot mode).
    var sawEnd = false
    /// The decompressed content of a `.gz` file; nil for a plain file.
    var gz: GzipStream?
    /// The compressed content could not be read on: treated as ended, its position kept open.
    var failed = false
    /// Opened while catching up on rotated files: its lines are counted and logged when it closes.
    var catchingUp = false
    var linesRead = 0
    let startOffset: UInt64

    init(fd: Int32, path: String, device: UInt64, inode: UInt64, offset: UInt64) {
        self.fd = fd
        self.path = path
        self.device = device
        self.inode = inode
        self.committed = offset
        self.lineStart = offset
        self.scanned = offset
        self.startOffset = offset
    }

    /// How far there is to read now: the file's size, or for a compressed file its content's
    /// length once known (until then, more than any offset).
    func readableSize(_ st: stat) -> UInt64 {
        guard let gz else { return UInt64(st.st_size) }
        if failed { return scanned }
        return gz.end ?? UInt64.max
    }

    deinit { close(fd) }
}

struct FileBatch {
    var lines: [LogLine]
    /// The new committed offset once these lines are delivered.
    var end: UInt64
}

/// A saved offset of a file that is not open now (retired or not found yet).
struct KnownOffset {
    var offset: UInt64
    var path: String
    /// Read to its end and closed (a rotated file); otherwise it was being read when saved.
    var done: Bool
}

/// The reading state of one run. Not shared: owned by the run's task.
struct FollowState {
    let configuration: FileFollowerConfiguration
    let logger: Logger
    var files: [TrackedFile] = []
    /// Offsets by fingerprint of files not open now (retired, or saved and not yet found).
    var known: [UInt64: KnownOffset] = [:]
    /// Retired fingerprints, oldest first, to bound `known`.
    var retiredOrder: [UInt64] = []
    var counts = FileFollowerCounts()
    var firstDiscovery = true
    /// Paths that failed to open, reported once each.
    var unreadable: Set<String> = []
    /// Rotated files (device, inode) that catching up decided not to read: a glob that matches
    /// them must not read them as new files either.
    var leftAlone: Set<[UInt64]> = []
    /// The matches last seen and which of them are rotated names of another match.
    private var lastMatches: Set<String> = []
    private var siblingMatches: Set<String> = []
    private var anotherPass = false
    var buffer: [UInt8]
    private var prefilter: (any LinePrefilter)?
    private let overlongCounter: Counter
    /// Lines passed over count as read, as the lines the parser ignores do (LineProcessor).
    private let linesRead: Counter

    init(configuration: FileFollowerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.buffer = [UInt8](repeating: 0, count: 1 << 18)
        self.prefilter = configuration.prefilter
        self.linesRead = Counter(label: "meetmeter_agent_lines_read_total", dimensions: [("source", configuration.name)])
        self.overlongCounter = Counter(label: "meetmeter_agent_overlong_lines_total", dimensions: [("source", configuration.name)])
        if let store = configuration.positions,
           let loaded = try store.loadChecked(configuration.name, logger: logger, check: Self.checkSaved)
        {
            for (key, value) in loaded.fields where key.hasPrefix("file.") {
                guard let fp = UInt64(key.dropFirst(5), radix: 16) else { continue }
                // `<offset> open|done <path>`
                let parts = value.split(separator: " ", maxSplits: 2)
                guard parts.count == 3, let offset = UInt64(parts[0]) else { continue }
                known[fp] = KnownOffset(offset: offset, path: String(parts[2]), done: parts[1] == "done")
            }
            if !loaded.problems.isEmpty {
                logger.warning("file positions restart from the well-formed lines of the position file; files without one are read from their saved state if any, new files from their start", metadata: [
                    "files_known": "\(known.count)", "bad_lines": "\(loaded.problems.count)",
                ])
            }
        }
    }

    mutating func takeAnotherPass() -> Bool {
        defer { anotherPass = false }
        return anotherPass
    }

    /// What a saved `file.<fingerprint>=<offset> open|done <path>` line must look like.
    static func checkSaved(_ key: String, _ value: String) -> String? {
        if key == "version" { return value == "1" ? nil : "version \(value) is not one this agent reads (1)" }
        guard key.hasPrefix("file.") else { return nil }
        guard key.count == 21, UInt64(key.dropFirst(5), radix: 16) != nil else { return "not a fingerprint of 16 hex digits" }
        let parts = value.split(separator: " ", maxSplits: 2)
        guard parts.count == 3, UInt64(parts[0]) != nil, parts[1] == "open" || parts[1] == "done" else {
            return "not `<offset> open|done <path>`"
        }
        return nil
    }

    /// Files in the order they are read: rotated ones first (they hold the older lines), in the
    /// order they were opened (catching up opens them oldest first).
    func readOrder() -> [TrackedFile] {
        files.filter(\.rotated) + files.filter { !$0.rotated }
    }

    /// The saved form: one `file.<fingerprint>=<offset> open|done <path>` line per known file.
    func positionFields() -> [String: String] {
        var fields: [String: String] = ["version": "1"]
        for (fp, k) in known {
            fields["file." + FileFingerprint(value: fp, length: 0).description] = "\(k.offset) \(k.done ? "done" : "open") \(k.path)"
        }
        for f in files {
            guard let fp = f.fingerprint else { continue }
            fields["file." + fp.description] = "\(f.committed) open \(f.path)"
        }
        return fields
    }

    // MARK: Finding files

    static func expand(_ pattern: String) -> [String] {
        if !pattern.contains(where: { "*?[".contains($0) }) {
            return access(pattern, F_OK) == 0 ? [pattern] : []
        }
        var g = glob_t()
        defer { globfree(&g) }
        guard glob(pattern, 0, nil, &g) == 0 else { return [] }
        var paths: [String] = []
        for i in 0..<Int(g.gl_pathc) {
            if let p = g.gl_pathv[i] { paths.append(String(cString: p)) }
        }
        return paths
    }

    /// Matches the patterns against the file system: notices renamed and deleted files, opens
    /// new ones, and catches up on rotated files: on the first pass for every live file and every
    /// saved one, later for each file found rotated (several rotations may have passed between
    /// two looks).
    mutating func discover() throws {
        var current: [String: (UInt64, UInt64)] = [:]
        for pattern in configuration.patterns {
            for path in Self.expand(pattern) where !Self.isCompressed(path) {
                // A glob wide enough to match rotated, compressed copies must not read them as text.
                var st = stat()
                guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
                current[path] = (UInt64(st.st_dev), UInt64(st.st_ino))
            }
        }
        // What was read before this pass: the newest of these in a chain of rotated files is
        // where catching up starts.
        let anchors = Set(known.keys).union(files.compactMap { $0.fingerprint?.value })
        var rotatedNow: [String] = []
        // A tracked file whose path now leads elsewhere (or nowhere) has been rotated or deleted.
        for f in files where !f.rotated {
            if let id = current[f.path], id == (f.device, f.inode) { continue }
            if let (path, _) = current.first(where: { $0.value == (f.device, f.inode) }) {
                // Renamed to another name the patterns match: same file, keep reading it there.
                f.path = path
                continue
            }
            f.rotated = true
            f.lastGrowth = .now
            counts.rotations += 1
            rotatedNow.append(f.path)
            logger.info("file rotated or deleted; reading it to its end", metadata: ["path": "\(f.path)"])
        }
        let siblings = siblingsAmong(Set(current.keys))
        for (path, id) in current.sorted(by: { $0.key < $1.key }) {
            if files.contains(where: { ($0.device, $0.inode) == id }) { continue }
            // Rotated copies that a glob matches are read by catching up, not as new files.
            if siblings.contains(path) || leftAlone.contains([id.0, id.1]) { continue }
            do {
                try open(path: path)
                unreadable.remove(path)
            } catch {
                // One file we may not read (permissions) must not stop the others: say it once, retry later.
                if unreadable.insert(path).inserted {
                    logger.error("cannot read a file the patterns match; will try again", metadata: ["path": "\(path)", "error": "\(error)"])
                }
            }
        }
        if firstDiscovery {
            firstDiscovery = false
            var bases = Set(current.keys.filter { !siblings.contains($0) })
            for k in known.values where !k.path.isEmpty { bases.insert(Self.livePath(of: k.path)) }
            for base in bases.sorted() { catchUp(live: base, anchors: anchors) }
            reportLost()
        } else {
            for base in Set(rotatedNow).sorted() { catchUp(live: base, anchors: anchors) }
        }
    }

    /// The matches that are rotated names of another match (`app.log.1` beside `app.log`,
    /// `bbb-web.2026-11-20.log` beside `bbb-web.log`). Worked out again only when the matches change.
    private mutating func siblingsAmong(_ matches: Set<String>) -> Set<String> {
        if matches == lastMatches { return siblingMatches }
        var byDir: [String: [String]] = [:]
        for m in matches { byDir[PosixFile.directory(of: m), default: []].append(Self.fileName(m)) }
        var out: Set<String> = []
        for (dir, names) in byDir where names.count > 1 {
            for name in names where names.contains(where: { $0 != name && RotatedSibling.parse(name, live: $0) != nil }) {
                out.insert(dir + "/" + name)
            }
        }
        lastMatches = matches
        siblingMatches = out
        return out
    }

    static func fileName(_ path: String) -> String {
        String(path[path.index(after: path.lastIndex(of: "/") ?? path.startIndex)...])
    }

    /// The live file a rotated path belongs to (`/x/app.log.2.gz` gives `/x/app.log`); the path
    /// itself when it is not a rotated name.
    static func livePath(of path: String) -> String {
        guard let live = RotatedSibling.liveName(of: fileName(path)) else { return path }
        return PosixFile.directory(of: path) + "/" + live
    }

    /// Opens a file that the patterns match and that is not open yet. Its offset is the saved one
    /// for its fingerprint, or 0. Files whose fingerprint is not known yet (no complete first line)
    /// are opened too and fingerprinted when their first line is complete.
    mutating func open(path: String, rotatedCopy: Bool = false, offset forced: UInt64? = nil) throws {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            if errno == ENOENT { return }
            throw FileError(path: path, operation: "open", errno: errno)
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw FileError(path: path, operation: "stat", errno: e)
        }
        var gz: GzipStream? = nil
        let fp: FileFingerprint?
        if path.hasSuffix(".gz") {
            do {
                let stream = try GzipStream(fd: fd, path: path)
                fp = try FileFingerprint.of(prefix: stream.prefix(FileFingerprint.maxBytes))
                gz = stream
            } catch {
                close(fd)
                throw error
            }
        } else {
            fp = try FileFingerprint.read(fd: fd, path: path)
        }
        if let fp, files.contains(where: { $0.fingerprint == fp }) {
            // A copy of a file already open (copytruncate's copy, or a second name matching the
            // patterns): the original is read; the copy is used only if the original is truncated.
            close(fd)
            return
        }
        var offset: UInt64 = forced ?? 0
        if forced == nil, let fp, let k = known.removeValue(forKey: fp.value) {
            offset = k.offset
            retiredOrder.removeAll { $0 == fp.value }
            if gz == nil, offset > UInt64(st.st_size) {
                logger.warning("file is shorter than its saved offset; reading it from the start", metadata: [
                    "path": "\(path)", "saved": "\(offset)", "size": "\(st.st_size)",
                ])
                offset = 0
                counts.truncations += 1
            }
        }
        let f = TrackedFile(fd: fd, path: path, device: UInt64(st.st_dev), inode: UInt64(st.st_ino), offset: offset)
        f.fingerprint = fp
        f.rotated = rotatedCopy
        f.gz = gz
        files.append(f)
        counts.filesOpened += 1
        logger.debug("reading file", metadata: ["path": "\(path)", "offset": "\(offset)"])
    }

    static func isCompressed(_ path: String) -> Bool {
        [".gz", ".xz", ".bz2", ".zst", ".lz4", ".Z"].contains { path.hasSuffix($0) }
    }

    /// The fingerprint and (device, inode) of a file, decompressing a `.gz`; nil when it cannot
    /// be read or has no complete first line yet.
    static func identify(_ path: String) -> (fingerprint: UInt64, id: [UInt64])? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let fp: FileFingerprint?
        if path.hasSuffix(".gz") {
            guard let gz = try? GzipStream(fd: fd, path: path), let head = try? gz.prefix(FileFingerprint.maxBytes) else { return nil }
            fp = FileFingerprint.of(prefix: head)
        } else {
            fp = try? FileFingerprint.read(fd: fd, path: path)
        }
        guard let fp else { return nil }
        return (fp.value, [UInt64(st.st_dev), UInt64(st.st_ino)])
    }

    /// Catches up on the rotated siblings of `live` (`RotatedSibling` names them and orders them,
    /// oldest first; the live file comes last). Files are known by fingerprint, not by name:
    ///
    /// - one with a saved offset that was being read is finished from that offset (in the
    ///   decompressed content if it was compressed since); one read to its end is not read again;
    /// - the anchor is the newest file of the chain that was read before (`anchors`); a file
    ///   never seen before that is newer than the anchor holds only lines written while the agent
    ///   was not looking, and is read from its start;
    /// - one never seen before that is older than the anchor is left alone: it is history from
    ///   before the agent first ran, or was read under a name that is gone;
    /// - without an anchor (a first start) no rotated file is read, only the live one.
    ///
    /// Files are opened in chain order, so they are read oldest first, then the live file.
    mutating func catchUp(live: String, anchors: Set<UInt64>) {
        struct Link { var path: String; var id: [UInt64]; var fp: UInt64; var compressed: Bool }
        var chain: [Link] = []
        for s in RotatedSibling.siblings(of: live) {
            guard let (fp, id) = Self.identify(s.path) else { continue }
            if let i = chain.firstIndex(where: { $0.fp == fp }) {
                // The same content twice (NAME.1 and NAME.1.gz while gzip runs): read the plain one.
                leftAlone.insert(s.compressed ? id : chain[i].id)
                if chain[i].compressed && !s.compressed { chain[i] = Link(path: s.path, id: id, fp: fp, compressed: false) }
                continue
            }
            chain.append(Link(path: s.path, id: id, fp: fp, compressed: s.compressed))
        }
        guard !chain.isEmpty else { return }
        let liveFP = files.first(where: { !$0.rotated && $0.path == live })?.fingerprint?.value
            ?? (Self.identify(live)?.fingerprint)
        let anchor: Int
        if let liveFP, anchors.contains(liveFP) {
            anchor = chain.count
        } else if let i = chain.lastIndex(where: { anchors.contains($0.fp) }) {
            anchor = i
        } else {
            for link in chain { leftAlone.insert(link.id) }
            counts.olderRotatedSkipped += chain.count
            return
        }
        for (i, link) in chain.enumerated() {
            if files.contains(where: { $0.fingerprint?.value == link.fp }) { continue }   // being read
            var offset: UInt64 = 0
            if let k = known[link.fp] {
                if k.done { leftAlone.insert(link.id); continue }
                if !link.compressed, let size = Self.size(of: link.path), size <= k.offset {
                    // Read to its end before: nothing to finish.
                    known[link.fp]?.done = true
                    leftAlone.insert(link.id)
                    continue
                }
                offset = k.offset
            } else if i < anchor {
                leftAlone.insert(link.id)
                counts.olderRotatedSkipped += 1
                continue
            }
            let before = files.count
            do {
                try open(path: link.path, rotatedCopy: true, offset: offset)
            } catch {
                logger.warning("cannot open a rotated file to catch up on it", metadata: ["path": "\(link.path)", "error": "\(error)"])
                continue
            }
            guard files.count > before, let f = files.last else { continue }
            f.catchingUp = true
            if let k = known.removeValue(forKey: link.fp) {
                retiredOrder.removeAll { $0 == link.fp }
                counts.recoveredRotated += 1
                logger.notice("catching up: finishing a file rotated while the agent was not reading it, from its saved offset", metadata: [
                    "path": "\(link.path)", "was": "\(k.path)", "offset": "\(offset)", "compressed": "\(link.compressed)",
                ])
            } else {
                counts.caughtUpFiles += 1
                logger.notice("catching up: reading a rotated file never seen before, newer than the last one read, from its start", metadata: [
                    "path": "\(link.path)", "live": "\(live)", "compressed": "\(link.compressed)",
                ])
            }
        }
    }

    static func size(of path: String) -> UInt64? {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_size) : nil
    }

    /// Saved files being read that catching up found nowhere, plain or gzip (deleted, or
    /// compressed in a way not read): what was written to them after the saved offset is lost. Said once.
    mutating func reportLost() {
        for (fp, k) in known where !k.path.isEmpty && !k.done {
            if files.contains(where: { $0.fingerprint?.value == fp }) { continue }
            counts.lostFiles += 1
            logger.warning("a file being read was deleted (or compressed other than by gzip) while the agent was down; anything written to it after the saved offset is lost", metadata: [
                "was": "\(k.path)", "offset": "\(k.offset)",
            ])
            known[fp]?.done = true
        }
    }

    // MARK: Reading

    /// The next batch of complete lines of `f`, or nil when there is nothing more now.
    mutating func readBatch(_ f: TrackedFile) throws -> FileBatch? {
        var st = stat()
        guard fstat(f.fd, &st) == 0 else { throw FileError(path: f.path, operation: "stat", errno: errno) }
        let size = f.readableSize(st)
        if f.fingerprint == nil {
            if let gz = f.gz {
                f.fingerprint = FileFingerprint.of(prefix: try gz.prefix(FileFingerprint.maxBytes), final: true)
            } else {
                f.fingerprint = try FileFingerprint.read(fd: f.fd, path: f.path, final: !configuration.follow)
            }
            guard let fp = f.fingerprint else { return nil }
            if let k = known.removeValue(forKey: fp.value), k.offset <= size {
                // Seen before under this fingerprint (the agent restarted before its first line was complete).
                f.committed = k.offset; f.lineStart = k.offset; f.scanned = k.offset
            }
        } else if f.gz == nil, try size < f.scanned || !f.fingerprint!.matches(fd: f.fd, path: f.path) {
            try truncated(f, size: size)
            if anotherPass { return nil }   // older files to read first
            return try readBatch(f)
        }
        if f.scanned >= size {
            return finalLine(f)
        }
        f.lastGrowth = .now
        var lines: [LogLine] = []
        let cap = configuration.maxLineBytes
        let fpValue = f.fingerprint!.value
        let name = configuration.name
        var bytesRead: UInt64 = 0
        // Lines passed over count toward the batch too, so that positions move on regularly.
        var scannedLines = 0
        var passedOver = 0
        while scannedLines < configuration.batchLines && f.scanned < size {
            let want = Int(min(UInt64(buffer.count), size - f.scanned))
            let n: Int
            if let gz = f.gz {
                do {
                    n = try buffer.withUnsafeMutableBytes { raw throws -> Int in try gz.read(into: raw.baseAddress!, count: want, at: f.scanned) }
                } catch {
                    // Corrupt, or cut short: what was read stays delivered, the rest cannot be had.
                    logger.warning("cannot decompress a rotated file further; the rest of it is not read", metadata: [
                        "path": "\(f.path)", "error": "\(error)",
                    ])
                    f.failed = true
                    break
                }
            } else {
                n = buffer.withUnsafeMutableBytes { Glibc.pread(f.fd, $0.baseAddress!, want, off_t(f.scanned)) }
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path: f.path, operation: "read", errno: errno)
            }
            if n == 0 { break }
            var consumed = 0
            buffer.withUnsafeBytes { raw in
                let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                // The file's state is kept in locals while lines are cut: each access to a class's
                // stored property is checked for exclusivity at run time, and this runs per line.
                let scannedBase = f.scanned
                var lineStart = f.lineStart
                // Only the first line of this read can continue bytes kept from the last one.
                var continuing = !f.head.isEmpty || f.overlong
                var start = 0
                while start < n && scannedLines < configuration.batchLines {
                    guard let hit = memchr(base + start, 0x0A, n - start) else {
                        // No newline in the rest: keep (up to the cap) and wait for more.
                        appendHead(f, UnsafeBufferPointer(start: base + start, count: n - start), cap: cap)
                        start = n
                        break
                    }
                    let nl = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - base
                    let piece = UnsafeBufferPointer(start: base + start, count: nl - start)
                    scannedLines += 1
                    let text: String?
                    if !continuing {
                        let kept = piece.count > cap ? UnsafeBufferPointer(rebasing: piece[..<cap]) : piece
                        text = prefilter?.keeps(kept) == false ? nil : Self.decode(kept)
                        if piece.count > cap { noteOverlong(f, at: lineStart, length: piece.count) }
                    } else {
                        appendHead(f, piece, cap: cap)
                        text = f.head.withUnsafeBufferPointer { prefilter?.keeps($0) == false ? nil : Self.decode($0) }
                        if f.overlong { noteOverlong(f, at: lineStart, length: Int(scannedBase + UInt64(nl) - lineStart)) }
                        f.head.removeAll(keepingCapacity: true)
                        f.overlong = false
                        continuing = false
                    }
                    if let text {
                        lines.append(LogLine(source: name, position: .file(fingerprint: fpValue, offset: lineStart), text: text))
                    } else {
                        passedOver += 1
                    }
                    lineStart = scannedBase + UInt64(nl) + 1
                    start = nl + 1
                }
                f.lineStart = lineStart
                consumed = start
            }
            f.scanned += UInt64(consumed)
            bytesRead += UInt64(consumed)
        }
        counts.lines += scannedLines
        f.linesRead += scannedLines
        counts.passedOver += passedOver
        counts.bytes += bytesRead
        if passedOver > 0 { linesRead.increment(by: Int64(passedOver)) }
        return FileBatch(lines: lines, end: f.lineStart)
    }

    /// In one-shot mode the input ends at the end of the file: hand over an unfinished last line
    /// once (its position stays unsaved, so a later run reads it again when it is complete).
    private mutating func finalLine(_ f: TrackedFile) -> FileBatch? {
        guard !configuration.follow, !f.sawEnd else { return nil }
        f.sawEnd = true
        guard f.scanned > f.lineStart, let fp = f.fingerprint else { return nil }
        // Handed over in any case; the prefilter still follows it, as it follows every line.
        let text = f.head.withUnsafeBufferPointer { bytes -> String in
            _ = prefilter?.keeps(bytes)
            return Self.decode(bytes)
        }
        counts.lines += 1
        return FileBatch(lines: [LogLine(source: configuration.name, position: .file(fingerprint: fp.value, offset: f.lineStart), text: text)],
                         end: f.lineStart)
    }

    private func appendHead(_ f: TrackedFile, _ bytes: UnsafeBufferPointer<UInt8>, cap: Int) {
        let room = cap - f.head.count
        if bytes.count > room {
            if room > 0 { f.head.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[..<room])) }
            f.overlong = true
        } else {
            f.head.append(contentsOf: bytes)
        }
    }

    private mutating func noteOverlong(_ f: TrackedFile, at offset: UInt64, length: Int) {
        counts.overlongLines += 1
        overlongCounter.increment()
        logger.warning("line longer than max_line_bytes: its start is kept, the rest skipped", metadata: [
            "path": "\(f.path)", "offset": "\(offset)", "length": "\(length)", "max_line_bytes": "\(configuration.maxLineBytes)",
        ])
    }

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var b = bytes
        if b.last == 0x0D { b = UnsafeBufferPointer(rebasing: b.dropLast()) }
        return String(decoding: b, as: UTF8.self)
    }

    mutating func commit(_ f: TrackedFile, _ batch: FileBatch) {
        f.committed = batch.end
    }

    /// The file shrank or now starts with other bytes: copytruncate (or a rewrite in place). The
    /// lines between our offset and the truncation may survive in the copy; finish them there,
    /// then read the file again from its start.
    private mutating func truncated(_ f: TrackedFile, size: UInt64) throws {
        counts.truncations += 1
        let old = f.fingerprint
        let filesBefore = files.count
        logger.notice("file truncated or rewritten in place; reading it again from its start", metadata: [
            "path": "\(f.path)", "offset": "\(f.committed)", "size": "\(size)",
        ])
        if let old {
            // Hand the old identity to the copy so the live file can take a new one.
            f.fingerprint = nil
            var copied = false
            // Newest first: the copy is usually NAME.1 (or NAME.1.gz without delaycompress).
            for sibling in RotatedSibling.siblings(of: f.path).reversed() {
                let candidate = sibling.path
                guard Self.identify(candidate)?.fingerprint == old.value,
                      !files.contains(where: { $0.path == candidate }) else { continue }
                let before = files.count
                try open(path: candidate, rotatedCopy: true, offset: f.committed)
                copied = files.count > before
                if copied {
                    logger.info("finishing the truncated file from its copy", metadata: ["path": "\(candidate)", "offset": "\(f.committed)"])
                    break
                }
            }
            if !copied {
                // No copy: what was between our offset and the truncation is gone; keep the offset
                // in case the copy appears later under a name we look at.
                remember(old.value, offset: f.committed, path: f.path, done: false)
            }
        }
        f.fingerprint = nil
        f.committed = 0
        f.lineStart = 0
        f.scanned = 0
        f.head.removeAll()
        f.overlong = false
        f.sawEnd = false
        // Truncated more than once since the last look: the copies made in between are newer
        // than the one just found and were never seen.
        var anchors = Set(known.keys).union(files.compactMap { $0.fingerprint?.value })
        if let old { anchors.insert(old.value) }
        catchUp(live: f.path, anchors: anchors)
        if files.count > filesBefore { anotherPass = true }
    }

    private mutating func remember(_ fp: UInt64, offset: UInt64, path: String, done: Bool = true) {
        known[fp] = KnownOffset(offset: offset, path: path, done: done)
        retiredOrder.removeAll { $0 == fp }
        retiredOrder.append(fp)
        while retiredOrder.count > 256 {
            known.removeValue(forKey: retiredOrder.removeFirst())
        }
    }

    /// Closes rotated files read to their end that have not grown for a while (at once in one-shot
    /// mode); their offsets are kept so that finding them again reads nothing twice.
    mutating func retireFinished(follow: Bool) {
        let now = ContinuousClock.now
        var done: [TrackedFile] = []
        for f in files where f.rotated || !follow {
            var st = stat()
            guard fstat(f.fd, &st) == 0 else { continue }
            guard f.scanned >= f.readableSize(st) else { continue }
            if follow && now - f.lastGrowth < configuration.rotatedGrace { continue }
            done.append(f)
        }
        for f in done {
            // A live file read to its end in one-shot mode is not finished: it may grow, rotate.
            // A compressed file that could not be read on is not finished either.
            if let fp = f.fingerprint { remember(fp.value, offset: f.committed, path: f.path, done: f.rotated && !f.failed) }
            if f.catchingUp {
                counts.caughtUpLines += f.linesRead
                logger.notice("caught up on a rotated file", metadata: [
                    "path": "\(f.path)", "lines": "\(f.linesRead)", "from_offset": "\(f.startOffset)", "to_offset": "\(f.committed)",
                ])
            }
            files.removeAll { $0 === f }
        }
    }
}
