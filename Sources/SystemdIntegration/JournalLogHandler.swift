import CSystemd
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A swift-log handler that writes to the systemd journal with a priority and structured fields
/// (`MEETMETER_SOURCE=…`), so `journalctl -u meetmeter-agent -p warning` and field matches work.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let identifier: String

    public init(label: String, identifier: String) {
        self.label = label
        self.identifier = identifier
    }

    /// True when standard error already goes to the journal (systemd sets JOURNAL_STREAM).
    public static var stderrIsJournal: Bool { getenv("JOURNAL_STREAM") != nil }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String] = [
            "MESSAGE=\(event.message)",
            "PRIORITY=\(Self.priority(event.level))",
            "SYSLOG_IDENTIFIER=\(identifier)",
            "CODE_FILE=\(event.file)",
            "CODE_LINE=\(event.line)",
            "CODE_FUNC=\(event.function)",
            "LOGGER=\(label)",
        ]
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        var summary: [String] = []
        for (key, value) in all.sorted(by: { $0.key < $1.key }) {
            let name = "MEETMETER_" + key.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
            fields.append("\(name)=\(value)")
            summary.append("\(key)=\(value)")
        }
        // The fields are for matching; the message also carries them for a person reading journalctl.
        if !summary.isEmpty { fields[0] = "MESSAGE=\(event.message) \(summary.joined(separator: " "))" }
        // C copies that outlive the call; sd_journal_sendv takes (pointer, length) pairs.
        let copies = fields.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var vectors = copies.map { iovec(iov_base: UnsafeMutableRawPointer($0), iov_len: $0.map { strlen($0) } ?? 0) }
        _ = vectors.withUnsafeMutableBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}

/// Bootstraps swift-log for a daemon: the journal when systemd runs it, standard error otherwise.
public enum DaemonLogging {
    public static func bootstrap(identifier: String, level: Logger.Level) {
        let toJournal = JournalLogHandler.stderrIsJournal
        LoggingSystem.bootstrap { label in
            if toJournal {
                var h = JournalLogHandler(label: label, identifier: identifier)
                h.logLevel = level
                return h
            }
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
    }
}
