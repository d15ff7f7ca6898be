import LogLines
import UsageRecords

/// An operator's rule from agent.toml (`[[rules]]`): lines of software meetmeter ships no parser
/// for (or the whiteboard and background events of a client) become records of any kind.
///
/// A rule finds its lines by a literal (`contains`, a byte search, the cheap test), the program
/// that wrote them (`origin`), and either a regular expression with named captures or a JSON
/// object in the line with conditions on its fields. `fields` maps each record field to a capture
/// name or a dotted JSON path; a value starting with `=` is a literal (`activity = "=whiteboard"`).
public struct CustomRule: Sendable {
    public enum Match: Sendable {
        /// Named captures, searched anywhere in the line: `user=(?<user>\S+)`.
        case regex(String)
        /// The JSON object after `after` (or from the line's first `{`), kept when every path in
        /// `equals` holds that text (`"event.name" = "whiteboard.opened"`).
        case json(after: String?, equals: [String: String])
    }

    public enum TimeFormat: String, Sendable, CaseIterable {
        /// With a zone: `2026-11-22T10:15:00.123Z`, `… +02:00`.
        case rfc3339
        /// Without one, in the configured local zone: `2026-11-22 10:15:00.123`.
        case local
        case epochMilliseconds = "epoch_ms"
        case epochSeconds = "epoch_s"
    }

    public let name: String
    public let kind: RecordKind
    public let match: Match
    public let fields: [String: String]
    public let contains: String?
    public let origin: String?
    /// The capture or path of the event's time; nil takes the journal's time of the line.
    public let time: String?
    public let timeFormat: TimeFormat

    let regex: CompiledRegex?
    let containsNeedle: ByteNeedle?
    let afterNeedle: ByteNeedle?

    public init(name: String, kind: RecordKind, match: Match, fields: [String: String], contains: String? = nil,
                origin: String? = nil, time: String? = nil, timeFormat: TimeFormat = .rfc3339) throws(CustomRuleError)
    {
        func fail(_ field: String?, _ message: String) -> CustomRuleError {
            CustomRuleError(rule: name, field: field, message: message)
        }
        guard !name.isEmpty else { throw fail("name", "is empty") }
        guard !kind.rawValue.isEmpty, !kind.rawValue.contains(" ") else { throw fail("kind", "'\(kind)' is not a record kind") }
        guard kind != .hostHeartbeat else { throw fail("kind", "host.heartbeat records are the agent's own") }
        if let contains, contains.isEmpty { throw fail("contains", "is empty") }
        for (field, source) in fields where source.isEmpty || field.isEmpty {
            throw fail("fields", "'\(field)' needs a capture, a path or an =literal")
        }
        for required in Self.requiredFields(of: kind) where fields[required] == nil {
            throw fail("fields", "\(kind) records need '\(required)'")
        }
        self.name = name
        self.kind = kind
        self.match = match
        self.fields = fields
        self.contains = contains
        self.origin = origin
        self.time = time
        self.timeFormat = timeFormat
        containsNeedle = contains.map(ByteNeedle.init)
        switch match {
        case .regex(let pattern):
            let compiled: CompiledRegex
            do {
                compiled = try CompiledRegex(pattern)
            } catch {
                throw fail("regex", "does not compile: \(error)")
            }
            let sources = fields.values.filter { !$0.hasPrefix("=") } + (time.map { [$0] } ?? [])
            for capture in sources where !compiled.regex.contains(captureNamed: capture) {
                throw fail("regex", "has no capture named '\(capture)' (write (?<\(capture)>…))")
            }
            regex = compiled
            afterNeedle = nil
        case .json(let after, _):
            if let after, after.isEmpty { throw fail("json_after", "is empty") }
            regex = nil
            afterNeedle = after.map(ByteNeedle.init)
        }
    }

    /// The fields each kind of DESIGN.md must have.
    static func requiredFields(of kind: RecordKind) -> [String] {
        switch kind {
        case .meetingStarted, .meetingEnded: ["meeting"]
        case .userJoined: ["meeting", "user", "role"]
        case .userLeft, .clientBackground, .clientForeground: ["meeting", "user"]
        case .userRole: ["meeting", "user", "role"]
        case .activityStarted, .activityStopped: ["meeting", "activity"]
        case .recordingProcessed: ["recording", "meeting", "step", "started", "ended"]
        case .storageSample: ["scope", "key", "bytes"]
        default: []
        }
    }
}

/// A rule that cannot be used, naming the rule and its key.
public struct CustomRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    public var rule: String
    public var field: String?
    public var message: String

    public var description: String {
        if let field { return "rule '\(rule)': \(field) \(message)" }
        return "rule '\(rule)': \(message)"
    }
}

/// A compiled pattern. `Regex` holds no mutable state once built; the box only says so to the
/// compiler, which does not see it.
struct CompiledRegex: @unchecked Sendable {
    let regex: Regex<AnyRegexOutput>
    init(_ pattern: String) throws { regex = try Regex(pattern) }
}
