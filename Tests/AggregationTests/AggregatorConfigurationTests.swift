import Aggregation
import ConfigFiles
import Testing
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

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
        ("[connections]\nhello_timeout = 0\n", 2, "connections.hello_timeout"),
        ("[connections]\nmax_connections = 100\nmax_unauthenticated = 100\n", 3, "connections.max_unauthenticated"),
        ("[connections]\nmax_unauthenticated = 8\nmax_unauthenticated_per_address = 9\n", 3, "connections.max_unauthenticated_per_address"),
        ("[connections]\nmax_idle = 9\n", 2, "connections.max_idle"),
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

    /// Issue 20, item 6: two hosts with one token could each send as the other; --check-config
    /// accepted it. The error names the file, the line of the second token and both hosts.
    @Test func theSameTokenForTwoHostsIsAnError() {
        let text = "[[agents]]\nhost = \"bbb1\"\ntoken = \"0123456789abcdef0\"\n\n[[agents]]\nhost = \"bbb2\"\ntoken = \"0123456789abcdef0\"\n"
        do {
            _ = try load(text)
            Issue.record("accepted one token for two hosts")
        } catch {
            #expect(error.file == "aggregator.toml")
            #expect(error.line == 7, "\(error)")
            #expect(error.key == "agents[1].token", "\(error)")
            #expect(error.message.contains("host 'bbb2' has the same token as host 'bbb1' (line 3)"), "\(error)")
            #expect(!error.description.contains("0123456789abcdef0"), "the token itself is not printed")
        }
    }

    /// The same, with the tokens in files: the line is the second `token_file`.
    @Test func theSameTokenInTwoFilesIsAnError() throws {
        let folder = "/tmp/meetmeter-config-tokens-\(getpid())"
        mkdir(folder, 0o700)
        defer { for f in ["a", "b"] { unlink("\(folder)/\(f)") }; rmdir(folder) }
        for f in ["a", "b"] {
            let fd = open("\(folder)/\(f)", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            _ = "0123456789abcdef0\n".withCString { write(fd, $0, 18) }
            close(fd)
        }
        let text = "[[agents]]\nhost = \"bbb1\"\ntoken_file = \"\(folder)/a\"\n[[agents]]\nhost = \"bbb2\"\ntoken_file = \"\(folder)/b\"\n"
        do {
            _ = try load(text)
            Issue.record("accepted one token for two hosts")
        } catch {
            #expect(error.line == 6, "\(error)")
            #expect(error.key == "agents[1].token_file", "\(error)")
            #expect(error.message.contains("host 'bbb2' has the same token as host 'bbb1' (line 3)"), "\(error)")
        }
    }

    /// Issue 20, item 6: a certificate without its key pointed at line 1 ([listen]); now at the
    /// line of the key that is present.
    @Test(arguments: [
        ("tls_certificate_file = \"/etc/meetmeter/aggregator.pem\"", "listen.tls_certificate_file", "listen.tls_key_file is missing"),
        ("tls_key_file = \"/etc/meetmeter/aggregator.key\"", "listen.tls_key_file", "listen.tls_certificate_file is missing"),
    ])
    func aCertificateWithoutItsKeyNamesTheLineOfThePresentKey(line: String, key: String, words: String) {
        do {
            _ = try load("[listen]\naddress = \"0.0.0.0:7800\"\n\(line)\n")
            Issue.record("accepted half of TLS")
        } catch {
            #expect(error.line == 3, "\(error)")
            #expect(error.key == key, "\(error)")
            #expect(error.message.contains(words), "\(error)")
        }
    }

    /// `[connections]`: its defaults, and the figures read.
    @Test func connectionLimits() throws {
        let defaults = try load("").connections
        #expect(defaults == ConnectionLimits(
            helloTimeout: .seconds(10), maxUnauthenticated: 256, maxUnauthenticatedPerAddress: 16, maxConnections: 4096, maxConnectionsIsExplicit: false))
        let set = try load("[connections]\nhello_timeout = 3\nmax_unauthenticated = 40\nmax_unauthenticated_per_address = 4\nmax_connections = 500\n").connections
        #expect(set == ConnectionLimits(
            helloTimeout: .seconds(3), maxUnauthenticated: 40, maxUnauthenticatedPerAddress: 4, maxConnections: 500, maxConnectionsIsExplicit: true))
        // A small max_connections brings the default of the others down with it.
        let small = try load("[connections]\nmax_connections = 20\n").connections
        #expect(small.maxUnauthenticated == 5)
        #expect(small.maxUnauthenticatedPerAddress == 5)
        #expect(ListenerConfiguration(try load("[connections]\nhello_timeout = 3\n")).helloTimeout == .seconds(3))
    }

    /// The default max_connections is fitted to the descriptor limit; a figure from the file is
    /// kept, with a warning either way.
    @Test func connectionLimitsFitTheDescriptorLimit() {
        let (fits, none) = ConnectionLimits().fitted(toDescriptors: 65536)
        #expect(fits == ConnectionLimits())
        #expect(none == nil)
        let (low, warning) = ConnectionLimits().fitted(toDescriptors: 1024)
        #expect(low.maxConnections == 960)
        #expect(low.maxUnauthenticated == 256)
        #expect(warning?.contains("descriptor limit is 1024") == true, "\(warning ?? "")")
        let (tiny, _) = ConnectionLimits().fitted(toDescriptors: 200)
        #expect(tiny.maxConnections == 136)
        #expect(tiny.maxUnauthenticated == 34)
        #expect(tiny.maxUnauthenticatedPerAddress == 16)
        let explicit = ConnectionLimits(maxConnections: 5000, maxConnectionsIsExplicit: true)
        let (kept, said) = explicit.fitted(toDescriptors: 1024)
        #expect(kept == explicit)
        #expect(said?.contains("raise LimitNOFILE") == true)
    }
}
