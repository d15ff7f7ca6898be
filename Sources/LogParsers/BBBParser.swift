import LogLines
import UsageRecords

/// BigBlueButton's logs, 2.4 to 3.0 (LOG-FORMATS.md §2–4), whatever prefix a line carries
/// (journald, rsyslog, docker-compose, grep):
///
/// - bbb-apps-akka `o.b.core2.AnalyticsActor - -- analytics -- {json}`: the route for meetings,
///   people, roles, breakout rooms, recording marks, webcams, screen share and audio;
/// - bbb-web `- --analytics-- data={json}`: meetings and people, read only for meetings that
///   akka-apps has not spoken for in this source (DESIGN.md principle 2: one route per fact);
/// - the recording worker (`bbb-rap`): each step's start and end.
///
/// Every other line is dismissed by a byte search before anything is decoded.
public struct BBBParser: LogParser {
    public var name: String { "bbb" }

    private var rap: BBBRapParser
    private var pending: PendingJSON?
    /// Meetings akka-apps reported here: bbb-web's copies of their facts are not read.
    private var akkaMeetings = BoundedSet<MeetingKey>(capacity: 100_000)
    /// Meetings already ended: the second route's end (Destroyed after Ending, bbb-web's three
    /// end lines, a breakout's own end and its parent's notice) is no news.
    private var endedMeetings = BoundedSet<MeetingKey>(capacity: 100_000)
    private var recent = RecentLines()

    public init(options: ParserOptions = ParserOptions()) {
        rap = BBBRapParser(zone: options.localTimeZone, year: options.syslogYear, reference: options.syslogReference)
    }

    public mutating func parse(_ line: LogLine) -> ParseOutcome {
        line.withBytes { b in parse(b, line: line) }
    }

    mutating func parse(_ b: LineBuffer, line: LogLine) -> ParseOutcome {
        if pending != nil, let outcome = continuePending(b, line: line) { return outcome }
        switch Self.route(b) {
        case .akka(let marker, let json):
            return akka(b, marker: marker, json: json, line: line)
        case .web(let marker, let json):
            return web(b, marker: marker, json: json, line: line)
        case .rap where Self.mayBeRap(line.origin):
            let outcome = rap.parse(b, line: line)
            if case .events(let e) = outcome, !e.isEmpty, recent.isRepeat(line) {
                return .skipped(SkipReason("duplicate", "the same line (\(e[0].payload.kind)) was read just before"))
            }
            return outcome
        case .rap, .none:
            return .ignored
        }
    }

    /// Which of BigBlueButton's lines `b` may be, by its bytes alone.
    enum Route {
        /// akka-apps analytics: where the marker starts (the line's time is before it) and the JSON.
        case akka(marker: Int, json: Int)
        /// bbb-web analytics.
        case web(marker: Int, json: Int)
        /// Maybe the recording worker.
        case rap
        case none
    }

    static func route(_ b: LineBuffer) -> Route {
        // An envelope with no log prefix at all: what AnalyticsActor logs, as Redis carries it.
        let first = b.skippingSpaces(from: 0)
        if first < b.count, b[first] == UInt8(ascii: "{"), b.has(Self.envelopeHead, at: first) {
            return .akka(marker: first, json: first)
        }
        // `-- analytics -- ` (akka-apps) and `--analytics-- data=` (bbb-web), found by their 'y'.
        var from = 0
        while let a = b.find("analytics", anchor: 4, from: from) {
            if b.has("-- ", at: a - 3), b.has(" -- ", at: a + 9) {
                return .akka(marker: a - 3, json: a + 13)
            }
            if b.has("--", at: a - 2), b.has("-- data=", at: a + 9) {
                return .web(marker: a - 2, json: a + 17)
            }
            from = a + 9
        }
        return BBBRapParser.mayMatch(b) ? .rap : .none
    }

    /// Whether the parser dismisses a line of `route` unread, by its message name (akka-apps) or
    /// log code (bbb-web) alone, whatever it has read before.
    static func isDismissedUnread(_ b: LineBuffer, _ route: Route) -> Bool {
        switch route {
        case .akka(_, let json):
            guard let name = nameRange(b, json: json) else { return false }
            return AkkaMessage.named(b, name) == nil
        case .web(_, let json):
            return webCodeIsNotBillable(b, json: json)
        case .rap, .none:
            return false
        }
    }

    /// The recording worker writes to the journal as `bbb-rap`; a file has no origin.
    static func mayBeRap(_ origin: String?) -> Bool {
        guard let origin else { return true }
        return origin.contains("rap")
    }

    // MARK: akka-apps

    private static let envelopeHead = ByteNeedle(#"{"envelope":{"name":""#)

    /// Where the message name is when the JSON starts the usual way, read straight from the bytes
    /// so that the many analytics lines of no interest (chat, presentation, 3.0's connection-alive
    /// noise) are dismissed without parsing.
    private static func nameRange(_ b: LineBuffer, json: Int) -> Range<Int>? {
        guard b.has(envelopeHead, at: json) else { return nil }
        let start = json + envelopeHead.count
        guard let end = b.index(of: UInt8(ascii: "\""), from: start), end - start <= 80 else { return nil }
        // Message names are ASCII. A name with other bytes is left to the JSON reader: invalid
        // UTF-8 becomes U+FFFD in the line's text, three bytes each, so the prefilter (raw bytes)
        // and the parser (text) would measure it differently (found by fuzzing).
        for i in start..<end where b[i] >= 0x80 { return nil }
        return start..<end
    }

    private mutating func akka(_ b: LineBuffer, marker: Int, json: Int, line: LogLine) -> ParseOutcome {
        var message: AkkaMessage?
        var paths: JSONPaths?
        if let name = Self.nameRange(b, json: json) {
            guard let known = AkkaMessage.named(b, name) else { return .ignored }
            (message, paths) = known
        }
        switch BBBAkkaAnalytics.pick(b, from: json, paths: paths) {
        case .picked(let picked):
            // The line's own time only matters if the envelope has none.
            let lineTime = picked[.timestamp] == nil ? LogTime.lastZoned(b, before: marker) ?? line.time : nil
            return finishAkka(picked, message: message, lineTime: lineTime, line: line)
        case .truncated(let error):
            pending = PendingJSON(route: .akka, bytes: Array(b[json...]), origin: line.origin,
                                  lineTime: LogTime.lastZoned(b, before: marker) ?? line.time)
            return .skipped(EmbeddedJSON.skip(error, truncated: true, what: message?.rawValue ?? "akka-apps analytics"))
        case .invalid(let error):
            return .skipped(EmbeddedJSON.skip(error, truncated: false, what: message?.rawValue ?? "akka-apps analytics"))
        }
    }

    private mutating func finishAkka(_ picked: PickedJSON, message: AkkaMessage?, lineTime: Timestamp?, line: LogLine) -> ParseOutcome {
        guard let message = message ?? BBBAkkaAnalytics.message(of: picked) else { return .ignored }
        return finish(BBBAkkaAnalytics.interpret(picked, message: message, lineTime: lineTime), fromAkka: true, line: line)
    }

    /// One route per fact, then the check for a repeated line.
    private mutating func finish(_ outcome: ParseOutcome, fromAkka: Bool, line: LogLine) -> ParseOutcome {
        guard case .events(let events) = outcome else { return outcome }
        let kept = keepNews(events, fromAkka: fromAkka)
        if !kept.isEmpty, recent.isRepeat(line) {
            return .skipped(SkipReason("duplicate", "the same line (\(kept[0].payload.kind)) was read just before"))
        }
        return .events(kept)
    }

    // MARK: bbb-web

    private static let logCodeKey = ByteNeedle(#""logCode":""#)
    private static let meetingIdKey = ByteNeedle(#""meetingId":""#)

    private mutating func web(_ b: LineBuffer, marker: Int, json: Int, line: LogLine) -> ParseOutcome {
        // Gson writes compactly, so the code is found as bytes and most lines (join_api, polling,
        // presentation conversion) are dismissed unread.
        if Self.webCodeIsNotBillable(b, json: json) { return .ignored }
        // bbb-web's copy of a fact akka-apps gave: known by its meeting id before anything is read.
        if !akkaMeetings.isEmpty, let k = b.find(Self.meetingIdKey, from: json) {
            let start = k + Self.meetingIdKey.count
            if let end = b.index(of: UInt8(ascii: "\""), from: start), akkaMeetings.contains(MeetingKey(b.string(start..<end))) {
                return .events([])
            }
        }
        let lineTime = LogTime.lastZoned(b, before: marker) ?? line.time
        switch BBBWebAnalytics.pick(b, from: json) {
        case .picked(let picked):
            return finishWeb(picked, lineTime: lineTime, line: line)
        case .truncated(let error):
            pending = PendingJSON(route: .web, bytes: Array(b[json...]), origin: line.origin, lineTime: lineTime)
            return .skipped(EmbeddedJSON.skip(error, truncated: true, what: "bbb-web analytics"))
        case .invalid(let error):
            return .skipped(EmbeddedJSON.skip(error, truncated: false, what: "bbb-web analytics"))
        }
    }

    private mutating func finishWeb(_ picked: PickedJSON, lineTime: Timestamp?, line: LogLine) -> ParseOutcome {
        guard let code = picked[.logCode]?.stringValue, BBBWebAnalytics.codes.contains(code) else { return .ignored }
        guard let time = lineTime else {
            return .skipped(SkipReason("no-timestamp", "a bbb-web analytics line without a readable logback time"))
        }
        return finish(BBBWebAnalytics.interpret(picked, time: time), fromAkka: false, line: line)
    }

    private static func webCodeIsNotBillable(_ b: LineBuffer, json: Int) -> Bool {
        guard let k = b.find(Self.logCodeKey, from: json) else { return false }
        let start = k + Self.logCodeKey.count
        guard let end = b.index(of: UInt8(ascii: "\""), from: start) else { return false }
        return !BBBWebAnalytics.isBillable(b, start..<end)
    }

    // MARK: One route per fact

    private mutating func keepNews(_ events: [ParsedEvent], fromAkka: Bool) -> [ParsedEvent] {
        var kept: [ParsedEvent] = []
        for event in events {
            guard let id = event.payload.meeting else {
                kept.append(event)
                continue
            }
            let meeting = MeetingKey(id)
            if fromAkka {
                akkaMeetings.insert(meeting)
            } else if akkaMeetings.contains(meeting) {
                continue
            }
            switch event.payload {
            case .meetingEnded:
                if endedMeetings.contains(meeting) { continue }
                endedMeetings.insert(meeting)
            case .meetingStarted:
                endedMeetings.remove(meeting)
            default:
                break
            }
            kept.append(event)
        }
        return kept
    }

    // MARK: Lines cut in pieces

    /// Whether `b`, from the same origin, ends the wait for the rest of a cut JSON value and is
    /// read as itself: a fresh log line, or an analytics line (BBBPrefilter follows this too).
    static func endsPendingJSON(_ b: LineBuffer) -> Bool {
        PendingJSON.startsLogLine(b) || b.find("analytics", anchor: 4) != nil
    }

    /// The outcome of `b` as the rest of a cut JSON line, or nil if it is a line of its own.
    private mutating func continuePending(_ b: LineBuffer, line: LogLine) -> ParseOutcome? {
        guard var p = pending else { return nil }
        // Taken out while it grows, so that appending does not copy what is already there.
        pending = nil
        if line.origin != p.origin || Self.endsPendingJSON(b) { return nil }
        p.bytes.append(contentsOf: b)
        p.lines += 1
        guard p.lines <= PendingJSON.maximumLines, p.bytes.count <= PendingJSON.maximumBytes else {
            // Already counted when its head was skipped; its pieces are let go quietly.
            return .ignored
        }
        let result = p.route == .akka
            ? JSONPick.pick(p.bytes, paths: AkkaField.paths)
            : JSONPick.pick(p.bytes, paths: WebField.paths)
        switch result {
        case .picked(let picked):
            switch p.route {
            case .akka: return finishAkka(picked, message: nil, lineTime: picked[.timestamp] == nil ? p.lineTime : nil, line: line)
            case .web: return finishWeb(picked, lineTime: p.lineTime, line: line)
            }
        case .truncated:
            pending = p
            return .ignored
        case .invalid:
            // Not its continuation after all: read the line as itself.
            return nil
        }
    }
}
