import LogLines
import Testing

/// A line in bytes shared with its batch reads as the same text, and the same bytes, as a line
/// made from its own string: well-formed UTF-8 in place, anything else decoded with invalid bytes replaced.
@Suite struct LogLineTests {
    @Test func sharedBytesReadAsTheirOwnText() {
        let lines: [[UInt8]] = [
            Array("2026-11-22T10:00:00.000Z INFO plain ascii".utf8),
            Array("{\"name\":\"Zoë Ångström 李\"}".utf8),
            [0x61, 0xFF, 0x62, 0xC3],       // invalid UTF-8: a stray byte and a cut sequence
            [],
            Array("exactly8".utf8),
            Array("seven b".utf8) + [0xE2, 0x82, 0xAC], // a euro sign after the first word of 8
        ]
        var all: [UInt8] = [0x7A, 0x7A] // bytes before the first line belong to no line
        var ranges: [(Int, Int)] = []
        for l in lines {
            ranges.append((all.count, l.count))
            all += l
        }
        let shared = SharedBytes(all)
        for (l, (start, count)) in zip(lines, ranges) {
            let line = LogLine(source: "t", position: .stream(name: "t", line: 1), shared: shared, start: start, count: count)
            let own = String(decoding: l, as: UTF8.self)
            #expect(line.text == own)
            #expect(line.byteCount == l.count)
            #expect(line.withUTF8 { Array($0) } == Array(own.utf8), "the bytes a parser sees are the text's: \(l)")
            var edited = line
            edited.text = "changed"
            #expect(edited.text == "changed" && line.text == own)
        }
    }
}
