import Testing
import UsageRecords
@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads

/// bbb-apps-akka's AnalyticsActor lines (LOG-FORMATS.md §3), one shape a test.
@Suite("Parser: BigBlueButton akka-apps analytics")
struct ParserBBBAkkaTests {
    typealias F = ParserFixtures
    static let m = "8043c8452ae9830aac14c517adff3839dbd9228f-1698771157700"
    static let u = "w_xfsb9gxtlfom"
    static let ms: Int64 = 1_698_771_164_638
    static let time = Timestamp(milliseconds: ms)

    static func envelope(_ name: String, meeting: String = m, user: String = u, ms: Int64 = ms, body: String) -> String {
        #"{"envelope":{"name":"\#(name)","routing":{"msgType":"BROADCAST_TO_MEETING","meetingId":"\#(meeting)","userId":"\#(user)"},"timestamp":\#(ms)},"core":{"header":{"name":"\#(name)","meetingId":"\#(meeting)","userId":"\#(user)"},"body":\#(body)}}"#
    }

    static func line(_ json: String, prefix: String = "2023-10-31T16:52:44.638Z INFO  o.b.core2.AnalyticsActor - -- analytics -- ") -> String {
        prefix + json
    }

    static func parse(_ texts: [String], options: ParserOptions = F.utc) -> [ParseOutcome] {
        var parser = BBBParser(options: options)
        return texts.map { parser.parse(F.line($0)) }
    }

    static func one(_ text: String) -> ParseOutcome { parse([text])[0] }

    static func event(_ outcome: ParseOutcome) -> ParsedEvent? {
        if case .events(let e) = outcome, e.count == 1 { return e[0] }
        return nil
    }

    // MARK: Meetings

    @Test("MeetingCreatedEvtMsg: internal and external id, name, metadata, record flag")
    func meetingCreated() throws {
        let json = #"{"envelope":{"name":"MeetingCreatedEvtMsg","routing":{"sender":"bbb-apps-akka"},"timestamp":1698771158093},"core":{"header":{"name":"MeetingCreatedEvtMsg"},"body":{"props":{"meetingProp":{"name":"Maths 101","extId":"maths-101","intId":"\#(Self.m)","isBreakout":false,"disabledFeatures":[]},"breakoutProps":{"parentId":"bbb-none","sequence":0,"freeJoin":false,"breakoutRooms":[]},"durationProps":{"duration":0,"createdTime":1698771157700,"createdDate":"Tue Oct 31 13:52:37 BRT 2023"},"recordProp":{"record":true},"metadataProp":{"metadata":{"bbb-origin":"Greenlight","tenant":"acme","invoice-ref":"A\u003d1"}},"groups":[]}}}}"#
        let e = try #require(Self.event(Self.one(Self.line(json))))
        #expect(e == ParsedEvent(time: F.t("2023-10-31T16:52:38.093Z"), payload: .meetingStarted(MeetingStarted(
            meeting: Self.m, external: "maths-101", name: "Maths 101",
            meta: ["bbb-origin": .string("Greenlight"), "tenant": .string("acme"), "invoice-ref": .string("A=1")], parent: nil)),
            extra: ["record": .bool(true)]))
        try F.roundTrip([e])
    }

    @Test("A breakout room's MeetingCreatedEvtMsg names its parent and sequence")
    func breakoutCreated() throws {
        let parent = "fc6a61c415c923c3892a613e1e1985b6b25def4c-1736975513889"
        let json = #"{"envelope":{"name":"MeetingCreatedEvtMsg","routing":{"sender":"bbb-apps-akka"},"timestamp":1736975542000},"core":{"header":{"name":"MeetingCreatedEvtMsg"},"body":{"props":{"meetingProp":{"name":"Room 1","extId":"x-1","intId":"aaaa-1736975541999","isBreakout":true},"breakoutProps":{"parentId":"\#(parent)","sequence":1},"recordProp":{"record":false},"metadataProp":{"metadata":{}}}}}}"#
        let e = try #require(Self.event(Self.one(Self.line(json))))
        #expect(e.payload == .meetingStarted(MeetingStarted(meeting: "aaaa-1736975541999", external: "x-1", name: "Room 1", meta: [:], parent: parent)))
        #expect(e.extra == ["record": .bool(false), "sequence": .number("1")])
    }

    @Test("MeetingEndingEvtMsg ends with its reason; MeetingDestroyedEvtMsg after it is no news")
    func meetingEnded() {
        let ending = Self.line(Self.envelope("MeetingEndingEvtMsg", user: "system", body: #"{"meetingId":"\#(Self.m)","reason":"ENDED_AFTER_USER_LOGGED_OUT"}"#))
        let destroyed = Self.line(#"{"envelope":{"name":"MeetingDestroyedEvtMsg","routing":{"sender":"bbb-apps-akka"},"timestamp":1698771310209},"core":{"header":{"name":"MeetingDestroyedEvtMsg"},"body":{"meetingId":"\#(Self.m)"}}}"#)
        let outcomes = Self.parse([ending, destroyed])
        #expect(outcomes[0] == .events([ParsedEvent(time: Self.time, payload: .meetingEnded(MeetingEnded(meeting: Self.m, reason: "ENDED_AFTER_USER_LOGGED_OUT")))]))
        #expect(outcomes[1] == .events([]))
        // Alone, a Destroyed is the end.
        #expect(Self.event(Self.one(destroyed))?.payload == .meetingEnded(MeetingEnded(meeting: Self.m)))
    }

    @Test("BreakoutRoomEndedEvtMsg in its new and its old body; after the room's own end, no news")
    func breakoutEnded() {
        let room = "bbbb-1736975541999"
        let new = Self.line(Self.envelope("BreakoutRoomEndedEvtMsg", user: "system", body: #"{"parentId":"\#(Self.m)","breakoutId":"\#(room)"}"#))
        let old = Self.line(Self.envelope("BreakoutRoomEndedEvtMsg", user: "system", body: #"{"parentMeetingId":"\#(Self.m)","meetingId":"\#(room)"}"#))
        let expected = ParsedEvent(time: Self.time, payload: .meetingEnded(MeetingEnded(meeting: room)), extra: ["parent": .string(Self.m)])
        #expect(Self.one(new) == .events([expected]))
        #expect(Self.one(old) == .events([expected]))
        let roomEnding = Self.line(Self.envelope("MeetingEndingEvtMsg", meeting: room, user: "system", body: #"{"meetingId":"\#(room)","reason":"BREAKOUT_ENDED_BY_MOD"}"#))
        #expect(Self.parse([roomEnding, new])[1] == .events([]))
    }

    // MARK: People

    @Test("UserJoinedMeetingEvtMsg in the bodies of 2.3, 2.7 and 3.x", arguments: [
        // 2.3 (issue #12656)
        #"{"intId":"w_mdu6yc6lwglm","extId":"w_mdu6yc6lwglm","name":"User 7821723","role":"VIEWER","guest":false,"authed":true,"guestStatus":"ALLOW","emoji":"none","presenter":false,"locked":true,"avatar":"","clientType":"HTML5"}"#,
        // 2.7 (webhooks raw events)
        #"{"intId":"w_mdu6yc6lwglm","extId":"w_mdu6yc6lwglm","name":"Mary Sue","role":"VIEWER","guest":false,"authed":true,"guestStatus":"ALLOW","emoji":"none","reactionEmoji":"none","raiseHand":false,"away":false,"pin":false,"presenter":false,"locked":true,"avatar":"","color":"purple","clientType":"HTML5"}"#,
        // 3.x (PR #23910)
        #"{"intId":"w_mdu6yc6lwglm","extId":"w_mdu6yc6lwglm","name":"User 4599924","role":"VIEWER","bot":false,"guest":false,"authed":true,"guestStatus":"ALLOW","reactionEmoji":"none","raiseHand":false,"away":false,"pin":false,"presenter":false,"locked":true,"avatar":"","webcamBackground":"","color":"purple","clientType":"HTML5","sessionToken":["luu9hawec7fr6ict"],"ipAddress":"2804:1b2::1","userAgent":"Mozilla/5.0","referer":"https://x/","userMetadata":{}}"#,
    ])
    func userJoined(body: String) {
        let outcome = Self.one(Self.line(Self.envelope("UserJoinedMeetingEvtMsg", user: "w_mdu6yc6lwglm", body: body)))
        #expect(outcome == .events([ParsedEvent(time: Self.time, payload: .userJoined(UserJoined(meeting: Self.m, user: "w_mdu6yc6lwglm", role: "VIEWER", client: "HTML5")),
                                                extra: ["external_user": .string("w_mdu6yc6lwglm")])]))
    }

    @Test("A guest or a bot says so in the join's extra fields")
    func guestAndBot() {
        let body = #"{"intId":"w_b","extId":"bot-1","name":"Recorder","role":"VIEWER","bot":true,"guest":true,"clientType":"HTML5"}"#
        let e = Self.event(Self.one(Self.line(Self.envelope("UserJoinedMeetingEvtMsg", user: "w_b", body: body))))
        #expect(e?.extra == ["external_user": .string("bot-1"), "guest": .bool(true), "bot": .bool(true)])
    }

    @Test("UserLeftMeetingEvtMsg in its 2.2–2.4 body and its newer one (with an ejection)")
    func userLeft() {
        let old = Self.line(Self.envelope("UserLeftMeetingEvtMsg", body: #"{"intId":"\#(Self.u)"}"#))
        let ejected = Self.line(Self.envelope("UserLeftMeetingEvtMsg", body: #"{"intId":"\#(Self.u)","eject":true,"ejectedBy":"w_mod","reason":"user requested eject","reasonCode":"user_requested_eject_reason"}"#))
        #expect(Self.one(old) == .events([ParsedEvent(time: Self.time, payload: .userLeft(UserLeft(meeting: Self.m, user: Self.u)))]))
        #expect(Self.one(ejected) == .events([ParsedEvent(time: Self.time, payload: .userLeft(UserLeft(meeting: Self.m, user: Self.u)), extra: ["ejected": .bool(true)])]))
    }

    @Test("ChangeUserRoleCmdMsg: a viewer promoted to moderator")
    func roleChange() {
        let text = Self.line(Self.envelope("ChangeUserRoleCmdMsg", user: "w_mod", body: #"{"userId":"\#(Self.u)","role":"MODERATOR","changedBy":"w_mod"}"#))
        #expect(Self.one(text) == .events([ParsedEvent(time: Self.time, payload: .userRole(UserRoleChanged(meeting: Self.m, user: Self.u, role: "MODERATOR")),
                                                       extra: ["changed_by": .string("w_mod")])]))
    }

    // MARK: Activities

    @Test("RecordingStatusChangedEvtMsg: recording marks on and off")
    func recordingMarks() {
        let on = Self.line(Self.envelope("RecordingStatusChangedEvtMsg", body: #"{"recording":true,"setBy":"system"}"#))
        let off = Self.line(Self.envelope("RecordingStatusChangedEvtMsg", body: #"{"recording":false,"setBy":"\#(Self.u)"}"#))
        let a = Activity(meeting: Self.m, user: nil, activity: "recording")
        #expect(Self.one(on) == .events([ParsedEvent(time: Self.time, payload: .activityStarted(a), extra: ["set_by": .string("system")])]))
        #expect(Self.one(off) == .events([ParsedEvent(time: Self.time, payload: .activityStopped(a), extra: ["set_by": .string(Self.u)])]))
    }

    @Test("Webcams, screen share and audio start and stop")
    func activities() {
        let stream = "w_xfsb9gxtlfom_0e2313d7c9d39860e908e20cd196adc3a6b8bf5c16110fdadc63741f48193c19"
        let cases: [(String, String, Payload, [String: JSONValue])] = [
            ("UserBroadcastCamStartedEvtMsg", #"{"userId":"\#(Self.u)","stream":"\#(stream)","contentType":"camera","hasAudio":false}"#,
             .activityStarted(Activity(meeting: Self.m, user: Self.u, activity: "webcam")), ["stream": .string(stream)]),
            ("UserBroadcastCamStoppedEvtMsg", #"{"userId":"\#(Self.u)","stream":"\#(stream)"}"#,
             .activityStopped(Activity(meeting: Self.m, user: Self.u, activity: "webcam")), ["stream": .string(stream)]),
            ("ScreenshareRtmpBroadcastStartedEvtMsg", #"{"voiceConf":"71347","screenshareConf":"71347","stream":"182c133e","vidWidth":0,"vidHeight":0,"timestamp":"1698771224444","hasAudio":false,"contentType":"screenshare"}"#,
             .activityStarted(Activity(meeting: Self.m, user: nil, activity: "screenshare")), ["stream": .string("182c133e")]),
            ("ScreenshareRtmpBroadcastStoppedEvtMsg", #"{"voiceConf":"","screenshareConf":"","stream":"","vidWidth":0,"vidHeight":0,"timestamp":""}"#,
             .activityStopped(Activity(meeting: Self.m, user: nil, activity: "screenshare")), [:]),
            ("UserJoinedVoiceConfToClientEvtMsg", #"{"voiceConf":"71347","intId":"\#(Self.u)","voiceUserId":"1","callerName":"John+Doe","callerNum":"w_xfsb9gxtlfom_1-bbbID-John+Doe","color":"purple","muted":false,"talking":false,"callingWith":"none","listenOnly":true}"#,
             .activityStarted(Activity(meeting: Self.m, user: Self.u, activity: "audio")), ["listen_only": .bool(true)]),
            ("UserLeftVoiceConfToClientEvtMsg", #"{"voiceConf":"71347","intId":"\#(Self.u)","voiceUserId":"\#(Self.u)"}"#,
             .activityStopped(Activity(meeting: Self.m, user: Self.u, activity: "audio")), [:]),
        ]
        for (name, body, payload, extra) in cases {
            let user = name.hasPrefix("Screenshare") ? "not-used" : Self.u
            #expect(Self.one(Self.line(Self.envelope(name, user: user, body: body))) == .events([ParsedEvent(time: Self.time, payload: payload, extra: extra)]), "\(name)")
        }
    }

    // MARK: What is not read

    @Test("Messages that are not billable, or a second route to a fact, are ignored", arguments: [
        "PresenterAssignedEvtMsg", "UserConnectionAliveReqMsg", "MeetingInfoAnalyticsMsg", "VoiceCallStateEvtMsg",
        "ScreenshareRtmpBroadcastStartedVoiceConfEvtMsg", "UserLeftVoiceConfEvtMsg", "UserConnectedToGlobalAudioMsg",
        "CreateBreakoutRoomSysCmdMsg", "EjectUserFromMeetingSysMsg", "LogoutAndEndMeetingCmdMsg", "GroupChatMessageBroadcastEvtMsg",
        "RegisterUserReqMsg", "UserRegisteredRespMsg", "MeetingStatsDataSysMsg",
    ])
    func ignoredMessages(name: String) {
        #expect(Self.one(Self.line(Self.envelope(name, body: #"{"userId":"\#(Self.u)","role":"MODERATOR","intId":"\#(Self.u)"}"#))) == .ignored)
    }

    @Test("Plain-text akka lines are ignored: the analytics JSON is the one route", arguments: [
        "2023-10-31T16:52:38.093Z INFO  o.b.core.running.MeetingActor - Creating meeting. meetingId=8043c8452ae9830aac14c517adff3839dbd9228f-1698771157700",
        "2023-10-31T16:52:38.093Z INFO  o.b.core.BigBlueButtonActor - Destroyed meetingId=8043c8452ae9830aac14c517adff3839dbd9228f-1698771157700",
        "2023-10-31T16:52:38.093Z INFO  o.b.core.running.MeetingActor - Meeting 8043c8452ae9830aac14c517adff3839dbd9228f-1698771157700 expired with reason ENDED_DUE_TO_INACTIVITY",
        "2023-10-31T16:52:38.093Z INFO  o.b.core.running.MeetingActor - User left meeting. meetingId=8043c8452ae9830aac14c517adff3839dbd9228f-1698771157700 userId=w_x user=UserState(w_x,w_x,Mary,VIEWER,false)",
        "ERROR o.b.core.running.MeetingActor - Failed to map username for id v_102",
        "/var/log/bbb-apps-akka/bbb-apps-akka.2020-05-10.log:2020-05-10T22:17:26.555-04:00 INFO  o.b.core.running.MeetingActor - Received user joined voice conference UserJoinedVoiceConfEvtMsg(BbbCoreVoiceConfHeader(UserJoinedVoiceConfEvtMsg,70248),UserJoinedVoiceConfEvtMsgBody(70248,26,w_soq1lxb6makb,Madonna,w_soq1lxb6makb_1-bbbID-Madonna,false,false,none))",
        "2021-02-14T12:18:16.635Z DEBUG o.b.core2.AnalyticsActor - started (org.bigbluebutton.core2.AnalyticsActor@3e464026)",
        #"2021-06-03T19:34:36.193Z INFO  o.b.core2.AnalyticsActor -  -- trace -- {"envelope":{"name":"ClientToServerLatencyTracerMsg"}}"#,
        "", "   ", "\u{0}\u{0}",
    ])
    func ignoredText(text: String) {
        #expect(Self.one(text) == .ignored)
    }

    @Test("The 3.0 breakout request (CreateBreakoutRoomsCmdMsg, PR #22005) is not a room starting")
    func breakoutRequest() throws {
        guard F.logsAvailable else { return }
        let text = try F.corpus("bbb-apps-akka__pr-22005-journald-breakouts-3.0.log")
        var parser = BBBParser(options: F.utc)
        #expect(F.outcomes(&parser, text: text) == [.ignored])
    }

    // MARK: Prefixes and time

    @Test("Whatever is in front of the line, the envelope's time is the event's", arguments: [
        "",
        "Jan 15 21:12:21 bbb30.myserver bbb-apps-akka[17371]: ",
        "2021-06-23T18:59:24.130671+00:00 mxdb015482 bbb-apps-akka[5294]: ",
        "bbb-apps-akka  | ",
        "/var/log/bbb-apps-akka/bbb-apps-akka.2020-05-10.log:",
        "> ",
        "bbbAppsAkka ",
    ])
    func prefixes(prefix: String) {
        let text = prefix + "2020-05-10T22:17:08.966-04:00 INFO  o.b.core2.AnalyticsActor - -- analytics -- "
            + Self.envelope("UserLeftMeetingEvtMsg", body: #"{"intId":"\#(Self.u)"}"#)
        #expect(Self.one(text) == .events([ParsedEvent(time: Self.time, payload: .userLeft(UserLeft(meeting: Self.m, user: Self.u)))]))
    }

    @Test("A bare envelope (what Redis carries, what AnalyticsActor prints) is read too")
    func bareEnvelope() {
        #expect(Self.event(Self.one(Self.envelope("UserLeftMeetingEvtMsg", body: #"{"intId":"\#(Self.u)"}"#)))?.payload == .userLeft(UserLeft(meeting: Self.m, user: Self.u)))
    }

    @Test("Members in another order are still found (the name check then waits for the parse)")
    func otherOrder() {
        let json = #"{"core":{"body":{"intId":"\#(Self.u)"},"header":{"userId":"\#(Self.u)","meetingId":"\#(Self.m)","name":"UserLeftMeetingEvtMsg"}}, "envelope" : {"timestamp":\#(Self.ms),"routing":{},"name":"UserLeftMeetingEvtMsg"}}"#
        #expect(Self.one(Self.line(json)) == .events([ParsedEvent(time: Self.time, payload: .userLeft(UserLeft(meeting: Self.m, user: Self.u)))]))
    }

    @Test("Without an envelope timestamp the logback time is used; without both, the journal's; else a skip")
    func fallbackTimes() {
        let json = #"{"envelope":{"name":"UserLeftMeetingEvtMsg","routing":{}},"core":{"header":{"name":"UserLeftMeetingEvtMsg","meetingId":"\#(Self.m)"},"body":{"intId":"\#(Self.u)"}}}"#
        #expect(Self.event(Self.one(Self.line(json, prefix: "2020-05-10T22:17:08.966-04:00 INFO  o.b.core2.AnalyticsActor - -- analytics -- ")))?.time == F.t("2020-05-11T02:17:08.966Z"))
        var parser = BBBParser(options: F.utc)
        let journal = parser.parse(F.line("-- analytics -- " + json, time: F.t("2026-01-02T03:04:05.000006Z")))
        #expect(Self.event(journal)?.time == F.t("2026-01-02T03:04:05.000006Z"))
        #expect(F.skipCodes([Self.one("-- analytics -- " + json)]) == ["no-timestamp"])
    }

    // MARK: Broken lines

    @Test("A line that looks like usage but does not read is skipped with its reason", arguments: [
        (#"{"envelope":{"name":"UserJoinedMeetingEvtMsg","routing":{},"timestamp":1},"core":{"header":{"name":"UserJoinedMeetingEvtMsg","meetingId":"m"},"body":{"intId":"w_1","extId":"w_1","clientType":"HTML5"}}}"#, "missing-field"),
        (#"{"envelope":{"name":"UserJoinedMeetingEvtMsg","routing":{},"timestamp":1},"core":{"header":{"name":"UserJoinedMeetingEvtMsg"},"body":{"intId":"w_1","role":"VIEWER"}}}"#, "missing-field"),
        (#"{"envelope":{"name":"UserJoinedMeetingEvtMsg","routing":{},"timestamp":1},"core":{"header":{"name":"UserJoinedMeetingEvtMsg","meetingId":"m"},"body":{"intId":"w_1","role":"VIEWER",}}}"#, "bad-json"),
        (#"{"envelope":{"name":"UserJoinedMeetingEvtMsg","routing":{},"timestamp":1},"core":{"header":{"name":"UserJoinedMeetingEvtMsg","meetingId":"m","meetingId":"n"},"body":{}}}"#, "bad-json"),
        (#"{"envelope":{"name":"UserJoinedMeetingEvtMsg","routing":{},"timestamp":1},"core":{"header":{"name":"UserJoinedMeetingEvtMsg","meetingId":"m"},"body":{"intId":"w_1","role":"VIE ...[truncated]"#, "truncated-json"),
        (#"{"envelope":{"name":"UserJoinedMeetingEvtMsg","routing":{"msgType":"BROADCAST_TO_MEETING","meetingId":"m","userId":"w_1"},"timestamp":1589163428965},"core":{"header":{"name":"Us$"#, "truncated-json"),
        (#"{"envelope":{"name":"RecordingStatusChangedEvtMsg","routing":{},"timestamp":1},"core":{"header":{"name":"RecordingStatusChangedEvtMsg","meetingId":"m"},"body":{"recording":"yes"}}}"#, "missing-field"),
    ])
    func skips(json: String, code: String) {
        #expect(F.skipCodes([Self.one(Self.line(json))]) == [code])
    }

    @Test("JSON nested deeper than the parser allows is refused, not crashed on")
    func deepNesting() {
        let deep = String(repeating: #"{"a":"#, count: 70) + "1" + String(repeating: "}", count: 70)
        let json = #"{"envelope":{"name":"MeetingCreatedEvtMsg","routing":{},"timestamp":1},"core":{"header":{"name":"MeetingCreatedEvtMsg"},"body":{"props":{"meetingProp":{"intId":"m-1"},"metadataProp":{"metadata":\#(deep)}}}}}"#
        #expect(F.skipCodes([Self.one(Self.line(json))]) == ["bad-json"])
    }

    @Test("A line cut and continued on the next lines (a paste, journald's LineMax) is joined")
    func continuedLine() {
        let full = Self.line(Self.envelope("UserLeftMeetingEvtMsg", body: #"{"intId":"\#(Self.u)","eject":false}"#))
        let cuts = [full.utf8.count / 3, full.utf8.count * 2 / 3]
        let bytes = Array(full.utf8)
        let pieces = [bytes[..<cuts[0]], bytes[cuts[0]..<cuts[1]], bytes[cuts[1]...]].map { String(decoding: $0, as: UTF8.self) }
        let outcomes = Self.parse(pieces + ["2023-10-31T16:53:00.000Z DEBUG o.b.x - next"])
        #expect(F.shorts(outcomes) == "!truncated-json - 1 -")
        #expect(F.events(outcomes).map(\.payload) == [.userLeft(UserLeft(meeting: Self.m, user: Self.u))])
    }

    @Test("A cut line followed by a line of its own loses nothing around it")
    func cutThenFresh() {
        let full = Self.line(Self.envelope("UserLeftMeetingEvtMsg", body: #"{"intId":"\#(Self.u)"}"#))
        let cut = String(full.prefix(full.count / 2))
        let next = Self.line(Self.envelope("UserLeftMeetingEvtMsg", user: "w_2", body: #"{"intId":"w_2"}"#), prefix: "2023-10-31T16:52:45.000Z INFO  o.b.core2.AnalyticsActor - -- analytics -- ")
        let trace = "\tat org.bigbluebutton.core.running.MeetingActor.handle(MeetingActor.scala:123)"
        #expect(F.shorts(Self.parse([cut, next])) == "!truncated-json 1")
        #expect(F.shorts(Self.parse([cut, trace, next])) == "!truncated-json - 1")
        #expect(F.shorts(Self.parse([cut, cut, next])) == "!truncated-json !truncated-json 1")
    }

    @Test("The same line twice (issue #8824) is a duplicate, counted once")
    func duplicateLine() {
        let text = Self.line(Self.envelope("UserJoinedMeetingEvtMsg", body: #"{"intId":"\#(Self.u)","role":"VIEWER"}"#))
        let outcomes = Self.parse([text, text])
        #expect(F.shorts(outcomes) == "1 !duplicate")
    }
}

