import Foundation
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

/// samples/bbb-apps-akka.log: one real BigBlueButton 2.7 meeting (samples/README.md has the
/// figures worked out by hand).
@Suite("Parser: the sample BigBlueButton 2.7 meeting")
struct ParserSampleMeetingTests {
    static let meeting = "8043c8452ae9830aac14c517adff3839dbd9228f-1698771157700"
    static let moderator = "w_xfsb9gxtlfom"
    static let viewer = "w_uxw0dzhtvk0l"
    typealias F = ParserFixtures

    static func parsed() throws -> [ParseOutcome] {
        var parser = try ParserChoice.make(software: "bbb", options: F.utc)
        return F.outcomes(&parser, text: try F.text(of: F.sampleAkkaLog))
    }

    @Test("Every record of the sample, exactly")
    func everyRecord() throws {
        let outcomes = try Self.parsed()
        let m = Self.meeting
        let expected: [ParsedEvent] = [
            ParsedEvent(time: F.t("2023-10-31T16:52:38.093Z"),
                        payload: .meetingStarted(MeetingStarted(meeting: m, external: "random-9019868", name: "random-9019868", meta: [:], parent: nil)),
                        extra: ["record": .bool(false)]),
            ParsedEvent(time: F.t("2023-10-31T16:52:44.638Z"),
                        payload: .userJoined(UserJoined(meeting: m, user: Self.moderator, role: "MODERATOR", client: "HTML5")),
                        extra: ["external_user": .string(Self.moderator)]),
            ParsedEvent(time: F.t("2023-10-31T16:52:53.894Z"),
                        payload: .userJoined(UserJoined(meeting: m, user: Self.viewer, role: "VIEWER", client: "HTML5")),
                        extra: ["external_user": .string(Self.viewer)]),
            ParsedEvent(time: F.t("2023-10-31T16:53:00.548Z"),
                        payload: .activityStarted(Activity(meeting: m, user: Self.moderator, activity: "audio")),
                        extra: ["listen_only": .bool(false)]),
            ParsedEvent(time: F.t("2023-10-31T16:53:22.720Z"),
                        payload: .activityStopped(Activity(meeting: m, user: Self.moderator, activity: "audio"))),
            ParsedEvent(time: F.t("2023-10-31T16:53:32.433Z"),
                        payload: .activityStarted(Activity(meeting: m, user: Self.moderator, activity: "webcam")),
                        extra: ["stream": .string("w_xfsb9gxtlfom_0e2313d7c9d39860e908e20cd196adc3a6b8bf5c16110fdadc63741f48193c19")]),
            ParsedEvent(time: F.t("2023-10-31T16:53:39.309Z"),
                        payload: .activityStopped(Activity(meeting: m, user: Self.moderator, activity: "webcam")),
                        extra: ["stream": .string("w_xfsb9gxtlfom_0e2313d7c9d39860e908e20cd196adc3a6b8bf5c16110fdadc63741f48193c19")]),
            ParsedEvent(time: F.t("2023-10-31T16:53:44.452Z"),
                        payload: .activityStarted(Activity(meeting: m, user: nil, activity: "screenshare")),
                        extra: ["stream": .string("182c133e-5512-4695-be20-8cc760dc1595")]),
            ParsedEvent(time: F.t("2023-10-31T16:53:48.664Z"),
                        payload: .activityStopped(Activity(meeting: m, user: nil, activity: "screenshare"))),
            ParsedEvent(time: F.t("2023-10-31T16:54:53.000Z"), payload: .userLeft(UserLeft(meeting: m, user: Self.viewer))),
            ParsedEvent(time: F.t("2023-10-31T16:55:03.008Z"), payload: .userLeft(UserLeft(meeting: m, user: Self.moderator))),
            ParsedEvent(time: F.t("2023-10-31T16:55:10.209Z"), payload: .meetingEnded(MeetingEnded(meeting: m, reason: nil))),
        ]
        let events = F.events(outcomes)
        #expect(events.count == expected.count)
        for (got, want) in zip(events, expected) { #expect(got == want) }
        #expect(F.skipCodes(outcomes).isEmpty)
        try F.roundTrip(events)
    }

    @Test("The meeting lasts 152 s; the moderator is present 138 s and the viewer 119 s")
    func durations() throws {
        let events = F.events(try Self.parsed())
        func time(_ match: (Payload) -> Bool) -> Timestamp? { events.first { match($0.payload) }?.time }
        let start = try #require(time { if case .meetingStarted(let p) = $0 { p.meeting == Self.meeting } else { false } })
        let end = try #require(time { if case .meetingEnded(let p) = $0 { p.meeting == Self.meeting } else { false } })
        #expect(end.microseconds(since: start) / 1_000_000 == 152)
        for (user, role, seconds) in [(Self.moderator, "MODERATOR", Int64(138)), (Self.viewer, "VIEWER", Int64(119))] {
            let joined = try #require(events.first {
                if case .userJoined(let p) = $0.payload { p.user == user && p.role == role && p.meeting == Self.meeting } else { false }
            })
            let left = try #require(events.first {
                if case .userLeft(let p) = $0.payload { p.user == user && p.meeting == Self.meeting } else { false }
            })
            #expect(left.time.microseconds(since: joined.time) / 1_000_000 == seconds, "\(user)")
        }
    }

    @Test("Lines that are not usage are ignored, line by line")
    func lineByLine() throws {
        let outcomes = try Self.parsed()
        // created, Creating meeting., Received JSON, joined, 3×presenter, joined, Failed to map,
        // voice joined, 2×muted, voice left, cam started, cam stopped, screenshare started, stopped,
        // connection alive, chat, 2×emoji, 2×hand, poll started, poll responded, 2×left, destroyed.
        #expect(F.shorts(outcomes) == "1 - - 1 - - - 1 - 1 - - 1 1 1 1 1 - - - - - - - - 1 1 1")
    }
}
