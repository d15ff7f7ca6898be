import Foundation
import Testing
import UsageRecords

/// `meetmeter parse`, the binary itself: files, standard input, a journal folder written by the
/// real systemd-journal-remote, the operator's rules from an agent.toml, and its summary.
@Suite struct ParseCommandTests {
    static let sample = Paths.packageRoot + "/samples/bbb-apps-akka.log"
    static let meetmeter = Paths.binary("meetmeter")

    func records(_ out: String) throws -> [UsageRecord] {
        try out.split(separator: "\n").map { try RecordCodec.decode(String($0)) }
    }

    /// What the records say, without their ids (which name where each line was read).
    func facts(_ records: [UsageRecord]) -> [String] {
        records.map { "\($0.kind) \($0.time.rfc3339) \($0.payload.meeting ?? "")" }
    }

    @Test func aFileAndTheSameLinesOnStandardInputGiveTheSameFacts() async throws {
        let file = try await run(Self.meetmeter, ["parse", "--host", "bbb1", Self.sample])
        #expect(file.status == 0, "\(file.err)")
        let fromFile = try records(file.out)
        #expect(fromFile.count == 12)
        #expect(fromFile.allSatisfy { $0.host == "bbb1" })
        #expect(file.err.contains("read 28 lines, made 12 records, skipped 0 lines"), "\(file.err)")

        let stdin = try await run("/bin/sh", ["-c", "'\(Self.meetmeter)' parse --host bbb1 --software bbb - < '\(Self.sample)'"])
        #expect(stdin.status == 0, "\(stdin.err)")
        #expect(facts(try records(stdin.out)) == facts(fromFile))
        // Read again, the same file gives the same ids: the aggregator would keep them once.
        #expect(try await run(Self.meetmeter, ["parse", "--host", "bbb1", Self.sample]).out == file.out)
    }

    @Test func aMissingFileIsAnErrorNamingIt() async throws {
        let r = try await run(Self.meetmeter, ["parse", "/nonexistent/bbb.log"])
        #expect(r.status == 1)
        #expect(r.err.contains("/nonexistent/bbb.log: No such file"), "\(r.err)")
    }

    @Test func anUnknownSoftwareIsRefused() async throws {
        let r = try await run(Self.meetmeter, ["parse", "--software", "zoom", Self.sample])
        #expect(r.status == 64)
        #expect(r.err.contains("--software"), "\(r.err)")
    }

    @Test(.enabled(if: access("/lib/systemd/systemd-journal-remote", X_OK) == 0,
                   "needs /lib/systemd/systemd-journal-remote (apt-get install systemd-journal-remote)"))
    func aJournalFolderIsReadWithTheJournalsTimes() async throws {
        let dir = try Paths.temporaryDirectory("parse-journal")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The sample's analytics lines as bbb-apps-akka's journal entries.
        let lines = try String(contentsOfFile: Self.sample, encoding: .utf8).split(separator: "\n")
        var export = ""
        for (i, line) in lines.enumerated() {
            guard let marker = line.range(of: "-- analytics -- ") else { continue }
            export += "__REALTIME_TIMESTAMP=\(1_698_771_158_000_000 + UInt64(i) * 1_000_000)\n__MONOTONIC_TIMESTAMP=\(i + 1)\n"
            export += "_BOOT_ID=0123456789abcdef0123456789abcdef\nSYSLOG_IDENTIFIER=bbb-apps-akka\n_SYSTEMD_UNIT=bbb-apps-akka.service\n"
            export += "MESSAGE=INFO  o.b.core2.AnalyticsActor - -- analytics -- \(line[marker.upperBound...])\n\n"
        }
        try export.write(toFile: dir + "/export.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/j", withIntermediateDirectories: true)
        let write = try await run("/bin/sh", ["-c", "/lib/systemd/systemd-journal-remote --output='\(dir)/j/sample.journal' --split-mode=none - < '\(dir)/export.txt'"])
        #expect(write.status == 0, "\(write.err)")

        let r = try await run(Self.meetmeter, ["parse", "--host", "bbb1", "--software", "bbb", "--journal-dir", dir + "/j"])
        #expect(r.status == 0, "\(r.err)")
        let fromJournal = try records(r.out)
        let fromFile = try records(try await run(Self.meetmeter, ["parse", "--host", "bbb1", Self.sample]).out)
        #expect(fromJournal.map(\.kind) == fromFile.map(\.kind))
        // Each record knows its boot; envelope times win over the journal's.
        #expect(fromJournal.allSatisfy { $0.extra["boot"] == .string("0123456789abcdef0123456789abcdef") })
        #expect(fromJournal.map(\.time) == fromFile.map(\.time))
    }

    @Test func theRulesOfAnAgentTomlMeterWhatNoParserReads() async throws {
        let dir = try Paths.temporaryDirectory("parse-rules")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try #"""
            host = "bbb1"
            [[files]]
            paths = ["/var/log/bigbluebutton/html5/client.log"]
            software = "rules"

            [[rules]]
            name = "whiteboard-open"
            kind = "activity.started"
            contains = "whiteboard opened"
            regex = '^(?<time>\S+) .*whiteboard opened meeting=(?<meeting>\S+) user=(?<user>\S+)'
            time = "time"
            fields = { meeting = "meeting", user = "user", activity = "=whiteboard" }
            """#.write(toFile: dir + "/agent.toml", atomically: true, encoding: .utf8)
        try """
            2026-11-22T10:15:00.250Z INFO html5 - whiteboard opened meeting=m-1 user=w_9
            2026-11-22T10:15:01.000Z INFO html5 - something else
            2026-11-22T10:16:00.000Z INFO html5 - whiteboard opened meeting=m-1 user=w_7

            """.write(toFile: dir + "/client.log", atomically: true, encoding: .utf8)
        let r = try await run(Self.meetmeter, ["parse", "--software", "rules", "--config", dir + "/agent.toml", dir + "/client.log"])
        #expect(r.status == 0, "\(r.err)")
        let made = try records(r.out)
        #expect(made.map(\.kind) == [.activityStarted, .activityStarted])
        #expect(made.map { $0.time.rfc3339 }.first?.hasPrefix("2026-11-22T10:15:00.25") == true)

        // A broken rule is named by file, line and key, with the configuration's exit status.
        try "[[rules]]\nname = \"r\"\nkind = \"activity.started\"\nregex = '(?<m>x'\nfields = { meeting = \"m\", activity = \"=x\" }\n"
            .write(toFile: dir + "/bad.toml", atomically: true, encoding: .utf8)
        let bad = try await run(Self.meetmeter, ["parse", "--config", dir + "/bad.toml", dir + "/client.log"])
        #expect(bad.status == 78)
        #expect(bad.err.contains("bad.toml"), "\(bad.err)")
        #expect(bad.err.contains("bad.toml:4:"), "\(bad.err)")
        #expect(bad.err.contains("regex"), "\(bad.err)")
    }
}
