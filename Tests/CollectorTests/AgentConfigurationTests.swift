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

@Suite struct AgentConfigurationTests {
    func load(_ text: String) throws(ConfigError) -> AgentConfiguration {
        try AgentConfiguration(document: try ConfigDocument(text: text, path: "/etc/meetmeter/agent.toml"))
    }

    @Test func theShippedFileIsValid() throws {
        let path = String(#filePath.dropLast("Tests/CollectorTests/AgentConfigurationTests.swift".count)) + "etc/meetmeter/agent.toml"
        let c = try AgentConfiguration.load(path: path)
        #expect(c.journal?.units.contains("bbb-apps-akka.service") == true)
        #expect(c.aggregators.map(\.port) == [7800])
        #expect(c.spoolMaxBytes == 256 << 20)
    }

    /// Issue 16: several aggregators, in the order given, IPv6 in brackets.
    @Test func severalAggregators() throws {
        let c = try load("host = \"bbb1\"\n[aggregator]\naddresses = [\"meter-b.example.org:7800\", \"[::1]:7801\", \"10.0.0.3:7802\"]\n[[files]]\npaths = [\"/x\"]\n")
        #expect(c.aggregators == [NetworkAddress(host: "meter-b.example.org", port: 7800), NetworkAddress(host: "::1", port: 7801),
                                  NetworkAddress(host: "10.0.0.3", port: 7802)])
    }

    @Test func defaults() throws {
        let c = try load("host = \"bbb1\"\n[[files]]\npaths = [\"/var/log/x.log\"]\n")
        #expect(c.host == "bbb1")
        #expect(c.stateDirectory == "/var/lib/meetmeter-agent")
        #expect(c.aggregators == [NetworkAddress(host: "127.0.0.1", port: 7800)])
        #expect(c.files[0].software == "auto")
        #expect(c.heartbeatInterval == 60)
    }

    @Test(arguments: [
        ("host = \"bbb1\"\n[[files]]\npaths = [\"/x\"]\nsoftware = \"zoom\"\n", 4, "files[0].software", "not one of"),
        ("host = \"bbb1\"\n[aggregator]\naddress = \"nowhere\"\n[[files]]\npaths = [\"/x\"]\n", 3, "aggregator.address", "HOST:PORT"),
        ("host = \"bbb1\"\n[[files]]\npaths = [\"relative.log\"]\n", 3, "files[0].paths", "absolute"),
        ("host = \"bbb1\"\n[spool]\nmax_bytes = 10\n[[files]]\npaths = [\"/x\"]\n", 3, "spool.max_bytes", "out of range"),
        ("host = \"bbb1\"\n[[files]]\npaths = [\"/x\"]\n[heartbeat]\nintervall = 5\n", 5, "heartbeat.intervall", "not a known key"),
        ("host = \"bb 1\"\n[[files]]\npaths = [\"/x\"]\n", 1, "host", "not a usable host name"),
        ("host = \"bbb1\"\n[aggregator]\naddress = \"a:1\"\naddresses = [\"b:1\"]\n[[files]]\npaths = [\"/x\"]\n", 4, "aggregator.addresses", "not both"),
        ("host = \"bbb1\"\n[aggregator]\naddresses = []\n[[files]]\npaths = [\"/x\"]\n", 3, "aggregator.addresses", "at least one"),
        ("host = \"bbb1\"\n[aggregator]\naddresses = [\"a:7800\", \"b\"]\n[[files]]\npaths = [\"/x\"]\n", 3, "aggregator.addresses", "'b' is not HOST:PORT"),
        ("host = \"bbb1\"\n[aggregator]\naddresses = [\"a:7800\", \"a:7800\"]\n[[files]]\npaths = [\"/x\"]\n", 3, "aggregator.addresses", "listed twice"),
    ])
    func mistakesNameFileLineAndKey(text: String, line: Int, key: String, words: String) {
        do {
            _ = try load(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.file == "/etc/meetmeter/agent.toml")
            #expect(error.line == line, "\(error)")
            #expect(error.key == key, "\(error)")
            #expect(error.message.contains(words), "\(error)")
        }
    }

    /// Issue 20, item 6: a certificate without its key was reported on the [aggregator] line (or
    /// line 1); the error stands on the line of the key that is present.
    @Test(arguments: [
        ("certificate_file = \"/etc/meetmeter/bbb1.pem\"", "aggregator.certificate_file", "aggregator.key_file is missing"),
        ("key_file = \"/etc/meetmeter/bbb1.key\"", "aggregator.key_file", "aggregator.certificate_file is missing"),
    ])
    func aCertificateWithoutItsKeyNamesTheLineOfThePresentKey(line: String, key: String, words: String) {
        let text = "host = \"bbb1\"\n[aggregator]\naddress = \"127.0.0.1:7800\"\ntls = true\n\(line)\n[[files]]\npaths = [\"/x\"]\n"
        do {
            _ = try load(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == 5, "\(error)")
            #expect(error.key == key, "\(error)")
            #expect(error.message.contains("mutual TLS needs both"), "\(error)")
            #expect(error.message.contains(words), "\(error)")
        }
    }

    @Test func aConfigurationWithoutSourcesIsRefused() {
        #expect(throws: ConfigError.self) { _ = try load("host = \"bbb1\"\n") }
    }
}
