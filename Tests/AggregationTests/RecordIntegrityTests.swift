@testable import Aggregation
import NIOCore
import Testing
import UsageRecords

/// Issue 20, items 3 and 5 in the session: an id outside the sender's namespace and a time
/// outside the window are refused line by line, with a code and the field.
@Suite struct RecordIntegrityTests {
    static let now = Timestamp(rfc3339: "2026-11-22T12:00:00Z")!

    func frames(_ lines: [String]) -> [LineFrame] { lines.map { .line(ByteBuffer(string: $0)) } }

    func session(_ configuration: ListenerConfiguration = ListenerConfiguration(), host: String = "h1") -> AgentSession {
        var s = AgentSession(configuration: configuration)
        s.now = { RecordIntegrityTests.now }
        _ = s.receive(frames([WireProtocol.Hello(host: host, token: nil).line]))
        return s
    }

    static func heartbeat(host: String, claiming owner: String, slot: Int64) -> UsageRecord {
        let scheduled = Timestamp(seconds: 1_795_000_000 + slot * 60)
        return UsageRecord(
            id: .sample(host: owner, kind: .hostHeartbeat, key: "host", scheduled: scheduled), time: scheduled, host: host,
            payload: .hostHeartbeat(HostHeartbeat(boot: "boot-\(host)", size: "4x8", interval: 60)))
    }

    @Test func idsInAnotherHostsNamespaceAreRefused() {
        var s = session()
        let forged = (0..<5).map { Self.heartbeat(host: "h1", claiming: "h2", slot: $0) }
        let own = (0..<3).map { Self.heartbeat(host: "h1", claiming: "h1", slot: $0) }
        // An id that merely starts like the host's name is not in its namespace either.
        let lookalike = UsageRecord(id: RecordID(rawValue: "h1x:f:1:2:0"), time: Self.now, host: "h1",
                                    payload: .userLeft(UserLeft(meeting: "m", user: "u")))
        let step = s.receive(frames((forged + own + [lookalike]).map(RecordCodec.encode)))
        #expect(step.records == own)
        let acks = step.acks(statuses: [.stored, .stored, .stored])
        let refused = acks.filter { $0.status == .refused }
        #expect(refused.count == 6)
        #expect(refused.allSatisfy { $0.code == "id-namespace" })
        #expect(refused.map(\.id) == (forged.map(\.id) + [lookalike.id]).map(\.rawValue))
        #expect(refused[0].error?.hasPrefix("field 'id': 'h2:host.heartbeat:") == true, "\(refused[0].error ?? "")")
        #expect(refused[0].error?.contains("does not begin with 'h1:'") == true, "\(refused[0].error ?? "")")
        #expect(acks.filter { $0.status == .stored }.count == 3)
    }

    func line(_ id: String, time: String, kind: String = "user.left", extra: String = #","meeting":"m","user":"u""#) -> String {
        #"{"id":"h1:\#(id)","kind":"\#(kind)","time":"\#(time)","host":"h1"\#(extra)}"#
    }

    @Test func timesOutsideTheWindowAreRefusedWithTheField() {
        var s = session()
        let lines = [
            line("0000", time: "0000-01-01T00:00:00Z"),
            line("9999", time: "9999-12-31T23:59:59Z"),
            line("1999", time: "1999-12-31T23:59:59.999999Z"),
            line("ahead", time: "2026-11-23T12:00:00.000001Z"),  // one day and a microsecond ahead
            line("offset", time: "2026-11-20T10:00:00+99:00"),
            line("rec", time: "2026-11-22T10:00:00Z", kind: "recording.processed",
                 extra: #","recording":"r","meeting":"m","step":"archive","started":"2026-11-22T10:00:00Z","ended":"9999-01-01T00:00:00Z""#),
            line("first", time: "2000-01-01T00:00:00Z"),         // the earliest time accepted
            line("edge", time: "2026-11-23T12:00:00Z"),          // exactly one day ahead
            line("plain", time: "2026-11-22T11:59:00+01:00"),
        ]
        let step = s.receive(frames(lines))
        #expect(step.records.map(\.id.rawValue) == ["h1:first", "h1:edge", "h1:plain"])
        let acks = step.acks(statuses: [.stored, .stored, .stored])
        #expect(acks.map(\.code) == ["time-window", "time-window", "time-window", "time-window", "invalid-time", "time-window", nil, nil, nil])
        #expect(acks[0].error?.hasPrefix("field 'time': 0000-01-01T00:00:00.000000Z is before 2000-01-01T00:00:00.000000Z") == true, "\(acks[0].error ?? "")")
        #expect(acks[1].error?.hasPrefix("field 'time': 9999-12-31T23:59:59.000000Z is more than 86400 s ahead") == true, "\(acks[1].error ?? "")")
        #expect(acks[4].error?.contains("field 'time'") == true)
        #expect(acks[4].error?.contains("beyond ±23:59") == true, "\(acks[4].error ?? "")")
        #expect(acks[5].error?.hasPrefix("field 'ended'") == true, "\(acks[5].error ?? "")")
        #expect(acks[8].status == .stored)
        #expect(step.records[2].time == Timestamp(rfc3339: "2026-11-22T10:59:00Z"))
        #expect(step.fatal == nil, "refusals of fields never end the connection")
    }

    @Test func theWindowIsConfigured() {
        var c = ListenerConfiguration()
        c.recordWindow = RecordTimeWindow(earliest: Timestamp(rfc3339: "2026-01-01T00:00:00Z")!, maxFutureSeconds: 0)
        var s = session(c)
        let step = s.receive(frames([
            line("a", time: "2025-12-31T23:59:59Z"), line("b", time: "2026-01-01T00:00:00Z"),
            line("c", time: "2026-11-22T12:00:00Z"), line("d", time: "2026-11-22T12:00:01Z"),
        ]))
        #expect(step.records.map(\.id.rawValue) == ["h1:b", "h1:c"])
        #expect(step.acks(statuses: [.stored, .stored]).map(\.code) == ["time-window", nil, nil, "time-window"])
    }

    @Test func aConflictIsAnsweredDuplicateWithItsCode() {
        var s = session()
        let r = Self.heartbeat(host: "h1", claiming: "h1", slot: 1)
        let step = s.receive(frames([RecordCodec.encode(r), RecordCodec.encode(r), RecordCodec.encode(r)]))
        let acks = step.acks(outcomes: [.stored, .duplicate, .conflict])
        #expect(acks.map(\.status) == [.stored, .duplicate, .duplicate])
        #expect(acks.map(\.code) == [nil, nil, "conflict"])
        #expect(acks[2].error?.contains("kept as evidence") == true)
        // Agents read it as a duplicate: a settled line.
        guard case .ack(let back)? = try? WireProtocol.decodeReply(acks[2].encoded) else {
            Issue.record("unreadable: \(acks[2].encoded)")
            return
        }
        #expect(back.status == .duplicate && back.status.isSettled)
    }
}
