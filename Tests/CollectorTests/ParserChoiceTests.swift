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

@Suite("Parser choice and auto")
struct ParserChoiceTests {
    typealias F = ParserFixtures

    @Test("Each software name makes its parser", arguments: ["bbb", "jitsi", "auto"])
    func names(software: String) throws {
        let p = try ParserChoice.make(software: software)
        #expect(p.name == software)
    }

    @Test("An unknown name is refused, naming it and the choices")
    func unknown() {
        do {
            _ = try ParserChoice.make(software: "zoom")
            Issue.record("zoom was accepted")
        } catch {
            #expect(error.value == "zoom")
            #expect(error.description.contains("'zoom'") && error.description.contains("bbb, jitsi, auto, rules"))
        }
        #expect(throws: UnknownSoftwareError.self) { try ParserChoice.make(software: "rules") }
        #expect(throws: UnknownSoftwareError.self) { try ParserChoice.make(software: "BBB") }
    }

    @Test("auto reads BigBlueButton and jicofo lines from one stream, and the journal's origin decides first")
    func auto() throws {
        var p = try ParserChoice.make(software: "auto", options: F.utc)
        let akka = #"2023-10-31T16:52:44.638Z INFO  o.b.core2.AnalyticsActor - -- analytics -- {"envelope":{"name":"UserLeftMeetingEvtMsg","routing":{},"timestamp":1698771164638},"core":{"header":{"name":"UserLeftMeetingEvtMsg","meetingId":"m-1"},"body":{"intId":"w_1"}}}"#
        let jicofo = "Jicofo 2024-06-02 18:59:44.499 INFO: [29] [room=test@conference.x meeting_id=b5a5] JitsiMeetConferenceImpl.stop#476: Stopped."
        let o = [p.parse(F.line(akka)), p.parse(F.line(jicofo)), p.parse(F.line("2023-10-31T16:52:44.638Z DEBUG x - noise"))]
        #expect(F.events(o).map(\.payload) == [.userLeft(UserLeft(meeting: "m-1", user: "w_1")), .meetingEnded(MeetingEnded(meeting: "b5a5"))])
        #expect(o[2] == .ignored)
        // A jicofo line that came with a BigBlueButton origin is not jicofo's.
        #expect(p.parse(F.line(jicofo.replacingOccurrences(of: "b5a5", with: "c6b6"), origin: "bbb-web")) == .ignored)
        #expect(p.parse(F.line(jicofo.replacingOccurrences(of: "b5a5", with: "c6b6"), origin: "jicofo")) != .ignored)
    }

    @Test("The parser a source is given is a value of its own: state does not leak between sources")
    func independent() throws {
        var a = try ParserChoice.make(software: "bbb", options: F.utc)
        var b = try ParserChoice.make(software: "bbb", options: F.utc)
        let end = #"{"envelope":{"name":"MeetingEndingEvtMsg","routing":{},"timestamp":1},"core":{"header":{"name":"MeetingEndingEvtMsg","meetingId":"m-1"},"body":{"meetingId":"m-1","reason":"ENDED_FROM_API"}}}"#
        #expect(F.shorts([a.parse(F.line(end)), a.parse(F.line(end + " "))]) == "1 0")
        #expect(F.shorts([b.parse(F.line(end))]) == "1")
    }
}
