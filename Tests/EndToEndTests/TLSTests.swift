import Aggregation
import RecordStorage
import Collector
import Delivery
import LogLines
import LogParsers
import LogSources
import Workloads
import Foundation
import Testing
import UsageRecords

/// TLS between agent and aggregator with the real binaries and certificates made by openssl:
/// records arrive over verified TLS; a wrong trust root, a certificate for another host and a
/// plain-TCP agent are all refused, and nothing reaches the store from them.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs /usr/bin/openssl (apt-get install openssl)"))
struct TLSTests {
    struct PKI {
        let dir: String

        init(dir: String) throws {
            self.dir = dir
            let script = """
                set -e
                cd '\(dir)'
                conf() { printf '[req]\\ndistinguished_name=dn\\n[dn]\\n[ext]\\nsubjectAltName=%s\\nbasicConstraints=CA:FALSE\\n' "$1" > "$2"; }
                openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=meetmeter-test-ca -keyout ca.key -out ca.pem 2>/dev/null
                openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rogue-ca -keyout rogue.key -out rogue.pem 2>/dev/null
                issue() {
                    conf "$2" "$1.cnf"
                    openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$1.key" -out "$1.csr" -config "$1.cnf" 2>/dev/null
                    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile "$1.cnf" -extensions ext -out "$1.pem" 2>/dev/null
                }
                issue aggregator 'DNS:localhost,IP:127.0.0.1'
                issue bbb-tls 'DNS:bbb-tls'
                issue other-host 'DNS:other-host'
                """
            let r = try runBlocking("/bin/sh", ["-c", script])
            guard r.status == 0 else { throw HarnessError("openssl failed: \(r.err)") }
        }
    }

    struct Setup {
        let dir: String
        let port: Int
        let pki: PKI
        let log: String
        var database: String { dir + "/store.sqlite" }

        init(_ name: String) throws {
            dir = try Paths.temporaryDirectory(name)
            port = try freePort()
            pki = try PKI(dir: dir)
            log = dir + "/bbb-apps-akka.log"
            try SyntheticAkkaLog.meeting(users: 50).write(toFile: log, atomically: true, encoding: .utf8)
            try """
                [listen]
                address = "127.0.0.1:\(port)"
                tls_certificate_file = "\(dir)/aggregator.pem"
                tls_key_file = "\(dir)/aggregator.key"
                client_ca_file = "\(dir)/ca.pem"
                [store]
                path = "\(database)"
                [metrics]
                address = ""
                [[agents]]
                host = "bbb-tls"
                token = "tls-test-token-0123456789"
                """.write(toFile: dir + "/aggregator.toml", atomically: true, encoding: .utf8)
        }

        /// An agent configuration; `tls` holds the lines of `[aggregator]` about TLS.
        func agentConfig(_ name: String, tls: String) throws -> String {
            let path = dir + "/agent-\(name).toml"
            try """
                host = "bbb-tls"
                state_directory = "\(dir)/state-\(name)"
                [aggregator]
                address = "127.0.0.1:\(port)"
                token = "tls-test-token-0123456789"
                \(tls)
                [metrics]
                address = ""
                [storage]
                enabled = false
                [[files]]
                paths = ["\(log)"]
                software = "bbb"
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        func storedCount() async throws -> Int {
            try await SQLiteRecordStore(path: database, readOnly: true).count()
        }
    }

    @Test func recordsArriveOverMutualTLSAndImpostorsAreRefused() async throws {
        let setup = try Setup("tls")
        defer { try? FileManager.default.removeItem(atPath: setup.dir) }
        let aggregator = try Child(Paths.binary("meetmeter-aggregator"), ["--config", setup.dir + "/aggregator.toml"],
                                   logTo: setup.dir + "/aggregator.log")
        defer { aggregator.stop() }
        try await aggregator.waitForLog("listening")

        // Refused first, so that the store is empty while they try.
        let impostors: [(String, String, String)] = [
            ("rogue-ca", "tls = true\nca_file = \"\(setup.dir)/rogue.pem\"\ncertificate_file = \"\(setup.dir)/bbb-tls.pem\"\nkey_file = \"\(setup.dir)/bbb-tls.key\"", "TLS handshake with the aggregator failed"),
            ("other-host", "tls = true\nca_file = \"\(setup.dir)/ca.pem\"\ncertificate_file = \"\(setup.dir)/other-host.pem\"\nkey_file = \"\(setup.dir)/other-host.key\"", "client certificate is for other-host"),
            ("no-client-certificate", "tls = true\nca_file = \"\(setup.dir)/ca.pem\"", "cannot ship"),
            ("plain-tcp", "", "cannot ship"),
        ]
        for (name, tls, expected) in impostors {
            let agent = try Child(Paths.binary("meetmeter-agent"), ["--config", try setup.agentConfig(name, tls: tls)],
                                  logTo: setup.dir + "/agent-\(name).log")
            try await agent.waitForLog(expected, timeout: .seconds(30))
            agent.stop()
            #expect(try await setup.storedCount() == 0, "\(name) stored nothing")
        }

        let good = try setup.agentConfig("good", tls: "tls = true\nca_file = \"\(setup.dir)/ca.pem\"\nserver_name = \"localhost\"\ncertificate_file = \"\(setup.dir)/bbb-tls.pem\"\nkey_file = \"\(setup.dir)/bbb-tls.key\"")
        let r = try await run(Paths.binary("meetmeter-agent"), ["--config", good, "--drain"], timeout: 120)
        #expect(r.status == 0, "\(r.err)")
        #expect(try await setup.storedCount() == 2 * 50 + 2)
    }

    @Test func checkConfigNamesAnUnreadableCertificate() async throws {
        let dir = try Paths.temporaryDirectory("tls-config")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "not a certificate\n".write(toFile: dir + "/bad.pem", atomically: true, encoding: .utf8)
        try "not a key either\n".write(toFile: dir + "/bad.key", atomically: true, encoding: .utf8)
        try """
            [listen]
            address = "127.0.0.1:7800"
            allow_unauthenticated = true
            tls_certificate_file = "\(dir)/bad.pem"
            tls_key_file = "\(dir)/bad.key"
            [store]
            path = "\(dir)/s.sqlite"
            """.write(toFile: dir + "/aggregator.toml", atomically: true, encoding: .utf8)
        let r = try await run(Paths.binary("meetmeter-aggregator"), ["--config", dir + "/aggregator.toml", "--check-config"])
        #expect(r.status == 78)
        #expect(r.err.contains("aggregator.toml:4"), "\(r.err)")
        #expect(r.err.contains("tls_certificate_file"), "\(r.err)")
        #expect(r.err.contains("bad.pem"), "\(r.err)")
    }
}
