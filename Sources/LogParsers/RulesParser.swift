import LogLines
import UsageRecords

/// The operator's rules first, then the built-in parser (if any) for lines no rule took: a rule
/// may so replace what meetmeter reads from a line as well as add to it.
public struct RulesParser: LogParser {
    public var name: String { fallback.map { "rules+" + $0.name } ?? "rules" }

    public let rules: [CustomRule]
    private var fallback: (any LogParser)?
    private let zone: LocalTimeZone

    public init(rules: [CustomRule], fallback: (any LogParser)?, zone: LocalTimeZone = .system) {
        self.rules = rules
        self.fallback = fallback
        self.zone = zone
    }

    public mutating func parse(_ line: LogLine) -> ParseOutcome {
        for rule in rules {
            if let outcome = rule.apply(to: line, zone: zone) { return outcome }
        }
        return fallback?.parse(line) ?? .ignored
    }
}

extension CustomRule {
    /// The rule's outcome for `line`, or nil if the line is not one of its lines.
    func apply(to line: LogLine, zone: LocalTimeZone) -> ParseOutcome? {
        if let origin, !Self.origin(line.origin, is: origin) { return nil }
        if let needle = containsNeedle, !line.withBytes({ $0.find(needle) != nil }) { return nil }
        var values: [String: JSONValue] = [:]
        var timeValue: JSONValue?
        switch match {
        case .regex:
            guard let regex, let found = try? regex.regex.firstMatch(in: line.text) else { return nil }
            for (field, source) in fields {
                if source.hasPrefix("=") {
                    values[field] = .string(String(source.dropFirst()))
                } else if let text = found.output[source]?.substring {
                    values[field] = .string(String(text))
                }
            }
            if let time, let text = found.output[time]?.substring { timeValue = .string(String(text)) }
        case .json(_, let equals):
            let parsed: EmbeddedJSON.Result? = line.withBytes { b in
                let start: Int?
                if let after = afterNeedle {
                    start = b.find(after).map { $0 + after.count }
                } else {
                    start = b.index(of: UInt8(ascii: "{"))
                }
                return start.map { EmbeddedJSON.parse(b, from: $0) }
            }
            guard let parsed else { return nil }
            let json: JSONValue
            switch parsed {
            case .value(let v): json = v
            case .truncated(let e), .invalid(let e):
                // Only a line the rule clearly aimed at is worth a skip; others are not its lines.
                guard contains != nil || afterNeedle != nil else { return nil }
                return .skipped(SkipReason("rule-bad-json", "rule '\(name)': the JSON does not parse: \(e)"))
            }
            for (path, expected) in equals where Self.scalarText(Self.value(json, path)) != expected { return nil }
            for (field, source) in fields {
                if source.hasPrefix("=") {
                    values[field] = .string(String(source.dropFirst()))
                } else if let v = Self.value(json, source), v != .null {
                    values[field] = v
                }
            }
            if let time { timeValue = Self.value(json, time) }
        }

        let eventTime: Timestamp
        if let timeValue {
            guard let t = Self.time(timeValue, format: timeFormat, zone: zone) else {
                return .skipped(SkipReason("rule-bad-time", "rule '\(name)': '\(Self.scalarText(timeValue) ?? timeValue.typeName)' is not a \(timeFormat.rawValue) time"))
            }
            eventTime = t
        } else if time == nil, let t = line.time {
            eventTime = t
        } else {
            return .skipped(SkipReason("no-timestamp", "rule '\(name)': the line gave no time"))
        }
        switch payload(values, zone: zone) {
        case .success(let (payload, extra)):
            return .events([ParsedEvent(time: eventTime, payload: payload, extra: extra)])
        case .failure(let reason):
            return .skipped(reason)
        }
    }

    /// The record the values make: the kind's own fields typed, the rest kept as extra fields.
    private func payload(_ values: [String: JSONValue], zone: LocalTimeZone) -> Attempt<(Payload, [String: JSONValue])> {
        var rest = values
        func take(_ field: String) -> String? {
            guard let v = rest.removeValue(forKey: field), let s = Self.scalarText(v), !s.isEmpty else { return nil }
            return s
        }
        var missingField: String?
        func need(_ field: String) -> String {
            if let s = take(field) { return s }
            if missingField == nil { missingField = field }
            return ""
        }
        let payload: Payload
        switch kind {
        case .meetingStarted:
            var meta: [String: JSONValue] = rest.removeValue(forKey: "meta")?.objectValue ?? [:]
            for key in rest.keys where key.hasPrefix("meta.") {
                meta[String(key.dropFirst(5))] = rest.removeValue(forKey: key)
            }
            payload = .meetingStarted(MeetingStarted(meeting: need("meeting"), external: take("external"), name: take("name"),
                                                     meta: meta, parent: take("parent")))
        case .meetingEnded:
            payload = .meetingEnded(MeetingEnded(meeting: need("meeting"), reason: take("reason")))
        case .userJoined:
            payload = .userJoined(UserJoined(meeting: need("meeting"), user: need("user"), role: need("role"), client: take("client")))
        case .userLeft:
            payload = .userLeft(UserLeft(meeting: need("meeting"), user: need("user")))
        case .userRole:
            payload = .userRole(UserRoleChanged(meeting: need("meeting"), user: need("user"), role: need("role")))
        case .activityStarted, .activityStopped:
            let a = Activity(meeting: need("meeting"), user: take("user"), activity: need("activity"))
            payload = kind == .activityStarted ? .activityStarted(a) : .activityStopped(a)
        case .clientBackground, .clientForeground:
            let c = ClientVisibility(meeting: need("meeting"), user: need("user"))
            payload = kind == .clientBackground ? .clientBackground(c) : .clientForeground(c)
        case .recordingProcessed:
            let recording = need("recording"), meeting = need("meeting"), step = need("step")
            let started = rest.removeValue(forKey: "started").flatMap { Self.time($0, format: timeFormat, zone: zone) }
            let ended = rest.removeValue(forKey: "ended").flatMap { Self.time($0, format: timeFormat, zone: zone) }
            guard let started, let ended else {
                return .failure(SkipReason("rule-bad-time", "rule '\(name)': started and ended must be \(timeFormat.rawValue) times"))
            }
            guard ended >= started else {
                return .failure(SkipReason("time-order", "rule '\(name)': ended before started"))
            }
            payload = .recordingProcessed(RecordingProcessed(recording: recording, meeting: meeting, step: step, started: started, ended: ended))
        case .storageSample:
            let scope = need("scope"), key = need("key"), meeting = take("meeting")
            guard let bytesText = take("bytes"), let bytes = Int64(bytesText), bytes >= 0 else {
                return .failure(SkipReason("rule-bad-value", "rule '\(name)': bytes must be a whole number of bytes"))
            }
            payload = .storageSample(StorageSample(scope: scope, key: key, meeting: meeting, bytes: bytes))
        default:
            payload = .other(kind)
        }
        if let missingField {
            return .failure(SkipReason("missing-field", "rule '\(name)': the line gave no \(missingField)"))
        }
        return .success((payload, rest))
    }

    static func origin(_ lineOrigin: String?, is wanted: String) -> Bool {
        guard let lineOrigin else { return false }
        return lineOrigin == wanted || lineOrigin == wanted + ".service"
    }

    static func value(_ json: JSONValue, _ path: String) -> JSONValue? {
        var current: JSONValue? = json
        for key in path.split(separator: ".", omittingEmptySubsequences: false) { current = current?[String(key)] }
        return current
    }

    static func scalarText(_ v: JSONValue?) -> String? {
        switch v {
        case .string(let s)?: s
        case .number(let n)?: n
        case .bool(let b)?: b ? "true" : "false"
        default: nil
        }
    }

    static func time(_ v: JSONValue, format: TimeFormat, zone: LocalTimeZone) -> Timestamp? {
        guard let text = scalarText(v) else { return nil }
        switch format {
        case .rfc3339:
            return Timestamp(rfc3339: text)
        case .local:
            var t = text
            return t.withUTF8 { b in
                guard let c = LogTime.civil(b, at: 0), c.end == b.count else { return nil }
                return zone.instant(localSeconds: c.seconds, microseconds: c.microseconds)
            }
        case .epochMilliseconds:
            return Int64(text).flatMap(Timestamp.init(checkedMilliseconds:))
        case .epochSeconds:
            if let s = Int64(text) { return Timestamp(checkedSeconds: s) }
            let parts = text.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let s = Int64(parts[0]), parts[1].allSatisfy(\.isNumber), !parts[1].isEmpty else { return nil }
            let digits = String((parts[1] + "000000").prefix(6))
            guard let micro = Int64(digits) else { return nil }
            return Timestamp(checkedSeconds: s, microseconds: micro)
        }
    }
}
