import LogLines
import SystemCalls
import UsageRecords
import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// A failed sd-journal call: the call and errno's words.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    /// Positive errno.
    public var errno: Int32

    public init(_ operation: String, _ result: Int32) {
        self.operation = operation
        self.errno = result < 0 ? -result : result
    }

    public var description: String { "journal: \(operation) failed: \(String(cString: strerror(errno)))" }

    var isBadMessage: Bool { errno == EBADMSG || errno == EIO || errno == EPROTONOSUPPORT || errno == ENODATA }
}

/// The cursor's parts that allow ordering without wall time (seqnum within a seqnum id).
struct JournalCursor: Sendable, Equatable {
    var seqnumID: String
    var seqnum: UInt64
    var boot: String
    var realtime: UInt64

    /// `s=…;i=…;b=…;m=…;t=…;x=…` as libsystemd 252 writes it.
    init?(_ text: String) {
        var s: String?, i: UInt64?, b = "", t: UInt64 = 0
        for part in text.split(separator: ";") {
            guard part.count > 2, part.dropFirst().first == "=" else { continue }
            let value = part.dropFirst(2)
            switch part.first {
            case "s": s = String(value)
            case "i": i = UInt64(value, radix: 16)
            case "b": b = String(value)
            case "t": t = UInt64(value, radix: 16) ?? 0
            default: break
            }
        }
        guard let s, let i else { return nil }
        seqnumID = s
        seqnum = i
        boot = b
        realtime = t
    }
}

/// sd-journal in a small Swift type: open, match, seek, step, read fields, wait.
///
/// A handle may be used only from the thread that made it (sd_journal_open(3)), so this type is
/// not Sendable: `JournalReader` makes, uses and closes it on its one dedicated thread.
public final class Journal {
    private var handle: OpaquePointer?

    /// The system journal (local only), or the journal files in `directory`.
    public init(directory: String?) throws(JournalError) {
        var j: OpaquePointer?
        let r: Int32
        if let directory {
            r = sd_journal_open_directory(&j, directory, 0)
        } else {
            r = sd_journal_open(&j, Int32(SD_JOURNAL_LOCAL_ONLY))
        }
        guard r >= 0, let j else { throw JournalError(directory.map { "open \($0)" } ?? "open", r) }
        handle = j
    }

    deinit { if let handle { sd_journal_close(handle) } }

    private func check(_ r: Int32, _ op: @autoclosure () -> String) throws(JournalError) -> Int32 {
        guard r >= 0 else { throw JournalError(op(), r) }
        return r
    }

    func setDataThreshold(_ bytes: Int) {
        _ = sd_journal_set_data_threshold(handle, bytes)
    }

    // MARK: Matches

    func addMatch(_ match: String) throws(JournalError) {
        let bytes = Array(match.utf8)
        let r = bytes.withUnsafeBytes { sd_journal_add_match(handle, $0.baseAddress, $0.count) }
        _ = try check(r, "add match \(match)")
    }

    func addDisjunction() throws(JournalError) { _ = try check(sd_journal_add_disjunction(handle), "add disjunction") }

    func flushMatches() { sd_journal_flush_matches(handle) }

    /// The matches `journalctl -u UNIT` uses for each unit (its add_matches_for_unit), and
    /// SYSLOG_IDENTIFIER= for each identifier, all ORed: the unit's own messages, PID 1's
    /// messages about it, its coredumps, and messages from privileged daemons about it.
    func addMatches(units: [String], identifiers: [String]) throws(JournalError) {
        var first = true
        func group(_ matches: [String]) throws(JournalError) {
            if !first { try addDisjunction() }
            first = false
            for m in matches { try addMatch(m) }
        }
        for unit in units {
            try group(["_SYSTEMD_UNIT=\(unit)"])
            try group(["MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1", "_UID=0", "COREDUMP_UNIT=\(unit)"])
            try group(["_PID=1", "UNIT=\(unit)"])
            try group(["_UID=0", "OBJECT_SYSTEMD_UNIT=\(unit)"])
        }
        for identifier in identifiers {
            try group(["SYSLOG_IDENTIFIER=\(identifier)"])
        }
    }

    // MARK: Moving

    public func seekHead() throws(JournalError) { _ = try check(sd_journal_seek_head(handle), "seek head") }
    func seekTail() throws(JournalError) { _ = try check(sd_journal_seek_tail(handle), "seek tail") }
    func seek(cursor: String) throws(JournalError) { _ = try check(sd_journal_seek_cursor(handle, cursor), "seek cursor") }
    func seek(realtime: UInt64) throws(JournalError) { _ = try check(sd_journal_seek_realtime_usec(handle, realtime), "seek time") }

    /// true when it moved to an entry, false at the end.
    public func next() throws(JournalError) -> Bool { try check(sd_journal_next(handle), "next") > 0 }
    func previous() throws(JournalError) -> Bool { try check(sd_journal_previous(handle), "previous") > 0 }

    /// Whether the current entry is the one `cursor` names.
    func isAt(_ cursor: String) -> Bool { sd_journal_test_cursor(handle, cursor) > 0 }

    // MARK: The current entry

    public func cursor() throws(JournalError) -> String {
        var c: UnsafeMutablePointer<CChar>?
        _ = try check(sd_journal_get_cursor(handle, &c), "get cursor")
        defer { free(c) }
        return String(cString: c!)
    }

    public func realtime() throws(JournalError) -> UInt64 {
        var t: UInt64 = 0
        _ = try check(sd_journal_get_realtime_usec(handle, &t), "get time")
        return t
    }

    /// The entry's boot id, 32 hex digits as `_BOOT_ID=` writes it (the text is made once per boot).
    func boot() throws(JournalError) -> String {
        var m: UInt64 = 0
        var id = sd_id128_t()
        _ = try check(sd_journal_get_monotonic_usec(handle, &m, &id), "get boot id")
        let same = withUnsafeBytes(of: id.bytes) { a in withUnsafeBytes(of: lastBoot.bytes) { b in a.elementsEqual(b) } }
        if same, let text = lastBootText { return text }
        var s = ""
        s.reserveCapacity(32)
        let digits = Array("0123456789abcdef".utf8)
        withUnsafeBytes(of: id.bytes) { raw in
            for b in raw {
                s.unicodeScalars.append(Unicode.Scalar(digits[Int(b >> 4)]))
                s.unicodeScalars.append(Unicode.Scalar(digits[Int(b & 15)]))
            }
        }
        lastBoot = id
        lastBootText = s
        return s
    }

    private var lastBoot = sd_id128_t()
    private var lastBootText: String?

    /// The value of a field of the current entry (without `NAME=`), at most `limit` bytes, or
    /// nil when the entry has no such field.
    public func field(_ name: String, limit: Int = .max) throws(JournalError) -> String? {
        var data: UnsafeRawPointer?
        var length = 0
        let r = sd_journal_get_data(handle, name, &data, &length)
        if r == -ENOENT { return nil }
        _ = try check(r, "read \(name)")
        let skip = name.utf8.count + 1
        guard let data, length >= skip else { return nil }
        let count = min(length - skip, limit)
        return String(decoding: UnsafeRawBufferPointer(start: data + skip, count: count), as: UTF8.self)
    }

    /// MESSAGE and the first of SYSLOG_IDENTIFIER, _SYSTEMD_UNIT, UNIT of the current entry, in one
    /// pass over its fields (each sd_journal_get_data call scans them all again).
    func messageAndOrigin(limit: Int) throws(JournalError) -> (message: String?, origin: String?) {
        sd_journal_restart_data(handle)
        var message: String?
        var origin: String?
        var originRank = Int.max
        var data: UnsafeRawPointer?
        var length = 0
        while true {
            let r = sd_journal_enumerate_data(handle, &data, &length)
            if r == 0 { break }
            if r < 0 {
                // A damaged field (libsystemd skips most itself): go on with the others.
                if r == -EBADMSG || r == -EADDRNOTAVAIL { continue }
                throw JournalError("read fields", r)
            }
            guard let data else { continue }
            let bytes = UnsafeRawBufferPointer(start: data, count: length)
            guard let first = bytes.first else { continue }
            switch first {
            case UInt8(ascii: "M") where message == nil && Self.hasPrefix(bytes, Self.messagePrefix):
                let skip = Self.messagePrefix.count
                message = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[skip..<min(length, skip + limit)]), as: UTF8.self)
            case UInt8(ascii: "S") where originRank > 0 && Self.hasPrefix(bytes, Self.identifierPrefix):
                origin = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[Self.identifierPrefix.count...].prefix(256)), as: UTF8.self)
                originRank = 0
            case UInt8(ascii: "_") where originRank > 1 && Self.hasPrefix(bytes, Self.systemdUnitPrefix):
                origin = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[Self.systemdUnitPrefix.count...].prefix(256)), as: UTF8.self)
                originRank = 1
            case UInt8(ascii: "U") where originRank > 2 && Self.hasPrefix(bytes, Self.unitPrefix):
                origin = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[Self.unitPrefix.count...].prefix(256)), as: UTF8.self)
                originRank = 2
            default:
                break
            }
        }
        return (message, origin)
    }

    private static let messagePrefix = Array("MESSAGE=".utf8)
    private static let identifierPrefix = Array("SYSLOG_IDENTIFIER=".utf8)
    private static let systemdUnitPrefix = Array("_SYSTEMD_UNIT=".utf8)
    private static let unitPrefix = Array("UNIT=".utf8)

    private static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ prefix: [UInt8]) -> Bool {
        bytes.count >= prefix.count && prefix.withUnsafeBytes { memcmp(bytes.baseAddress!, $0.baseAddress!, prefix.count) == 0 }
    }

    // MARK: Waiting

    /// The descriptor to poll for changes (inotify on the journal's folders).
    func fileDescriptor() throws(JournalError) -> Int32 { try check(sd_journal_get_fd(handle), "get fd") }

    /// Milliseconds to wait at most before `process` must be called (-1: no limit).
    func timeoutMilliseconds() -> Int32 {
        var t: UInt64 = 0
        guard sd_journal_get_timeout(handle, &t) >= 0, t != UInt64.max else { return -1 }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nowUsec = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        return t <= nowUsec ? 0 : Int32(clamping: (t - nowUsec + 999) / 1000)
    }

    /// Takes in what changed since the last wait (new entries, new or removed files).
    @discardableResult
    func process() -> Int32 { sd_journal_process(handle) }

    /// The realtime span of the journal's files, ignoring matches.
    func cutoff() -> (from: UInt64, to: UInt64)? {
        var from: UInt64 = 0, to: UInt64 = 0
        guard sd_journal_get_cutoff_realtime_usec(handle, &from, &to) > 0 else { return nil }
        return (from, to)
    }
}
