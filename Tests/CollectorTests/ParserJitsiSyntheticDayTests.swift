import Foundation
import Testing
import TestThreads
import UsageRecords
@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads

/// A made-up day of a busy Jitsi Meet host: thousands of conferences and tens of thousands of
/// participants interleaved as jicofo logs them (new formatter), with Jibri recordings, guests and
/// many lines that are not usage. Every record the parser makes is checked against the list the
/// generator writes beside the log.
@Suite("Parser: a synthetic day of jicofo logs", .ownThreads)
struct ParserJitsiSyntheticDayTests {
    struct Day {
        var lines: [String] = []
        var expected: [ParsedEvent] = []
        var conferences = 0
        var participants = 0
    }

    /// Deterministic: a SplitMix64 stream from `seed`.
    struct Random {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(n))
        }
    }

    static let dayStart: Int64 = 1_717_372_800_000 // 2024-06-03T00:00:00Z

    static func clock(_ ms: Int64) -> String {
        let t = ms - dayStart
        return String(format: "%02d:%02d:%02d.%03d", t / 3_600_000, t / 60_000 % 60, t / 1000 % 60, t % 1000)
    }

    static func make(conferences: Int, seed: UInt64) -> Day {
        var r = Random(state: seed)
        // (time, order of writing, text, what it gives): sorted by time, ties kept in writing order.
        var entries: [(ms: Int64, seq: Int, text: String, events: [ParsedEvent])] = []
        var seq = 0
        func add(_ ms: Int64, _ context: String, _ location: String, _ message: String, _ events: [ParsedEvent] = []) {
            entries.append((ms, seq, "Jicofo 2024-06-03 \(clock(ms)) INFO: [\(40 + seq % 50)] [\(context)] \(location): \(message)", events))
            seq += 1
        }
        func noise(_ ms: Int64) {
            let text: String
            switch r.next(4) {
            case 0: text = "Jicofo 2024-06-03 \(clock(ms)) INFO: [47] ConferenceIqHandler.handleConferenceIq#86: Conference request for room r\(r.next(9999))@conference.meet.example, from x@guest.meet.example/uYtf"
            case 1: text = "Jicofo 2024-06-03 \(clock(ms)) INFO: [29] [room=r\(r.next(9999))@conference.meet.example meeting_id=0000] ColibriV2SessionManager.expire#110: Expiring."
            case 2: text = "Jicofo 2024-06-03 \(clock(ms)) WARNING: [88] XmppProvider.lambda$new$1#120: XMPP connection is not ready"
            default: text = "Jicofo 2024-06-03 \(clock(ms)) INFO: [12] BridgeSelector.selectBridge#166: Selected bridge jvb1 for region null"
            }
            entries.append((ms, seq, text, []))
            seq += 1
        }
        var day = Day(conferences: conferences)
        for c in 0..<conferences {
            let name = "room\(c)"
            let room = "\(name)@conference.meet.example"
            let mid = String(format: "%08x-0000-4000-8000-%012x", c, seed)
            let start = dayStart + Int64(r.next(20 * 3_600_000))
            var t = start
            let created = ParsedEvent(time: Timestamp(milliseconds: start), payload: .meetingStarted(MeetingStarted(meeting: mid, external: room, name: name)))
            add(t, "room=\(room)", "JitsiMeetConferenceImpl.<init>#308", "Created new conference.")
            t += 1
            add(t, "room=\(room)", "JitsiMeetConferenceImpl.joinTheRoom#499", "Joining \(room)")
            let context = "room=\(room) meeting_id=\(mid)"
            let people = 2 + r.next(20)
            var present: [String] = []
            for p in 0..<people {
                t += Int64(1 + r.next(60_000))
                let user = String(format: "%08x", c * 64 + p)
                let role = p == 0 ? "OWNER" : (r.next(5) == 0 ? "MODERATOR" : "PARTICIPANT")
                var events = [ParsedEvent(time: Timestamp(milliseconds: t), payload: .userJoined(UserJoined(meeting: mid, user: user, role: role)))]
                // The meeting's start is made with the first line that names its meeting id.
                if p == 0 { events.insert(created, at: 0) }
                add(t, context, "JitsiMeetConferenceImpl.onMemberJoined#572",
                    "Member joined:\(user) stats-id=Guest-\(p) region=null audioMuted=true videoMuted=true role=\(role) isJibri=false isJigasi=false isTranscriber=false, room=main",
                    events)
                present.append(user)
                noise(t + Int64(r.next(1000)))
                day.participants += 1
            }
            if r.next(4) == 0 {
                t += Int64(1 + r.next(60_000))
                func status(_ s: String) -> String {
                    "Publishing new jibri-recording-status: <jibri-recording-status xmlns='http://jitsi.org/protocol/jibri' status='\(s)' session_id='s\(c)' initiator='\(room)/\(present[0])' recording_mode='file'/>"
                }
                add(t, context, "JibriRecorder.publishJibriRecordingStatus#187", status("pending"))
                t += 2000
                add(t, context, "JibriRecorder.publishJibriRecordingStatus#187", status("on"),
                    [ParsedEvent(time: Timestamp(milliseconds: t), payload: .activityStarted(Activity(meeting: mid, activity: "recording")))])
                t += Int64(60_000 + r.next(600_000))
                add(t, context, "JibriRecorder.publishJibriRecordingStatus#187", status("off"),
                    [ParsedEvent(time: Timestamp(milliseconds: t), payload: .activityStopped(Activity(meeting: mid, activity: "recording")))])
            }
            for user in present {
                t += Int64(1 + r.next(600_000))
                add(t, context, "JitsiMeetConferenceImpl.onMemberLeft#1029", "Member left:\(user)",
                    [ParsedEvent(time: Timestamp(milliseconds: t), payload: .userLeft(UserLeft(meeting: mid, user: user)))])
                noise(t + Int64(r.next(1000)))
            }
            t += 1
            add(t, context, "JitsiMeetConferenceImpl.maybeStop#1004", "Last member left, stopping.")
            t += 9
            add(t, context, "JitsiMeetConferenceImpl.stop#476", "Stopped.",
                [ParsedEvent(time: Timestamp(milliseconds: t), payload: .meetingEnded(MeetingEnded(meeting: mid)))])
        }
        entries.sort { ($0.ms, $0.seq) < ($1.ms, $1.seq) }
        day.lines = entries.map(\.text)
        day.expected = entries.flatMap(\.events)
        return day
    }

    @Test("Every record of the day, in order, by jitsi and by auto")
    func wholeDay() throws {
        let day = Self.make(conferences: 3_000, seed: 5)
        #expect(day.participants >= 30_000)
        let lines = day.lines.enumerated().map { i, text in
            LogLine(source: "jicofo", position: .stream(name: "jicofo", line: UInt64(i + 1)), text: text)
        }
        for software in ["jitsi", "auto"] {
            var parser = try ParserChoice.make(software: software, options: ParserFixtures.utc)
            let outcomes = ParserFixtures.outcomes(&parser, lines)
            #expect(ParserFixtures.skipCodes(outcomes).isEmpty, "\(software)")
            let events = ParserFixtures.events(outcomes)
            #expect(events.count == day.expected.count, "\(software)")
            var shown = 0
            for (i, (got, want)) in zip(events, day.expected).enumerated() where got != want && shown < 5 {
                shown += 1
                Issue.record("\(software) record \(i): got \(got), want \(want)")
            }
        }
        print("synthetic jicofo day: \(day.lines.count) lines, \(day.conferences) conferences, \(day.participants) participants, \(day.expected.count) records")
    }
}
