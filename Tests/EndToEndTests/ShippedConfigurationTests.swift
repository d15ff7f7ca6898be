import Foundation
import Testing

/// The configuration shipped in etc/meetmeter is valid as shipped, and the man pages lint clean.
@Suite struct ShippedConfigurationTests {
    let etc = Paths.packageRoot + "/etc/meetmeter"

    @Test func everyShippedFileChecksOK() async throws {
        let tool = try await run(Paths.binary("meetmeter"), ["check-config", etc + "/agent.toml", etc + "/aggregator.toml", etc + "/billing.toml"])
        #expect(tool.status == 0, "\(tool.err)")
        #expect(tool.out.components(separatedBy: ": OK").count - 1 == 3, "\(tool.out)")
        let agent = try await run(Paths.binary("meetmeter-agent"), ["--config", etc + "/agent.toml", "--check-config"])
        #expect(agent.status == 0, "\(agent.err)")
        let aggregator = try await run(Paths.binary("meetmeter-aggregator"), ["--config", etc + "/aggregator.toml", "--check-config"])
        #expect(aggregator.status == 0, "\(aggregator.err)")
    }

    @Test func aMistakeIsNamedWithFileLineAndKey() async throws {
        let dir = try Paths.temporaryDirectory("config-mistake")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "host = \"bbb1\"\n[aggregator]\naddress = \"nowhere\"\n[[files]]\npaths = [\"/var/log/x.log\"]\n"
            .write(toFile: dir + "/agent.toml", atomically: true, encoding: .utf8)
        let r = try await run(Paths.binary("meetmeter-agent"), ["--config", dir + "/agent.toml", "--check-config"])
        #expect(r.status == 78)
        #expect(r.err.contains("agent.toml:3"), "\(r.err)")
        #expect(r.err.contains("aggregator.address"), "\(r.err)")
        try "preset = \"hosting\"\ncurrency = \"dollars\"\n".write(toFile: dir + "/billing.toml", atomically: true, encoding: .utf8)
        let b = try await run(Paths.binary("meetmeter"), ["check-config", dir + "/billing.toml"])
        #expect(b.status == 78)
        #expect(b.err.contains("billing.toml:2"), "\(b.err)")
        #expect(b.err.contains("currency"), "\(b.err)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/mandoc"), "needs mandoc (apt-get install mandoc)"))
    func manPagesLintClean() async throws {
        let pages = try FileManager.default.contentsOfDirectory(atPath: Paths.packageRoot + "/man")
            .filter { $0.range(of: #"\.[1-8]$"#, options: .regularExpression) != nil }
            .map { Paths.packageRoot + "/man/" + $0 }
        #expect(pages.count >= 7)
        let r = try await run("/usr/bin/mandoc", ["-Tlint", "-W", "warning"] + pages)
        #expect(r.status == 0 && r.out.isEmpty && r.err.isEmpty, "\(r.out)\(r.err)")
    }
}
