import LogLines
import UsageRecords

/// A fact a parser recognised in a line, before the agent gives it an id and its host name.
public struct ParsedEvent: Sendable, Hashable {
    public var time: Timestamp
    public var payload: Payload
    public var extra: [String: JSONValue]

    public init(time: Timestamp, payload: Payload, extra: [String: JSONValue] = [:]) {
        self.time = time
        self.payload = payload
        self.extra = extra
    }
}

/// Why a line that looked like usage made no record. Counted per reason, never silent.
public struct SkipReason: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// A short stable label for counting (`bad-json`, `no-timestamp`, `missing-field`, …).
    public var code: String
    /// A sentence for a person, with the detail of this line.
    public var detail: String

    public init(_ code: String, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code): \(detail)" }
    public static func < (a: SkipReason, b: SkipReason) -> Bool { (a.code, a.detail) < (b.code, b.detail) }
}

/// What a parser made of one line.
public enum ParseOutcome: Sendable, Hashable {
    /// The line is about usage; these are the facts in it (possibly several).
    case events([ParsedEvent])
    /// The line is not about usage (the common case): skipped quickly and silently.
    case ignored
    /// The line looked like usage but could not be read.
    case skipped(SkipReason)
}

/// Turns lines of one meeting software's logs into usage facts.
///
/// Parsers may keep state between lines (a recording step's start until its end), so they are
/// values that a single source's task owns and mutates.
public protocol LogParser: Sendable {
    /// A short name for logs and `--software` (`bbb`, `jitsi`, `rules`).
    var name: String { get }
    mutating func parse(_ line: LogLine) -> ParseOutcome
}

/// Gives parsed events their ids and host, turning them into records.
public struct RecordMaker: Sendable {
    public var host: String

    public init(host: String) { self.host = host }

    public func records(from line: LogLine, events: [ParsedEvent]) -> [UsageRecord] {
        events.enumerated().map { index, event in
            var extra = event.extra
            // Records read from the journal say which boot they come from, so that a reboot shows
            // in the records themselves, not only in the heartbeats.
            if let boot = line.boot, !boot.isEmpty, extra["boot"] == nil { extra["boot"] = .string(boot) }
            return UsageRecord(id: id(for: line, index: index), time: event.time, host: host,
                               payload: event.payload, extra: extra)
        }
    }

    public func id(for line: LogLine, index: Int) -> RecordID {
        switch line.position {
        case .file(let fingerprint, let offset):
            return .fileLine(host: host, fingerprint: fingerprint, offset: offset, index: index)
        case .journal(let cursor):
            return .journalEntry(host: host, cursor: cursor, index: index)
        case .stream(let name, let number):
            return .streamLine(host: host, source: name, line: number, text: line.text[...], index: index)
        }
    }
}
