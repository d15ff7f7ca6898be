import Testing
import UsageRecords

/// The one line cutter: every reader of lines cuts by it, so its rule is checked here against a
/// model, over every way of cutting the input into chunks.
@Suite struct LineCutterTests {
    struct Cut: Equatable {
        var bytes: [UInt8]
        var length: Int
        var extent: Int
    }

    /// The rule, said plainly: split at LF, take one CR off, keep the first `limit` bytes.
    static func model(_ input: [UInt8], limit: Int) -> [Cut] {
        var out: [Cut] = []
        var pieces = input.split(separator: 0x0A, omittingEmptySubsequences: false)
        let ended = input.last == 0x0A
        if ended || input.isEmpty { pieces.removeLast() }
        for (i, piece) in pieces.enumerated() {
            let line = piece.last == 0x0D ? piece.dropLast() : piece
            let hasLF = i < pieces.count - 1 || ended
            out.append(Cut(bytes: Array(line.prefix(limit)), length: line.count, extent: piece.count + (hasLF ? 1 : 0)))
        }
        return out
    }

    static func cut(_ input: [UInt8], limit: Int, chunk: Int) -> (cuts: [Cut], held: Int) {
        var cutter = LineCutter(maximumLineBytes: limit)
        var cuts: [Cut] = []
        var maxHeld = 0
        var at = 0
        while at < input.count {
            let end = min(input.count, at + chunk)
            input[at..<end].withUnsafeBufferPointer { b in
                let used = cutter.cut(b) { line in
                    cuts.append(Cut(bytes: Array(line.bytes), length: line.length, extent: line.extent))
                    return true
                }
                #expect(used == b.count)
            }
            maxHeld = max(maxHeld, cutter.heldBytes)
            at = end
        }
        if let last = cutter.finish({ Cut(bytes: Array($0.bytes), length: $0.length, extent: $0.extent) }) { cuts.append(last) }
        return (cuts, maxHeld)
    }

    @Test(arguments: [1, 2, 3, 7, 64, 10_000])
    func everyChunkingCutsAsTheModelSays(chunk: Int) {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let limit = Int.random(in: 1...12, using: &rng)
            let alphabet: [UInt8] = [0x61, 0x62, 0x0D, 0x0A, 0x0A, 0xC3, 0xA9]
            let input = (0..<Int.random(in: 0...80, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            let (cuts, _) = Self.cut(input, limit: limit, chunk: chunk)
            #expect(cuts == Self.model(input, limit: limit), "input \(input), limit \(limit), chunk \(chunk)")
            #expect(cuts.reduce(0) { $0 + $1.extent } == input.count, "extents cover the input")
        }
    }

    @Test func theLimitHoldsAfterTheCRIsTakenOff() {
        let exactly = Array("abcd\r\n".utf8)
        #expect(Self.cut(exactly, limit: 4, chunk: 1).cuts == [Cut(bytes: Array("abcd".utf8), length: 4, extent: 6)])
        let over = Array("abcde\r\n".utf8)
        #expect(Self.cut(over, limit: 4, chunk: 3).cuts == [Cut(bytes: Array("abcd".utf8), length: 5, extent: 7)])
    }

    @Test func aHugeLineIsHeldInBoundedMemory() {
        let input = [UInt8](repeating: 0x78, count: 1 << 20) + [0x0A]
        let (cuts, held) = Self.cut(input, limit: 100, chunk: 4096)
        #expect(cuts.count == 1 && cuts[0].bytes.count == 100 && cuts[0].length == 1 << 20)
        #expect(held <= 101)
    }

    @Test func aReaderMayStopMidChunkAndGoOnWhereItStopped() {
        var cutter = LineCutter(maximumLineBytes: 10)
        let input = Array("one\ntwo\nthree\n".utf8)
        var got: [String] = []
        var rest = input[...]
        while !rest.isEmpty {
            let used = rest.withUnsafeBufferPointer { b in
                cutter.cut(b) { line in
                    got.append(String(decoding: line.bytes, as: UTF8.self))
                    return false
                }
            }
            rest = rest.dropFirst(used)
        }
        #expect(got == ["one", "two", "three"])
    }

    @Test func theQueueHandsOverLinesOneByOne() {
        var queue = LineQueue(maximumLineBytes: 8)
        Array("a\r\nbb\ncc".utf8).withUnsafeBytes { queue.append($0) }
        #expect(queue.pop().map { String(decoding: $0.bytes, as: UTF8.self) } == "a")
        #expect(queue.pop().map { String(decoding: $0.bytes, as: UTF8.self) } == "bb")
        #expect(queue.pop() == nil)
        #expect(queue.finish().map { String(decoding: $0.bytes, as: UTF8.self) } == "cc")
    }
}
