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
        writeDecimal(ack.line, to: &out)
        out.writeStaticString(#","id":""#)
        out.writeString(id)
        out.writeStaticString(ack.status == .stored ? "\",\"status\":\"stored\"}\n" : "\",\"status\":\"duplicate\"}\n")
    }

    /// Whether `s` is printable ASCII without a quote or backslash: written as it is in JSON.
    static func isPlain(_ s: String) -> Bool {
        s.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }
    }

    private static func writeDecimal(_ value: Int64, to out: inout ByteBuffer) {
        if value < 0 { out.writeInteger(UInt8(ascii: "-")) }
        var v = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 24 digits; 20 are enough
        withUnsafeMutableBytes(of: &digits) { raw in
            var at = raw.count
            repeat {
                at -= 1
                raw[at] = 0x30 + UInt8(v % 10)
                v /= 10
            } while v > 0
            out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[at...]))
        }
    }
}
