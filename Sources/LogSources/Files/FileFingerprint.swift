#if canImport(Glibc)
import Glibc
#endif

import LogLines
import SystemCalls
import UsageRecords

/// A log file's identity, from its content rather than its inode or path (PITFALLS: inode reuse,
/// rotation): FNV-1a 64 of its first line, newline included, or of its first 256 bytes when the
/// first line is longer.
///
/// Why the first line and not simply "the first 256 bytes": a log file grows, and a fingerprint
/// over "whatever of the first 256 bytes exists now" would change as it grows, so the same line
/// would get two identities (and two record ids) depending on when it was first read. The first
/// complete line never changes in a file that is only appended to, so the fingerprint is the same
/// whenever and however often it is computed. Until the first newline (or 256 bytes) exists the
/// file has no complete line to read, and the fingerprint is simply not known yet.
///
/// The cost: two files whose first lines are identical byte for byte share a fingerprint. The
/// logs meetmeter reads start with a timestamp to the millisecond, so that does not happen in
/// practice; a file with a constant header line would need a different scheme.
public struct FileFingerprint: Sendable, Hashable, CustomStringConvertible {
    public static let maxBytes = 256

    public var value: UInt64
    /// How many leading bytes it covers (the first line's length with its newline, at most 256).
    public var length: Int

    public init(value: UInt64, length: Int) {
        self.value = value
        self.length = length
    }

    /// The fingerprint of the bytes at the start of a file, or nil when they are not enough yet.
    /// `final` takes what there is (a file read once to its end that never got a newline).
    public static func of<C: Collection>(prefix bytes: C, final: Bool = false) -> FileFingerprint? where C.Element == UInt8 {
        let capped = bytes.prefix(maxBytes)
        if let nl = capped.firstIndex(of: 0x0A) {
            let line = capped[...nl]
            return FileFingerprint(value: StableHash.fnv1a64(line), length: line.count)
        }
        if capped.count == maxBytes || (final && !capped.isEmpty) {
            return FileFingerprint(value: StableHash.fnv1a64(capped), length: capped.count)
        }
        return nil
    }

    /// Reads the start of an open file and fingerprints it.
    static func read(fd: Int32, path: String, final: Bool = false) throws(FileError) -> FileFingerprint? {
        let bytes = try PosixFile.pread(fd, count: maxBytes, offset: 0, path: path)
        return of(prefix: bytes, final: final)
    }

    /// Whether the open file still starts with the bytes this fingerprint was made of (a file
    /// truncated and rewritten in place, by copytruncate, starts with other bytes).
    func matches(fd: Int32, path: String) throws(FileError) -> Bool {
        let bytes = try PosixFile.pread(fd, count: length, offset: 0, path: path)
        return bytes.count == length && StableHash.fnv1a64(bytes) == value
    }

    public var description: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
