import Aggregation
import RecordStorage
import Collector
import Delivery
import LogLines
import LogParsers
import LogSources
import Workloads
import Foundation
import Observability
import Testing
import UsageRecords

/// Issue 20, items 3 and 5 with the real aggregator (and, for times, the real agent): one host
/// cannot take another's ids, a record that comes again with other content is counted, logged,
/// kept and shown, and times that cannot be right are refused with the reason.
@Suite(.serialized) struct RecordIntegrityEndToEndTests {
    static let tokens = ["h1": "integrity-token-h1-0123456789", "h2": "integrity-token-h2-0123456789"]

    static func hello(_ host: String) -> String {
        #"{"hello":"meetmeter","version":1,"host":"\#(host)","token":"\#(tokens[host]!)"}"#
    }

    static func heartbeat(host: String, idOf owner: String, slot: Int, boot: String = "boot-1") -> String {
        let scheduled = Timestamp(seconds: 1_795_000_000 + Int64(slot) * 60)
        return RecordCodec.encode(UsageRecord(
            id: .sample(host: owner, kind: .hostHeartbeat, key: "host", scheduled: scheduled), time: scheduled, host: host,
            payload: .hostHeartbeat(HostHeartbeat(boot: boot, size: "4x8", interval: 60))))
    }

    /// The acks of an exchange, as (status, code) pairs.
    static func answers(_ text: String) throws -> [(status: String, code: String?)] {
        try text.split(separator: "\n").dropFirst().map { line in
            guard case .ack(let ack) = try WireProtocol.decodeReply(String(line)) else {
                throw HarnessError("not an ack: \(line)")
            }
            return (ack.status.rawValue, ack.code)
        }
    }

    @Test func aHostCannotTakeAnotherHostsIdsAndConflictsAreShown() async throws {
        let dir = try Paths.temporaryDirectory("integrity")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try freePort()
        let metrics = try freePort()
        let config = dir + "/aggregator.toml"
        try """
            [listen]
            address = "127.0.0.1:\(port)"
            [store]
            path = "\(dir)/store.sqlite"
            [metrics]
            address = "127.0.0.1:\(metrics)"
            [[agents]]
            host = "h1"
            token = "\(Self.tokens["h1"]!)"
            [[agents]]
            host = "h2"
            token = "\(Self.tokens["h2"]!)"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let aggregator = try Child(Paths.binary("meetmeter-aggregator"), ["--config", config], logTo: dir + "/aggregator.log")
        defer { aggregator.stop() }
        try await aggregator.waitForLog("listening")
        let n = 50

        // h1 sends heartbeats with h2's ids, as the issue's test did: all refused, none stored.
        let forged = (0..<n).map { Self.heartbeat(host: "h1", idOf: "h2", slot: $0, boot: "forged") }
        let forgedAnswers = try Self.answers(try HostileClient.exchange(port, ([Self.hello("h1")] + forged).joined(separator: "\n") + "\n"))
        #expect(forgedAnswers.count == n)
        #expect(forgedAnswers.filter { $0.status == "refused" && $0.code == "id-namespace" }.count == n)
        let store = try SQLiteRecordStore(path: dir + "/store.sqlite", readOnly: true)
        #expect(try await store.count() == 0, "nothing forged is stored")

        // h2 sends its real heartbeats, with the same ids: every one is stored.
        let real = (0..<n).map { Self.heartbeat(host: "h2", idOf: "h2", slot: $0) }
        let realAnswers = try Self.answers(try HostileClient.exchange(port, ([Self.hello("h2")] + real).joined(separator: "\n") + "\n"))
        #expect(realAnswers.filter { $0.status == "stored" }.count == n)
        #expect(try await store.count() == n)
        #expect(try await store.records(host: "h2", from: Timestamp(seconds: 0), to: Timestamp(seconds: 4_000_000_000)).map(RecordCodec.encode) == real)

        // h2 sends one again as it was (a plain duplicate) and one with other content (a conflict).
        let changed = Self.heartbeat(host: "h2", idOf: "h2", slot: 7, boot: "boot-2")
        let again = try Self.answers(try HostileClient.exchange(port, [Self.hello("h2"), real[3], changed].joined(separator: "\n") + "\n"))
        #expect(again.map(\.status) == ["duplicate", "duplicate"])
        #expect(again.map(\.code) == [nil, "conflict"])
        #expect(try await store.count() == n, "the held record stays")
        #expect(try await store.conflictCounts().arrivals == 1)

        // Item 5: times that are no times, or not plausible ones, refused with the reason.
        let ahead = Timestamp(microseconds: SystemClock.now().microseconds).adding(seconds: 2 * 86_400).rfc3339
        func line(_ id: String, _ time: String) -> String {
            #"{"id":"h2:t:\#(id)","kind":"meeting.ended","time":"\#(time)","host":"h2","meeting":"m1"}"#
        }
        let times = [
            line("0000", "0000-01-01T00:00:00Z"), line("9999", "9999-12-31T23:59:59Z"), line("1999", "1999-06-01T00:00:00Z"),
            line("ahead", ahead), line("offset", "2026-11-20T10:00:00+99:00"), line("good", "2026-11-20T10:00:00+01:00"),
        ]
        let timeText = try HostileClient.exchange(port, ([Self.hello("h2")] + times).joined(separator: "\n") + "\n")
        let timeAnswers = try Self.answers(timeText)
        #expect(timeAnswers.map(\.code) == ["time-window", "time-window", "time-window", "time-window", "invalid-time", nil], "\(timeText)")
        #expect(timeText.contains(#""error":"field 'time': 9999-12-31T23:59:59.000000Z is more than 86400 s ahead"#), "\(timeText)")
        #expect(try await store.count() == n + 1)
        let good = try await store.records(host: "h2", from: Timestamp(rfc3339: "2026-11-20T09:00:00Z")!, to: Timestamp(rfc3339: "2026-11-20T09:00:01Z")!)
        #expect(good.map(\.id.rawValue) == ["h2:t:good"], "+01:00 read as an hour before UTC")

        // Counted, logged and shown.
        func sum(_ samples: [String: Double], _ name: String) -> Int {
            Int(samples.filter { $0.key == name || $0.key.hasPrefix(name + "{") }.values.reduce(0, +))
        }
        let scraped = HTTPGet.samples(try HTTPGet.fetch(host: "127.0.0.1", port: metrics, path: "/metrics").body)
        #expect(sum(scraped, "meetmeter_aggregator_records_conflicting_total") == 1)
        #expect(sum(scraped, "meetmeter_aggregator_records_duplicate_total") == 2)
        #expect(sum(scraped, "meetmeter_aggregator_records_stored_total") == n + 1)
        #expect(scraped.filter { $0.key.hasPrefix("meetmeter_aggregator_records_refused_total") && $0.key.contains("id-namespace") }.values.reduce(0, +) == Double(n))
        #expect(scraped.filter { $0.key.hasPrefix("meetmeter_aggregator_records_refused_total") && $0.key.contains("time-window") }.values.reduce(0, +) == 4)
        let id = RecordID.sample(host: "h2", kind: .hostHeartbeat, key: "host", scheduled: Timestamp(seconds: 1_795_000_000 + 7 * 60)).rawValue
        try await aggregator.waitForLog(id)
        #expect(aggregator.log.contains("a record arrived with the id of a held record and other content"), "\(aggregator.log)")

        let status = try await run(Paths.binary("meetmeter"), ["status", "--agent", "", "--aggregator", "127.0.0.1:\(metrics)"])
        #expect(status.status == 0, "\(status.out)\(status.err)")
        #expect(status.out.contains("  conflicts: 1\n"), "\(status.out)")
        #expect(status.out.contains(id), "the latest conflict is listed: \(status.out)")
        #expect(status.out.contains("records_conflicting_total 1"), "\(status.out)")

        let records = try await run(Paths.binary("meetmeter"), ["records", "--config", config, "--period", "2026-11", "--conflicts"])
        #expect(records.status == 0, "\(records.err)")
        #expect(records.out == "# conflict: id \(id) from host h2, received 1 time(s), first \(records.out.firstReceived), last \(records.out.firstReceived)\n\(changed)\n", "\(records.out)")
    }

    /// The agent keeps a line whose time is implausible: it makes the record, the aggregator
    /// refuses it, and the agent keeps it with the reason in refused.log.
    @Test func theAgentKeepsRecordsWithImplausibleTimesInRefusedLog() async throws {
        let users = 10
        let setup = try DeliveryFaultTests.Setup(name: "times", users: users)
        defer { try? FileManager.default.removeItem(atPath: setup.dir) }
        let meeting = SyntheticAkkaLog.meetingID(startMs: 1_795_000_000_000)
        var log = try String(contentsOfFile: setup.log, encoding: .utf8)
        log += SyntheticAkkaLog.joined(meeting: meeting, user: "w_future", ms: 253_402_214_399_000)  // 9999-12-31T23:59:59Z
        log += SyntheticAkkaLog.joined(meeting: meeting, user: "w_past", ms: 915_148_800_000)        // 1999-01-01
        try log.write(toFile: setup.log, atomically: true, encoding: .utf8)
        let aggregator = try await setup.startAggregator()
        defer { aggregator.stop() }
        try await setup.drainAgent()
        let ids = try await setup.storedIDs()
        #expect(ids.count == 2 * users + 2, "the plausible records, once each")
        let refused = try String(contentsOfFile: setup.dir + "/agent-state/spool/refused.log", encoding: .utf8)
        let reasons = refused.split(separator: "\n").filter { $0.hasPrefix("# ") }
        #expect(reasons.count == 2, "\(refused)")
        #expect(reasons.allSatisfy { $0.hasPrefix("# time-window: field 'time': ") }, "\(refused)")
        #expect(refused.contains("w_future") && refused.contains("w_past"), "\(refused)")
    }
}

private extension String {
    /// The first-received time in a `# conflict:` comment line.
    var firstReceived: String {
        guard let r = range(of: ", first ") else { return "" }
        return String(self[r.upperBound...].prefix { $0 != "," })
    }
}
