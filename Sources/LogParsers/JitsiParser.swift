import LogLines
import UsageRecords

/// Jitsi Meet's conference focus, jicofo (`/var/log/jitsi/jicofo.log`, LOG-FORMATS.md §7):
///
///     Jicofo <local time> INFO: [tid] [room=<jid> meeting_id=<uuid>] Class.method#n: <message>
///     Jicofo <local time> INFO: [tid] org.jitsi.jicofo.Class.log() <message>          (≤ 2021)
///
/// New messages: `Created new conference.`, `Member joined:<nick> … role=<ROLE> isJibri=…`,
/// `Member left:<nick>`, `Stopped.`, `Publishing new jibri-recording-status: <… status='on|off'>`.
/// Old ones: `Created new focus for <room>@<domain>. Conference count N`, `Member <room>/<nick>
/// joined.`, `Member <room>/<nick> is leaving`, `Disposed conference for room: <room> …`.
///
/// A conference is named by jicofo's meeting id, which its logger adds only after `Created new
/// conference.`: the start waits for the room's next line that carries it. Lines without any
/// meeting id (old jicofo) name the conference by its room. The videobridge's lines are a second
/// route to the same facts and are not read.
public struct JitsiParser: LogParser {
    public var name: String { "jitsi" }

    private let zone: LocalTimeZone
    /// Rooms whose conference was created and whose meeting id is not known yet, with the time.
    private var created: [String: Timestamp] = [:]
    private var ended = BoundedSet<MeetingKey>(capacity: 100_000)
    private var recent = RecentLines()

    public init(options: ParserOptions = ParserOptions()) {
        zone = options.localTimeZone
    }

    private static let jicofo = ByteNeedle("Jicofo ")

    /// The cheap test: a jicofo line starts with its program name (after any prefix a copy adds).
    static func mayMatch(_ b: LineBuffer) -> Bool {
        b.find(jicofo, to: 200) != nil
    }

    public mutating func parse(_ line: LogLine) -> ParseOutcome {
        line.withBytes { b in parse(b, line: line) }
    }

    mutating func parse(_ b: LineBuffer, line: LogLine) -> ParseOutcome {
        guard let j = b.find(Self.jicofo, to: 200), let head = JicofoLine(b, from: j + Self.jicofo.count) else {
            return .ignored
        }
        let fact = Self.recognise(b, message: head.message, oldStyle: head.oldStyle)
        // Most jicofo lines say nothing billable and no conference waits for its meeting id: done
        // before the context is read.
        if fact.kind == .none, created.isEmpty { return .ignored }
        let context = head.context(b)
        let room = (context.room ?? fact.room).flatMap { $0.isEmpty ? nil : $0 }
        // A start waiting for its meeting id is let out by the room's first line that has one, or
        // by a fact about the room that has none.
        var events: [ParsedEvent] = []
        if let room, let since = created[room], context.meetingID != nil || fact.kind != .none {
            created[room] = nil
            ended.remove(MeetingKey(context.meetingID ?? room))
            events.append(Self.started(meeting: context.meetingID ?? room, room: room, at: since))
        }
        if fact.kind == .none { return events.isEmpty ? .ignored : recent.check(.events(events), line: line) }

        let time: Timestamp
        if let t = line.time {
            time = t // the journal's UTC beats a local time without a zone
        } else if let c = LogTime.civil(b, at: head.timeStart) {
            time = zone.instant(localSeconds: c.seconds, microseconds: c.microseconds)
        } else {
            return .skipped(SkipReason("no-timestamp", "a jicofo line whose time does not read: \(lineExcerpt(line.text))"))
        }
        guard let room else {
            return .skipped(SkipReason("missing-field", "a jicofo \(fact.kind) line names no room"))
        }
        let meeting = context.meetingID ?? room

        switch fact.kind {
        case .none:
            break
        case .conferenceCreated:
            if context.meetingID != nil || head.oldStyle {
                ended.remove(MeetingKey(meeting)) // old jicofo names conferences by room, and rooms are reused
                events.append(Self.started(meeting: meeting, room: room, at: time))
            } else {
                created[room] = time
                if created.count > 10_000, let oldest = created.min(by: { $0.value < $1.value }) { created[oldest.key] = nil }
            }
        case .conferenceEnded:
            if !ended.contains(MeetingKey(meeting)) {
                ended.insert(MeetingKey(meeting))
                events.append(ParsedEvent(time: time, payload: .meetingEnded(MeetingEnded(meeting: meeting))))
            }
        case .memberJoined:
            guard let nick = fact.nick, !nick.isEmpty else { return .skipped(SkipReason("missing-field", "a jicofo join without a member name")) }
            var extra: [String: JSONValue] = [:]
            if let bot = fact.bot {
                extra["bot"] = .bool(true)
                extra["bot_kind"] = .string(bot)
            }
            events.append(ParsedEvent(time: time, payload: .userJoined(UserJoined(
                meeting: meeting, user: nick, role: fact.role ?? "UNKNOWN", client: nil)), extra: extra))
        case .memberLeft:
            guard let nick = fact.nick, !nick.isEmpty else { return .skipped(SkipReason("missing-field", "a jicofo leave without a member name")) }
            events.append(ParsedEvent(time: time, payload: .userLeft(UserLeft(meeting: meeting, user: nick))))
        case .recording(let on, let mode):
            if let on {
                let a = Activity(meeting: meeting, user: nil, activity: mode == "stream" ? "streaming" : "recording")
                events.append(ParsedEvent(time: time, payload: on ? .activityStarted(a) : .activityStopped(a)))
            }
        }
        return recent.check(.events(events), line: line)
    }

    private static func started(meeting: String, room: String, at time: Timestamp) -> ParsedEvent {
        let local = room.split(separator: "@", maxSplits: 1).first.map(String.init) ?? room
        return ParsedEvent(time: time, payload: .meetingStarted(MeetingStarted(meeting: meeting, external: room, name: local)))
    }

    // MARK: Messages

    enum Kind: Equatable, CustomStringConvertible {
        case none, conferenceCreated, conferenceEnded, memberJoined, memberLeft
        case recording(on: Bool?, mode: String?)

        var description: String {
            switch self {
            case .none: "none"
            case .conferenceCreated: "conference-created"
            case .conferenceEnded: "conference-ended"
            case .memberJoined: "member-joined"
            case .memberLeft: "member-left"
            case .recording: "recording-status"
            }
        }
    }

    struct Fact {
        var kind: Kind = .none
        var nick: String?
        var role: String?
        var bot: String?
        /// The room named in the message itself (old lines have no context).
        var room: String?
    }

    private static let createdConference = ByteNeedle("Created new conference.")
    private static let memberJoined = ByteNeedle("Member joined:")
    private static let memberLeft = ByteNeedle("Member left:")
    private static let stopped = ByteNeedle("Stopped.")
    private static let jibriStatus = ByteNeedle("Publishing new jibri-recording-status:")
    private static let createdFocus = ByteNeedle("Created new focus for ")
    private static let conferenceCount = ByteNeedle(". Conference count")
    private static let member = ByteNeedle("Member ")
    private static let oldJoined = ByteNeedle(" joined.")
    private static let oldLeaving = ByteNeedle(" is leaving")
    private static let disposed = ByteNeedle("Disposed conference for room: ")

    static func recognise(_ b: LineBuffer, message m: Int, oldStyle: Bool) -> Fact {
        var fact = Fact()
        if b.has(createdConference, at: m) {
            fact.kind = .conferenceCreated
        } else if b.has(memberJoined, at: m) {
            fact.kind = .memberJoined
            let fields = KeyValues(b, from: m + memberJoined.count)
            fact.nick = fields.head
            fact.role = fields["role"].flatMap { $0 == "null" ? nil : $0 }
            for (key, kind) in [("isJibri", "jibri"), ("isJigasi", "jigasi"), ("isTranscriber", "transcriber")]
                where fields[key]?.hasPrefix("true") == true
            {
                fact.bot = kind
            }
        } else if b.has(memberLeft, at: m) {
            fact.kind = .memberLeft
            fact.nick = KeyValues(b, from: m + memberLeft.count).head
        } else if b.has(stopped, at: m), !oldStyle {
            // Old jicofo's `Stopped.` names no room; its `Disposed conference` line is read instead.
            fact.kind = .conferenceEnded
        } else if b.has(jibriStatus, at: m) {
            let status = attribute(b, "status", from: m)
            fact.kind = .recording(on: status == "on" ? true : status == "off" ? false : nil,
                                   mode: attribute(b, "recording_mode", from: m))
            // Old lines have no context: the initiator is an occupant of the room.
            if let initiator = attribute(b, "initiator", from: m), let slash = initiator.firstIndex(of: "/") {
                fact.room = String(initiator[..<slash])
            }
        } else if oldStyle, b.has(createdFocus, at: m) {
            // `Created new focus for <room>@<muc>@<focus domain>. Conference count N`
            let start = m + createdFocus.count
            guard let end = b.find(conferenceCount, from: start) else { return fact }
            var room = b.string(start..<end)
            let ats = room.indices.filter { room[$0] == "@" }
            if ats.count >= 2 { room = String(room[..<ats[1]]) }
            fact.kind = .conferenceCreated
            fact.room = room
        } else if oldStyle, b.has(disposed, at: m) {
            let start = m + disposed.count
            var i = start
            while i < b.count, b[i] != 0x20 { i += 1 }
            guard i > start else { return fact }
            fact.kind = .conferenceEnded
            fact.room = b.string(start..<i)
        } else if oldStyle, b.has(member, at: m) {
            // `Member <room>/<nick> joined.` and `Member <room>/<nick> is leaving`
            let start = m + member.count
            var i = start
            while i < b.count, b[i] != 0x20 { i += 1 }
            let jid = b.string(start..<i)
            guard let slash = jid.firstIndex(of: "/") else { return fact }
            if b.has(oldJoined, at: i) {
                fact.kind = .memberJoined
            } else if b.has(oldLeaving, at: i) {
                fact.kind = .memberLeft
            } else {
                return fact
            }
            fact.room = String(jid[..<slash])
            fact.nick = String(jid[jid.index(after: slash)...])
        }
        return fact
    }

    /// `name='value'` in jicofo's XML-ish status line.
    private static func attribute(_ b: LineBuffer, _ name: String, from: Int) -> String? {
        guard let at = b.find(ByteNeedle(" " + name + "='"), from: from) else { return nil }
        let start = at + name.utf8.count + 3
        guard let end = b.index(of: UInt8(ascii: "'"), from: start) else { return nil }
        return b.string(start..<end)
    }
}

/// The fixed head of a jicofo line: where its time, context and message are, and its style.
struct JicofoLine {
    var timeStart: Int
    /// `room=… meeting_id=…` between the brackets, when there is a context block.
    var context: Range<Int>?
    /// `org.jitsi.….log() msg`: the formatter before 2021, which had no context block.
    var oldStyle = false
    var message: Int

    init?(_ b: LineBuffer, from start: Int) {
        timeStart = start
        // Time and level: `2024-06-03 13:26:51.684 INFO:`.
        var i = b.skippingSpaces(from: start)
        for _ in 0..<3 {
            while i < b.count, b[i] != 0x20 { i += 1 }
            i = b.skippingSpaces(from: i)
        }
        // Thread id: `[47]`.
        guard i < b.count, b[i] == UInt8(ascii: "["), let close = b.index(of: UInt8(ascii: "]"), from: i) else { return nil }
        i = b.skippingSpaces(from: close + 1)
        // Context: `[room=… meeting_id=…]`, `[confId=… …]`, `[xmpp_connection=client]`.
        if i < b.count, b[i] == UInt8(ascii: "["), let end = b.index(of: UInt8(ascii: "]"), from: i) {
            context = (i + 1)..<end
            i = b.skippingSpaces(from: end + 1)
        }
        // Logger location: `Class.method#308:` (new) or `org.jitsi.….log()` / `….method().402` (old).
        let location = i
        while i < b.count, b[i] != 0x20 { i += 1 }
        guard i > location else { return nil }
        if b[i - 1] == UInt8(ascii: ":") {
            oldStyle = false
        } else if b.find("()", anchor: 0, from: location, to: i) != nil {
            oldStyle = true
        } else {
            return nil
        }
        message = b.skippingSpaces(from: i)
    }

    /// The room and meeting id of the context block, read only when a line needs them.
    func context(_ b: LineBuffer) -> (room: String?, meetingID: String?) {
        guard let context else { return (nil, nil) }
        let fields = KeyValues(b, from: context.lowerBound, to: context.upperBound)
        // An empty value (`meeting_id= ` in a damaged line) is no value: a record with an empty
        // meeting would be refused by the aggregator (found by fuzzing).
        func present(_ key: String) -> String? { fields[key].flatMap { $0.isEmpty ? nil : $0 } }
        return (present("room"), present("meeting_id"))
    }
}

/// `head key=value key=value, key=value` as jicofo writes its messages and context blocks.
struct KeyValues {
    /// The text before the first space (the member name after `Member joined:`).
    var head: String?
    private var pairs: [(String, String)] = []

    init(_ b: LineBuffer, from start: Int, to end: Int? = nil) {
        let limit = min(end ?? b.count, b.count)
        var i = start
        var first = true
        while i < limit {
            let tokenStart = i
            while i < limit, b[i] != 0x20 { i += 1 }
            var token = b.string(tokenStart..<i)
            if token.hasSuffix(",") { token.removeLast() }
            if let eq = token.firstIndex(of: "=") {
                pairs.append((String(token[..<eq]), String(token[token.index(after: eq)...])))
            } else if first, !token.isEmpty {
                head = token
            }
            first = false
            i = b.skippingSpaces(from: i)
        }
    }

    subscript(key: String) -> String? { pairs.first { $0.0 == key }?.1 }
}
