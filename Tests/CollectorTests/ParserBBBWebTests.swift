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

/// bbb-web's ` --analytics-- data={…}` lines (LOG-FORMATS.md §2).
@Suite("Parser: BigBlueButton bbb-web analytics")
struct ParserBBBWebTests {
    typealias F = ParserFixtures
    static let m = "979ded1e092f6e01bf07857fd83362e5d07edf64-1578458746855"
    static let head = "2020-01-08T04:46:10.692Z INFO  o.bigbluebutton.api.MeetingService -  --analytics-- data="
    static let time = F.t("2020-01-08T04:46:10.692Z")

    static func parse(_ texts: [String]) -> [ParseOutcome] {
        var parser = BBBParser(options: F.utc)
        return texts.map { parser.parse(F.line($0)) }
    }

    @Test("meeting_started: the meeting available to participants (breakout with its parent)")
    func meetingStarted() {
        let plain = Self.head + #"{"duration":0,"isBreakout":false,"meetingId":"\#(Self.m)","logCode":"meeting_started","name":"test","record":true,"externalMeetingId":"ivB3A","description":"Meeting has started."}"#
        let breakout = Self.head + #"{"parentMeetingId":"\#(Self.m)","duration":15,"isBreakout":true,"meetingId":"b-1","logCode":"meeting_started","name":"test (Room 1)","record":false,"externalMeetingId":"b-ext","description":"Meeting has started."}"#
        let o = Self.parse([plain, breakout])
        #expect(o[0] == .events([ParsedEvent(time: Self.time, payload: .meetingStarted(MeetingStarted(meeting: Self.m, external: "ivB3A", name: "test", meta: [:], parent: nil)), extra: ["record": .bool(true)])]))
        #expect(o[1] == .events([ParsedEvent(time: Self.time, payload: .meetingStarted(MeetingStarted(meeting: "b-1", external: "b-ext", name: "test (Room 1)", meta: [:], parent: Self.m)), extra: ["record": .bool(false)])]))
    }

    @Test("meeting_ended ends the meeting; the removed and destroyed lines after it are no news")
    func meetingEnded() {
        let lines = ["meeting_ended", "kick_off_ingest_and_processing", "meeting_removed_from_running", "meeting_destroyed"].map {
            Self.head + #"{"duration":0,"record":true,"logCode":"\#($0)","name":"test","description":"x","meetingId":"\#(Self.m)","externalMeetingId":"ivB3A"}"#
        }
        let o = Self.parse(lines)
        #expect(o[0] == .events([ParsedEvent(time: Self.time, payload: .meetingEnded(MeetingEnded(meeting: Self.m)))]))
        #expect(F.shorts(o) == "1 - 0 0")
        // Alone, meeting_destroyed is an end.
        #expect(F.shorts(Self.parse([lines[3]])) == "1")
    }

    @Test("user_joined_message and user_left_message, keys in Gson's unstable order, escapes decoded")
    func people() {
        let joined = "2020-04-14T15:57:14.463-04:00 INFO  o.bigbluebutton.api.MeetingService -  --analytics-- data="
            + #"{"role":"MODERATOR","clientType":"HTML5","externalUserId":"w_u0rjuthid3ab","logCode":"user_joined_message","name":"A \u0026 B \u003d C","description":"User joined the meeting.","meetingId":"2fd4-1586894220067","externalMeetingId":"demoapp_1000","guest":false,"guestStatus":"ALLOW","userId":"w_u0rjuthid3ab","username":"jibon","bot":false}"#
        let left = "2020-04-14T16:07:14.463-04:00 INFO  o.bigbluebutton.api.MeetingService -  --analytics-- data="
            + #"{"userId":"w_u0rjuthid3ab","logCode":"user_left_message","meetingId":"2fd4-1586894220067","role":"MODERATOR","guest":false}"#
        let o = Self.parse([joined, left])
        #expect(o[0] == .events([ParsedEvent(time: F.t("2020-04-14T19:57:14.463Z"), payload: .userJoined(UserJoined(meeting: "2fd4-1586894220067", user: "w_u0rjuthid3ab", role: "MODERATOR", client: "HTML5")),
                                             extra: ["external_user": .string("w_u0rjuthid3ab")])]))
        #expect(o[1] == .events([ParsedEvent(time: F.t("2020-04-14T20:07:14.463Z"), payload: .userLeft(UserLeft(meeting: "2fd4-1586894220067", user: "w_u0rjuthid3ab")))]))
    }

    @Test("Codes that are not billable moments are ignored", arguments: [
        "create_meeting", "join_api", "handle_enter_api", "kick_off_ingest_and_processing", "removed_user",
        "purged_entered_user", "update_activity_json", "presentation_conversion_start", "meeting_restarted", "callback_failed_retry",
    ])
    func ignoredCodes(code: String) {
        let text = Self.head + #"{"logCode":"\#(code)","meetingId":"\#(Self.m)","userId":"w_1","role":"VIEWER","message":"x"}"#
        #expect(Self.parse([text]) == [.ignored])
    }

    @Test("bbb-web's copy of a fact akka-apps gave is not read (one route per fact)")
    func secondRoute() {
        let akka = #"2023-10-31T16:52:44.638Z INFO  o.b.core2.AnalyticsActor - -- analytics -- {"envelope":{"name":"UserJoinedMeetingEvtMsg","routing":{},"timestamp":1698771164638},"core":{"header":{"name":"UserJoinedMeetingEvtMsg","meetingId":"\#(Self.m)","userId":"w_1"},"body":{"intId":"w_1","role":"VIEWER","clientType":"HTML5"}}}"#
        let web = Self.head + #"{"role":"VIEWER","clientType":"HTML5","logCode":"user_joined_message","meetingId":"\#(Self.m)","userId":"w_1"}"#
        let otherMeeting = Self.head + #"{"role":"VIEWER","clientType":"HTML5","logCode":"user_joined_message","meetingId":"other-1","userId":"w_1"}"#
        #expect(F.shorts(Self.parse([akka, web, otherMeeting])) == "1 0 1")
    }

    @Test("The journald forms of bbb-web (run-prod.sh, java) carry the same lines")
    func journald() {
        let text = "Jul 07 14:32:33 host run-prod.sh[73194]: " + Self.head + #"{"logCode":"meeting_ended","meetingId":"\#(Self.m)"}"#
        #expect(Self.parse([text]) == [.events([ParsedEvent(time: Self.time, payload: .meetingEnded(MeetingEnded(meeting: Self.m)))])])
    }

    @Test("Broken bbb-web lines are skipped with their reason")
    func skips() {
        let noUser = Self.head + #"{"logCode":"user_left_message","meetingId":"\#(Self.m)"}"#
        let cut = Self.head + #"{"duration":0,"record":true,"logCode":"meeting_removed_ ...[truncated]"#
        let noTime = "INFO  o.bigbluebutton.api.MeetingService -  --analytics-- data=" + #"{"logCode":"meeting_ended","meetingId":"\#(Self.m)"}"#
        let oddTime = "022-02-15T10:00:00.000Z INFO  o.bigbluebutton.api.MeetingService -  --analytics-- data=" + #"{"logCode":"meeting_ended","meetingId":"\#(Self.m)"}"#
        #expect(F.skipCodes(Self.parse([noUser, cut, noTime, oddTime])) == ["missing-field", "truncated-json", "no-timestamp", "no-timestamp"])
    }

    @Test("API noise, stack traces and template errors are ignored")
    func noise() throws {
        guard F.logsAvailable else { return }
        for file in ["bbb-web__bbb-install-issue-93.log", "bbb-web__issue-15338-journald-run-prod.log", "bbb-web__issue-15696-journald-freemarker-wrapped.log",
                     "bbb-web__issue-18880-debug-noise.log", "bbb-web__issue-19458-stacktrace.log"] {
            var parser = BBBParser(options: F.utc)
            let o = F.outcomes(&parser, text: try F.corpus(file))
            #expect(o.allSatisfy { $0 == .ignored }, "\(file)")
        }
    }
}
