import LogLines
import UsageRecords

/// The bbb-apps-akka AnalyticsActor messages that say something billable (LOG-FORMATS.md §3.2,
/// `AnalyticsActor.scala`), one route per fact: where akka-apps logs a fact twice (a command and
/// its event, a client and a voice-conference variant) only one of them is read.
enum AkkaMessage: String, CaseIterable, Sendable {
    case meetingCreated = "MeetingCreatedEvtMsg"
    case meetingEnding = "MeetingEndingEvtMsg"
    /// Not in AnalyticsActor's list, but in the bbb-webhooks capture; an end if no Ending came first.
    case meetingDestroyed = "MeetingDestroyedEvtMsg"
    case userJoined = "UserJoinedMeetingEvtMsg"
    case userLeft = "UserLeftMeetingEvtMsg"
    /// The only role message AnalyticsActor logs (UserRoleChangedEvtMsg is not logged).
    case changeUserRole = "ChangeUserRoleCmdMsg"
    case breakoutRoomEnded = "BreakoutRoomEndedEvtMsg"
    case recordingStatusChanged = "RecordingStatusChangedEvtMsg"
    case camStarted = "UserBroadcastCamStartedEvtMsg"
    case camStopped = "UserBroadcastCamStoppedEvtMsg"
    /// Not the `…VoiceConfEvtMsg` variants: FreeSWITCH's view of the same stream.
    case screenshareStarted = "ScreenshareRtmpBroadcastStartedEvtMsg"
    case screenshareStopped = "ScreenshareRtmpBroadcastStoppedEvtMsg"
    /// Not UserLeftVoiceConfEvtMsg or the global-audio messages: this pair covers listen-only too.
    case voiceJoined = "UserJoinedVoiceConfToClientEvtMsg"
    case voiceLeft = "UserLeftVoiceConfToClientEvtMsg"

    /// Each message by its name, with the members its record is made from.
    static let byName: [String: (message: AkkaMessage, paths: JSONPaths)] = Dictionary(uniqueKeysWithValues: table.map {
        ($0.message.rawValue, ($0.message, $0.paths))
    })

    static let table: [(name: ByteNeedle, message: AkkaMessage, paths: JSONPaths)] = allCases.map {
        (ByteNeedle($0.rawValue), $0, JSONPaths(slots: $0.fields.map { ($0.path, $0.rawValue) }))
    }

    /// The message named by the bytes `range` of `b`, found without making a string (most
    /// analytics lines name a message of no interest, and are dismissed here).
    static func named(_ b: LineBuffer, _ range: Range<Int>) -> (message: AkkaMessage, paths: JSONPaths)? {
        let length = range.count
        for entry in table where entry.name.count == length && b.has(entry.name, at: range.lowerBound) {
            return (entry.message, entry.paths)
        }
        return nil
    }
}

/// The members of an analytics envelope that any of the messages above needs; the reader
/// steps over all the others (LOG-FORMATS.md §3.3 has the bodies).
enum AkkaField: Int, CaseIterable {
    case envelopeName, headerName, timestamp, headerMeeting, routingMeeting, headerUser
    case bodyMeeting, bodyReason, bodyIntId, bodyExtId, bodyRole, bodyClientType, bodyGuest, bodyBot, bodyEject
    case bodyUserId, bodyChangedBy, bodyRecording, bodySetBy, bodyStream, bodyListenOnly
    case bodyBreakoutId, bodyParentId, bodyParentMeetingId
    case propsIntId, propsExtId, propsName, propsParentId, propsSequence, propsRecord, propsMetadata

    var path: [String] {
        switch self {
        case .envelopeName: ["envelope", "name"]
        case .headerName: ["core", "header", "name"]
        case .timestamp: ["envelope", "timestamp"]
        case .headerMeeting: ["core", "header", "meetingId"]
        case .routingMeeting: ["envelope", "routing", "meetingId"]
        case .headerUser: ["core", "header", "userId"]
        case .bodyMeeting: ["core", "body", "meetingId"]
        case .bodyReason: ["core", "body", "reason"]
        case .bodyIntId: ["core", "body", "intId"]
        case .bodyExtId: ["core", "body", "extId"]
        case .bodyRole: ["core", "body", "role"]
        case .bodyClientType: ["core", "body", "clientType"]
        case .bodyGuest: ["core", "body", "guest"]
        case .bodyBot: ["core", "body", "bot"]
        case .bodyEject: ["core", "body", "eject"]
        case .bodyUserId: ["core", "body", "userId"]
        case .bodyChangedBy: ["core", "body", "changedBy"]
        case .bodyRecording: ["core", "body", "recording"]
        case .bodySetBy: ["core", "body", "setBy"]
        case .bodyStream: ["core", "body", "stream"]
        case .bodyListenOnly: ["core", "body", "listenOnly"]
        case .bodyBreakoutId: ["core", "body", "breakoutId"]
        case .bodyParentId: ["core", "body", "parentId"]
        case .bodyParentMeetingId: ["core", "body", "parentMeetingId"]
        case .propsIntId: ["core", "body", "props", "meetingProp", "intId"]
        case .propsExtId: ["core", "body", "props", "meetingProp", "extId"]
        case .propsName: ["core", "body", "props", "meetingProp", "name"]
        case .propsParentId: ["core", "body", "props", "breakoutProps", "parentId"]
        case .propsSequence: ["core", "body", "props", "breakoutProps", "sequence"]
        case .propsRecord: ["core", "body", "props", "recordProp", "record"]
        case .propsMetadata: ["core", "body", "props", "metadataProp", "metadata"]
        }
    }

    static let allPaths = allCases.map(\.path)
    static let paths = JSONPaths(allPaths)
}

extension AkkaMessage {
    /// The members this message's record is made from: only these are read when the name is
    /// known before parsing (a few strings instead of every member of the envelope).
    var fields: [AkkaField] {
        let common: [AkkaField] = [.timestamp, .headerMeeting, .routingMeeting, .bodyMeeting]
        switch self {
        case .meetingCreated: return common + [.propsIntId, .propsExtId, .propsName, .propsParentId, .propsSequence, .propsRecord, .propsMetadata]
        case .meetingEnding, .meetingDestroyed: return common + [.bodyReason]
        case .breakoutRoomEnded: return common + [.bodyBreakoutId, .bodyParentId, .bodyParentMeetingId]
        case .userJoined: return common + [.bodyIntId, .headerUser, .bodyRole, .bodyExtId, .bodyGuest, .bodyBot, .bodyClientType]
        case .userLeft: return common + [.bodyIntId, .headerUser, .bodyEject]
        case .changeUserRole: return common + [.bodyUserId, .bodyRole, .bodyChangedBy]
        case .recordingStatusChanged: return common + [.bodyRecording, .bodySetBy]
        case .camStarted, .camStopped: return common + [.bodyUserId, .headerUser, .bodyStream]
        case .screenshareStarted, .screenshareStopped: return common + [.bodyStream]
        case .voiceJoined, .voiceLeft: return common + [.bodyIntId, .headerUser, .bodyListenOnly]
        }
    }

}

extension PickedJSON {
    subscript(field: AkkaField) -> JSONValue? { self[field.rawValue] }
}

/// Turns one akka-apps analytics envelope into facts.
///
/// The envelope is `{"envelope":{"name","routing","timestamp"},"core":{"header","body"}}`; its
/// `timestamp` (epoch milliseconds, UTC) is the event's time.
enum BBBAkkaAnalytics {
    /// The members `paths` names (a known message's), or all that any message needs.
    static func pick(_ b: LineBuffer, from start: Int, paths: JSONPaths?) -> JSONPick.Result {
        JSONPick.pick(b, from: start, paths: paths ?? AkkaField.paths)
    }

    static func message(of p: PickedJSON) -> AkkaMessage? {
        guard let name = text(p[.envelopeName]) ?? text(p[.headerName]) else { return nil }
        return AkkaMessage.byName[name]?.message
    }

    static func interpret(_ p: PickedJSON, message: AkkaMessage, lineTime: Timestamp?) -> ParseOutcome {
        guard let time = p[.timestamp]?.int64Value.flatMap(Timestamp.init(checkedMilliseconds:)) ?? lineTime else {
            return .skipped(SkipReason("no-timestamp", "\(message.rawValue) has no envelope.timestamp and the line no time"))
        }
        let meeting = text(p[.headerMeeting]) ?? text(p[.routingMeeting]) ?? text(p[.bodyMeeting])
        func missing(_ field: String) -> ParseOutcome {
            .skipped(SkipReason("missing-field", "\(message.rawValue) has no \(field)"))
        }
        func event(_ payload: Payload, _ extra: [String: JSONValue] = [:]) -> ParseOutcome {
            .events([ParsedEvent(time: time, payload: payload, extra: extra)])
        }

        switch message {
        case .meetingCreated:
            guard let id = text(p[.propsIntId]) else { return missing("props.meetingProp.intId") }
            var parent = text(p[.propsParentId])
            if parent == "bbb-none" { parent = nil }
            var extra: [String: JSONValue] = [:]
            if let record = p[.propsRecord]?.boolValue { extra["record"] = .bool(record) }
            if parent != nil, let sequence = p[.propsSequence], case .number = sequence { extra["sequence"] = sequence }
            return event(.meetingStarted(MeetingStarted(
                meeting: id, external: text(p[.propsExtId]), name: text(p[.propsName]),
                meta: p[.propsMetadata]?.objectValue ?? [:], parent: parent)), extra)

        case .meetingEnding, .meetingDestroyed:
            guard let id = text(p[.bodyMeeting]) ?? meeting else { return missing("body.meetingId") }
            return event(.meetingEnded(MeetingEnded(meeting: id, reason: text(p[.bodyReason]))))

        case .breakoutRoomEnded:
            // Newer bodies say (parentId, breakoutId), older ones (parentMeetingId, meetingId).
            guard let id = text(p[.bodyBreakoutId]) ?? text(p[.bodyMeeting]) else { return missing("body.breakoutId") }
            var extra: [String: JSONValue] = [:]
            if let parent = text(p[.bodyParentId]) ?? text(p[.bodyParentMeetingId]) { extra["parent"] = .string(parent) }
            return event(.meetingEnded(MeetingEnded(meeting: id, reason: nil)), extra)

        case .userJoined:
            guard let meeting else { return missing("header.meetingId") }
            guard let user = text(p[.bodyIntId]) ?? text(p[.headerUser]) else { return missing("body.intId") }
            guard let role = text(p[.bodyRole]) else { return missing("body.role") }
            var extra: [String: JSONValue] = [:]
            if let ext = text(p[.bodyExtId]) { extra["external_user"] = .string(ext) }
            if p[.bodyGuest]?.boolValue == true { extra["guest"] = .bool(true) }
            if p[.bodyBot]?.boolValue == true { extra["bot"] = .bool(true) }
            return event(.userJoined(UserJoined(meeting: meeting, user: user, role: role, client: text(p[.bodyClientType]))), extra)

        case .userLeft:
            guard let meeting else { return missing("header.meetingId") }
            guard let user = text(p[.bodyIntId]) ?? text(p[.headerUser]) else { return missing("body.intId") }
            var extra: [String: JSONValue] = [:]
            if p[.bodyEject]?.boolValue == true { extra["ejected"] = .bool(true) }
            return event(.userLeft(UserLeft(meeting: meeting, user: user)), extra)

        case .changeUserRole:
            guard let meeting else { return missing("header.meetingId") }
            guard let user = text(p[.bodyUserId]) else { return missing("body.userId") }
            guard let role = text(p[.bodyRole]) else { return missing("body.role") }
            var extra: [String: JSONValue] = [:]
            if let by = text(p[.bodyChangedBy]) { extra["changed_by"] = .string(by) }
            return event(.userRole(UserRoleChanged(meeting: meeting, user: user, role: role)), extra)

        case .recordingStatusChanged:
            guard let meeting else { return missing("header.meetingId") }
            guard let recording = p[.bodyRecording]?.boolValue else { return missing("body.recording") }
            var extra: [String: JSONValue] = [:]
            if let by = text(p[.bodySetBy]) { extra["set_by"] = .string(by) }
            let a = Activity(meeting: meeting, user: nil, activity: "recording")
            return event(recording ? .activityStarted(a) : .activityStopped(a), extra)

        case .camStarted, .camStopped:
            guard let meeting else { return missing("header.meetingId") }
            guard let user = text(p[.bodyUserId]) ?? text(p[.headerUser]) else { return missing("body.userId") }
            var extra: [String: JSONValue] = [:]
            if let stream = text(p[.bodyStream]) { extra["stream"] = .string(stream) }
            let a = Activity(meeting: meeting, user: user, activity: "webcam")
            return event(message == .camStarted ? .activityStarted(a) : .activityStopped(a), extra)

        case .screenshareStarted, .screenshareStopped:
            // The meeting's screen share: the header's user is "not-used", and the stop comes with
            // empty strings, so it is keyed by the meeting alone.
            guard let meeting else { return missing("header.meetingId") }
            var extra: [String: JSONValue] = [:]
            if let stream = text(p[.bodyStream]) { extra["stream"] = .string(stream) }
            let a = Activity(meeting: meeting, user: nil, activity: "screenshare")
            return event(message == .screenshareStarted ? .activityStarted(a) : .activityStopped(a), extra)

        case .voiceJoined, .voiceLeft:
            guard let meeting else { return missing("header.meetingId") }
            guard let user = text(p[.bodyIntId]) ?? text(p[.headerUser]) else { return missing("body.intId") }
            var extra: [String: JSONValue] = [:]
            if let listenOnly = p[.bodyListenOnly]?.boolValue { extra["listen_only"] = .bool(listenOnly) }
            let a = Activity(meeting: meeting, user: user, activity: "audio")
            return event(message == .voiceJoined ? .activityStarted(a) : .activityStopped(a), extra)
        }
    }

    /// A non-empty string value, or nil.
    static func text(_ v: JSONValue?) -> String? {
        guard case .string(let s)? = v, !s.isEmpty else { return nil }
        return s
    }
}
