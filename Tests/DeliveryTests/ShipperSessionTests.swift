@testable import Aggregation
import Delivery
import NIOCore
import Testing
import UsageRecords

/// The shipper's protocol logic without sockets: the aggregator's lines in, what they mean for
/// the batch in flight out. Last, the two state machines talk to each other.
@Suite struct ShipperSessionTests {
    static let t0 = Timestamp(rfc3339: "2026-11-22T10:00:00Z")!

    static func joined(_ n: Int) -> UsageRecord {
        UsageRecord(id: RecordID(rawValue: "bbb1:test:m1:\(n)"), time: t0.adding(seconds: Int64(n)), host: "bbb1",
                    payload: .userJoined(UserJoined(meeting: "m1", user: "u\(n)", role: "VIEWER", client: "HTML5")))
    }

    func greeted() throws -> ShipperSession {
        var s = ShipperSession()
        #expect(try s.received(WireProtocol.Hello(host: "agg", token: nil).line) == .greeted)
        #expect(s.state == .ready)
        return s
    }

    func ack(_ line: Int64, _ status: WireProtocol.Status, code: String? = nil, error: String? = nil) -> String {
        WireProtocol.Ack(line: line, id: "x", status: status, code: code, error: error).encoded
    }

    @Test func theHelloIsTheProtocolsFirstLine() {
        #expect(ShipperSession.hello(host: "bbb1", token: "0123456789abcdef0")
            == WireProtocol.Hello(host: "bbb1", token: "0123456789abcdef0").line)
    }

    @Test func answersAreAppliedToTheRecordsOfTheBatchInOrder() throws {
        var s = try greeted()
        s.sending(count: 3)
        #expect(s.state == .awaitingAnswers(count: 3, answered: 0))
        #expect(try s.received(ack(1, .stored)) == .answered(index: 0, .settled, batchComplete: false))
        #expect(try s.received(ack(2, .duplicate)) == .answered(index: 1, .settled, batchComplete: false))
        #expect(try s.received(ack(3, .refused, code: "bad-record", error: "no meeting"))
            == .answered(index: 2, .refused(code: "bad-record", reason: "no meeting"), batchComplete: true))
        #expect(s.state == .ready)
        // Lines are numbered over the whole connection, as the aggregator numbers them.
        s.sending(count: 2)
        #expect(s.linesSent == 5)
        #expect(try s.received(ack(4, .duplicate, code: WireProtocol.conflictCode, error: "held with other content"))
            == .answered(index: 0, .conflict(reason: "held with other content"), batchComplete: false))
        #expect(try s.received(ack(5, .stored)) == .answered(index: 1, .settled, batchComplete: true))
    }

    @Test(arguments: [
        // Before the hello.
        ([#"{"line":1,"status":"stored"}"#], "an acknowledgement before the hello"),
        ([#"{"hello":"meetmeter","version":2,"host":"agg"}"#], "protocol version 2, expected 1"),
        (["not json"], "unreadable answer"),
        // After it, with one record in flight.
        ([#"{"hello":"meetmeter","version":1,"host":"agg"}"#, #"{"hello":"meetmeter","version":1,"host":"agg"}"#], "a second hello"),
        ([#"{"hello":"meetmeter","version":1,"host":"agg"}"#, #"{"line":2,"status":"stored"}"#], "answer for line 2, expected 1"),
    ])
    func aBrokenProtocolEndsTheConnection(lines: [String], words: String) {
        var s = ShipperSession()
        var thrown: ShipperError?
        for (i, line) in lines.enumerated() {
            if i == 1 { s.sending(count: 1) }
            do throws(ShipperError) { _ = try s.received(line) } catch { thrown = error }
        }
        guard case .protocolViolation(let detail)? = thrown else {
            Issue.record("expected a protocol violation, got \(String(describing: thrown))")
            return
        }
        #expect(detail.contains(words), "\(detail)")
        #expect(s.state == .closed)
    }

    @Test func aFatalLineIsTheAggregatorsRefusalAtAnyPoint() throws {
        var before = ShipperSession()
        #expect(throws: ShipperError.self) { try before.received(WireProtocol.Fatal(code: "auth", error: "wrong token for host bbb1").encoded) }
        #expect(before.state == .closed)
        var during = try greeted()
        during.sending(count: 2)
        do {
            _ = try during.received(WireProtocol.Fatal(code: "store", error: "the store is down").encoded)
            Issue.record("a fatal line was taken for an answer")
        } catch {
            guard case .refusedByAggregator(let code, let message) = error else { Issue.record("\(error)"); return }
            #expect(code == "store" && message == "the store is down")
        }
    }

    @Test func anAnswerWithNoBatchInFlightIsAViolation() throws {
        var s = try greeted()
        #expect(throws: ShipperError.self) { try s.received(ack(1, .stored)) }
    }

    /// The agent's half against the aggregator's half, line for line: a hello, two batches with a
    /// record the aggregator refuses and one it already holds.
    @Test func theTwoHalvesOfTheProtocolAgree() throws {
        var aggregator = AgentSession(configuration: ListenerConfiguration(tokens: ["bbb1": "0123456789abcdef0"]))
        var agent = ShipperSession()
        func toAggregator(_ lines: [String]) -> AgentSession.Step {
            aggregator.receive(lines.map { .line(ByteBuffer(string: $0)) })
        }
        let greeting = toAggregator([ShipperSession.hello(host: "bbb1", token: "0123456789abcdef0")])
        let hello = try #require(greeting.hello)
        #expect(try agent.received(hello.line) == .greeted)

        var held: Set<String> = []
        var settled = 0, refused = 0
        let batches = [[Self.joined(1), Self.joined(2)], [Self.joined(2), Self.joined(3), Self.joined(4)]]
        for batch in batches {
            var lines = batch.map(RecordCodec.encode)
            if batch.count == 3 { lines[1] = #"{"id":"bbb1:x","kind":"no.such.kind"}"# }
            agent.sending(count: lines.count)
            let step = toAggregator(lines)
            let statuses = step.records.map { r -> WireProtocol.Status in held.insert(r.id.rawValue).inserted ? .stored : .duplicate }
            var last = false
            for ack in step.acks(statuses: statuses) {
                guard case .answered(_, let outcome, let complete) = try agent.received(ack.encoded) else {
                    Issue.record("an answer was not taken as one"); return
                }
                last = complete
                if case .refused = outcome { refused += 1 } else { settled += 1 }
            }
            #expect(last, "the batch was answered in full")
        }
        #expect(settled == 4 && refused == 1)
        #expect(agent.linesSent == aggregator.lineNumber)
    }
}

/// Issue 16: a window of batches in flight, answered in order.
@Suite struct ShipperWindowTests {
    static func ack(_ line: Int64, _ status: String = "stored") -> String {
        "{\"line\":\(line),\"status\":\"\(status)\"}"
    }

    @Test func answersGoToTheOldestBatchThenTheNext() throws {
        var s = ShipperSession()
        _ = try s.received(#"{"hello":"meetmeter","version":1,"host":"agg"}"#)
        s.sending(count: 2)
        s.sending(count: 3)
        s.sending(count: 1)
        #expect(s.batchesInFlight == 3)
        #expect(s.state == .awaitingAnswers(count: 2, answered: 0))
        var events: [ShipperSession.Event] = []
        for line in 1...6 { events.append(try s.received(Self.ack(Int64(line)))) }
        #expect(events == [
            .answered(index: 0, .settled, batchComplete: false), .answered(index: 1, .settled, batchComplete: true),
            .answered(index: 0, .settled, batchComplete: false), .answered(index: 1, .settled, batchComplete: false),
            .answered(index: 2, .settled, batchComplete: true),
            .answered(index: 0, .settled, batchComplete: true),
        ])
        #expect(s.state == .ready && s.batchesInFlight == 0)
    }

    @Test func anAnswerOutOfOrderAcrossBatchesIsAViolation() throws {
        var s = ShipperSession()
        _ = try s.received(#"{"hello":"meetmeter","version":1,"host":"agg"}"#)
        s.sending(count: 1)
        s.sending(count: 1)
        #expect(throws: ShipperError.self) { try s.received(Self.ack(2)) }
        #expect(s.state == .closed)
    }
}
