@testable import Aggregation
import NIOCore
import Testing
import UsageRecords

/// The listener writes acks itself; the bytes must be those of `WireProtocol.Ack.encoded`.
struct AckWriterTests {
    @Test(arguments: [
        WireProtocol.Ack(line: 1, id: "bbb1:f:3f9a0c1d2e4b5a69:1048576:0", status: .stored),
        WireProtocol.Ack(line: 9_223_372_036_854_775_807, id: "bbb1:x", status: .duplicate),
        WireProtocol.Ack(line: 0, id: "", status: .stored),
        WireProtocol.Ack(line: -3, id: "a", status: .stored),
        WireProtocol.Ack(line: 2, id: "quote\"back\\slash", status: .stored),
        WireProtocol.Ack(line: 3, id: "tab\tnew\nline\u{7F}\u{1}", status: .duplicate),
        WireProtocol.Ack(line: 4, id: "h\u{E9}\u{2028}\u{1F600}", status: .stored),
        WireProtocol.Ack(line: 5, id: "bbb1:y", status: .duplicate, code: WireProtocol.conflictCode, error: "held with other content"),
        WireProtocol.Ack(line: 6, id: nil, status: .refused, code: "not-json", error: "not \"JSON\""),
        WireProtocol.Ack(line: 7, id: "bbb1:z", status: .refused, code: "time-window", error: "too late"),
    ])
    func writesWhatEncodedGives(_ ack: WireProtocol.Ack) {
        var out = ByteBuffer()
        AckWriter.write(ack, to: &out)
        #expect(String(buffer: out) == ack.encoded + "\n")
    }
}
