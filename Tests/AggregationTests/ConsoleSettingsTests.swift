import Aggregation
import ConfigFiles
import Foundation
import Testing

/// `[console]` of aggregator.toml: defaults, tokens from files, and each mistake named.
@Suite struct ConsoleSettingsTests {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "meetmeter-console-settings-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "operator-token-0123456789\n".write(toFile: dir + "/operator", atomically: true, encoding: .utf8)
        try "acme-token-0123456789abc\n".write(toFile: dir + "/acme", atomically: true, encoding: .utf8)
        try "short\n".write(toFile: dir + "/short", atomically: true, encoding: .utf8)
        try "semi;colon-token-0123456789\n".write(toFile: dir + "/semicolon", atomically: true, encoding: .utf8)
    }

    func load(_ text: String) throws(ConfigError) -> AggregatorConfiguration {
        try AggregatorConfiguration(document: try ConfigDocument(text: text, path: "aggregator.toml"))
    }

    @Test func absentMeansNotServed() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try load("").console == nil)
    }

    @Test func defaultsAndTokens() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = try #require(try load("""
            [console]
            operator_token_file = "\(dir)/operator"
            [[console.accounts]]
            account = "acme"
            token_file = "\(dir)/acme"
            """).console)
        #expect(c.address.description == "127.0.0.1:7880", "loopback by default")
        #expect(c.policy == "/etc/meetmeter/billing.toml")
        #expect(c.viewers == [.init(scope: .operator_, token: "operator-token-0123456789"),
                              .init(scope: .account("acme"), token: "acme-token-0123456789abc")])
    }

    @Test func mistakesNameLineAndKey() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cases: [(String, Int?, String)] = [
            ("[console]\naddress = \"127.0.0.1:7880\"\n", nil, "console.operator_token_file"),
            ("[console]\noperator_token_file = \"\(dir)/short\"\n", 2, "console.operator_token_file"),
            ("[console]\noperator_token_file = \"\(dir)/none\"\n", 2, "console.operator_token_file"),
            ("[console]\noperator_token_file = \"\(dir)/semicolon\"\n", 2, "console.operator_token_file"),
            ("[console]\noperator_token_file = \"\(dir)/acme\"\n[[console.accounts]]\naccount = \"acme\"\ntoken_file = \"\(dir)/acme\"\n", 5, "console.accounts[0].token_file"),
            ("[console]\noperator_token_file = \"\(dir)/operator\"\ntokens = 1\n", 3, "console.tokens"),
            ("[console]\noperator_token_file = \"\(dir)/operator\"\naddress = \"7880\"\n", 3, "console.address"),
        ]
        // HTTPS needs both files: the one given is named, at its line.
        let tlsCases: [(String, Int?, String)] = [
            ("[console]\noperator_token_file = \"\(dir)/operator\"\ntls_certificate_file = \"\(dir)/c.pem\"\n", 3, "console.tls_certificate_file"),
            ("[console]\noperator_token_file = \"\(dir)/operator\"\ntls_key_file = \"\(dir)/c.key\"\n", 3, "console.tls_key_file"),
        ]
        for (text, line, key) in cases + tlsCases {
            do {
                _ = try load(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.key == key, "\(text): \(error)")
                if let line { #expect(error.line == line, "\(text): \(error)") }
            }
        }
    }

    /// The certificate's files are read when the daemon starts: one that cannot be read is named
    /// with the line and key that named it.
    @Test func anUnreadableCertificateIsNamed() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = try #require(try load("""
            [console]
            operator_token_file = "\(dir)/operator"
            tls_certificate_file = "\(dir)/missing.pem"
            tls_key_file = "\(dir)/missing.key"
            """).console)
        #expect(c.tls != nil)
        do {
            _ = try c.makeTLSConfiguration()
            Issue.record("a missing certificate was accepted")
        } catch {
            #expect(error.key == "console.tls_certificate_file" && error.line == 3, "\(error)")
            #expect("\(error)".contains("missing.pem"), "\(error)")
        }
        #expect(try load("[console]\noperator_token_file = \"\(dir)/operator\"\n").console?.makeTLSConfiguration() == nil)
    }
}
