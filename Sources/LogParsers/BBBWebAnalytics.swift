import LogLines
import UsageRecords

/// The bbb-web analytics members the parser reads (Gson writes them in any order).
enum WebField: Int, CaseIterable {
    case logCode, meetingId, externalMeetingId, name, userId, externalUserId, role, clientType
    case guest, bot, record, isBreakout, parentMeetingId

    static let allPaths = allCases.map { [String(describing: $0)] }
    static let paths = JSONPaths(allPaths)
}

extension PickedJSON {
    subscript(field: WebField) -> JSONValue? { self[field.rawValue] }
}

/// Turns one bbb-web ` --analytics-- data={…}` object into facts (LOG-FORMATS.md §2.2).
///
/// Gson writes its HashMap in no stable order, so fields are read by name only. The JSON has no
/// time: the line's logback time is the event's.
enum BBBWebAnalytics {
    /// The log codes that say something billable; the others are dismissed before reading.
    static let codes: Set<String> = ["meeting_started", "meeting_ended", "meeting_destroyed", "meeting_removed_from_running",
                                     "user_joined_message", "user_left_message"]

    private static let codeNeedles = codes.map(ByteNeedle.init)

    /// Whether the code at `range` of `b` is one of `codes`, without making a string.
    static func isBillable(_ b: LineBuffer, _ range: Range<Int>) -> Bool {
        codeNeedles.contains { $0.count == range.count && b.has($0, at: range.lowerBound) }
    }

    static func pick(_ b: LineBuffer, from start: Int) -> JSONPick.Result {
        JSONPick.pick(b, from: start, paths: WebField.paths)
    }

    static func interpret(_ json: PickedJSON, time: Timestamp) -> ParseOutcome {
        guard let code = text(json[.logCode]) else {
            return .skipped(SkipReason("missing-field", "a bbb-web analytics line without logCode"))
        }
        func missing(_ field: String) -> ParseOutcome {
            .skipped(SkipReason("missing-field", "bbb-web \(code) has no \(field)"))
        }
        func event(_ payload: Payload, _ extra: [String: JSONValue] = [:]) -> ParseOutcome {
            .events([ParsedEvent(time: time, payload: payload, extra: extra)])
        }
        switch code {
        case "meeting_started":
            // Logged when akka-apps confirms the meeting (its MeetingCreatedEvtMsg): the meeting
            // is available from here, unlike `create_meeting`, which is only the API call. No
            // metadata reaches these lines. (`meeting_restarted` is the same meeting confirmed
            // again, e.g. after akka-apps restarted: no new fact.)
            guard let id = text(json[.meetingId]) else { return missing("meetingId") }
            var extra: [String: JSONValue] = [:]
            if let record = json[.record]?.boolValue { extra["record"] = .bool(record) }
            let parent = json[.isBreakout]?.boolValue == false ? nil : text(json[.parentMeetingId])
            return event(.meetingStarted(MeetingStarted(
                meeting: id, external: text(json[.externalMeetingId]), name: text(json[.name]), meta: [:],
                parent: parent == "bbb-none" ? nil : parent)), extra)

        case "meeting_ended", "meeting_destroyed", "meeting_removed_from_running":
            // The parser keeps the first of these for a meeting; `duration` is the configured
            // maximum, not the length, so it is not copied.
            guard let id = text(json[.meetingId]) else { return missing("meetingId") }
            return event(.meetingEnded(MeetingEnded(meeting: id, reason: nil)))

        case "user_joined_message":
            guard let meeting = text(json[.meetingId]) else { return missing("meetingId") }
            guard let user = text(json[.userId]) else { return missing("userId") }
            guard let role = text(json[.role]) else { return missing("role") }
            var extra: [String: JSONValue] = [:]
            if let ext = text(json[.externalUserId]) { extra["external_user"] = .string(ext) }
            if json[.guest]?.boolValue == true { extra["guest"] = .bool(true) }
            if json[.bot]?.boolValue == true { extra["bot"] = .bool(true) }
            return event(.userJoined(UserJoined(meeting: meeting, user: user, role: role, client: text(json[.clientType]))), extra)

        case "user_left_message":
            guard let meeting = text(json[.meetingId]) else { return missing("meetingId") }
            guard let user = text(json[.userId]) else { return missing("userId") }
            return event(.userLeft(UserLeft(meeting: meeting, user: user)))

        default:
            // create_meeting, join_api, handle_enter_api, kick_off_ingest_and_processing,
            // presentation_*, removed_user, …: not a billable moment, or one read elsewhere.
            return .ignored
        }
    }

    static func text(_ v: JSONValue?) -> String? { BBBAkkaAnalytics.text(v) }
}
