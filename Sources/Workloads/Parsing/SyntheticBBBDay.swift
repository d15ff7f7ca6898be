import LogLines
import LogParsers
import HostSampling
import LogSources
import SystemCalls
import UsageRecords

/// A day of one busy BigBlueButton host's logs, made up but shaped line for line like the real
/// ones (LOG-FORMATS.md), with the records a correct parser makes of it written out beside it:
/// for the parser tests at scale and for `meetmeter-bench`'s parse rate.
///
/// It holds akka-apps analytics (meetings, breakout rooms, people, roles, audio, webcams, screen
/// share, recording marks), bbb-web's copies of the same facts (which must not be read twice),
/// meetings that only bbb-web reports, the recording worker's steps, lines cut short, and many
/// more lines that are not about usage (debug lines, analytics of no interest, API polling, stack
/// traces). Deterministic for a seed.
public struct SyntheticBBBDay: Sendable {
    public var text: String
    public var lineCount: Int
    /// What the `bbb` parser must make, in line order.
    public var expected: [ParsedEvent]
    /// The skips it must count, by reason.
    public var expectedSkips: [String: Int]
    public var meetings: Int
    public var users: Int

    /// How much a day's usage lines carry.
    public enum Metadata: Sendable {
        /// Short ASCII names and two `meta_` keys a meeting.
        case short
        /// As BigBlueButton front ends create meetings: a dozen `meta_*` keys (LMS ids, URLs,
        /// the recording's title and description), names in many scripts, with quotes and
        /// backslashes. With `noise: 1`, about a third of the lines are usage facts.
        case realistic
    }

    /// - Parameters:
    ///   - meetings: main meetings (breakout rooms come on top).
    ///   - noise: lines that are not usage written around each usage line, on average.
    ///   - metadata: what the usage lines carry.
    public static func make(meetings: Int, seed: UInt64 = 1, noise: Int = 6, metadata: Metadata = .short) -> SyntheticBBBDay {
        var g = Generator(seed: seed, noise: noise, metadata: metadata)
        for i in 0..<meetings { g.meeting(i) }
        return g.finish(meetings: meetings)
    }
}

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int64>) -> Int64 {
        range.lowerBound + Int64(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
}

private struct Generator {
    struct Entry {
        var ms: Int64
        var seq: Int
        var text: String
        var expect: [ParsedEvent]
        var skip: String?
    }

    var rng: SplitMix64
    let noise: Int
    var entries: [Entry] = []
    var seq = 0
    var users = 0
    var joins = 0
    let dayStart = CivilDate(year: 2026, month: 11, day: 23).startOfDay.microseconds / 1_000

    let metadata: SyntheticBBBDay.Metadata

    init(seed: UInt64, noise: Int, metadata: SyntheticBBBDay.Metadata) {
        rng = SplitMix64(state: seed)
        self.noise = noise
        self.metadata = metadata
    }

    // MARK: Names and metadata

    /// A JSON string literal of `s`, quotes included.
    static func json(_ s: String) -> String {
        var out = ""
        JSONValue.writeString(s, to: &out)
        return out
    }

    static let realisticNames = [
        "Réunion d'équipe", "Sprechstunde Prof. Müller", "Семинар по физике", "数学 第3回 講義",
        "Ταχύρρυθμο μάθημα", "Aula \"ao vivo\" – turma B", "C:\\Kurse\\Informatik", "Çalıştay: \"Yapay zekâ\"",
        "محاضرة الأسبوع", "Zoë's \"Office Hours\" 🎓",
    ]

    func meetingName(_ i: Int) -> String {
        switch metadata {
        case .short: "Room \(i)"
        case .realistic: "\(Self.realisticNames[i % Self.realisticNames.count]) \(i)"
        }
    }

    func userName(_ k: Int) -> String {
        switch metadata {
        case .short: "User \(k)"
        case .realistic: ["Zoë \"Z\" Müller", "Jürgen O'Brien", "Đặng Thị Hương", "Ольга \\ Петрова", "王小明"][k % 5] + " \(k)"
        }
    }

    /// The metadata a meeting is created with, in the order the front end sends it.
    func meta(_ i: Int, name: String) -> [(String, String)] {
        switch metadata {
        case .short:
            return [("tenant", "t\(i % 7)"), ("bbb-origin", "greenlight")]
        case .realistic:
            return [
                ("tenant", "t\(i % 7)"), ("bbb-origin", "Moodle"), ("bbb-origin-version", "4.3.2 (Build: 20231222)"),
                ("bbb-origin-server-name", "moodle.example.edu"), ("bbb-origin-server-common-name", ""),
                ("bbb-origin-tag", "moodle-mod_bigbluebuttonbn (2023100900)"), ("bbb-context", "Physik \"Grundlagen\" WS 2026/27"),
                ("bbb-context-id", "\(1000 + i % 300)"), ("bbb-context-name", "Kurs \(i % 300) — Über Wellen"),
                ("bbb-context-label", "PHY-\(i % 300)"), ("bbb-recording-name", name),
                ("bbb-recording-description", "Aufzeichnung von \"\(name)\" \\ Teil \(i % 4)"),
                ("bbb-recording-tags", "lecture,\(i % 2 == 0 ? "public" : "internal")"),
                ("meta_lms_course_url", "https://moodle.example.edu/course/view.php?id=\(1000 + i % 300)&lang=de"),
            ]
        }
    }

    // MARK: Lines

    static func stamp(_ ms: Int64) -> String {
        String(Timestamp(milliseconds: ms).rfc3339.prefix(23)) + "Z"
    }

    mutating func add(_ ms: Int64, _ text: String, _ expect: [ParsedEvent] = [], skip: String? = nil) {
        seq += 1
        entries.append(Entry(ms: ms, seq: seq, text: text, expect: expect, skip: skip))
        // Lines of no interest around it, a little later.
        let count = Int(rng.int(0...Int64(2 * noise)))
        for k in 0..<count { addNoise(ms + Int64(k) * 3 + 1) }
    }

    mutating func addNoise(_ ms: Int64) {
        seq += 1
        let s = Self.stamp(ms)
        let text: String
        switch rng.next() % 12 {
        case 0: text = "\(s) DEBUG o.b.core.apps.users.UsersApp - Received user connection alive."
        case 1: text = "\(s) INFO  o.b.core2.AnalyticsActor - -- analytics -- {\"envelope\":{\"name\":\"UserConnectionAliveReqMsg\",\"routing\":{\"meetingId\":\"x\",\"userId\":\"w_n\"},\"timestamp\":\(ms)},\"core\":{\"header\":{\"name\":\"UserConnectionAliveReqMsg\",\"meetingId\":\"x\",\"userId\":\"w_n\"},\"body\":{\"userId\":\"w_n\",\"networkRttInMs\":12.5}}}"
        case 2: text = "\(s) ERROR o.b.core.running.MeetingActor - Failed to map username for id v_102"
        case 3: text = "\(s) DEBUG o.b.web.controllers.ApiController - ApiController#isMeetingRunning"
        case 4: text = "\(s) INFO  o.b.api.service.ValidationService - Validating isMeetingRunning request with query string meetingID=524d4ef0-c2ce-419b-83f5-d11c9992dad3&checksum=adb83cdfcb2d92fef1039fef4f86584a8f0e6538"
        case 5: text = "\(s) INFO  o.b.web.controllers.ApiController -  --analytics-- data={\"extMeetingid\":\"demo\",\"logCode\":\"join_api\",\"name\":\"x\",\"description\":\"Handle JOIN API.\",\"meetingid\":\"m\",\"userid\":\"w_q\"}"
        case 6: text = "\(s) ERROR StackTrace - Full Stack Trace:\njava.lang.NullPointerException: Cannot invoke \"String.replaceAll(String, String)\"\n\tat org.bigbluebutton.api.util.ParamsUtil.stripControlChars(ParamsUtil.java:21)\n\tat org.bigbluebutton.web.controllers.ApiController$_closure4.doCall(ApiController.groovy:263)"
        case 7: text = "\(Timestamp(milliseconds: ms).rfc3339) bbb-host bbb-rap[4242]: Task: Getting meeting metadata"
        case 8: text = "\(s) INFO  o.b.core2.AnalyticsActor - -- analytics -- {\"envelope\":{\"name\":\"PresenterAssignedEvtMsg\",\"routing\":{\"msgType\":\"BROADCAST_TO_MEETING\",\"meetingId\":\"x\",\"userId\":\"w_p\"},\"timestamp\":\(ms)},\"core\":{\"header\":{\"name\":\"PresenterAssignedEvtMsg\",\"meetingId\":\"x\",\"userId\":\"w_p\"},\"body\":{\"presenterId\":\"w_p\",\"presenterName\":\"P\",\"assignedBy\":\"w_p\"}}}"
        case 9: text = "\(s) DEBUG o.b.core.pubsub.senders.ReceivedJsonMsgHandlerActor - Received JSON message from redis."
        case 10: text = "\(s) INFO  o.b.a.m.v.GetChecksumValidator - CHECKSUM=adb83cdfcb2d92fef1039fef4f86584a8f0e6538 length=40"
        default: text = "\(s) DEBUG o.b.core.running.MeetingActor - Setting meeting no more users. meetingId=0123"
        }
        entries.append(Entry(ms: ms, seq: seq, text: text, expect: [], skip: nil))
    }

    static func akka(_ ms: Int64, _ json: String) -> String {
        "\(stamp(ms)) INFO  o.b.core2.AnalyticsActor - -- analytics -- " + json
    }

    static func envelope(_ name: String, meeting: String, user: String, ms: Int64, body: String) -> String {
        "{\"envelope\":{\"name\":\"\(name)\",\"routing\":{\"msgType\":\"BROADCAST_TO_MEETING\",\"meetingId\":\"\(meeting)\",\"userId\":\"\(user)\"},\"timestamp\":\(ms)},\"core\":{\"header\":{\"name\":\"\(name)\",\"meetingId\":\"\(meeting)\",\"userId\":\"\(user)\"},\"body\":\(body)}}"
    }

    static func web(_ ms: Int64, _ json: String) -> String {
        "\(stamp(ms)) INFO  o.bigbluebutton.api.MeetingService -  --analytics-- data=" + json
    }

    static func rap(_ ms: Int64, _ message: String) -> String {
        "\(Timestamp(milliseconds: ms).rfc3339) bbb-host bbb-rap[\(4000 + ms % 97)]: " + message
    }

    static func event(_ ms: Int64, _ payload: Payload, _ extra: [String: JSONValue] = [:]) -> ParsedEvent {
        ParsedEvent(time: Timestamp(milliseconds: ms), payload: payload, extra: extra)
    }

    // MARK: A meeting

    mutating func meeting(_ i: Int) {
        let start = dayStart + rng.int(0...(22 * 3_600_000))
        let length = rng.int(600_000...7_200_000)
        let end = start + length
        let hex = String(UInt64(i) &* 0x9E37_79B9_7F4A_7C15, radix: 16)
        let id = String(repeating: "0", count: 40 - hex.count) + hex + "-\(start - 400)"
        let webOnly = i % 20 == 7
        let record = i % 4 == 0
        if webOnly {
            webOnlyMeeting(i, id: id, start: start, end: end, record: record)
            return
        }
        let name = meetingName(i)
        let pairs = meta(i, name: name)
        let meta = "{" + pairs.map { "\(Self.json($0.0)):\(Self.json($0.1))" }.joined(separator: ",") + "}"
        var metaValues: [String: JSONValue] = [:]
        for (k, v) in pairs { metaValues[k] = .string(v) }
        add(start, Self.akka(start, "{\"envelope\":{\"name\":\"MeetingCreatedEvtMsg\",\"routing\":{\"sender\":\"bbb-apps-akka\"},\"timestamp\":\(start)},\"core\":{\"header\":{\"name\":\"MeetingCreatedEvtMsg\"},\"body\":{\"props\":{\"meetingProp\":{\"name\":\(Self.json(name)),\"extId\":\"room-\(i)\",\"intId\":\"\(id)\",\"isBreakout\":false},\"breakoutProps\":{\"parentId\":\"bbb-none\",\"sequence\":0},\"recordProp\":{\"record\":\(record)},\"metadataProp\":{\"metadata\":\(meta)}}}}}"),
            [Self.event(start, .meetingStarted(MeetingStarted(meeting: id, external: "room-\(i)", name: name, meta: metaValues)),
                        ["record": .bool(record)])])
        // bbb-web's copy: the same fact by the second route, not read.
        add(start + 50, Self.web(start + 50, "{\"duration\":0,\"isBreakout\":false,\"meetingId\":\"\(id)\",\"logCode\":\"meeting_started\",\"name\":\(Self.json(name)),\"record\":\(record),\"externalMeetingId\":\"room-\(i)\",\"description\":\"Meeting has started.\"}"))

        let people = Int(rng.int(8...16))
        var moderator = ""
        for k in 0..<people {
            let user = "w_m\(i)u\(k)"
            if k == 0 { moderator = user }
            users += 1
            let joined = start + 2_000 + rng.int(0...(length / 3))
            let left = end - 1_000 - rng.int(0...(length / 3))
            let role = k == 0 ? "MODERATOR" : "VIEWER"
            joins += 1
            let joinJSON = Self.envelope("UserJoinedMeetingEvtMsg", meeting: id, user: user, ms: joined,
                                         body: "{\"intId\":\"\(user)\",\"extId\":\"ext-\(user)\",\"name\":\(Self.json(userName(k))),\"role\":\"\(role)\",\"guest\":false,\"authed\":true,\"guestStatus\":\"ALLOW\",\"emoji\":\"none\",\"presenter\":false,\"locked\":true,\"avatar\":\"\",\"clientType\":\"HTML5\"}")
            if joins % 397 == 0 {
                // Cut short (rsyslog's message limit): counted, and this join is lost.
                let line = Self.akka(joined, joinJSON)
                add(joined, String(line.prefix(line.utf8.count * 2 / 3)), skip: "truncated-json")
            } else {
                add(joined, Self.akka(joined, joinJSON),
                    [Self.event(joined, .userJoined(UserJoined(meeting: id, user: user, role: role, client: "HTML5")), ["external_user": .string("ext-\(user)")])])
            }
            add(joined + 20, Self.web(joined + 20, "{\"role\":\"\(role)\",\"clientType\":\"HTML5\",\"externalUserId\":\"ext-\(user)\",\"logCode\":\"user_joined_message\",\"name\":\(Self.json(name)),\"description\":\"User joined the meeting.\",\"meetingId\":\"\(id)\",\"externalMeetingId\":\"room-\(i)\",\"guest\":false,\"guestStatus\":\"ALLOW\",\"userId\":\"\(user)\",\"username\":\(Self.json(userName(k)))}"))
            let listenOnly = k % 3 == 2
            add(joined + 4_000, Self.akka(joined + 4_000, Self.envelope("UserJoinedVoiceConfToClientEvtMsg", meeting: id, user: user, ms: joined + 4_000,
                                                                        body: "{\"voiceConf\":\"7\(i % 10000)\",\"intId\":\"\(user)\",\"voiceUserId\":\"\(k)\",\"callerName\":\"User+\(k)\",\"callerNum\":\"\(user)_1-bbbID-User+\(k)\",\"color\":\"#4a148c\",\"muted\":false,\"talking\":false,\"callingWith\":\"none\",\"listenOnly\":\(listenOnly)}")),
                [Self.event(joined + 4_000, .activityStarted(Activity(meeting: id, user: user, activity: "audio")), ["listen_only": .bool(listenOnly)])])
            add(left - 500, Self.akka(left - 500, Self.envelope("UserLeftVoiceConfToClientEvtMsg", meeting: id, user: user, ms: left - 500,
                                                                body: "{\"voiceConf\":\"7\(i % 10000)\",\"intId\":\"\(user)\",\"voiceUserId\":\"\(user)\"}")),
                [Self.event(left - 500, .activityStopped(Activity(meeting: id, user: user, activity: "audio")))])
            add(left, Self.akka(left, Self.envelope("UserLeftMeetingEvtMsg", meeting: id, user: user, ms: left,
                                                    body: "{\"intId\":\"\(user)\",\"eject\":false,\"ejectedBy\":\"\",\"reason\":\"\",\"reasonCode\":\"\"}")),
                [Self.event(left, .userLeft(UserLeft(meeting: id, user: user)))])
            add(left + 20, Self.web(left + 20, "{\"role\":\"\(role)\",\"externalUserId\":\"ext-\(user)\",\"logCode\":\"user_left_message\",\"name\":\(Self.json(name)),\"description\":\"User left the meeting.\",\"meetingId\":\"\(id)\",\"externalMeetingId\":\"room-\(i)\",\"guest\":false,\"guestStatus\":\"ALLOW\",\"userId\":\"\(user)\",\"username\":\(Self.json(userName(k)))}"))
            if k == 1, i % 5 == 0 {
                let at = joined + 60_000
                add(at, Self.akka(at, Self.envelope("ChangeUserRoleCmdMsg", meeting: id, user: moderator, ms: at,
                                                    body: "{\"userId\":\"\(user)\",\"role\":\"MODERATOR\",\"changedBy\":\"\(moderator)\"}")),
                    [Self.event(at, .userRole(UserRoleChanged(meeting: id, user: user, role: "MODERATOR")), ["changed_by": .string(moderator)])])
            }
            if k == 0 {
                let on = joined + 30_000, off = left - 30_000
                let stream = "\(user)_0e2313d7c9d39860e908e20cd196adc3"
                for (at, name, started) in [(on, "UserBroadcastCamStartedEvtMsg", true), (off, "UserBroadcastCamStoppedEvtMsg", false)] {
                    let a = Activity(meeting: id, user: user, activity: "webcam")
                    add(at, Self.akka(at, Self.envelope(name, meeting: id, user: user, ms: at, body: "{\"userId\":\"\(user)\",\"stream\":\"\(stream)\"}")),
                        [Self.event(at, started ? .activityStarted(a) : .activityStopped(a), ["stream": .string(stream)])])
                }
            }
        }
        if i % 3 == 0 {
            let on = start + 120_000, off = start + 240_000
            let a = Activity(meeting: id, user: nil, activity: "screenshare")
            add(on, Self.akka(on, Self.envelope("ScreenshareRtmpBroadcastStartedEvtMsg", meeting: id, user: "not-used", ms: on,
                                                body: "{\"voiceConf\":\"71347\",\"screenshareConf\":\"71347\",\"stream\":\"ss-\(i)\",\"vidWidth\":0,\"vidHeight\":0,\"timestamp\":\"\(on)\",\"hasAudio\":false,\"contentType\":\"screenshare\"}")),
                [Self.event(on, .activityStarted(a), ["stream": .string("ss-\(i)")])])
            add(off, Self.akka(off, Self.envelope("ScreenshareRtmpBroadcastStoppedEvtMsg", meeting: id, user: "not-used", ms: off,
                                                  body: "{\"voiceConf\":\"\",\"screenshareConf\":\"\",\"stream\":\"\",\"vidWidth\":0,\"vidHeight\":0,\"timestamp\":\"\"}")),
                [Self.event(off, .activityStopped(a))])
        }
        if record {
            let on = start + 10_000, off = end - 5_000
            for (at, recording) in [(on, true), (off, false)] {
                let a = Activity(meeting: id, user: nil, activity: "recording")
                add(at, Self.akka(at, Self.envelope("RecordingStatusChangedEvtMsg", meeting: id, user: moderator, ms: at,
                                                    body: "{\"recording\":\(recording),\"setBy\":\"\(moderator)\"}")),
                    [Self.event(at, recording ? .activityStarted(a) : .activityStopped(a), ["set_by": .string(moderator)])])
            }
        }
        if i % 10 == 1 {
            for room in 1...2 {
                breakout(parent: id, parentIndex: i, room: room, start: start + 300_000, end: start + 300_000 + 600_000)
            }
        }
        add(end, Self.akka(end, Self.envelope("MeetingEndingEvtMsg", meeting: id, user: "system", ms: end,
                                              body: "{\"meetingId\":\"\(id)\",\"reason\":\"ENDED_FROM_API\"}")),
            [Self.event(end, .meetingEnded(MeetingEnded(meeting: id, reason: "ENDED_FROM_API")))])
        add(end + 30, Self.web(end + 30, "{\"duration\":0,\"record\":\(record),\"logCode\":\"meeting_ended\",\"name\":\(Self.json(name)),\"description\":\"Meeting has ended.\",\"meetingId\":\"\(id)\",\"externalMeetingId\":\"room-\(i)\"}"))
        add(end + 1_000, Self.akka(end + 1_000, "{\"envelope\":{\"name\":\"MeetingDestroyedEvtMsg\",\"routing\":{\"sender\":\"bbb-apps-akka\"},\"timestamp\":\(end + 1_000)},\"core\":{\"header\":{\"name\":\"MeetingDestroyedEvtMsg\"},\"body\":{\"meetingId\":\"\(id)\"}}}"))
        if record { recordingSteps(id, after: end) }
    }

    mutating func breakout(parent: String, parentIndex i: Int, room: Int, start: Int64, end: Int64) {
        let hex = String(UInt64(i * 10 + room) &* 0xC2B2_AE3D_27D4_EB4F, radix: 16)
        let id = String(repeating: "0", count: 40 - hex.count) + hex + "-\(start)"
        add(start, Self.akka(start, "{\"envelope\":{\"name\":\"MeetingCreatedEvtMsg\",\"routing\":{\"sender\":\"bbb-apps-akka\"},\"timestamp\":\(start)},\"core\":{\"header\":{\"name\":\"MeetingCreatedEvtMsg\"},\"body\":{\"props\":{\"meetingProp\":{\"name\":\"Room \(i) (Room \(room))\",\"extId\":\"room-\(i)-\(room)\",\"intId\":\"\(id)\",\"isBreakout\":true},\"breakoutProps\":{\"parentId\":\"\(parent)\",\"sequence\":\(room)},\"recordProp\":{\"record\":false},\"metadataProp\":{\"metadata\":{}}}}}}"),
            [Self.event(start, .meetingStarted(MeetingStarted(meeting: id, external: "room-\(i)-\(room)", name: "Room \(i) (Room \(room))", meta: [:], parent: parent)),
                        ["record": .bool(false), "sequence": .integer(room)])])
        add(end, Self.akka(end, Self.envelope("MeetingEndingEvtMsg", meeting: id, user: "system", ms: end,
                                              body: "{\"meetingId\":\"\(id)\",\"reason\":\"BREAKOUT_ENDED_EXCEEDING_DURATION\"}")),
            [Self.event(end, .meetingEnded(MeetingEnded(meeting: id, reason: "BREAKOUT_ENDED_EXCEEDING_DURATION")))])
        // The parent's notice of the same end: no news.
        add(end + 40, Self.akka(end + 40, Self.envelope("BreakoutRoomEndedEvtMsg", meeting: parent, user: "system", ms: end + 40,
                                                        body: "{\"parentId\":\"\(parent)\",\"breakoutId\":\"\(id)\"}")))
    }

    mutating func webOnlyMeeting(_ i: Int, id: String, start: Int64, end: Int64, record: Bool) {
        add(start, Self.web(start, "{\"duration\":0,\"isBreakout\":false,\"meetingId\":\"\(id)\",\"logCode\":\"meeting_started\",\"name\":\"Room \(i)\",\"record\":\(record),\"externalMeetingId\":\"room-\(i)\",\"description\":\"Meeting has started.\"}"),
            [Self.event(start, .meetingStarted(MeetingStarted(meeting: id, external: "room-\(i)", name: "Room \(i)", meta: [:], parent: nil)), ["record": .bool(record)])])
        let people = Int(rng.int(3...9))
        for k in 0..<people {
            let user = "w_m\(i)u\(k)"
            users += 1
            let joined = start + 1_000 + Int64(k) * 7_000
            let left = end - 2_000 - Int64(k) * 3_000
            let role = k == 0 ? "MODERATOR" : "VIEWER"
            add(joined, Self.web(joined, "{\"role\":\"\(role)\",\"clientType\":\"HTML5\",\"externalUserId\":\"ext-\(user)\",\"logCode\":\"user_joined_message\",\"name\":\"Room \(i)\",\"description\":\"User joined the meeting.\",\"meetingId\":\"\(id)\",\"externalMeetingId\":\"room-\(i)\",\"guest\":false,\"guestStatus\":\"ALLOW\",\"userId\":\"\(user)\",\"username\":\"User \(k)\"}"),
                [Self.event(joined, .userJoined(UserJoined(meeting: id, user: user, role: role, client: "HTML5")), ["external_user": .string("ext-\(user)")])])
            add(left, Self.web(left, "{\"role\":\"\(role)\",\"externalUserId\":\"ext-\(user)\",\"logCode\":\"user_left_message\",\"name\":\"Room \(i)\",\"description\":\"User left the meeting.\",\"meetingId\":\"\(id)\",\"externalMeetingId\":\"room-\(i)\",\"guest\":false,\"guestStatus\":\"ALLOW\",\"userId\":\"\(user)\",\"username\":\"User \(k)\"}"),
                [Self.event(left, .userLeft(UserLeft(meeting: id, user: user)))])
        }
        add(end, Self.web(end, "{\"duration\":0,\"record\":\(record),\"logCode\":\"meeting_ended\",\"name\":\"Room \(i)\",\"description\":\"Meeting has ended.\",\"meetingId\":\"\(id)\",\"externalMeetingId\":\"room-\(i)\"}"),
            [Self.event(end, .meetingEnded(MeetingEnded(meeting: id)))])
        add(end + 5, Self.web(end + 5, "{\"duration\":0,\"record\":\(record),\"logCode\":\"meeting_removed_from_running\",\"name\":\"Room \(i)\",\"description\":\"Meeting removed from running.\",\"meetingId\":\"\(id)\",\"externalMeetingId\":\"room-\(i)\"}"))
        add(end + 9_000, Self.web(end + 9_000, "{\"duration\":0,\"record\":\(record),\"logCode\":\"meeting_destroyed\",\"name\":\"Room \(i)\",\"description\":\"Meeting destroyed.\",\"meetingId\":\"\(id)\",\"externalMeetingId\":\"room-\(i)\"}"))
    }

    /// archive → sanity → process:presentation → publish:presentation, one after the other.
    mutating func recordingSteps(_ id: String, after end: Int64) {
        var at = end + 5_000 + rng.int(0...60_000)
        for step in ["archive", "sanity", "process", "publish"] {
            let started = at
            let took = step == "process" ? rng.int(60_000...900_000) : rng.int(1_000...30_000)
            let ended = started + took + 200
            add(started, Self.rap(started, "Started worker \(step) for \(id)"))
            let format: String? = step == "process" || step == "publish" ? "presentation" : nil
            add(started + 50, Self.rap(started + 50, "Running \(step) worker for \(id)" + (format.map { ":" + $0 } ?? "")))
            if step == "process" { add(ended - 100, Self.rap(ended - 100, "Process took \(took)ms")) }
            var extra: [String: JSONValue] = ["success": .bool(true)]
            if let format { extra["format"] = .string(format) }
            add(ended, Self.rap(ended, "Ended worker \(step) for \(id) with result true"),
                [Self.event(ended, .recordingProcessed(RecordingProcessed(recording: id, meeting: id, step: step,
                                                                          started: Timestamp(milliseconds: started),
                                                                          ended: Timestamp(milliseconds: ended))), extra)])
            at = ended + rng.int(100...5_000)
        }
    }

    // MARK: The day

    mutating func finish(meetings: Int) -> SyntheticBBBDay {
        entries.sort { ($0.ms, $0.seq) < ($1.ms, $1.seq) }
        var text = ""
        text.reserveCapacity(entries.count * 200)
        var expected: [ParsedEvent] = []
        var skips: [String: Int] = [:]
        var lines = 0
        for e in entries {
            text += e.text
            text += "\n"
            lines += e.text.utf8.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            expected += e.expect
            if let skip = e.skip { skips[skip, default: 0] += 1 }
        }
        return SyntheticBBBDay(text: text, lineCount: lines, expected: expected, expectedSkips: skips,
                               meetings: meetings, users: users)
    }
}
