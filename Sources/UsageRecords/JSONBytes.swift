/// JSON written as UTF-8 bytes into a caller's buffer: the one writer behind the record codec,
/// the wire messages and `JSONValue.serialized`. Strings are copied in runs of bytes that need no
/// escape, so a record costs a few appends per field, not one per character.
public enum JSONBytes {
    /// `"s"`, escaped as the codec's golden forms have it: `\"`, `\\`, `\n`, `\r`, `\t`, other
    /// controls as `\u00xx`, and U+2028 and U+2029 (which some JSON readers take for line ends)
    /// as `\u2028` and `\u2029`.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { appendEscaped($0, to: &out) }
        out.append(0x22)
    }

    /// The bytes of a string's content, escaped, without the quotes.
    public static func appendEscaped(_ b: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var start = 0
        var i = 0
        let n = b.count
        while i < n {
            i = plainRunEnd(b, from: i)
            guard i < n else { break }
            let c = b[i]
            var width = 1
            switch c {
            case 0x22: flush(b, start, i, &out); out.append(0x5C); out.append(0x22)
            case 0x5C: flush(b, start, i, &out); out.append(0x5C); out.append(0x5C)
            case 0x0A: flush(b, start, i, &out); out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: flush(b, start, i, &out); out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: flush(b, start, i, &out); out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0xE2:
                // U+2028 and U+2029 are E2 80 A8 and E2 80 A9; any other E2 sequence is plain.
                guard i + 2 < n, b[i + 1] == 0x80, b[i + 2] == 0xA8 || b[i + 2] == 0xA9 else {
                    i += 1
                    continue
                }
                flush(b, start, i, &out)
                out.append(contentsOf: b[i + 2] == 0xA8 ? escape2028 : escape2029)
                width = 3
            default:
                flush(b, start, i, &out)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hexDigit(c >> 4), hexDigit(c & 0xF)])
            }
            i += width
            start = i
        }
        flush(b, start, n, &out)
    }

    /// The index of the first byte from `start` on that may need an escape (a control, `"`, `\`
    /// or E2, which begins U+2028 and U+2029), or `b.count`: eight bytes at a time.
    @inline(__always)
    private static func plainRunEnd(_ b: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        let n = b.count
        if let base = b.baseAddress {
            let ones: UInt64 = 0x0101_0101_0101_0101
            while i + 8 <= n {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                let q = w ^ (ones &* 0x22), bs = w ^ (ones &* 0x5C), e2 = w ^ (ones &* 0xE2)
                // Whether some byte is zero in q, bs or e2, or below 0x20 in w ("Bit Twiddling
                // Hacks": a borrow carries only upwards).
                let found = ((q &- ones) & ~q) | ((bs &- ones) & ~bs) | ((e2 &- ones) & ~e2) | ((w &- ones &* 0x20) & ~w)
                let hits = found & (ones &* 0x80)
                // A false hit lies only above a true one, so the lowest is the first such byte.
                if hits != 0 { return i + hits.trailingZeroBitCount / 8 }
                i += 8
            }
        }
        while i < n {
            let c = b[i]
            if c < 0x20 || c == 0x22 || c == 0x5C || c == 0xE2 { return i }
            i += 1
        }
        return n
    }

    private static let escape2028: [UInt8] = Array(#"\u2028"#.utf8)
    private static let escape2029: [UInt8] = Array(#"\u2029"#.utf8)

    @inline(__always)
    private static func flush(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int, _ out: inout [UInt8]) {
        if to > from { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[from..<to])) }
    }

    @inline(__always)
    private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x61 + v - 10 }

    /// A whole number in decimal, without a String in between.
    public static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            appendDecimal(value.magnitude, to: &out)
        } else {
            appendDecimal(UInt64(value), to: &out)
        }
    }

    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0) // room for 20 digits and more
        withUnsafeMutableBytes(of: &digits) { raw in
            var v = value
            var at = raw.count
            repeat {
                at -= 1
                raw[at] = 0x30 + UInt8(v % 10)
                v /= 10
            } while v > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[at...]))
        }
    }

    /// Compact JSON with sorted keys, as `JSONValue.serialized`.
    public static func appendValue(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b): out.append(contentsOf: b ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65])
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let s): appendString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendValue(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            // The members sorted by key in scratch space (on the stack for a record's meta),
            // rather than the keys sorted into an array and each looked up again.
            withUnsafeTemporaryAllocation(of: (key: String, value: JSONValue).self, capacity: members.count) { space in
                var sorted = space
                _ = sorted.initialize(fromContentsOf: members)
                defer { sorted.deinitialize() }
                sorted.sort { $0.key < $1.key }
                for i in sorted.indices {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    appendString(sorted[i].key, to: &out)
                    out.append(UInt8(ascii: ":"))
                    appendValue(sorted[i].value, to: &out)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}
