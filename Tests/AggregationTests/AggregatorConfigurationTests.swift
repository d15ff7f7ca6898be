import Aggregation
import ConfigFiles
import Testing

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
