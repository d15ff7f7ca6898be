#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import LogLines

/// A fixed byte string to look for in lines. Most lines are not about usage, and a byte search
/// is what lets a parser say so in a few nanoseconds, before any decoding.
///
/// The search runs `memchr` (vectorised in libc) for the needle's rarest byte and compares the
/// rest only where that byte is; Glibc's `memmem` is not visible to Swift without _GNU_SOURCE.
public struct ByteNeedle: Sendable {
    let bytes: [UInt8]
    /// The index in `bytes` of the byte least likely in log text.
    let anchor: Int

    public init(_ text: String) {
        bytes = Array(text.utf8)
        var best = 0
        for (i, b) in bytes.enumerated() where Self.rarity(b) >= Self.rarity(bytes[best]) { best = i }
        anchor = best
    }

    var count: Int { bytes.count }

    /// Bytes of log lines from the most to the least common, roughly; any other byte is rarer.
    private static let common = Array(" e\"tao,in:srlhd0c1u2m.p9g=3f8_45b67-yw/vkTxSIEMjq".utf8)

    private static func rarity(_ b: UInt8) -> Int {
        common.firstIndex(of: b) ?? common.count
    }
}

typealias LineBuffer = UnsafeBufferPointer<UInt8>

extension UnsafeBufferPointer where Element == UInt8 {
    /// The index of the first occurrence of `needle` at or after `from`, or nil.
    @inline(__always)
    public func find(_ needle: ByteNeedle, from: Int = 0, to end: Int? = nil) -> Int? {
        let limit = Swift.min(end ?? count, count)
        guard from >= 0, limit - from >= needle.count, let base = baseAddress, needle.count > 0 else { return nil }
        return needle.bytes.withUnsafeBufferPointer { n -> Int? in
            guard let n0 = n.baseAddress else { return nil }
            let anchor = needle.anchor
            let key = Int32(n[anchor])
            // Candidates: the anchor byte at offsets where the whole needle still fits.
            var at = from + anchor
            let lastAt = limit - needle.count + anchor
            while at <= lastAt {
                guard let hit = memchr(base + at, key, lastAt - at + 1) else { return nil }
                let h = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                let start = h - anchor
                if memcmp(base + start, n0, n.count) == 0 { return start }
                at = h + 1
            }
            return nil
        }
    }

    /// Whether the bytes at `index` are exactly `needle`.
    @inline(__always)
    func has(_ needle: ByteNeedle, at index: Int) -> Bool {
        guard index >= 0, index + needle.count <= count, let base = baseAddress else { return false }
        return needle.bytes.withUnsafeBufferPointer { n in
            guard let n0 = n.baseAddress else { return true }
            return memcmp(base + index, n0, n.count) == 0
        }
    }

    /// Whether the bytes at `index` are exactly the literal `s` (no allocation, no lazy global:
    /// the form the per-line checks use).
    @inline(__always)
    func has(_ s: StaticString, at index: Int) -> Bool {
        let n = s.utf8CodeUnitCount
        guard index >= 0, index + n <= count, let base = baseAddress else { return false }
        return memcmp(base + index, s.utf8Start, n) == 0
    }

    /// The first occurrence of the literal `s` at or after `from`, found by `memchr` for its byte
    /// at `anchor` (chosen by hand as a byte rare in logs).
    @inline(__always)
    func find(_ s: StaticString, anchor: Int, from: Int = 0, to end: Int? = nil) -> Int? {
        let limit = Swift.min(end ?? count, count)
        let n = s.utf8CodeUnitCount
        guard from >= 0, limit - from >= n, let base = baseAddress else { return nil }
        let key = Int32(s.utf8Start[anchor])
        var at = from + anchor
        let lastAt = limit - n + anchor
        while at <= lastAt {
            guard let hit = memchr(base + at, key, lastAt - at + 1) else { return nil }
            let h = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + h - anchor, s.utf8Start, n) == 0 { return h - anchor }
            at = h + 1
        }
        return nil
    }

    /// The index of the first `byte` at or after `from`, or nil.
    @inline(__always)
    public func index(of byte: UInt8, from: Int = 0) -> Int? {
        guard from >= 0, from < count, let base = baseAddress, let hit = memchr(base + from, Int32(byte), count - from) else { return nil }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }

    /// The text of `range` (replacing invalid UTF-8, which sources already did).
    public func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: self[range]), as: UTF8.self)
    }

    /// `from` advanced past ASCII spaces.
    @inline(__always)
    func skippingSpaces(from: Int) -> Int {
        var i = from
        while i < count, self[i] == 0x20 { i += 1 }
        return i
    }
}

extension LogLine {
    /// Runs `body` over the line's UTF-8, without a copy where it can (`LogLine.withUTF8`).
    @inline(__always)
    func withBytes<R>(_ body: (LineBuffer) -> R) -> R { withUTF8(body) }
}

@inline(__always) func isASCIIDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

/// A few words of a line for a skip reason: enough to find it, never a megabyte.
func lineExcerpt(_ text: String, limit: Int = 80) -> String {
    text.utf8.count <= limit ? text : String(text.prefix(limit)) + "…"
}

/// A value read from a line, or why the line that looked like usage could not give it.
/// (`Result` would want `SkipReason` to be an `Error`, which it is not: a skip is an answer.)
enum Attempt<Value> {
    case success(Value)
    case failure(SkipReason)
}
