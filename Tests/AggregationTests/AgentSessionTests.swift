@testable import Aggregation
import NIOCore
import Testing
import UsageRecords

/// The protocol logic without sockets: frames in, records to commit and answers out.
@Suite struct AgentSessionTests {
    let tokens = ["bbb1": "0123456789abcdef0", "bbb2": "fedcba98765432100"]

    func frames(_ lines: [String]) -> [LineFrame] { lines.map { .line(ByteBuffer(string: $0)) } }
    func hello(_ host: String, _ token: String?, version: Int64 = 1) -> String {
        WireProtocol.Hello(version: version, host: host, token: token).line
    }

    @Test func aGoodHelloIsAnsweredWithoutTheToken() {
        var s = AgentSession(configuration: ListenerConfiguration(tokens: tokens))
        let step = s.receive(frames([hello("bbb1", "0123456789abcdef0")]))
        #expect(step.hello == WireProtocol.Hello(host: "bbb1", token: nil))
        #expect(step.hello?.line == #"{"hello":"meetmeter","version":1,"host":"bbb1"}"#)
        #expect(step.fatal == nil)
        #expect(s.state == .open(host: "bbb1"))
    }

    @Test(arguments: [
        (#"{"id":"x"}"#, "hello", "the first line must be a hello"),
        ("not json", "hello", "the first line must be a hello"),
        (#"{"hello":"meetmeter","version":2,"host":"bbb1","token":"0123456789abcdef0"}"#, "version", "protocol version 2"),
        (#"{"hello":"meetmeter","version":1,"host":"bbb1","token":"0123456789abcdef1"}"#, "auth", "wrong token for host bbb1"),
        (#"{"hello":"meetmeter","version":1,"host":"bbb1","token":"0123456789abcdef"}"#, "auth", "wrong token for host bbb1"),
        (#"{"hello":"meetmeter","version":1,"host":"bbb1"}"#, "auth", "no token for host bbb1"),
        (#"{"hello":"meetmeter","version":1,"host":"bbb2","token":"0123456789abcdef0"}"#, "auth", "wrong token for host bbb2"),
        (#"{"hello":"meetmeter","version":1,"host":"evil","token":"0123456789abcdef0"}"#, "auth", "host evil is not listed"),
    ])
    func aBadHelloIsFatal(line: String, code: String, error: String) {
        var s = AgentSession(configuration: ListenerConfiguration(tokens: tokens))
        let step = s.receive(frames([line, Sample.line(Sample.joined(1))]))
        #expect(step.hello == nil)
        #expect(step.fatal?.code == code)
        #expect(step.fatal?.error.contains(error) == true, "\(step.fatal?.error ?? "")")
        #expect(step.lines.isEmpty, "nothing after a refused hello is read")
        #expect(s.state == .closed)
    }

    @Test func withoutTokensEveryHostIsLetIn() {
        var s = AgentSession(configuration: ListenerConfiguration())
        #expect(s.receive(frames([hello("anyone", nil)])).hello?.host == "anyone")
        var strict = AgentSession(configuration: ListenerConfiguration(tokens: [:], allowUnauthenticated: false))
        #expect(strict.receive(frames([hello("anyone", nil)])).fatal?.code == "auth")
        // Listed hosts still need their token when others are let in.
        var mixed = AgentSession(configuration: ListenerConfiguration(tokens: tokens, allowUnauthenticated: true))
        #expect(mixed.receive(frames([hello("bbb1", "nope")])).fatal?.code == "auth")
    }

    @Test func linesAfterTheHelloAreNumberedAndAnsweredInOrder() {
        var s = AgentSession(configuration: ListenerConfiguration())
        let good = Sample.joined(1)
        let spoofed = Sample.joined(2, host: "bbb2")
        let step = s.receive(frames([
            hello("bbb1", nil), Sample.line(good), #"{"id":"bbb1:x","kind":"user.left","time":"2026-11-22T10:00:00Z","host":"bbb1","meeting":"m1"}"#,
            Sample.line(spoofed), "{oops", Sample.line(Sample.joined(3)),
        ]))
        #expect(step.records == [good, Sample.joined(3)])
        let acks = step.acks(statuses: [.stored, .duplicate])
        #expect(acks.map(\.line) == [1, 2, 3, 4, 5])
        #expect(acks.map(\.status) == [.stored, .refused, .refused, .refused, .duplicate])
        #expect(acks[1].code == "missing-field")
        #expect(acks[1].error == "field 'user': is missing")
        #expect(acks[2].code == "host-mismatch")
        #expect(acks[2].id == spoofed.id.rawValue)
        #expect(acks[2].error?.contains("field 'host'") == true)
        #expect(acks[3].code == "not-json")
        #expect(acks[4].id == Sample.joined(3).id.rawValue)
        // Numbering goes on across batches.
        let next = s.receive(frames([Sample.line(Sample.joined(4))]))
        #expect(next.acks(statuses: [.stored]).map(\.line) == [6])
    }

    @Test func moreBadLinesThanAllowedEndTheConnection() {
        var s = AgentSession(configuration: ListenerConfiguration(maxBadLines: 2))
        _ = s.receive(frames([hello("bbb1", nil)]))
        let step = s.receive(frames(["x", Sample.line(Sample.joined(1)), "y", "z", Sample.line(Sample.joined(2))]))
        // The third bad line is answered, then the fatal message; nothing after it is read.
        #expect(step.lines.count == 4)
        #expect(step.records == [Sample.joined(1)])
        #expect(step.fatal?.code == "garbage")
        #expect(s.state == .closed)
        #expect(s.receive(frames([Sample.line(Sample.joined(3))])).lines.isEmpty)
    }

    @Test func recordsWithAWrongFieldNeverEndTheConnection() {
        // An agent resends a refused-then-cut batch for ever; wrong fields are refused one by one.
        var s = AgentSession(configuration: ListenerConfiguration(maxBadLines: 2))
        _ = s.receive(frames([hello("bbb1", nil)]))
        let wrong = #"{"id":"bbb1:x","kind":"user.left","time":"2026-11-22T10:00:00Z","host":"bbb1","meeting":"m1"}"#
        let step = s.receive(frames(Array(repeating: wrong, count: 10) + [Sample.line(Sample.joined(1, host: "bbb2"))]))
        #expect(step.fatal == nil)
        #expect(step.lines.count == 11)
        #expect(s.state == .open(host: "bbb1"))
    }

    @Test func aTooLongLineEndsTheConnectionAfterTheLinesBeforeIt() {
        var s = AgentSession(configuration: ListenerConfiguration(maxLineBytes: 1000))
        let step = s.receive(frames([hello("bbb1", nil), Sample.line(Sample.joined(1))]) + [.tooLong(bytes: 1002)])
        #expect(step.hello != nil)
        #expect(step.records == [Sample.joined(1)])
        #expect(step.fatal?.code == "too-long")
        #expect(step.fatal?.error.contains("1000") == true)
    }

    @Test func tokenComparison() {
        #expect(TokenComparison.equal("0123456789abcdef", "0123456789abcdef"))
        #expect(!TokenComparison.equal("0123456789abcdef", "0123456789abcdeg"))
        #expect(!TokenComparison.equal("0123456789abcdef", "0123456789abcde"))
        #expect(!TokenComparison.equal("", "a"))
        #expect(TokenComparison.equal("", ""))
    }
}

@Suite struct LineFrameDecoderTests {
    func frames(_ chunks: [String], max: Int = 16) -> [LineFrame] {
        var decoder = LineFrameDecoder(maxLineBytes: max)
        var buffer = ByteBuffer()
        var out: [LineFrame] = []
        for chunk in chunks {
            buffer.writeString(chunk)
            while let frame = decoder.next(&buffer) { out.append(frame) }
        }
        return out
    }

    func lines(_ f: [LineFrame]) -> [String] {
        f.map { if case .line(let b) = $0 { String(buffer: b) } else { "<too long>" } }
    }

    @Test func splitsAtNewlinesAcrossReads() {
        #expect(lines(frames(["a\nbb", "b\r\n", "\n", "cc"])) == ["a", "bbb", ""])
    }

    /// The input Fuzz/found/line-frame-crash-5e6c05… reduced: the last line, without its
    /// newline, one byte over the limit, was handed on at the end of input.
    @Test func aLastLineWithoutNewlineKeepsTheLimit() {
        var decoder = LineFrameDecoder(maxLineBytes: 16)
        var over = ByteBuffer(string: String(repeating: "x", count: 17))
        #expect(decoder.next(&over) == nil)
        #expect(decoder.last(&over) == .tooLong(bytes: 17))
        var again = ByteBuffer(string: "late")
        #expect(decoder.last(&again) == nil, "nothing is read after a line that was too long")

        var fresh = LineFrameDecoder(maxLineBytes: 16)
        var exact = ByteBuffer(string: String(repeating: "y", count: 16) + "\r")
        #expect(fresh.next(&exact) == nil)
        #expect(lines([fresh.last(&exact)!]) == [String(repeating: "y", count: 16)])
    }

    @Test func aLineOfExactlyTheLimitPasses() {
        let full = String(repeating: "x", count: 16)
        #expect(lines(frames([full + "\r", "\n", full + "\n"])) == [full, full])
    }

    @Test func aLongerLineIsReportedOnceAndEverythingAfterIsDropped() {
        let f = frames([String(repeating: "x", count: 10), String(repeating: "y", count: 10), "\nnext\n"])
        #expect(f == [.tooLong(bytes: 20)])
        #expect(frames([String(repeating: "x", count: 17) + "\nafter\n"]) == [.tooLong(bytes: 17)])
    }
}
