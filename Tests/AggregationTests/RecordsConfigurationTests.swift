import Aggregation
import ConfigFiles
import Testing
import UsageRecords

/// `[records]` of aggregator.toml, and hosts whose ids would share a namespace (issue 20).
@Suite struct RecordsConfigurationTests {
    func load(_ text: String) throws(ConfigError) -> AggregatorConfiguration {
        try AggregatorConfiguration(document: try ConfigDocument(text: text, path: "aggregator.toml"))
    }

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

    @Test(arguments: [
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
}
