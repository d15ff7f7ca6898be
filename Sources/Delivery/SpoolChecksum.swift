import SystemCalls
import UsageRecords
import CZlib

/// CRC-32 (IEEE 802.3), the checksum of each spooled record.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        // zlib's is the same CRC-32, several bytes at a time.
        if let fast = bytes.withContiguousStorageIfAvailable({ b -> UInt32 in
            guard let base = b.baseAddress, b.count <= Int(UInt32.max) else { return UInt32(truncatingIfNeeded: crc32(0, nil, 0)) }
            return UInt32(truncatingIfNeeded: crc32(0, base, UInt32(b.count)))
        }) { return fast }
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
