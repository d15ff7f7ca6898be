import Aggregation
import RecordStorage
import Foundation
import Testing
import UsageRecords

/// The README's first command, run for real: an aggregator on SQLite on 127.0.0.1, an agent over
/// the bundled sample, the report from the store. Minutes are checked against figures worked out
/// by hand from the sample's timestamps (samples/README.md).
@Suite(.serialized) struct DemoTests {
    struct Expected {
        var meeting = "8043c8452ae9830aac14c517adff3839dbd9228f-1698771157700"
        // 16:52:38.093 → 16:55:10.209: 152.116 s → 152 whole seconds → (152 + 30) / 60 = 3 minutes.
        var meetingSeconds = 152
        var meetingMinutes = 3
        // Moderator 16:52:44.638 → 16:55:03.008: 138 s → 2 minutes. Viewer 16:52:53.894 → 16:54:53.000: 119 s → 2 minutes.
        var users: [String: (seconds: Int, minutes: Int, role: String)] = [
            "w_xfsb9gxtlfom": (138, 2, "MODERATOR"),
            "w_uxw0dzhtvk0l": (119, 2, "VIEWER"),
        ]
    }

    func runDemo(dir: String, port: Int) async throws -> (json: [String: Any], text: String) {
        let result = try await run("/bin/bash", [Paths.packageRoot + "/scripts/demo.sh"], environment: [
            "MEETMETER_BIN": Paths.binaries, "MEETMETER_DEMO_DIR": dir,
            "MEETMETER_DEMO_PORT": String(port), "MEETMETER_DEMO_FORMAT": "json", "MEETMETER_DEMO_CONSOLE_PORT": String(try freePort()),
        ])
        guard result.status == 0 else {
            throw HarnessError("demo failed (\(result.status)):\n\(result.err)\n\(result.out)\naggregator:\n"
                + ((try? String(contentsOfFile: dir + "/aggregator.log", encoding: .utf8)) ?? "")
                + "\nagent:\n" + ((try? String(contentsOfFile: dir + "/agent.log", encoding: .utf8)) ?? ""))
        }
        let token = (try? String(contentsOfFile: dir + "/console.token", encoding: .utf8)) ?? "(none)"
        #expect(result.err.contains("console: http://127.0.0.1:") && result.err.contains(token.trimmingCharacters(in: .whitespacesAndNewlines)),
                "the demo ends with the console's address and its token: \(result.err.suffix(600))")
        guard let json = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any] else {
            throw HarnessError("the report is not a JSON object: \(result.out)")
        }
        return (json, result.out)
    }

    @Test func demoPrintsMinutesWorkedOutByHandAndRunningItTwiceDoublesNothing() async throws {
        let dir = try Paths.temporaryDirectory("demo")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let expected = Expected()
        var storeCounts: [Int] = []
        var reports: [String] = []
        for _ in 0..<2 {
            let (report, text) = try await runDemo(dir: dir, port: try freePort())
            let meetings = try #require(report["meetings"] as? [[String: Any]])
            #expect(meetings.count == 1)
            let m = try #require(meetings.first)
            #expect(m["meeting"] as? String == expected.meeting)
            #expect(m["seconds"] as? Int == expected.meetingSeconds)
            #expect(m["minutes"] as? Int == expected.meetingMinutes)
            let users = try #require(m["users"] as? [[String: Any]])
            #expect(users.count == expected.users.count)
            for u in users {
                let id = try #require(u["user"] as? String)
                let want = try #require(expected.users[id])
                #expect(u["seconds"] as? Int == want.seconds, "\(id)")
                #expect(u["minutes"] as? Int == want.minutes, "\(id)")
                #expect(u["role"] as? String == want.role, "\(id)")
            }
            let store = try SQLiteRecordStore(path: dir + "/meetmeter.sqlite")
            storeCounts.append(try await store.count())
            reports.append(text)
        }
        // Six usage facts in the sample: created, two joins, two leaves, destroyed (+ webcam and
        // screen-share activity when the parser reads them): the count must not change on a rerun.
        #expect(storeCounts[0] >= 6)
        #expect(storeCounts[0] == storeCounts[1], "the second run stored nothing new")
        #expect(reports[0] == reports[1], "the same report, byte for byte")

        // The same store re-rated under the shipped policy: the meeting (Tuesday 31 October 2023)
        // is in ISO week 44, whose Sunday is 5 November, so it bills in November, at the 0.10
        // minimum of a meeting that started.
        let invoice = try await run(Paths.binary("meetmeter"), [
            "report", "--config", dir + "/aggregator.toml", "--period", "2023-11", "--rerate",
            "--policy", Paths.packageRoot + "/etc/meetmeter/billing.toml", "--format", "json",
        ])
        #expect(invoice.status == 0, "\(invoice.err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(invoice.out.utf8)) as? [String: Any])
        #expect(json["total"] as? String == "0.10", "\(invoice.out)")
        let october = try await run(Paths.binary("meetmeter"), [
            "report", "--config", dir + "/aggregator.toml", "--period", "2023-10", "--rerate",
            "--policy", Paths.packageRoot + "/etc/meetmeter/billing.toml", "--format", "json",
        ])
        let octoberJSON = try #require(try JSONSerialization.jsonObject(with: Data(october.out.utf8)) as? [String: Any])
        #expect(octoberJSON["total"] as? String == "0.00", "\(october.out)")
        // As a statement, November 2023 closed long before these records were received (now):
        // usage that arrives after a period closed never edits its statement.
        let statement = try await run(Paths.binary("meetmeter"), [
            "report", "--config", dir + "/aggregator.toml", "--period", "2023-11",
            "--policy", Paths.packageRoot + "/etc/meetmeter/billing.toml", "--format", "json",
        ])
        let statementJSON = try #require(try JSONSerialization.jsonObject(with: Data(statement.out.utf8)) as? [String: Any])
        #expect(statementJSON["total"] as? String == "0.00", "\(statement.out)")
    }
}
