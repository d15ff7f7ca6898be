import LogLines
import LogParsers
import HostSampling
import LogSources
import SystemCalls
import UsageRecords

/// bbb-apps-akka analytics lines in the shape BigBlueButton 2.7 writes them, for benchmarks and
/// fault tests: one meeting, `users` viewers joining and leaving, and noise lines between.
/// It makes `2 × users + 2` records.
public enum SyntheticAkkaLog {
    public static func meetingID(startMs: Int64) -> String {
        "0123456789abcdef0123456789abcdef01234567-\(startMs)"
    }

    /// The whole log as text.
    public static func meeting(users: Int, startMs: Int64 = 1_795_000_000_000, noise: Bool = true) -> String {
        let meeting = meetingID(startMs: startMs)
        var out = created(meeting: meeting, ms: startMs)
        for i in 0..<users {
            let t = startMs + Int64(i) * 10
            out += joined(meeting: meeting, user: "w_u\(i)", ms: t)
            if noise { out += line(t, "DEBUG", "o.b.core.running.MeetingActor", "noise line \(i)") }
        }
        for i in 0..<users {
            out += left(meeting: meeting, user: "w_u\(i)", ms: startMs + 3_600_000 + Int64(i) * 10)
        }
        out += ended(meeting: meeting, ms: startMs + 7_200_000)
        return out
    }

    public static func created(meeting: String, ms: Int64) -> String {
        analytics(ms, #"{"envelope":{"name":"MeetingCreatedEvtMsg","routing":{"sender":"bbb-apps-akka"},"timestamp":\#(ms)},"core":{"header":{"name":"MeetingCreatedEvtMsg"},"body":{"props":{"meetingProp":{"name":"Load","extId":"load-1","intId":"\#(meeting)","isBreakout":false},"breakoutProps":{"parentId":"bbb-none","sequence":0},"durationProps":{"createdTime":\#(ms)},"metadataProp":{"metadata":{"tenant":"acme"}}}}}}"#)
    }

    public static func joined(meeting: String, user: String, ms: Int64, role: String = "VIEWER") -> String {
        analytics(ms, #"{"envelope":{"name":"UserJoinedMeetingEvtMsg","routing":{"msgType":"BROADCAST_TO_MEETING","meetingId":"\#(meeting)","userId":"\#(user)"},"timestamp":\#(ms)},"core":{"header":{"name":"UserJoinedMeetingEvtMsg","meetingId":"\#(meeting)","userId":"\#(user)"},"body":{"intId":"\#(user)","extId":"\#(user)","name":"User \#(user)","role":"\#(role)","guest":false,"authed":true,"guestStatus":"ALLOW","emoji":"none","presenter":false,"locked":true,"avatar":"","clientType":"HTML5"}}}"#)
    }

    public static func left(meeting: String, user: String, ms: Int64) -> String {
        analytics(ms, #"{"envelope":{"name":"UserLeftMeetingEvtMsg","routing":{"msgType":"BROADCAST_TO_MEETING","meetingId":"\#(meeting)","userId":"\#(user)"},"timestamp":\#(ms)},"core":{"header":{"name":"UserLeftMeetingEvtMsg","meetingId":"\#(meeting)","userId":"\#(user)"},"body":{"intId":"\#(user)","eject":false,"ejectedBy":"","reason":"","reasonCode":""}}}"#)
    }

    public static func ended(meeting: String, ms: Int64) -> String {
        analytics(ms, #"{"envelope":{"name":"MeetingEndingEvtMsg","routing":{"msgType":"BROADCAST_TO_MEETING","meetingId":"\#(meeting)","userId":"system"},"timestamp":\#(ms)},"core":{"header":{"name":"MeetingEndingEvtMsg","meetingId":"\#(meeting)","userId":"system"},"body":{"meetingId":"\#(meeting)","reason":"ENDED_FROM_API"}}}"#)
    }

    static func analytics(_ ms: Int64, _ json: String) -> String {
        line(ms, "INFO ", "o.b.core2.AnalyticsActor", "-- analytics -- " + json)
    }

    static func line(_ ms: Int64, _ level: String, _ logger: String, _ text: String) -> String {
        // akka-apps writes milliseconds: 2023-10-31T16:52:38.093Z
        let stamp = Timestamp(milliseconds: ms).rfc3339
        return "\(stamp.prefix(23))Z \(level) \(logger) - \(text)\n"
    }
}
