@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads
import ConfigFiles
import Testing
import UsageRecords

/// `[[rules]]` in agent.toml: read into rules the agent's parsers use, and every mistake named by
/// file, line and key.
@Suite struct AgentRulesConfigurationTests {
    static let sources = "host = \"bbb1\"\n[[files]]\npaths = [\"/var/log/html5.log\"]\nsoftware = \"rules\"\n"

    func load(_ text: String) throws(ConfigError) -> AgentConfiguration {
        try AgentConfiguration(document: try ConfigDocument(text: text, path: "/etc/meetmeter/agent.toml"))
    }

    @Test func aRegexRuleAndAJSONRuleAreReadAndUsed() throws {
        let text = Self.sources + #"""
            [[rules]]
            name = "whiteboard-open"
            kind = "activity.started"
            contains = "whiteboard opened"
            regex = '^(?<time>\S+) .*whiteboard opened meeting=(?<meeting>\S+) user=(?<user>\S+)'
            time = "time"
            fields = { meeting = "meeting", user = "user", activity = "=whiteboard" }

            [[rules]]
            name = "background"
            kind = "client.background"
            contains = "visibility"
            json_after = "event="
            json_equals = { type = "visibility", "detail.state" = "hidden" }
            time = "ts"
            time_format = "epoch_ms"
            [rules.fields]
            meeting = "meetingId"
            user = "detail.userId"
            """#
        let c = try load(text)
        #expect(c.rules.map(\.name) == ["whiteboard-open", "background"])
        #expect(c.rules[1].timeFormat == .epochMilliseconds)
        var parser = try ParserChoice.make(software: "rules", options: c.parserOptions)
        let line = LogLine(source: "t", position: .stream(name: "t", line: 1),
                           text: "2026-11-22T10:15:00.250Z INFO html5 - whiteboard opened meeting=m-1 user=w_9")
        #expect(parser.parse(line) == .events([ParsedEvent(
            time: Timestamp(rfc3339: "2026-11-22T10:15:00.250Z")!,
            payload: .activityStarted(Activity(meeting: "m-1", user: "w_9", activity: "whiteboard")))]))
        let hidden = LogLine(source: "t", position: .stream(name: "t", line: 2), text:
            #"client event={"type":"visibility","ts":1795000000123,"meetingId":"m-2","detail":{"userId":"w_3","state":"hidden"}}"#)
        guard case .events(let events) = parser.parse(hidden) else {
            Issue.record("the JSON rule made nothing")
            return
        }
        #expect(events.map(\.payload.kind) == [.clientBackground])
        #expect(events.first?.time == Timestamp(milliseconds: 1_795_000_000_123))
    }

    @Test(arguments: [
        ("[[rules]]\nname = \"r\"\nkind = \"user.joined\"\nregex = '(?<meeting>\\S+)'\nfields = { meeting = \"meeting\" }\n",
         9, "rules[0].fields", "need 'user'"),
        ("[[rules]]\nname = \"r\"\nkind = \"activity.started\"\nregex = '(?<m>\\S+'\nfields = { meeting = \"m\", activity = \"=x\" }\n",
         8, "rules[0].regex", "does not compile"),
        ("[[rules]]\nname = \"r\"\nkind = \"activity.started\"\nregex = '(?<m>\\S+)'\nfields = { meeting = \"meeting\", activity = \"=x\" }\n",
         8, "rules[0].regex", "no capture named 'meeting'"),
        ("[[rules]]\nname = \"r\"\nkind = \"activity.started\"\nfields = { meeting = \"m\", activity = \"=x\" }\n",
         5, "rules[0].regex", "is missing"),
        ("[[rules]]\nname = \"r\"\nkind = \"activity.started\"\nregex = '(?<m>x)'\njson_after = \"e=\"\nfields = { meeting = \"m\", activity = \"=x\" }\n",
         8, "rules[0].regex", "give one"),
        ("[[rules]]\nname = \"r\"\nkind = \"host.heartbeat\"\nregex = '(?<m>x)'\nfields = { m = \"m\" }\n",
         7, "rules[0].kind", "the agent's own"),
        ("[[rules]]\nname = \"r\"\nkind = \"activity.started\"\nregex = '(?<m>x)'\nfields = { meeting = \"m\", activity = \"=x\" }\ntime_format = \"iso\"\n",
         10, "rules[0].time_format", "not one of"),
        ("[[rules]]\nname = \"r\"\nkind = \"activity.started\"\nregex = '(?<m>x)'\nfield = { meeting = \"m\" }\n",
         9, "rules[0].field", "not a known key"),
        ("[[rules]]\nname = \"r\"\nkind = \"activity.started\"\nregex = '(?<m>x)'\nfields = { meeting = \"m\", activity = \"=x\" }\n"
            + "[[rules]]\nname = \"r\"\nkind = \"activity.stopped\"\nregex = '(?<m>x)'\nfields = { meeting = \"m\", activity = \"=x\" }\n",
         11, "rules[1].name", "names another rule"),
    ])
    func mistakesNameFileLineAndKey(rule: String, line: Int, key: String, words: String) {
        do {
            _ = try load(Self.sources + rule)
            Issue.record("accepted: \(rule)")
        } catch {
            #expect(error.file == "/etc/meetmeter/agent.toml")
            #expect(error.line == line, "\(error)")
            #expect(error.key == key, "\(error)")
            #expect(error.message.contains(words), "\(error)")
        }
    }

    @Test func aSourceReadingByRulesNeedsRules() {
        #expect(throws: ConfigError.self) { _ = try load(Self.sources) }
    }

    @Test func rulesGoBeforeTheSourcesParser() throws {
        let text = "host = \"bbb1\"\n[[files]]\npaths = [\"/x\"]\nsoftware = \"bbb\"\n" + #"""
            [[rules]]
            name = "whiteboard-open"
            kind = "activity.started"
            regex = 'whiteboard opened meeting=(?<meeting>\S+)'
            fields = { meeting = "meeting", activity = "=whiteboard" }
            """#
        let c = try load(text)
        let parser = try ParserChoice.make(software: c.files[0].software, options: c.parserOptions)
        #expect(parser.name == "rules+bbb")
    }
}
