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

/// One line (or journal entry's message) as a source yields it, before any parsing.
public struct LogLine: Sendable {
    /// The configured name of the source (`bbb-apps-akka`, `/var/log/jitsi/jicofo.log`, `journal`).
    public var source: String
    public var position: SourcePosition
    /// The time the source itself gives the line (the journal's realtime timestamp); nil for file
    /// lines, whose time is in their text.
    public var time: Timestamp?
    /// The journal's boot id, for journal entries.
    public var boot: String?
    /// The program that wrote the line when the source knows it (journal: SYSLOG_IDENTIFIER or the
    /// unit); parsers may use it to choose.
    public var origin: String?
    /// The line's text without its newline. Not guaranteed to be valid UTF-8 in the original;
    /// invalid bytes are replaced.
    public var text: String

    public init(source: String, position: SourcePosition, time: Timestamp? = nil, boot: String? = nil, origin: String? = nil, text: String) {
        self.source = source
        self.position = position
        self.time = time
        self.boot = boot
        self.origin = origin
        self.text = text
    }
}
