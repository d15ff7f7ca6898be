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

/// Issue 4's bad input: truncated JSON, a stack trace in the middle, invalid UTF-8, a line of a
/// megabyte, lines out of time order. Each is handled without losing the lines around it.
@Suite("Parser: bad input")
struct ParserBadInputTests {
    typealias F = ParserFixtures
    static let m = "0123456789abcdef0123456789abcdef01234567-1795000000000"

    static func join(_ user: String, ms: Int64, name: String = "User") -> String {
        #"2026-11-18T10:00:00.000Z INFO  o.b.core2.AnalyticsActor - -- analytics -- {"envelope":{"name":"UserJoinedMeetingEvtMsg","routing":{"meetingId":"\#(m)","userId":"\#(user)"},"timestamp":\#(ms)},"core":{"header":{"name":"UserJoinedMeetingEvtMsg","meetingId":"\#(m)","userId":"\#(user)"},"body":{"intId":"\#(user)","extId":"\#(user)","name":"\#(name)","role":"VIEWER","clientType":"HTML5"}}}"#
    }

    static func users(_ outcomes: [ParseOutcome]) -> [String] {
        F.events(outcomes).compactMap { if case .userJoined(let j) = $0.payload { j.user } else { nil } }
    }

    @Test("A Java stack trace in the middle of usage lines costs nothing around it")
    func stackTrace() {
        var p = BBBParser(options: F.utc)
        let lines = [
            Self.join("w_1", ms: 1),
            "2024-01-18T20:47:58.934+01:00 ERROR StackTrace - Full Stack Trace:",
            #"java.lang.NullPointerException: Cannot invoke "String.replaceAll(String, String)" because "<parameter1>" is null"#,
            "\tat org.bigbluebutton.api.util.ParamsUtil.stripControlChars(ParamsUtil.java:21)",
            "    at org.jitsi.videobridge.Conference.getEndpoint(Conference.java:635)",
            "Caused by: akka.event.Logging$LoggerInitializationException: Logger log1-Slf4jLogger did not respond",
            Self.join("w_2", ms: 2),
        ]
        let o = lines.map { p.parse(F.line($0)) }
        #expect(F.shorts(o) == "1 - - - - - 1")
        #expect(Self.users(o) == ["w_1", "w_2"])
    }

    @Test("Invalid UTF-8 (replaced by the source) inside a usage line still reads; around it nothing is lost")
    func invalidUTF8() {
        var bytes = Array(Self.join("w_1", ms: 1, name: "Ren_e").utf8)
        let i = bytes.firstIndex(of: UInt8(ascii: "_"))!
        bytes[i] = 0xE9 // Latin-1 é: not UTF-8
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\u{FFFD}"))
        var p = BBBParser(options: F.utc)
        let o = [p.parse(F.line(text)), p.parse(F.line(String(decoding: [0xFF, 0xFE, 0x41, 0x0A], as: UTF8.self))), p.parse(F.line(Self.join("w_2", ms: 2)))]
        #expect(Self.users(o) == ["w_1", "w_2"])
        #expect(o[1] == .ignored)
    }

    @Test("A line of a megabyte: noise is dismissed, a big meeting is read, a cut one is skipped")
    func megabyteLine() throws {
        var p = BBBParser(options: F.utc)
        let noise = "2026-11-18T10:00:00.000Z DEBUG o.b.x - " + String(repeating: "data ", count: 210_000)
        let big = (0..<20_000).map { #""k\#($0)":"\#(String(repeating: "v", count: 30))""# }.joined(separator: ",")
        let created = #"2026-11-18T10:00:00.000Z INFO  o.b.core2.AnalyticsActor - -- analytics -- {"envelope":{"name":"MeetingCreatedEvtMsg","routing":{},"timestamp":1795000000000},"core":{"header":{"name":"MeetingCreatedEvtMsg"},"body":{"props":{"meetingProp":{"intId":"\#(Self.m)","extId":"e","name":"n"},"breakoutProps":{"parentId":"bbb-none"},"metadataProp":{"metadata":{\#(big)}}}}}}"#
        #expect(noise.utf8.count > 1_000_000 && created.utf8.count > 700_000)
        let o = [p.parse(F.line(noise)), p.parse(F.line(created)), p.parse(F.line(String(created.prefix(500_000)))), p.parse(F.line(Self.join("w_1", ms: 5)))]
        #expect(F.shorts(o) == "- 1 !truncated-json 1")
        guard case .meetingStarted(let started)? = F.events(o).first?.payload else {
            Issue.record("no meeting")
            return
        }
        #expect(started.meta.count == 20_000)
    }

    @Test("Lines out of time order keep their own times; nothing is reordered or dropped")
    func outOfOrder() {
        var p = BBBParser(options: F.utc)
        let o = [Self.join("w_late", ms: 1_795_000_900_000), Self.join("w_early", ms: 1_795_000_100_000), Self.join("w_mid", ms: 1_795_000_500_000)].map { p.parse(F.line($0)) }
        #expect(F.events(o).map(\.time) == [Timestamp(milliseconds: 1_795_000_900_000), Timestamp(milliseconds: 1_795_000_100_000), Timestamp(milliseconds: 1_795_000_500_000)])
    }

    @Test("Truncated JSON in the middle: counted once, the next lines read")
    func truncatedInTheMiddle() {
        var p = BBBParser(options: F.utc)
        let cut = String(Self.join("w_cut", ms: 1).prefix(200))
        let o = [Self.join("w_1", ms: 1), cut, Self.join("w_2", ms: 2), "2026-11-18T10:00:00.000Z DEBUG x - y", Self.join("w_3", ms: 3)].map { p.parse(F.line($0)) }
        #expect(F.shorts(o) == "1 !truncated-json 1 - 1")
    }

    @Test("A pending cut line is let go after too many pieces, and reading goes on")
    func endlessContinuation() {
        var p = BBBParser(options: F.utc)
        var outcomes = [p.parse(F.line(#"-- analytics -- {"envelope":{"name":"UserJoinedMeetingEvtMsg","routing":{},"timestamp":1},"core":{"header":{"name":"x","meetingId":"m"},"body":{"intId":"w","role":"VIEWER","name":""#))]
        for _ in 0..<100 { outcomes.append(p.parse(F.line("still inside the name"))) }
        outcomes.append(p.parse(F.line(Self.join("w_2", ms: 2))))
        #expect(F.skipCodes(outcomes) == ["truncated-json"])
        #expect(Self.users(outcomes) == ["w_2"])
    }

    @Test("Every skip from the bad-input lines carries a code and a sentence")
    func reasons() {
        var p = BBBParser(options: F.utc)
        let lines = [String(Self.join("w", ms: 1).prefix(150)), Self.join("w", ms: 1).replacingOccurrences(of: #""role":"VIEWER","#, with: ""),
                     Self.join("w", ms: 1).replacingOccurrences(of: "}}}", with: "}},}")]
        for o in lines.map({ p.parse(F.line($0)) }) {
            guard case .skipped(let r) = o else {
                Issue.record("not skipped: \(o)")
                continue
            }
            #expect(["truncated-json", "missing-field", "bad-json"].contains(r.code))
            #expect(r.detail.count > 10)
        }
    }
}
