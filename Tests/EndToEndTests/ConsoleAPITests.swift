import Foundation
import Logging
import Observability
import RecordStorage
import TestPostgres
import Testing
import UsageRecords
import Workloads

/// Issue 19, the API: a real aggregator with `[console]`, on a SQLite store filled with a month
/// of usage and on the same records copied into PostgreSQL. Its answers are the figures
/// `meetmeter report --policy` prints for the same period, byte for byte; an account token sees
/// its own account and nothing else; tokens are checked and every answer carries the security
/// headers.
@Suite(.serialized, .postgresServer, .enabled(if: PostgresServer.available, PostgresServer.unavailableReason))
struct ConsoleAPITests {
    static let operatorToken = "console-operator-token-0123456789"
    static let accountToken = "console-acct1-token-0123456789abc"

    @Test(.timeLimit(.minutes(10)))
    func theAPIServesTheStatementsReportPrintsAndOnlyToWhomItMay() async throws {
        guard let server = PostgresServer.current else { throw HarnessError("no PostgreSQL server") }
        let dir = try Paths.temporaryDirectory("console-api")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sqlite = dir + "/records.sqlite"
        _ = try await StoreEnginesTests.fillSQLite(sqlite)
        let url = try server.createDatabase()
        let meetmeter = Paths.binary("meetmeter")
        let copied = try await run(meetmeter, ["store", "copy", "--from", sqlite, "--to", url, "--to-password-file", server.passwordFile], timeout: 300)
        #expect(copied.status == 0, "store copy: \(copied.err)")

        try (Self.operatorToken + "\n").write(toFile: dir + "/operator.token", atomically: true, encoding: .utf8)
        try (Self.accountToken + "\n").write(toFile: dir + "/acct1.token", atomically: true, encoding: .utf8)
        let stores = [
            ("sqlite", "path = \"\(sqlite)\""),
            ("postgresql", "url = \"\(url)\"\npassword_file = \"\(server.passwordFile)\""),
        ]
        for (engine, store) in stores {
            let port = try freePort()
            let config = dir + "/aggregator-\(engine).toml"
            try """
                [listen]
                address = "127.0.0.1:0"
                [store]
                \(store)
                [metrics]
                address = ""
                [console]
                address = "127.0.0.1:\(port)"
                policy = "preset:live-collaboration"
                operator_token_file = "\(dir)/operator.token"
                [[console.accounts]]
                account = "acct1"
                token_file = "\(dir)/acct1.token"
                [[agents]]
                host = "bbb0"
                token = "console-agent-token-0123456789"
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let aggregator = try Child(Paths.binary("meetmeter-aggregator"), ["--config", config], logTo: dir + "/aggregator-\(engine).log")
            defer { aggregator.stop() }
            try await aggregator.waitForLog("console listening")
            try await checkAnswers(port: port, config: config, engine: engine)
            #expect(!aggregator.log.contains(Self.operatorToken) && !aggregator.log.contains(Self.accountToken), "no token in the log")
            if engine == "postgresql" {
                // A fleet: a second aggregator on the same database serves the same answers.
                let secondPort = try freePort()
                let secondConfig = dir + "/aggregator-postgresql-2.toml"
                try (try String(contentsOfFile: config, encoding: .utf8))
                    .replacingOccurrences(of: "127.0.0.1:\(port)", with: "127.0.0.1:\(secondPort)")
                    .write(toFile: secondConfig, atomically: true, encoding: .utf8)
                let second = try Child(Paths.binary("meetmeter-aggregator"), ["--config", secondConfig], logTo: dir + "/aggregator-postgresql-2.log")
                defer { second.stop() }
                try await second.waitForLog("console listening")
                for path in ["/api/v1/statement?period=2026-11&as_of=2026-12-02T00:00:00Z", "/api/v1/accounts?period=2026-W47&rerate=true",
                             "/api/v1/meetings?period=2026-11-20"] {
                    let headers = [("Authorization", "Bearer \(Self.operatorToken)")]
                    let a = try HTTPGet.fetch(host: "127.0.0.1", port: port, path: path, headers: headers, timeoutSeconds: 60)
                    let b = try HTTPGet.fetch(host: "127.0.0.1", port: secondPort, path: path, headers: headers, timeoutSeconds: 60)
                    #expect(a.status == 200 && a.body == b.body, "both aggregators of the fleet answer \(path) alike")
                }
            }
        }
    }

    func checkAnswers(port: Int, config: String, engine: String) async throws {
        let meetmeter = Paths.binary("meetmeter")
        let asOf = "2026-12-02T00:00:00Z"
        func get(_ path: String, token: String? = ConsoleAPITests.operatorToken) throws -> HTTPGet.Response {
            try HTTPGet.fetch(host: "127.0.0.1", port: port, path: path,
                              headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [], timeoutSeconds: 60)
        }
        func report(_ arguments: [String]) async throws -> String {
            let r = try await run(meetmeter, ["report", "--config", config, "--policy", "preset:live-collaboration"] + arguments, timeout: 300)
            #expect(r.status == 0, "meetmeter report \(arguments): \(r.err)")
            return r.out
        }

        // The operator: the whole statement, in each format, as report prints it.
        for (query, arguments) in [
            ("period=2026-11&as_of=\(asOf)", ["--period", "2026-11", "--as-of", asOf, "--format", "json"]),
            ("period=2026-11&rerate=true&format=csv", ["--period", "2026-11", "--rerate", "--format", "csv"]),
            ("period=2026-W47&as_of=\(asOf)&format=stripe", ["--period", "2026-W47", "--as-of", asOf, "--format", "stripe"]),
        ] {
            let answer = try get("/api/v1/statement?\(query)")
            #expect(answer.status == 200, "\(engine) statement?\(query): \(answer.body)")
            #expect(answer.body == (try await report(arguments)), "\(engine) statement?\(query) is report's \(arguments)")
        }
        // Each account's total is the one in the statement, to the cent.
        let whole = try JSONParser.parse(try await report(["--period", "2026-11", "--as-of", asOf, "--format", "json"]))
        let accounts = try JSONParser.parse(try get("/api/v1/accounts?period=2026-11&as_of=\(asOf)").body)
        #expect(accounts["accounts"] == whole["accounts"], "\(engine): the accounts and their amounts")
        #expect(accounts["total"] == whole["total"])
        let names = (whole["accounts"]?.arrayValue ?? []).compactMap { $0["account"]?.stringValue }
        #expect(names.contains("acct1") && names.count > 1, "the month has several accounts: \(names)")

        // acct1's token: its own statement (its lines and total only), nothing of the others.
        let own = try get("/api/v1/accounts/acct1/statement?period=2026-11&as_of=\(asOf)", token: Self.accountToken)
        #expect(own.status == 200, "\(own.body)")
        let mine = try JSONParser.parse(own.body)
        let lines = mine["lines"]?.arrayValue ?? []
        #expect(!lines.isEmpty && lines.allSatisfy { $0["account"]?.stringValue == "acct1" })
        let acct1 = (whole["accounts"]?.arrayValue ?? []).first { $0["account"]?.stringValue == "acct1" }
        #expect(mine["total"] == acct1?["due"], "acct1's total is its due in the whole statement")
        // A path segment comes percent-decoded ("acct%31" is acct1), and the scheme's case does not matter.
        let encoded = try get("/api/v1/accounts/acct%31/statement?period=2026-11&as_of=\(asOf)", token: Self.accountToken)
        #expect(encoded.status == 200 && encoded.body == own.body, "\(encoded.status)")
        let lower = try HTTPGet.fetch(host: "127.0.0.1", port: port, path: "/api/v1/accounts?period=2026-11",
                                      headers: [("Authorization", "bearer \(Self.accountToken)")], timeoutSeconds: 60)
        #expect(lower.status == 200)
        let listed = try JSONParser.parse(try get("/api/v1/accounts?period=2026-11&as_of=\(asOf)", token: Self.accountToken).body)
        #expect((listed["accounts"]?.arrayValue ?? []).compactMap { $0["account"]?.stringValue } == ["acct1"])
        for other in names where other != "acct1" {
            let answer = try get("/api/v1/accounts/\(other)/statement?period=2026-11", token: Self.accountToken)
            #expect(answer.status == 404, "acct1 cannot see \(other): \(answer.status)")
        }
        #expect(try get("/api/v1/statement?period=2026-11", token: Self.accountToken).status == 404)
        #expect(try get("/api/v1/hosts", token: Self.accountToken).status == 404)

        // No token, a wrong one, one a byte off: 401 without detail.
        for token in [nil, "wrong", String(Self.operatorToken.dropLast()) + "x", Self.operatorToken + "0"] {
            let answer = try get("/api/v1/accounts?period=2026-11", token: token)
            #expect(answer.status == 401, "token \(token ?? "none"): \(answer.status)")
            #expect(answer.body == "{\"error\":\"unauthorized\"}\n")
        }
        // Bad parameters are named.
        let badPeriod = try get("/api/v1/accounts?period=2026-13")
        #expect(badPeriod.status == 400 && badPeriod.body.contains("period"), "\(badPeriod.body)")
        #expect(try get("/api/v1/accounts").status == 400)
        #expect(try get("/api/v1/statement?period=2026-11&format=table").status == 400)

        // The hosts, for the operator.
        let hosts = try JSONParser.parse(try get("/api/v1/hosts").body)
        #expect((hosts["hosts"]?.arrayValue ?? []).count == 3, "\(hosts)")

        // The document describes every path served, and is served without a token.
        let document = try get("/api/v1/openapi.json", token: nil)
        #expect(document.status == 200)
        let paths = try JSONParser.parse(document.body)["paths"]?.objectValue?.keys.sorted() ?? []
        #expect(paths == ["/api/v1/accounts", "/api/v1/accounts/{account}/statement", "/api/v1/hosts", "/api/v1/meetings",
                          "/api/v1/meetings/{meeting}", "/api/v1/openapi.json", "/api/v1/statement"])

        // The meetings: the operator's are report's (ids and minutes), an account's are its own.
        let reported = try JSONParser.parse(try await run(meetmeter, ["report", "--config", config, "--period", "2026-11", "--format", "json"], timeout: 300).out)
        let all = try JSONParser.parse(try get("/api/v1/meetings?period=2026-11").body)["meetings"]?.arrayValue ?? []
        func summary(_ list: [JSONValue]) -> [String] { list.map { "\($0["meeting"]?.stringValue ?? "") \($0["minutes"].map { "\($0)" } ?? "")" }.sorted() }
        #expect(!all.isEmpty && summary(all) == summary(reported["meetings"]?.arrayValue ?? []), "\(engine): the meetings and their minutes")
        let theirs = try JSONParser.parse(try get("/api/v1/meetings?period=2026-11", token: Self.accountToken).body)["meetings"]?.arrayValue ?? []
        #expect(!theirs.isEmpty && theirs.allSatisfy { $0["account"]?.stringValue == "acct1" })
        #expect(theirs.count == all.filter { $0["account"]?.stringValue == "acct1" }.count)
        if let foreign = all.first(where: { $0["account"]?.stringValue != "acct1" })?["meeting"]?.stringValue,
           let own = theirs.first?["meeting"]?.stringValue {
            #expect(try get("/api/v1/meetings/\(HTMLPath.component(foreign))?period=2026-11", token: Self.accountToken).status == 404)
            let one = try get("/api/v1/meetings/\(HTMLPath.component(own))?period=2026-11", token: Self.accountToken)
            #expect(one.status == 200)
            let people = try JSONParser.parse(one.body)["people"]?.arrayValue ?? []
            #expect(people.contains { !($0["intervals"]?.arrayValue ?? []).isEmpty }, "presence intervals with their records")
        }
        // Live collaboration's grace period, shown: across the month's meetings, some general
        // user's time is billed as grace after the last moderator left, and every stretch is one
        // of the rule's four.
        var reasons: [String: Int] = [:]
        for m in all.prefix(12) {
            guard let id = m["meeting"]?.stringValue else { continue }
            let detail = try JSONParser.parse(try get("/api/v1/meetings/\(HTMLPath.component(id))?period=2026-11").body)
            for s in detail["billing"]?.arrayValue ?? [] { reasons[s["reason"]?.stringValue ?? "?", default: 0] += 1 }
        }
        #expect(Set(reasons.keys).isSubset(of: ["admin", "admin-present", "grace", "no-admin", "not-counted"]), "\(reasons)")
        #expect(reasons["grace", default: 0] > 0 && reasons["admin", default: 0] > 0, "\(engine): stretches \(reasons)")

        // Every answer, errors included, carries the security headers.
        for answer in [document, try get("/api/v1/accounts?period=2026-11"), try get("/api/v1/hosts", token: nil)] {
            #expect(answer.headers["x-content-type-options"] == "nosniff")
            #expect(answer.headers["cache-control"] == "no-store")
            #expect(answer.headers["x-frame-options"] == "DENY")
            #expect(answer.headers["content-security-policy"]?.contains("default-src 'none'") == true)
        }
    }
}


/// The console checked by tools from outside, each against an aggregator of its own on a few days
/// of usage (SQLite): schemathesis against the OpenAPI document, and a real browser on the pages.
/// Apart from ConsoleAPITests, so that they run beside its month on both engines.
@Suite struct ConsoleToolsTests {
    /// An aggregator whose console serves a few days of usage on two hosts: statements
    /// with lines, small enough to rate fast. Answers its console port and its configuration.
    func smallConsole(_ dir: String) async throws -> (Child, port: Int, config: String) {
        let records = SyntheticUsage.records(SyntheticUsage.Shape(
            hosts: 2, days: 4, firstDay: CivilDate(year: 2026, month: 11, day: 26), meetingsPerHostPerDay: 6,
            peoplePerMeeting: 8, heartbeatSeconds: 3600, storageSampleSeconds: 6 * 3600, accounts: 2))
        var logger = Logger(label: "meetmeter.tests.console")
        logger.logLevel = .critical
        // Received as they happened, as a live aggregator receives them: the month's statement
        // holds them (what arrives after a period closed goes to the next one).
        try await RecordStores.withStore(.sqlite(path: dir + "/records.sqlite"), logger: logger) { store in
            let sorted = records.sorted { $0.time < $1.time }
            var start = 0
            while start < sorted.count {
                let batch = Array(sorted[start..<min(start + 50, sorted.count)])
                _ = try await store.commit(batch, receivedAt: (batch.last?.time ?? Timestamp(seconds: 0)).adding(seconds: 1))
                start += batch.count
            }
        }
        try (ConsoleAPITests.operatorToken + "\n").write(toFile: dir + "/operator.token", atomically: true, encoding: .utf8)
        try (ConsoleAPITests.accountToken + "\n").write(toFile: dir + "/acct1.token", atomically: true, encoding: .utf8)
        // Live collaboration's rule (grace after the last moderator left), priced, by the day.
        try """
            currency = "EUR"
            [[meters]]
            item = "live-collaboration"
            description = "Participant minutes"
            measure = "participant-minutes"
            cycle = "daily"
            price = "0.004"
            per = "minute"
            admin_roles = ["MODERATOR"]
            grace_seconds = 300
            """.write(toFile: dir + "/billing.toml", atomically: true, encoding: .utf8)
        let port = try freePort()
        let config = dir + "/aggregator.toml"
        try """
            [listen]
            address = "127.0.0.1:0"
            [store]
            path = "\(dir)/records.sqlite"
            [metrics]
            address = ""
            [console]
            address = "127.0.0.1:\(port)"
            policy = "\(dir)/billing.toml"
            operator_token_file = "\(dir)/operator.token"
            [[console.accounts]]
            account = "acct1"
            token_file = "\(dir)/acct1.token"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let aggregator = try Child(Paths.binary("meetmeter-aggregator"), ["--config", config], logTo: dir + "/aggregator.log")
        try await aggregator.waitForLog("console listening")
        return (aggregator, port, config)
    }

    /// schemathesis (PyPI; scripts/install-deps.sh --test puts it in .build/python) sends the API
    /// requests made from its OpenAPI document, valid and not, and checks every answer against it.
    @Test(.timeLimit(.minutes(10)), .enabled(if: PythonTools.schemathesis != nil, PythonTools.missing))
    func theAPIKeepsToItsOpenAPIDocument() async throws {
        let dir = try Paths.temporaryDirectory("console-openapi")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (aggregator, port, _) = try await smallConsole(dir)
        defer { aggregator.stop() }
        for token in [ConsoleAPITests.operatorToken, ConsoleAPITests.accountToken] {
            let r = try await run(try #require(PythonTools.schemathesis), [
                "run", "http://127.0.0.1:\(port)/api/v1/openapi.json", "--header", "Authorization: Bearer \(token)",
                "--max-examples", "25", "--seed", "19", "--no-color",
            ], timeout: 540)
            let summary = r.out.split(separator: "\n").filter { $0.contains("generated") || $0.contains("ST") }.joined(separator: "\n")
            print("schemathesis (\(token == ConsoleAPITests.operatorToken ? "operator" : "account") token):\n\(summary)")
            #expect(r.status == 0, "schemathesis found answers that break the document:\n\(r.out.suffix(6000))\n\(r.err.suffix(2000))")
        }
    }

    /// The pages in Debian's headless chromium, driven by Selenium (Tests/EndToEndTests/Browser/
    /// console_pages.py): signing in, the amounts of report to the cent, the plots, no console
    /// error, a phone-sized screen, and an account token kept to its own account.
    @Test(.timeLimit(.minutes(10)), .enabled(if: PythonTools.browser, PythonTools.missingBrowser))
    func theConsolePagesShowReportsFiguresInARealBrowser() async throws {
        let dir = try Paths.temporaryDirectory("console-pages")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (aggregator, port, config) = try await smallConsole(dir)
        defer { aggregator.stop() }
        let month = "2026-11"
        let report = try await run(Paths.binary("meetmeter"), ["report", "--config", config, "--policy", dir + "/billing.toml",
                                                              "--period", month, "--format", "json"], timeout: 300)
        #expect(report.status == 0, "\(report.err)")
        try report.out.write(toFile: dir + "/expected.json", atomically: true, encoding: .utf8)
        let shots = ProcessInfo.processInfo.environment["MEETMETER_SCREENSHOTS"]
        let r = try await run(PythonTools.python, [
            Paths.packageRoot + "/Tests/EndToEndTests/Browser/console_pages.py", "http://127.0.0.1:\(port)",
            ConsoleAPITests.operatorToken, "acct1", ConsoleAPITests.accountToken, dir + "/expected.json",
        ] + (shots.map { [$0] } ?? []), timeout: 540)
        print(r.out)
        #expect(r.status == 0, "the browser's checks:\n\(r.out)\n\(r.err.suffix(3000))")
    }

}

/// The test tools from PyPI in .build/python (scripts/install-deps.sh --test), and Debian's chromium.
enum PythonTools {
    static let python = Paths.packageRoot + "/.build/python/bin/python"
    static let schemathesis: String? = {
        let path = Paths.packageRoot + "/.build/python/bin/schemathesis"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()
    static let missing: Comment = "needs schemathesis from PyPI: scripts/install-deps.sh --test installs it into .build/python"
    static let browser: Bool = {
        let fm = FileManager.default
        guard fm.isExecutableFile(atPath: "/usr/bin/chromium"), fm.isExecutableFile(atPath: "/usr/bin/chromedriver"),
              fm.isExecutableFile(atPath: python) else { return false }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: python)
        check.arguments = ["-c", "import selenium"]
        check.standardError = FileHandle.nullDevice
        guard (try? check.run()) != nil else { return false }
        check.waitUntilExit()
        return check.terminationStatus == 0
    }()
    static let missingBrowser: Comment =
        "needs chromium, chromium-driver and selenium: scripts/install-deps.sh --test installs them (selenium into .build/python)"
}

/// Percent-encoding of a path segment, as a browser would send it.
enum HTMLPath {
    static func component(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? text
    }
}
