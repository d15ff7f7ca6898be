import UsageRecords

/// Where a line sits in its source, precisely enough to resume after it and to derive the ids
/// of the records made from it (DESIGN.md principle 2).
public enum SourcePosition: Sendable, Hashable {
    /// A line of a file: the file's content fingerprint and the byte offset of the line's start.
    case file(fingerprint: UInt64, offset: UInt64)
    /// A journal entry, by its cursor.
    case journal(cursor: String)
    /// A line of a stream without identity (standard input): its name and 1-based line number.
    case stream(name: String, line: UInt64)
}

/// Bytes read from a source at once, shared by every line cut from them: a batch of file lines
/// costs one allocation a read, not one a line. Immutable once made.
public final class SharedBytes: Sendable {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
}

/// One line (or journal entry's message) as a source yields it, before any parsing.
public struct LogLine: Sendable {
    /// The configured name of the source (`bbb-apps-akka`, `/var/log/jitsi/jicofo.log`, `journal`).
    public var source: String
    public var position: SourcePosition
    @usableFromInline var body: Body
    /// What only some sources know (the journal), kept apart: a file line, the common case, carries
    /// none of it, and a batch of lines stays small.
    private var context: Context?

    /// A line's bytes: its own text, or a range of bytes read with other lines (file lines are
    /// decoded only when something asks for their text; most are never asked).
    @usableFromInline enum Body: Sendable {
        case text(String)
        case shared(SharedBytes, start: UInt32, count: UInt32)
    }

    private final class Context: Sendable {
        let time: Timestamp?
        let boot: String?
        let origin: String?
        init(time: Timestamp?, boot: String?, origin: String?) {
            self.time = time
            self.boot = boot
            self.origin = origin
        }
    }

    /// The time the source itself gives the line (the journal's realtime timestamp); nil for file
    /// lines, whose time is in their text.
    public var time: Timestamp? {
        get { context?.time }
        set { context = Context(time: newValue, boot: boot, origin: origin) }
    }
    /// The journal's boot id, for journal entries.
    public var boot: String? {
        get { context?.boot }
        set { context = Context(time: time, boot: newValue, origin: origin) }
    }
    /// The program that wrote the line when the source knows it (journal: SYSLOG_IDENTIFIER or the
    /// unit); parsers may use it to choose.
    public var origin: String? {
        get { context?.origin }
        set { context = Context(time: time, boot: boot, origin: newValue) }
    }

    public init(source: String, position: SourcePosition, time: Timestamp? = nil, boot: String? = nil, origin: String? = nil, text: String) {
        self.source = source
        self.position = position
        self.body = .text(text)
        if time != nil || boot != nil || origin != nil { context = Context(time: time, boot: boot, origin: origin) }
    }

    /// A line whose bytes are `count` bytes of `shared` from `start`, not copied (a batch's bytes
    /// stay under 4 GiB: its lines are at most `max_line_bytes` each, and a batch a few thousand lines).
    public init(source: String, position: SourcePosition, shared: SharedBytes, start: Int, count: Int) {
        precondition(start >= 0 && count >= 0 && start + count <= shared.bytes.count && start + count <= Int(UInt32.max))
        self.source = source
        self.position = position
        self.body = .shared(shared, start: UInt32(start), count: UInt32(count))
    }

    /// The line's text without its newline. Not guaranteed to be valid UTF-8 in the original;
    /// invalid bytes are replaced.
    public var text: String {
        get {
            switch body {
            case .text(let text): return text
            case .shared(let shared, let start, let count):
                return shared.bytes.withUnsafeBufferPointer {
                    String(decoding: UnsafeBufferPointer(rebasing: $0[Int(start)..<Int(start + count)]), as: UTF8.self)
                }
            }
        }
        set { body = .text(newValue) }
    }

    /// The length of the line's bytes as read (before any replacement of invalid UTF-8).
    public var byteCount: Int {
        switch body {
        case .text(let text): text.utf8.count
        case .shared(_, _, let count): Int(count)
        }
    }

    /// Runs `body` over the line's UTF-8, the same bytes as `text`'s: in place for a native string
    /// or a line in shared bytes that is well-formed UTF-8 (nearly every log line); decoded first
    /// otherwise, so that invalid bytes are replaced exactly as `text` replaces them.
    @inlinable
    public func withUTF8<R>(_ use: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let r = try withValidBytes(use) { return r }
        var text = self.text
        return try text.withUTF8(use)
    }

    /// `use` over the bytes when they can be read in place as UTF-8; nil when they must be decoded.
    @inlinable
    func withValidBytes<R>(_ use: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        switch body {
        case .text(let text):
            return try text.utf8.withContiguousStorageIfAvailable(use)
        case .shared(let shared, let start, let count):
            return try shared.bytes.withUnsafeBufferPointer { all -> R? in
                let bytes = UnsafeBufferPointer(rebasing: all[Int(start)..<Int(start + count)])
                return UTF8Validation.isValid(bytes) ? try use(bytes) : nil
            }
        }
    }
}
