import NIOCore
import UsageRecords

/// Writes acknowledgements straight into the outgoing buffer. Nearly every ack is a plain
/// `stored` or `duplicate` with an id that needs no escape; building it as a String through
/// `WireProtocol.Ack.encoded` cost about a twentieth of the aggregator's CPU a record. The bytes
/// are the same as `encoded` gives (the tests compare them); anything else goes through `encoded`.
enum AckWriter {
    /// About the length of an ack line, to size the buffer once a batch.
    static let typicalBytes = 72

    static func write(_ ack: WireProtocol.Ack, to out: inout ByteBuffer) {
        guard ack.code == nil, ack.error == nil, let id = ack.id, ack.status != .refused, isPlain(id) else {
            out.writeString(ack.encoded)
            out.writeInteger(UInt8(ascii: "\n"))
            return
        }
        out.writeStaticString(#"{"line":"#)
        out.writeString(String(ack.line))  // a small string: no allocation
        out.writeStaticString(#","id":""#)
        out.writeString(id)
        out.writeStaticString(ack.status == .stored ? "\",\"status\":\"stored\"}\n" : "\",\"status\":\"duplicate\"}\n")
    }

    /// Whether `s` is printable ASCII without a quote or backslash: written as it is in JSON.
    static func isPlain(_ s: String) -> Bool {
        s.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }
    }
}
