import LogLines
import SystemCalls
import Logging
import Metrics
import NIOPosix
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

/// How a `JournalReader` reads.
public struct JournalReaderConfiguration: Sendable {
    /// The source's name (positions and records are kept under it).
    public var name: String
    /// A folder of journal files (`--journal-dir`); nil reads the system journal.
    public var directory: String?
    /// Units to read, matched as `journalctl -u` does.
    public var units: [String]
    /// SYSLOG_IDENTIFIERs to read. With no units and no identifiers, every entry is read.
    public var identifiers: [String]
    /// true: follow until cancelled. false: read to the end once and return.
    public var follow: Bool
    /// Where the cursor is kept; nil starts at `start` every time and saves nothing.
    public var positions: PositionStore?
    /// Where a reader without a saved position starts.
    public var start: Start
    /// A longer MESSAGE is cut there.
    public var maxLineBytes: Int
    /// Entries per hand-over.
    public var batchLines: Int
    /// The longest wait for a change before looking anyway (the journal's fd normally wakes us).
    public var idleTimeout: Duration

    public enum Start: Sendable { case head, tail }

    public init(name: String = "journal", directory: String? = nil, units: [String] = [], identifiers: [String] = [],
                follow: Bool = true, positions: PositionStore? = nil, start: Start = .head,
                maxLineBytes: Int = 1 << 20, batchLines: Int = 1024, idleTimeout: Duration = .seconds(30))
    {
        self.name = name
        self.directory = directory
        self.units = units
        self.identifiers = identifiers
        self.follow = follow
        self.positions = positions
        self.start = start
        self.maxLineBytes = maxLineBytes
        self.batchLines = batchLines
        self.idleTimeout = idleTimeout
    }
}

/// What a journal reader has done, for logs, tests and heartbeats.
public struct JournalReaderCounts: Sendable, Equatable {
    public var entries = 0
    /// Times the saved cursor no longer existed (vacuumed) and reading went on after a gap.
    public var gaps = 0
    /// Entries known lost in those gaps (from the cursors' sequence numbers; 0 when unknown).
    public var lostEntries: UInt64 = 0
    /// Entries that could not be read ("Bad message") and were skipped.
    public var unreadableEntries = 0
    /// Entries handed over without a MESSAGE (none was written, or libsystemd skipped its damaged
    /// data object): their position still counts, their text is empty.
    public var withoutMessage = 0
    /// Times the journal was opened again after an error or a SIGBUS.
    public var reopens = 0
    /// SIGBUS faults survived while reading.
    public var sigbusFaults = 0
    /// Progress saved across entries that the matches skipped.
    public var skipCheckpoints = 0
    /// Times the reader woke from waiting on the journal: the idle cost.
    public var wakeups = 0
    /// The boot id of the latest entry read, and how often it changed.
    public var boot: String?
    public var bootChanges = 0

    public init() {}
}

/// Reads the systemd journal (or a folder of journal files) through libsystemd: filters inside
/// libsystemd with `journalctl -u` matches, follows new entries by waiting on the journal's
/// descriptor, resumes after its saved cursor (skipping the saved entry itself), goes on after a
/// vacuumed cursor with the gap counted and logged, saves progress across entries the filter
/// skipped, survives SIGBUS and "Bad message" by re-opening, and notices new boot ids.
///
/// The sd_journal handle lives on one dedicated thread for its whole life (sd_journal_open(3)).
public struct JournalReader: LineSource {
    public let configuration: JournalReaderConfiguration
    let logger: Logger
    private let countsBox = LockedBox(JournalReaderCounts())
    private let onNewBoot: (@Sendable (String) -> Void)?

    public var name: String { configuration.name }
    public var counts: JournalReaderCounts { countsBox.value }
    /// The boot id of the latest entry read (for heartbeat records).
    public var boot: String? { countsBox.value.boot }

    /// `onNewBoot` is called with each boot id the reader sees for the first time after another
    /// (not for the first entry read).
    public init(configuration: JournalReaderConfiguration, logger: Logger, onNewBoot: (@Sendable (String) -> Void)? = nil) {
        self.configuration = configuration
        var l = logger
        l[metadataKey: "source"] = "\(configuration.name)"
        self.logger = l
        self.onNewBoot = onNewBoot
    }

    /// The saved position. A position file that is malformed, or that holds no usable cursor,
    /// is not a silent restart: the store logs and keeps aside the file, and the reader says from
    /// where it reads instead.
    func loadSaved() throws(FileError) -> [String: String]? {
        guard let store = configuration.positions,
              let loaded = try store.loadChecked(configuration.name, logger: logger, check: { key, value in
                  switch key {
                  case "cursor": return value.isEmpty ? "empty cursor" : (JournalCursor(value) == nil ? "not a journal cursor" : nil)
                  case "time": return UInt64(value) == nil ? "not microseconds since the epoch" : nil
                  case "boot": return nil
                  // The reader writes these three keys only: anything else is damage.
                  default: return "not a key of a journal position (cursor, time, boot)"
                  }
              })
        else { return nil }
        if loaded.problems.isEmpty && JournalPoint(fields: loaded.fields) != nil { return loaded.fields }
        let from: String
        if JournalPoint(fields: loaded.fields) != nil {
            from = "after the saved cursor (its well-formed lines)"
        } else {
            from = configuration.start == .head ? "the oldest entry of the journal (nothing usable was saved)"
                : "the newest entry of the journal (nothing usable was saved)"
        }
        logger.warning("the saved journal position is not usable as it is; reading the journal from \(from)", metadata: [
            "file": "\(store.path(for: configuration.name))",
            "kept_aside": "\(loaded.keptAside ?? "(not moved)")",
            "problems": "\(loaded.problems.map(\.description))",
        ])
        return loaded.fields
    }

    public func run(deliver: @escaping @Sendable ([LogLine]) async throws -> Void) async throws {
        SigbusGuard.install()
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        let saved = try loadSaved()
        let session = JournalSessionBox(JournalSession(configuration: configuration, logger: logger, counts: countsBox, onNewBoot: onNewBoot))
        let waiter = try ReadinessWaiter()
        var saver = ThrottledPositionSaver(store: configuration.positions, source: configuration.name)
        var delivered: JournalPoint? = nil
        var backoff: Duration = .milliseconds(100)
        /// Backs off, then opens the journal again from the last delivered position; a journal
        /// that cannot be opened now is retried, never given up on (the source is the buffer).
        func recover(_ reason: String) async throws {
            // A read that failed because the reader is being stopped is not a failure to report.
            try Task.checkCancellation()
            var why = reason
            while true {
                logger.warning("journal read failed; opening the journal again", metadata: ["reason": "\(why)", "backoff": "\(backoff)"])
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(30))
                do {
                    try await pool.runIfActive { try session.value.reopen() }
                    return
                } catch {
                    if error.isCancellation { throw error }
                    why = "\(error)"
                }
            }
        }
        do {
            try await pool.runIfActive { try session.value.open(saved: saved) }
            while true {
                try Task.checkCancellation()
                let step = try await pool.runIfActive { session.value.read() }
                switch step {
                case .lines(let lines, let point):
                    if !lines.isEmpty { try await deliver(lines) }
                    delivered = point
                    try await pool.runIfActive { session.value.committed(point) }
                    try await saver.updateWaitingForRoom(point.fields)
                    backoff = .milliseconds(100)
                case .retry(let reason):
                    try await recover(reason)
                case .reopen:
                    do {
                        try await pool.runIfActive { try session.value.reopen() }
                    } catch {
                        try await recover("\(error)")
                    }
                case .caughtUp:
                    let checkpoint: JournalPoint?
                    do {
                        checkpoint = try await pool.runIfActive { try session.value.checkpointAcrossSkipped() }
                    } catch {
                        try await recover("\(error)")
                        continue
                    }
                    if let checkpoint {
                        delivered = checkpoint
                        try await saver.updateWaitingForRoom(checkpoint.fields)
                    }
                    try await saver.flushWaitingForRoom()
                    if !configuration.follow {
                        // sd_journal_close on the thread that opened it.
                        try await pool.runIfActive { session.value.close() }
                        return
                    }
                    let fd: Int32, timeout: Int32
                    do {
                        (fd, timeout) = try await pool.runIfActive { try session.value.waitParameters(idle: configuration.idleTimeout) }
                    } catch {
                        try await recover("\(error)")
                        continue
                    }
                    _ = try await waiter.wait(on: pool, fds: [fd], timeoutMilliseconds: timeout)
                    try await pool.runIfActive { session.value.process() }
                }
            }
        } catch {
            if let delivered { try? saver.update(delivered.fields, force: true) } else { try? saver.flush() }
            _ = try? await pool.runIfActive { session.value.close() }
            if error.isCancellation || Task.isCancelled { return }
            throw error
        }
    }
}

/// A point in the journal a reader can resume from.
struct JournalPoint: Sendable, Equatable {
    var cursor: String
    var realtime: UInt64
    var boot: String

    var fields: [String: String] { ["cursor": cursor, "time": String(realtime), "boot": boot] }

    init(cursor: String, realtime: UInt64, boot: String) {
        self.cursor = cursor
        self.realtime = realtime
        self.boot = boot
    }

    init?(fields: [String: String]?) {
        guard let fields, let c = fields["cursor"], !c.isEmpty else { return nil }
        cursor = c
        realtime = fields["time"].flatMap { UInt64($0) } ?? JournalCursor(c)?.realtime ?? 0
        boot = fields["boot"] ?? ""
    }
}

enum JournalStep: Sendable {
    /// Entries read (possibly none, when only unreadable or filtered ones were passed) and the
    /// point after the last of them.
    case lines([LogLine], JournalPoint)
    /// Nothing more now.
    case caughtUp
    /// The journal must be opened again after an error (backing off first); what was read since
    /// the last hand-over was thrown away.
    case retry(String)
    /// A SIGBUS was survived: open the journal again at once (no error to back off from); what
    /// was read since the last hand-over was thrown away.
    case reopen
}

/// The session lives on the reader's one thread; the box only carries it between calls made
/// there (NIOThreadPool with one thread runs every call on that same thread).
final class JournalSessionBox: @unchecked Sendable {
    let value: JournalSession
    init(_ value: JournalSession) { self.value = value }
}

final class JournalSession {
    let configuration: JournalReaderConfiguration
    let logger: Logger
    let countsBox: LockedBox<JournalReaderCounts>
    let onNewBoot: (@Sendable (String) -> Void)?
    var journal: Journal?
    /// The last entry handed over (or checkpointed): where a re-open resumes.
    var committedPoint: JournalPoint?
    /// After seeking to a cursor, the first entry reached may be that entry itself: skip it.
    var skipIfAt: String?
    var counts = JournalReaderCounts()
    var sigbusSeen = 0
    /// Consecutive failures at the same point, to skip an entry that always fails.
    var failuresHere = 0
    var lastFailurePoint: String?
    private let entriesCounter: Counter

    init(configuration: JournalReaderConfiguration, logger: Logger, counts: LockedBox<JournalReaderCounts>,
         onNewBoot: (@Sendable (String) -> Void)?)
    {
        self.configuration = configuration
        self.logger = logger
        self.countsBox = counts
        self.onNewBoot = onNewBoot
        self.entriesCounter = Counter(label: "meetmeter_agent_journal_entries_total", dimensions: [("source", configuration.name)])
    }

    private func publish() { countsBox.value = counts }

    private var filtered: Bool { !configuration.units.isEmpty || !configuration.identifiers.isEmpty }

    private func makeJournal() throws(JournalError) -> Journal {
        let j = try Journal(directory: configuration.directory)
        j.setDataThreshold(configuration.maxLineBytes + 64)
        // The inotify watches are made by the first sd_journal_get_fd: made only when the reader
        // first caught up, an entry written between the last read and then woke nobody, and was
        // read only at the idle timeout (sd_journal_get_fd(3) asks for it right after opening).
        if configuration.follow { _ = try j.fileDescriptor() }
        return j
    }

    /// Opens the journal and places it after the saved position (or at the start).
    func open(saved: [String: String]?) throws {
        sigbusSeen = SigbusGuard.faults
        let point = JournalPoint(fields: saved)
        if let boot = point?.boot, !boot.isEmpty { counts.boot = boot }
        committedPoint = point
        let j = try makeJournal()
        journal = j
        try place(j, after: point)
        publish()
    }

    func reopen() throws {
        counts.reopens += 1
        journal = nil
        sigbusSeen = SigbusGuard.faults
        let j = try makeJournal()
        journal = j
        try place(j, after: committedPoint)
        if let p = lastFailurePoint, p == committedPoint?.cursor ?? "", failuresHere >= 3 {
            // The same entry failed three times: step over it.
            logger.warning("skipping a journal entry that cannot be read", metadata: ["after": "\(p)"])
            counts.unreadableEntries += 1
            _ = try? j.next()
            skipIfAt = nil
            failuresHere = 0
        }
        publish()
    }

    func close() { journal = nil }

    /// Seeks so that the next `next()` returns the first entry after `point` that the matches
    /// select. The saved entry is checked without matches first: if it is gone (vacuumed), the
    /// reader goes on from the oldest entry after it, counting the gap.
    private func place(_ j: Journal, after point: JournalPoint?) throws {
        j.flushMatches()
        guard let point else {
            try j.addMatches(units: configuration.units, identifiers: configuration.identifiers)
            switch configuration.start {
            case .head: try j.seekHead()
            case .tail:
                try j.seekTail()
                _ = try j.previous()
            }
            return
        }
        var exists = false
        do {
            try j.seek(cursor: point.cursor)
            exists = try j.next() && j.isAt(point.cursor)
        } catch {
            exists = false
        }
        if exists {
            try j.addMatches(units: configuration.units, identifiers: configuration.identifiers)
            try j.seek(cursor: point.cursor)
            skipIfAt = point.cursor
            return
        }
        // Gone. Order by sequence number when the oldest entry is from the same sequence; fall
        // back to the saved time only when it is not (PITFALLS: order by cursor, not wall time).
        try j.seekHead()
        let head: JournalCursor? = try j.next() ? JournalCursor(try j.cursor()) : nil
        let saved = JournalCursor(point.cursor)
        try j.addMatches(units: configuration.units, identifiers: configuration.identifiers)
        skipIfAt = point.cursor
        let savedTime = Timestamp(microseconds: Int64(point.realtime))
        guard let head else {
            // No entry at all: nothing older survives to read, and nothing tells what was lost.
            try j.seekHead()
            logger.notice("saved journal entry no longer exists and the journal is empty; reading what arrives",
                          metadata: ["saved_time": "\(savedTime)"])
            return
        }
        if let saved, head.seqnumID == saved.seqnumID {
            try j.seekHead()
            guard head.seqnum > saved.seqnum + 1 else {
                // The saved entry was vacuumed after it was read, and nothing after it: no gap.
                logger.info("saved journal entry was vacuumed after it was read; nothing was lost")
                return
            }
            let lost = head.seqnum - saved.seqnum - 1
            counts.gaps += 1
            counts.lostEntries += lost
            logger.error("saved journal position no longer exists (vacuumed before it was read); going on after a gap", metadata: [
                "saved_time": "\(savedTime)", "resume": "oldest entry, sequence \(head.seqnum)",
                "lost_entries": "\(lost) (of every unit, before filtering)",
            ])
            return
        }
        // Another sequence (journal files from elsewhere): the saved time is all there is.
        try j.seek(realtime: point.realtime)
        counts.gaps += 1
        logger.error("saved journal position no longer exists (vacuumed?); going on after a gap", metadata: [
            "saved_time": "\(savedTime)", "resume": "first entry at or after the saved time", "lost_entries": "unknown",
        ])
    }

    /// Reads up to a batch of entries.
    func read() -> JournalStep {
        guard let j = journal else { return .retry("journal not open") }
        var lines: [LogLine] = []
        var point: JournalPoint?
        let cap = configuration.maxLineBytes
        while lines.count < configuration.batchLines {
            let moved: Bool
            do {
                moved = try j.next()
            } catch {
                return failure("\(error)", lines: lines, point: point)
            }
            if SigbusGuard.faults != sigbusSeen { return sigbus() }
            guard moved else { break }
            do {
                if let skip = skipIfAt {
                    skipIfAt = nil
                    if j.isAt(skip) { continue }
                }
                let cursor = try j.cursor()
                let realtime = try j.realtime()
                let boot = try j.boot()
                var text: String?
                var origin: String?
                do {
                    (text, origin) = try j.messageAndOrigin(limit: cap)
                } catch where error.isBadMessage {
                    counts.unreadableEntries += 1
                    logger.warning("journal entry cannot be read; skipped", metadata: ["cursor": "\(cursor)", "error": "\(error)"])
                    point = JournalPoint(cursor: cursor, realtime: realtime, boot: boot)
                    continue
                }
                if SigbusGuard.faults != sigbusSeen { return sigbus() }
                if text == nil { counts.withoutMessage += 1 }
                noteBoot(boot)
                point = JournalPoint(cursor: cursor, realtime: realtime, boot: boot)
                lines.append(LogLine(source: configuration.name, position: .journal(cursor: cursor),
                                     time: Timestamp(microseconds: Int64(realtime)), boot: boot, origin: origin, text: text ?? ""))
            } catch {
                return failure("\(error)", lines: lines, point: point)
            }
        }
        counts.entries += lines.count
        entriesCounter.increment(by: Int64(lines.count))
        publish()
        if let point { return .lines(lines, point) }
        return .caughtUp
    }

    /// An error while reading: hand over what was read cleanly before it, then re-open.
    private func failure(_ reason: String, lines: [LogLine], point: JournalPoint?) -> JournalStep {
        let here = point?.cursor ?? committedPoint?.cursor ?? ""
        if here == lastFailurePoint { failuresHere += 1 } else { failuresHere = 1; lastFailurePoint = here }
        journal = nil
        if let point, !lines.isEmpty {
            counts.entries += lines.count
            publish()
            return .lines(lines, point)
        }
        return .retry(reason)
    }

    private func sigbus() -> JournalStep {
        counts.sigbusFaults += SigbusGuard.faults - sigbusSeen
        sigbusSeen = SigbusGuard.faults
        journal = nil
        publish()
        logger.warning("SIGBUS while reading the journal (a file was truncated or vacuumed); reading again from the last position")
        return .reopen
    }

    private func noteBoot(_ boot: String) {
        guard boot != counts.boot else { return }
        let previous = counts.boot
        counts.boot = boot
        if previous != nil {
            counts.bootChanges += 1
            logger.notice("journal entries from a new boot", metadata: ["boot": "\(boot)", "previous": "\(previous!)"])
            onNewBoot?(boot)
        }
    }

    func committed(_ point: JournalPoint) {
        committedPoint = point
        if journal == nil {
            // The read that produced these lines hit an error after them: re-open from here.
            _ = try? reopen()
        }
    }

    /// When caught up and the matches skip entries, moves the saved position to the journal's
    /// last entry, so that a restart does not pass over them all again (vector#17957). Only
    /// when no matching entry is left between the last one handed over and that last entry.
    func checkpointAcrossSkipped() throws -> JournalPoint? {
        guard filtered, let j = journal else { return nil }
        j.flushMatches()
        try j.seekTail()
        guard try j.previous() else {
            try place(j, after: committedPoint)
            return nil
        }
        let tail = JournalPoint(cursor: try j.cursor(), realtime: try j.realtime(), boot: try j.boot())
        if tail.cursor == committedPoint?.cursor {
            try restoreMatches(j)
            return nil
        }
        try restoreMatches(j)
        // Is there a matching entry after the last one handed over? Then it is not caught up.
        var pending = false
        while try j.next() {
            if let skip = skipIfAt {
                skipIfAt = nil
                if j.isAt(skip) { continue }
            }
            pending = true
            break
        }
        if pending {
            try restoreMatches(j)
            return nil
        }
        // No matching entry after ours up to now, and the tail was taken before this check:
        // the tail is a safe place to resume from. The handle stays at the end.
        committedPoint = tail
        counts.skipCheckpoints += 1
        publish()
        return tail
    }

    private func restoreMatches(_ j: Journal) throws {
        try j.addMatches(units: configuration.units, identifiers: configuration.identifiers)
        if let p = committedPoint {
            try j.seek(cursor: p.cursor)
            skipIfAt = p.cursor
        } else {
            try j.seekHead()
        }
    }

    func waitParameters(idle: Duration) throws -> (Int32, Int32) {
        guard let j = journal else { return (-1, 100) }
        let fd = try j.fileDescriptor()
        let idleMs = Int32(clamping: idle.components.seconds * 1000)
        let t = j.timeoutMilliseconds()
        return (fd, t < 0 ? idleMs : min(t, idleMs))
    }

    func process() {
        journal?.process()
        counts.wakeups += 1
        publish()
    }
}
