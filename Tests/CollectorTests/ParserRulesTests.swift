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

/// The operator's own rules: a line to any record kind, by regular expression or JSON fields.
@Suite("Parser: operator rules")
struct ParserRulesTests {
    typealias F = ParserFixtures

    static func whiteboard() throws -> CustomRule {
        try CustomRule(
            name: "whiteboard-open", kind: .activityStarted,
            match: .regex(#"^(?<time>\S+) .*whiteboard opened meeting=(?<meeting>\S+) user=(?<user>\S+)"#),
            fields: ["meeting": "meeting", "user": "user", "activity": "=whiteboard"],
            contains: "whiteboard opened", time: "time")
    }

    static func parser(_ rules: [CustomRule], software: String = "rules") throws -> any LogParser {
        try ParserChoice.make(software: software, options: ParserOptions(rules: rules, localTimeZone: .utc))
    }

    @Test("A regular expression with named captures makes a whiteboard record")
    func regexRule() throws {
        var p = try Self.parser([Self.whiteboard()])
        let o = p.parse(F.line("2026-11-22T10:15:00.250Z INFO html5 - whiteboard opened meeting=m-1 user=w_9 client=web"))
        #expect(o == .events([ParsedEvent(time: F.t("2026-11-22T10:15:00.250Z"), payload: .activityStarted(Activity(meeting: "m-1", user: "w_9", activity: "whiteboard")))]))
        #expect(p.parse(F.line("2026-11-22T10:15:00.250Z INFO html5 - whiteboard closed meeting=m-1 user=w_9")) == .ignored)
    }

    @Test("A JSON rule: conditions on fields, a nested path, epoch milliseconds, extra fields kept")
    func jsonRule() throws {
        let rule = try CustomRule(
            name: "client-background", kind: .clientBackground,
            match: .json(after: "event=", equals: ["type": "visibility", "detail.state": "hidden"]),
            fields: ["meeting": "meetingId", "user": "detail.userId", "platform": "detail.platform"],
            contains: "visibility", time: "ts", timeFormat: .epochMilliseconds)
        var p = try Self.parser([rule])
        let hidden = #"client event={"type":"visibility","ts":1795000000123,"meetingId":"m-2","detail":{"userId":"w_3","state":"hidden","platform":"android"}}"#
        let shown = #"client event={"type":"visibility","ts":1795000000999,"meetingId":"m-2","detail":{"userId":"w_3","state":"visible"}}"#
        #expect(p.parse(F.line(hidden)) == .events([ParsedEvent(time: Timestamp(milliseconds: 1_795_000_000_123),
                                                                 payload: .clientBackground(ClientVisibility(meeting: "m-2", user: "w_3")),
                                                                 extra: ["platform": .string("android")])]))
        #expect(p.parse(F.line(shown)) == .ignored)
        #expect(F.skipCodes([p.parse(F.line(#"client event={"type":"visibility","ts":1"#))]) == ["rule-bad-json"])
    }

    @Test("Without a time capture the journal's time is taken; without either, a skip")
    func journalTime() throws {
        let rule = try CustomRule(name: "fg", kind: .clientForeground, match: .regex(#"foreground (?<meeting>\S+) (?<user>\S+)"#),
                                  fields: ["meeting": "meeting", "user": "user"], origin: "bbb-html5")
        var p = try Self.parser([rule])
        let t = F.t("2026-11-22T10:00:00.000001Z")
        #expect(p.parse(F.line("foreground m-1 w_1", time: t, origin: "bbb-html5")) == .events([ParsedEvent(time: t, payload: .clientForeground(ClientVisibility(meeting: "m-1", user: "w_1")))]))
        #expect(p.parse(F.line("foreground m-1 w_1", time: t, origin: "bbb-html5.service")) != .ignored)
        #expect(p.parse(F.line("foreground m-1 w_1", time: t, origin: "other")) == .ignored)
        let anyOrigin = try CustomRule(name: "fg", kind: .clientForeground, match: .regex(#"foreground (?<meeting>\S+) (?<user>\S+)"#),
                                       fields: ["meeting": "meeting", "user": "user"])
        var q = try Self.parser([anyOrigin])
        #expect(F.skipCodes([q.parse(F.line("foreground m-1 w_1"))]) == ["no-timestamp"])
    }

    @Test("Every kind can be made: meetings with metadata, roles, recordings, storage, new kinds")
    func kinds() throws {
        let started = try CustomRule(name: "s", kind: .meetingStarted, match: .regex(#"START (?<m>\S+) tenant=(?<t>\S+)"#),
                                     fields: ["meeting": "m", "meta.tenant": "t", "name": "=Lesson"])
        let processed = try CustomRule(name: "p", kind: .recordingProcessed,
                                       match: .json(after: nil, equals: ["ev": "rendered"]),
                                       fields: ["recording": "id", "meeting": "id", "step": "=render", "started": "from", "ended": "to"],
                                       time: "to", timeFormat: .epochSeconds)
        let storage = try CustomRule(name: "st", kind: .storageSample, match: .regex(#"du (?<key>\S+) (?<bytes>\d+)"#),
                                     fields: ["scope": "=recording", "key": "key", "bytes": "bytes"])
        let custom = try CustomRule(name: "c", kind: "poll.answered", match: .regex(#"poll (?<m>\S+)"#), fields: ["meeting": "m"])
        var p = try Self.parser([started, processed, storage, custom])
        let t = F.t("2026-01-01T00:00:00Z")
        #expect(p.parse(F.line("START m-9 tenant=acme", time: t)) == .events([ParsedEvent(time: t, payload: .meetingStarted(MeetingStarted(meeting: "m-9", name: "Lesson", meta: ["tenant": .string("acme")])))]))
        #expect(p.parse(F.line(#"{"ev":"rendered","id":"r-1","from":1700000000,"to":"1700000090.5"}"#)) == .events([ParsedEvent(
            time: F.t("2023-11-14T22:14:50.500Z"), payload: .recordingProcessed(RecordingProcessed(recording: "r-1", meeting: "r-1", step: "render",
                                                                                                    started: F.t("2023-11-14T22:13:20Z"), ended: F.t("2023-11-14T22:14:50.500Z"))))]))
        #expect(p.parse(F.line("du /var/bigbluebutton/published/x 1048576", time: t)) == .events([ParsedEvent(time: t, payload: .storageSample(StorageSample(scope: "recording", key: "/var/bigbluebutton/published/x", bytes: 1_048_576)))]))
        #expect(p.parse(F.line("poll m-3", time: t)) == .events([ParsedEvent(time: t, payload: .other("poll.answered"), extra: ["meeting": .string("m-3")])]))
        try F.roundTrip(F.events([p.parse(F.line("START m-9 tenant=acme", time: t))]))
    }

    @Test("Rules come first; the built-in parser reads what no rule took")
    func withFallback() throws {
        var p = try Self.parser([Self.whiteboard()], software: "bbb")
        #expect(p.name == "rules+bbb")
        #expect(F.events([p.parse(F.line("2026-11-22T10:15:00Z x whiteboard opened meeting=m user=u"))]).count == 1)
        let sample = try F.text(of: F.sampleAkkaLog)
        #expect(F.events(F.outcomes(&p, text: sample)).count == 12)
    }

    @Test("Lines a rule matches but cannot make a record of are skipped with the rule's name")
    func ruleSkips() throws {
        let rule = try CustomRule(name: "join", kind: .userJoined, match: .regex(#"join (?<m>\S+) (?<u>\S*) ?(?<r>[A-Z]*)"#),
                                  fields: ["meeting": "m", "user": "u", "role": "r"], time: "m", timeFormat: .rfc3339)
        var p = try Self.parser([rule])
        #expect(F.skipCodes([p.parse(F.line("join 2026-01-01T00:00:00Z w_1"))]) == ["missing-field"])
        #expect(F.skipCodes([p.parse(F.line("join yesterday w_1 VIEWER"))]) == ["rule-bad-time"])
    }

    @Test("Rules that cannot work are refused when read, naming the rule and the key")
    func badRules() {
        #expect(throws: CustomRuleError.self) { try CustomRule(name: "r", kind: .userJoined, match: .regex("(?<meeting>"), fields: ["meeting": "meeting", "user": "=u", "role": "=V"]) }
        #expect(throws: CustomRuleError.self) { try CustomRule(name: "r", kind: .userJoined, match: .regex("x"), fields: ["meeting": "meeting", "user": "=u", "role": "=V"]) }
        #expect(throws: CustomRuleError.self) { try CustomRule(name: "r", kind: .userJoined, match: .regex("(?<m>x)"), fields: ["meeting": "m"]) }
        #expect(throws: CustomRuleError.self) { try CustomRule(name: "r", kind: .hostHeartbeat, match: .regex("x"), fields: [:]) }
        #expect(throws: CustomRuleError.self) { try CustomRule(name: "", kind: .meetingEnded, match: .regex("(?<m>x)"), fields: ["meeting": "m"]) }
        do {
            _ = try CustomRule(name: "wb", kind: .activityStarted, match: .regex("(?<m>x)"), fields: ["meeting": "m"])
            Issue.record("a rule without its activity was accepted")
        } catch {
            #expect(error.description == "rule 'wb': fields activity.started records need 'activity'")
        }
    }
}
