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
        // Its closing state: the policy's close of November against as_of, and none when rerated.
        let closes = try #require(accounts["closes"]?.stringValue.flatMap { Timestamp(rfc3339: $0) }, "\(accounts)")
        let asOfTime = try #require(Timestamp(rfc3339: asOf))
        #expect(accounts["closed"]?.boolValue == (asOfTime >= closes), "\(accounts)")
        let later = try JSONParser.parse(try get("/api/v1/accounts?period=2026-11&as_of=2027-01-01T00:00:00Z").body)
        #expect(later["closed"]?.boolValue == true)
        #expect(try JSONParser.parse(try get("/api/v1/accounts?period=2026-11&rerate=true").body)["closed"] == .null)
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

        // The hosts, for the operator: the month's heartbeats ended long before now, so each is silent.
        let hosts = try JSONParser.parse(try get("/api/v1/hosts?period=2026-11").body)
        let hostList = hosts["hosts"]?.arrayValue ?? []
        #expect(hostList.count == 3, "\(hosts)")
        #expect(hostList.allSatisfy { $0["state"]?.stringValue == "silent" && !($0["boots"]?.arrayValue ?? []).isEmpty }, "\(hosts)")
        #expect(hostList.allSatisfy { $0["gaps"]?.arrayValue != nil && ($0["heartbeat_interval_seconds"]?.int64Value ?? 0) > 0 })

        // Usage per day and per week: the month's days and the weeks whose Sunday it holds, for
        // the account's own token, and nobody else's.
        for by in ["day", "week"] {
            let usage = try get("/api/v1/accounts/acct1/usage?period=2026-11&by=\(by)", token: Self.accountToken)
            #expect(usage.status == 200, "\(usage.body)")
            let meters = try JSONParser.parse(usage.body)["meters"]?.arrayValue ?? []
            let cycles = meters.flatMap { ($0["points"]?.arrayValue ?? []).compactMap { $0["cycle"]?.stringValue } }
            #expect(!cycles.isEmpty, "\(engine) usage by \(by): \(usage.body.prefix(400))")
            #expect(cycles.allSatisfy { by == "day" ? $0.hasPrefix("2026-11-") : $0.hasPrefix("2026-W") }, "\(cycles)")
            if let other = names.first(where: { $0 != "acct1" }) {
                #expect(try get("/api/v1/accounts/\(other)/usage?period=2026-11&by=\(by)", token: Self.accountToken).status == 404)
            }
        }
        #expect(try get("/api/v1/accounts/acct1/usage?period=2026-11&by=hour").status == 400)

        // Recordings: the operator's span the accounts; an account's are its own, all of them.
        let recordings = try JSONParser.parse(try get("/api/v1/recordings?period=2026-11").body)["recordings"]?.arrayValue ?? []
        let ownRecordings = try JSONParser.parse(try get("/api/v1/recordings?period=2026-11", token: Self.accountToken).body)["recordings"]?.arrayValue ?? []
        #expect(!recordings.isEmpty && recordings.allSatisfy { names.contains($0["account"]?.stringValue ?? "") }, "\(engine) recordings")
        #expect(!ownRecordings.isEmpty && ownRecordings.allSatisfy { $0["account"]?.stringValue == "acct1" })
        #expect(ownRecordings.count == recordings.filter { $0["account"]?.stringValue == "acct1" }.count)
        #expect(recordings.contains { !($0["steps"]?.arrayValue ?? []).isEmpty } && recordings.contains { ($0["bytes"]?.int64Value ?? 0) > 0 })

        // The document describes every path served, and is served without a token.
        let document = try get("/api/v1/openapi.json", token: nil)
        #expect(document.status == 200)
        let paths = try JSONParser.parse(document.body)["paths"]?.objectValue?.keys.sorted() ?? []
        #expect(paths == ["/api/v1/accounts", "/api/v1/accounts/{account}/statement", "/api/v1/accounts/{account}/usage", "/api/v1/hosts",
                          "/api/v1/meetings", "/api/v1/meetings/{meeting}", "/api/v1/meetings/{meeting}/records", "/api/v1/openapi.json",
                          "/api/v1/recordings", "/api/v1/statement"])

        // The meetings: the operator's are report's (ids and minutes), an account's are its own.
        let reported = try JSONParser.parse(try await run(meetmeter, ["report", "--config", config, "--period", "2026-11", "--format", "json"], timeout: 300).out)
        let all = try JSONParser.parse(try get("/api/v1/meetings?period=2026-11").body)["meetings"]?.arrayValue ?? []
        func summary(_ list: [JSONValue]) -> [String] { list.map { "\($0["meeting"]?.stringValue ?? "") \($0["minutes"].map { "\($0)" } ?? "")" }.sorted() }
        #expect(!all.isEmpty && summary(all) == summary(reported["meetings"]?.arrayValue ?? []), "\(engine): the meetings and their minutes")
        let theirs = try JSONParser.parse(try get("/api/v1/meetings?period=2026-11", token: Self.accountToken).body)["meetings"]?.arrayValue ?? []
        #expect(!theirs.isEmpty && theirs.allSatisfy { $0["account"]?.stringValue == "acct1" })
        #expect(theirs.count == all.filter { $0["account"]?.stringValue == "acct1" }.count)
        let filtered = try JSONParser.parse(try get("/api/v1/meetings?period=2026-11&account=acct1").body)["meetings"]?.arrayValue ?? []
        #expect(filtered == theirs, "an account's meetings, asked for by the operator, are those its own token sees")
        if let other = names.first(where: { $0 != "acct1" }) {
            #expect(try get("/api/v1/meetings?period=2026-11&account=\(other)", token: Self.accountToken).status == 404)
        }
        if let foreign = all.first(where: { $0["account"]?.stringValue != "acct1" })?["meeting"]?.stringValue,
           let own = theirs.first?["meeting"]?.stringValue {
            #expect(try get("/api/v1/meetings/\(HTMLPath.component(foreign))?period=2026-11", token: Self.accountToken).status == 404)
            let one = try get("/api/v1/meetings/\(HTMLPath.component(own))?period=2026-11", token: Self.accountToken)
            #expect(one.status == 200)
            let people = try JSONParser.parse(one.body)["people"]?.arrayValue ?? []
            #expect(people.contains { !($0["intervals"]?.arrayValue ?? []).isEmpty }, "presence intervals with their records")
            // The records behind each interval are the meeting's, to be read whole.
            let behind = try get("/api/v1/meetings/\(HTMLPath.component(own))/records?period=2026-11", token: Self.accountToken)
            #expect(behind.status == 200)
            let ids = Set((try JSONParser.parse(behind.body)["records"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue })
            let cited = people.flatMap { ($0["intervals"]?.arrayValue ?? []).flatMap { [$0["join_record"]?.stringValue, $0["end_record"]?.stringValue] } }.compactMap { $0 }
            #expect(!cited.isEmpty && cited.allSatisfy(ids.contains), "\(engine): every interval's records are among the meeting's")
            #expect(try get("/api/v1/meetings/\(HTMLPath.component(foreign))/records?period=2026-11", token: Self.accountToken).status == 404)
        }
        // Live collaboration's grace period, shown: across the month's meetings, some general
        // user's time is billed as grace after the last moderator left, and every stretch is one
        // of the rule's four.
        var reasons: [String: Int] = [:]
        for m in all.prefix(12) {
            guard let id = m["meeting"]?.stringValue else { continue }
            let detail = try JSONParser.parse(try get("/api/v1/meetings/\(HTMLPath.component(id))?period=2026-11").body)
            for s in detail["billing"]?.arrayValue ?? [] where s["meter"]?.stringValue == "live-collaboration" {
                reasons[s["reason"]?.stringValue ?? "?", default: 0] += 1
            }
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
    func smallConsole(_ dir: String, console extra: String = "") async throws -> (Child, port: Int, config: String) {
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
            [[meters]]
            item = "whiteboard"
            measure = "whiteboard-minutes"
            cycle = "daily"
            lines = "per-cycle"
            price = "1.50"
            per = "thousand-minutes"
            background_pause_seconds = 180
            never_pause_clients = ["windows"]
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
            \(extra)
            [[console.accounts]]
            account = "acct1"
            token_file = "\(dir)/acct1.token"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let aggregator = try Child(Paths.binary("meetmeter-aggregator"), ["--config", config], logTo: dir + "/aggregator.log")
        try await aggregator.waitForLog("console listening")
        return (aggregator, port, config)
    }

    /// The drill-down from a statement line to the time behind it, for the whiteboard: the
    /// minute slots touched by each person's billed whiteboard stretches of each meeting, counted
    /// per day, are the statement's whiteboard minutes of each day; clients in the background past
    /// the rule's pause show as background-pause stretches, not billed. Usage per day is the
    /// statement's daily quantities, and per week their sum over each week's days in the period.
    @Test(.timeLimit(.minutes(10)))
    func theWhiteboardsMinutesAreTheSlotsOfItsBilledStretches() async throws {
        let dir = try Paths.temporaryDirectory("console-whiteboard")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (aggregator, port, _) = try await smallConsole(dir)
        defer { aggregator.stop() }
        func get(_ path: String) throws -> JSONValue {
            let r = try HTTPGet.fetch(host: "127.0.0.1", port: port, path: path,
                                      headers: [("Authorization", "Bearer \(ConsoleAPITests.operatorToken)")], timeoutSeconds: 60)
            guard r.status == 200 else { throw HarnessError("\(path): \(r.status) \(r.body)") }
            return try JSONParser.parse(r.body)
        }
        let period = "2026-11"
        let statement = try get("/api/v1/statement?period=\(period)&rerate=true")
        var billed: [String: [String: Int64]] = [:] // account → day → minutes
        for line in statement["lines"]?.arrayValue ?? [] where line["item"]?.stringValue == "whiteboard" && line["kind"]?.stringValue == "usage" {
            guard let account = line["account"]?.stringValue, let day = line["cycles"]?.arrayValue?.first?.stringValue,
                  let q = line["quantity"]?.stringValue.flatMap({ Int64($0) }) else { continue }
            billed[account, default: [:]][day, default: 0] += q
        }
        #expect(!billed.isEmpty, "the statement bills whiteboard minutes")

        var slots: [String: [String: Int64]] = [:]
        var reasons: [String: Int] = [:]
        for m in try get("/api/v1/meetings?period=\(period)")["meetings"]?.arrayValue ?? [] {
            guard let id = m["meeting"]?.stringValue, let account = m["account"]?.stringValue else { continue }
            let detail = try get("/api/v1/meetings/\(HTMLPath.component(id))?period=\(period)")
            var touched: [String: Set<Int64>] = [:] // user → minute slots
            for s in detail["billing"]?.arrayValue ?? [] where s["meter"]?.stringValue == "whiteboard" {
                let reason = s["reason"]?.stringValue ?? "?"
                reasons[reason, default: 0] += 1
                guard s["billable"]?.boolValue == true, let user = s["user"]?.stringValue,
                      let a = s["start"]?.stringValue.flatMap({ Timestamp(rfc3339: $0) }),
                      let b = s["end"]?.stringValue.flatMap({ Timestamp(rfc3339: $0) }), b > a else { continue }
                let first = a.microseconds / 60_000_000, last = (b.microseconds - 1) / 60_000_000
                for k in first...last { touched[user, default: []].insert(k) }
            }
            for (_, minutes) in touched {
                for k in minutes {
                    let day = String(Timestamp(microseconds: k * 60_000_000).rfc3339.prefix(10))
                    guard day.hasPrefix(period) else { continue }
                    slots[account, default: [:]][day, default: 0] += 1
                }
            }
        }
        #expect(Set(reasons.keys) == ["whiteboard", "background-pause"], "both kinds of whiteboard stretch: \(reasons)")
        #expect(slots == billed, "the slots of the billed stretches are the statement's whiteboard minutes, day by day")

        // Usage per day is the statement's days; per week, their sums (the period's days of each week).
        let daily = try get("/api/v1/accounts/acct1/usage?period=\(period)&by=day")["meters"]?.arrayValue ?? []
        let whiteboardDays = daily.first { $0["meter"]?.stringValue == "whiteboard" }?["points"]?.arrayValue ?? []
        var perDay: [String: Int64] = [:]
        for p in whiteboardDays { perDay[p["cycle"]?.stringValue ?? "?"] = p["quantity"]?.int64Value }
        #expect(perDay.count == 30, "every day of November, the idle ones at zero: \(perDay.count)")
        #expect(perDay.filter { $0.value > 0 } == (billed["acct1"] ?? [:]), "usage per day is the statement's daily whiteboard minutes")
        let weekly = try get("/api/v1/accounts/acct1/usage?period=\(period)&by=week")["meters"]?.arrayValue ?? []
        let weeks = weekly.first { $0["meter"]?.stringValue == "whiteboard" }?["points"]?.arrayValue ?? []
        #expect(weeks.compactMap { $0["quantity"]?.int64Value }.reduce(0, +) == perDay.values.reduce(0, +), "the weeks hold the days")
        #expect(!weeks.isEmpty && weeks.allSatisfy { $0["cycle"]?.stringValue?.contains("-W") == true })
    }

    /// `[console]` with a certificate: HTTPS only, the sign-in cookie marked Secure and browsers told
    /// to keep to HTTPS; plain HTTP to the same port gets no answer.
    @Test(.timeLimit(.minutes(5)), .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs openssl and curl (apt-get install openssl curl)"))
    func theConsoleServesHTTPSWithASecureCookie() async throws {
        let dir = try Paths.temporaryDirectory("console-tls")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = try await run("/bin/sh", ["-c", """
            cd '\(dir)' && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
              -addext subjectAltName=IP:127.0.0.1 -keyout console.key -out console.pem 2>&1
            """], timeout: 60)
        #expect(made.status == 0, "\(made.out)")
        let (aggregator, port, _) = try await smallConsole(dir, console: """
            tls_certificate_file = "\(dir)/console.pem"
            tls_key_file = "\(dir)/console.key"
            """)
        defer { aggregator.stop() }
        #expect(aggregator.log.contains("https"), "the log says the console is HTTPS")
        let base = "https://127.0.0.1:\(port)"
        let api = try await run("/usr/bin/curl", ["-sS", "--cacert", dir + "/console.pem", "-D", "-", "-H",
                                                  "Authorization: Bearer \(ConsoleAPITests.operatorToken)", base + "/api/v1/accounts?period=2026-11"], timeout: 60)
        #expect(api.status == 0 && api.out.contains(" 200") && api.out.contains("\"accounts\""), "\(api.out) \(api.err)")
        #expect(api.out.lowercased().contains("strict-transport-security: max-age="), "\(api.out)")
        let login = try await run("/usr/bin/curl", ["-sS", "--cacert", dir + "/console.pem", "-D", "-", "-o", "/dev/null",
                                                    "--data-urlencode", "token=\(ConsoleAPITests.operatorToken)", base + "/console/login"], timeout: 60)
        let cookie = login.out.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie:") } ?? ""
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.hasSuffix("; Secure"), "\(login.out)")
        let plain = try? HTTPGet.fetch(host: "127.0.0.1", port: port, path: "/api/v1/openapi.json", headers: [], timeoutSeconds: 10)
        #expect(plain?.status != 200, "no answer over plain HTTP")
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
        guard let check = try? SpawnedProcess(python, ["-c", "import selenium"]) else { return false }
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
