import Aggregation
import ConfigFiles
import Testing
import UsageRecords

@Suite struct AggregatorConfigurationTests {
    func load(_ text: String) throws(ConfigError) -> AggregatorConfiguration {
        try AggregatorConfiguration(document: try ConfigDocument(text: text, path: "aggregator.toml"))
    }

    @Test func theShippedFileIsValid() throws {
        let path = String(#filePath.dropLast("Tests/AggregationTests/AggregatorConfigurationTests.swift".count)) + "etc/meetmeter/aggregator.toml"
        let c = try AggregatorConfiguration.load(path: path)
        #expect(c.listenPort == 7800)
        #expect(c.tokens.isEmpty)
        #expect(!c.warnings.isEmpty, "an aggregator that lists no agent says so")
    }

    @Test func agentsAndTokens() throws {
        let c = try load("[[agents]]\nhost = \"bbb1\"\ntoken = \"0123456789abcdef0\"\n[[agents]]\nhost = \"bbb2\"\ntoken = \"fedcba98765432100\"\n")
        #expect(c.tokens == ["bbb1": "0123456789abcdef0", "bbb2": "fedcba98765432100"])
        #expect(c.warnings.isEmpty)
    }

    @Test(arguments: [
        ("[[agents]]\nhost = \"bbb1\"\ntoken = \"short\"\n", 3, "agents[0].token"),
        ("[[agents]]\nhost = \"bbb1\"\ntoken = \"0123456789abcdef0\"\n[[agents]]\nhost = \"bbb1\"\ntoken = \"0123456789abcdef0\"\n", 5, "agents[1].host"),
        ("[listen]\naddress = \"7800\"\n", 2, "listen.address"),
        ("[store]\nbackend = \"oracle\"\n", 2, "store.backend"),
        ("[limits]\nmax_bad_lines = 0\n", 2, "limits.max_bad_lines"),
        // [records] and hosts whose ids would share a namespace (issue 20).
        ("[records]\nearliest = \"soon\"\n", 2, "records.earliest"),
        ("[records]\nearliest = \"2020-01-01T00:00:00+99:00\"\n", 2, "records.earliest"),
        ("[records]\nearliest = 2020\n", 2, "records.earliest"),
        ("[records]\nmax_future_seconds = -1\n", 2, "records.max_future_seconds"),
        ("[records]\nlatest = 1\n", 2, "records.latest"),
        ("[[agents]]\nhost = \"h\u{f4}te\"\ntoken = \"0123456789abcdef0\"\n[[agents]]\nhost = \"h_te\"\ntoken = \"0123456789abcdef1\"\n", 5, "agents[1].host"),
    ])
    func mistakesNameLineAndKey(text: String, line: Int, key: String) {
        do {
            _ = try load(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.key == key, "\(error)")
        }
    }

    // MARK: [records]: the window of record times (issue 20)

    @Test func theWindowDefaultsToTheYear2000AndADayAhead() throws {
        let c = try load("")
        #expect(c.recordWindow.earliest.rfc3339 == "2000-01-01T00:00:00.000000Z")
        #expect(c.recordWindow.maxFutureSeconds == 86_400)
        #expect(ListenerConfiguration(c).recordWindow == c.recordWindow)
    }

    @Test func theWindowIsRead() throws {
        let date = try load("[records]\nearliest = 2020-01-01T00:00:00Z\nmax_future_seconds = 600\n")
        #expect(date.recordWindow == RecordTimeWindow(earliest: Timestamp(rfc3339: "2020-01-01T00:00:00Z")!, maxFutureSeconds: 600))
        let text = try load("[records]\nearliest = \"2020-01-01T01:00:00+01:00\"\n")
        #expect(text.recordWindow.earliest == Timestamp(rfc3339: "2020-01-01T00:00:00Z")!)
        #expect(ListenerConfiguration(text).recordWindow.earliest == text.recordWindow.earliest)
    }
}
