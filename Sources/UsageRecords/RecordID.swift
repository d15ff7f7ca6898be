/// A record's deterministic identity (DESIGN.md principle 2): derived from where the record came
/// from, so that reading the same input again yields the same ids and the aggregator can drop the
/// second copy.
///
/// Ids are printable ASCII without spaces, at most 200 bytes, and readable enough to trace a
/// record back to its source: `bbb1:f:3f9a0c1d2e4b5a69:1048576:0` is the first record made from the
/// line at byte 1048576 of the file whose fingerprint is 3f9a0c1d2e4b5a69 on host bbb1.
public struct RecordID: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let maximumLength = 200

    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (a: RecordID, b: RecordID) -> Bool { a.rawValue < b.rawValue }

    /// Why a text cannot be an id, or nil if it can.
    public static func problem(with text: String) -> String? {
        var text = text
        return text.withUTF8 { problem(with: $0) }
    }

    /// Why UTF-8 bytes cannot be an id, or nil if they can (the record decoder asks before it
    /// makes the id's String).
    public static func problem(with bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if bytes.isEmpty { return "is empty" }
        if bytes.count > maximumLength { return "is longer than \(maximumLength) bytes" }
        for c in bytes where c <= 0x20 || c >= 0x7F {
            return "may hold only printable ASCII without spaces"
        }
        return nil
    }

    /// A record made from a line of a file. `fingerprint` identifies the file by its content (not
    /// its inode or name, both of which are reused), `offset` is the line's first byte, and `index`
    /// tells apart several records made from one line.
    public static func fileLine(host: String, fingerprint: UInt64, offset: UInt64, index: Int = 0) -> RecordID {
        guard index >= 0 else { return RecordID(rawValue: "\(safe(host)):f:\(hex16(fingerprint)):\(offset):\(index)") }
        // Written byte by byte into one buffer: this runs for every record a file gives, and the
        // interpolated form was about a twentieth of the agent's time on a BigBlueButton day.
        var name = safe(host)
        return name.withUTF8 { h in
            RecordID(rawValue: String(unsafeUninitializedCapacity: h.count + 3 + 16 + 1 + 20 + 1 + 20) { out in
                var n = 0
                for c in h { out[n] = c; n += 1 }
                for c in ":f:".utf8 { out[n] = c; n += 1 }
                n = writeHex16(fingerprint, into: out, at: n)
                out[n] = UInt8(ascii: ":"); n += 1
                n = writeDecimal(offset, into: out, at: n)
                out[n] = UInt8(ascii: ":"); n += 1
                return writeDecimal(UInt64(index), into: out, at: n)
            })
        }
    }

    /// Writes `v` in decimal at `at`; returns the index after it.
    private static func writeDecimal(_ v: UInt64, into out: UnsafeMutableBufferPointer<UInt8>, at: Int) -> Int {
        var length = 1
        var rest = v / 10
        while rest > 0 { length += 1; rest /= 10 }
        var v = v
        var i = at + length - 1
        repeat {
            out[i] = UInt8(ascii: "0") + UInt8(v % 10)
            v /= 10
            i -= 1
        } while v > 0
        return at + length
    }

    /// A record made from a journal entry, named by the entry's sequence-number id and sequence
    /// number from its cursor (`s=…;i=…`), which together name one entry for good. A cursor without
    /// them is hashed.
    public static func journalEntry(host: String, cursor: String, index: Int = 0) -> RecordID {
        var seqnumID: Substring?
        var seqnum: Substring?
        for part in cursor.split(separator: ";") {
            if part.hasPrefix("s=") { seqnumID = part.dropFirst(2) }
            if part.hasPrefix("i=") { seqnum = part.dropFirst(2) }
        }
        if let seqnumID, let seqnum, !seqnumID.isEmpty, !seqnum.isEmpty,
           RecordID.problem(with: String(seqnumID) + String(seqnum)) == nil
        {
            return RecordID(rawValue: "\(safe(host)):j:\(seqnumID):\(seqnum):\(index)")
        }
        let digest = StableHash.digest128(cursor)
        return RecordID(rawValue: "\(safe(host)):jh:\(hex16(digest.0))\(hex16(digest.1)):\(index)")
    }

    /// A record from a line of standard input or another source without a stable identity:
    /// named by the source's name, the line number and the hash of the line.
    public static func streamLine(host: String, source: String, line: UInt64, text: Substring, index: Int = 0) -> RecordID {
        RecordID(rawValue: "\(safe(host)):s:\(hex16(StableHash.fnv1a64(source))):\(line):\(hex16(StableHash.fnv1a64(text.utf8))):\(index)")
    }

    /// A sample taken on a schedule: one id per host, kind, key and scheduled time, so a sample
    /// taken twice for the same slot is stored once.
    public static func sample(host: String, kind: RecordKind, key: String, scheduled: Timestamp) -> RecordID {
        RecordID(rawValue: "\(safe(host)):\(kind.rawValue):\(hex16(StableHash.fnv1a64(key))):\(scheduled.seconds)")
    }

    /// The prefix every id an agent on `host` makes begins with: the host's safe form and a colon.
    /// The aggregator refuses a record whose id is not in its sender's namespace, so that one host
    /// cannot take (and so erase) an id another host will send (issue 20).
    public static func namespace(host: String) -> String { safe(host) + ":" }

    /// Whether this id lies in the namespace of `host`.
    public func isInNamespace(of host: String) -> Bool { rawValue.hasPrefix(Self.namespace(host: host)) }

    private static func safe(_ host: String) -> String {
        // A plain host name, the common case, is kept as it is: this runs for every record.
        let utf8 = host.utf8
        if utf8.count <= 64, utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }) { return host }
        return String(String.UnicodeScalarView(host.unicodeScalars.map { c in
            (c.value > 0x20 && c.value < 0x7F && c != ":") ? c : "_"
        }).prefix(64))
    }

    static func hex16(_ v: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { writeHex16(v, into: $0, at: 0) }
    }

    /// Writes `v` as 16 lowercase hex digits at `at`; returns the index after them.
    private static func writeHex16(_ v: UInt64, into out: UnsafeMutableBufferPointer<UInt8>, at: Int) -> Int {
        let digits: StaticString = "0123456789abcdef"
        for i in 0..<16 {
            out[at + i] = digits.utf8Start[Int((v >> UInt64(60 - 4 * i)) & 0xF)]
        }
        return at + 16
    }
}

/// Hashes that never change between runs or versions (Swift's `Hasher` is seeded per process).
public enum StableHash {
    public static func fnv1a64<S: Sequence>(_ bytes: S, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 where S.Element == UInt8 {
        var h = seed
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }

    public static func fnv1a64(_ text: String) -> UInt64 { fnv1a64(text.utf8) }

    /// 128 bits from two differently seeded passes and a final mix, for identities where a 64-bit
    /// collision among billions would matter.
    public static func digest128(_ text: String) -> (UInt64, UInt64) {
        let a = mix(fnv1a64(text.utf8))
        let b = mix(fnv1a64(text.utf8, seed: 0x8422_2325_cbf2_9ce4) ^ UInt64(text.utf8.count))
        return (a, b)
    }

    /// splitmix64's finaliser: spreads every input bit over the output.
    public static func mix(_ x0: UInt64) -> UInt64 {
        var x = x0
        x = (x ^ (x >> 30)) &* 0xbf58_476d_1ce4_e5b9
        x = (x ^ (x >> 27)) &* 0x94d0_49bb_1331_11eb
        return x ^ (x >> 31)
    }
}
