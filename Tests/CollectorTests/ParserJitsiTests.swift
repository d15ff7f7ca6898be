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

/// jicofo's lines (LOG-FORMATS.md §7), new and old formatter.
@Suite("Parser: Jitsi Meet (jicofo)")
struct ParserJitsiTests {
    typealias F = ParserFixtures
    static let room = "test4@conference.jitsi.su.sd"
    static let mid = "b5a57331-f51a-4bfe-827e-0aab6247baf7"

    static func parse(_ texts: [String], options: ParserOptions = F.utc) -> [ParseOutcome] {
        var parser = JitsiParser(options: options)
        return texts.map { parser.parse(F.line($0)) }
    }

    static func new(_ time: String, _ context: String, _ location: String, _ message: String) -> String {
        "Jicofo 2024-06-03 \(time) INFO: [47] [\(context)] \(location): \(message)"
    }

    @Test("A conference starts at 'Created new conference.', named by the meeting id jicofo adds after")
    func conferenceLife() {
        let o = Self.parse([
            Self.new("13:26:51.684", "room=\(Self.room)", "JitsiMeetConferenceImpl.<init>#308", "Created new conference."),
            Self.new("13:26:51.685", "room=\(Self.room)", "JitsiMeetConferenceImpl.joinTheRoom#499", "Joining \(Self.room)"),
            Self.new("13:26:51.942", "room=\(Self.room) meeting_id=\(Self.mid)", "JitsiMeetConferenceImpl.onMemberJoined#572",
                     "Member joined:6b67eccf stats-id=Arturo-OjB region=null audioMuted=true videoMuted=true role=OWNER isJibri=false isJigasi=false isTranscriber=false, room=main"),
            Self.new("13:27:10.000", "room=\(Self.room) meeting_id=\(Self.mid)", "JitsiMeetConferenceImpl.onMemberJoined#572",
                     "Member joined:1a2b3c4d stats-id=Jibri-X region=null audioMuted=true videoMuted=true role=PARTICIPANT isJibri=true isJigasi=false isTranscriber=false, room=main"),
            Self.new("13:40:00.000", "room=\(Self.room) meeting_id=\(Self.mid)", "JitsiMeetConferenceImpl.onMemberKicked#1040", "Member kicked: 1a2b3c4d"),
            Self.new("13:40:00.001", "room=\(Self.room) meeting_id=\(Self.mid)", "JitsiMeetConferenceImpl.onMemberLeft#1029", "Member left:1a2b3c4d"),
            Self.new("13:45:00.000", "room=\(Self.room) meeting_id=\(Self.mid)", "JitsiMeetConferenceImpl.onMemberLeft#1029", "Member left:6b67eccf"),
            Self.new("13:45:00.001", "room=\(Self.room) meeting_id=\(Self.mid)", "JitsiMeetConferenceImpl.maybeStop#1004", "Last member left, stopping."),
            Self.new("13:45:00.010", "room=\(Self.room) meeting_id=\(Self.mid)", "JitsiMeetConferenceImpl.stop#476", "Stopped."),
        ])
        #expect(F.shorts(o) == "0 - 2 1 - 1 1 - 1")
        #expect(F.events(o) == [
            ParsedEvent(time: F.t("2024-06-03T13:26:51.684Z"), payload: .meetingStarted(MeetingStarted(meeting: Self.mid, external: Self.room, name: "test4"))),
            ParsedEvent(time: F.t("2024-06-03T13:26:51.942Z"), payload: .userJoined(UserJoined(meeting: Self.mid, user: "6b67eccf", role: "OWNER"))),
            ParsedEvent(time: F.t("2024-06-03T13:27:10Z"), payload: .userJoined(UserJoined(meeting: Self.mid, user: "1a2b3c4d", role: "PARTICIPANT")),
                        extra: ["bot": .bool(true), "bot_kind": .string("jibri")]),
            ParsedEvent(time: F.t("2024-06-03T13:40:00.001Z"), payload: .userLeft(UserLeft(meeting: Self.mid, user: "1a2b3c4d"))),
            ParsedEvent(time: F.t("2024-06-03T13:45:00Z"), payload: .userLeft(UserLeft(meeting: Self.mid, user: "6b67eccf"))),
            ParsedEvent(time: F.t("2024-06-03T13:45:00.010Z"), payload: .meetingEnded(MeetingEnded(meeting: Self.mid))),
        ])
    }

    @Test("A room whose jicofo never learns a meeting id is named by the room")
    func noMeetingID() {
        let o = Self.parse([
            Self.new("10:00:00.000", "room=\(Self.room)", "JitsiMeetConferenceImpl.<init>#308", "Created new conference."),
            Self.new("10:00:01.000", "room=\(Self.room)", "JitsiMeetConferenceImpl.onMemberJoined#572", "Member joined:aaaa1111 stats-id=x role=MODERATOR isJibri=false"),
        ])
        #expect(F.events(o).map(\.payload) == [
            .meetingStarted(MeetingStarted(meeting: Self.room, external: Self.room, name: "test4")),
            .userJoined(UserJoined(meeting: Self.room, user: "aaaa1111", role: "MODERATOR")),
        ])
    }

    @Test("Jibri recording and streaming status")
    func jibri() {
        let ctx = "room=c3e782e6@muc.meet.jitsi meeting_id=381ca070-b77f-4158-967d-36436694ef41"
        func status(_ s: String, _ mode: String) -> String {
            Self.new("12:25:56.452", ctx, "JibriRecorder.publishJibriRecordingStatus#187",
                     "Publishing new jibri-recording-status: <jibri-recording-status xmlns='http://jitsi.org/protocol/jibri' status='\(s)' session_id='3bea' initiator='c3e782e6@muc.meet.jitsi/c3d446cb' recording_mode='\(mode)'/>")
        }
        let o = Self.parse([status("pending", "file"), status("on", "file"), status("off", "file"), status("on", "stream")])
        let m = "381ca070-b77f-4158-967d-36436694ef41"
        #expect(F.events(o).map(\.payload) == [
            .activityStarted(Activity(meeting: m, activity: "recording")), .activityStopped(Activity(meeting: m, activity: "recording")),
            .activityStarted(Activity(meeting: m, activity: "streaming")),
        ])
        #expect(F.shorts(o) == "0 1 1 1")
    }

    @Test("The old formatter (2018–2021): focus created, members joined and leaving, conference disposed")
    func oldFormat() {
        let room = "timelypullstouchallegedly@conference.mydomain.com"
        let o = Self.parse([
            "Jicofo 2020-11-29 20:41:48.782 INFO: [73] org.jitsi.jicofo.FocusManager.log() Created new focus for \(room)@auth.mydomain.com. Conference count 1,options: channelLastN=-1 disableRtx=false ",
            "Jicofo 2020-11-29 20:41:48.875 INFO: [101] org.jitsi.jicofo.ChatRoomRoleAndPresence.log() Chat room event ChatRoomMemberPresenceChangeEvent[type=MemberJoined sourceRoom=org.jitsi.impl.protocol.xmpp.ChatRoomImpl@2ea9a4f8 member=ChatMember[\(room)/f692a1b9, jid: null]@1220978406]",
            "Jicofo 2020-11-29 20:41:48.878 INFO: [101] org.jitsi.jicofo.JitsiMeetConferenceImpl.log() Member \(room)/f692a1b9 joined.",
            "Jicofo 2018-12-17 07:40:38.355 INFO: [64] org.jitsi.jicofo.xmpp.FocusComponent.handleConferenceIq().402 Focus request for room: 0834@conference.meet.roy2651.cn",
            "Jicofo 2020-11-29 21:00:00.000 INFO: [101] org.jitsi.jicofo.JitsiMeetConferenceImpl.log() Member \(room)/f692a1b9 is leaving",
            "Jicofo 2020-11-29 21:00:00.100 INFO: [101] org.jitsi.jicofo.JitsiMeetConferenceImpl.log() Stopped.",
            "Jicofo 2020-11-29 21:00:00.200 INFO: [101] org.jitsi.jicofo.FocusManager.log() Disposed conference for room: \(room) conference count: 0",
        ])
        #expect(F.shorts(o) == "1 - 1 - 1 - 1")
        #expect(F.events(o).map(\.payload) == [
            .meetingStarted(MeetingStarted(meeting: room, external: room, name: "timelypullstouchallegedly")),
            .userJoined(UserJoined(meeting: room, user: "f692a1b9", role: "UNKNOWN")),
            .userLeft(UserLeft(meeting: room, user: "f692a1b9")),
            .meetingEnded(MeetingEnded(meeting: room)),
        ])
    }

    @Test("jicofo's local times take the configured zone; a journal time wins over them")
    func times() {
        let text = Self.new("13:45:00.010", "room=\(Self.room) meeting_id=\(Self.mid)", "JitsiMeetConferenceImpl.stop#476", "Stopped.")
        #expect(F.events(Self.parse([text], options: ParserOptions(localTimeZone: .fixed(seconds: 7200)))).map(\.time) == [F.t("2024-06-03T11:45:00.010Z")])
        var parser = JitsiParser(options: F.utc)
        #expect(F.events([parser.parse(F.line(text, time: F.t("2024-06-03T11:45:00.010001Z")))]).map(\.time) == [F.t("2024-06-03T11:45:00.010001Z")])
    }

    @Test("A second end of an ended conference is no news")
    func secondEnd() {
        let text = Self.new("13:45:00.010", "room=\(Self.room) meeting_id=\(Self.mid)", "JitsiMeetConferenceImpl.stop#476", "Stopped.")
        let later = Self.new("13:45:01.010", "room=\(Self.room) meeting_id=\(Self.mid)", "JitsiMeetConferenceImpl.stop#476", "Stopped.")
        #expect(F.shorts(Self.parse([text, later])) == "1 0")
    }

    @Test("The videobridge's lines are a second route and are not read")
    func videobridge() throws {
        guard F.logsAvailable else { return }
        for file in ["jvb__docker-jitsi-meet-issue-1566-expire-conf-restart.log", "jvb__docker-jitsi-meet-issue-1735-multiline-xml.log",
                     "jvb__docker-jitsi-meet-issue-1754-expire-conference.log", "jvb__jitsi-kubernetes-operator-issue-11-dtls.log",
                     "jvb__jitsi-meet-issue-13731-endpoint-expire.log", "jvb__jitsi-videobridge-pr-884-old-format-stacktrace.log"] {
            var parser = JitsiParser(options: F.utc)
            #expect(F.outcomes(&parser, text: try F.corpus(file)).allSatisfy { $0 == .ignored }, "\(file)")
        }
    }

    @Test("Lines that are not jicofo's, or not billable, are ignored", arguments: [
        "Jicofo 2024-06-03 13:26:51.680 INFO: [47] ConferenceIqHandler.handleConferenceIq#86: Conference request for room test4@conference.jitsi.su.sd, from 1p8r@guest.jitsi.su.sd/uYtf23WukJ9c",
        "Jicofo 2020-07-23 08:42:16.541 INFO: [774] org.jitsi.jicofo.discovery.DiscoveryUtil.log() Successfully discovered features for x@conference.meet/728b371f in 0",
        "Jicofo 2024-06-03 13:26:51.942 INFO: [47] [room=test4@conference.jitsi.su.sd meetin ...[truncated]",
        "Jicofo 2024-06-02 18:59:44.490 INFO: [29] [room=test@conference.jitsi.su.sd meeting_id=b5a5] ColibriV2SessionManager.expire#110: Expiring.",
        "JVB 2024-05-30 15:05:04.443 INFO: [64] [confId=fb638965a1a21809 conf_name=test@conference.jitsi.su.sd meeting_id=cb0619fe] Conference.updateStatisticsOnExpire#610: expire_conf,duration=40",
        "Member joined:abc role=OWNER", "", "Jicofo",
    ])
    func ignored(text: String) {
        #expect(Self.parse([text]) == [.ignored])
    }
}
