#if canImport(Glibc)
import Glibc
#endif

import LogLines
import SystemCalls
import UsageRecords
import CZlib

/// A gzip file that could not be read on: corrupt, or cut short (still being written by gzip).
public struct CompressedFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    /// Offset in the decompressed content where reading stopped.
    public var offset: UInt64
    public var message: String

    public var description: String { "\(path): cannot decompress at offset \(offset) of its content: \(message)" }
}

/// The decompressed content of a gzip file (a rotated log that logrotate or logback compressed),
/// read at increasing offsets as `pread` reads a plain file. Offsets are those of the content, so
/// a line has the same position (and record id) whether it was read before or after compression.
///
/// zlib decompresses forward only. The follower re-reads the part of its last read that a batch
/// did not use, so the last decompressed block is kept; an offset before it rewinds the stream
/// (rare: only a fingerprint read at 0 followed by a saved offset past the kept block).
final class GzipStream {
    let path: String
    private var file: gzFile?
    /// Decompressed bytes taken from zlib so far.
    private var position: UInt64 = 0
    /// The last bytes taken from zlib; they end at `position`.
    private var kept: [UInt8] = []
    /// The content's length, once its end was reached.
    private(set) var end: UInt64?

    /// Takes a duplicate of `fd`: the caller keeps and closes its own.
    init(fd: Int32, path: String) throws(FileError) {
        self.path = path
        let copy = dup(fd)
        guard copy >= 0 else { throw FileError(path: path, operation: "dup", errno: errno) }
        guard let g = gzdopen(copy, "rb") else {
            close(copy)
            throw FileError(path: path, operation: "gzdopen", errno: ENOMEM)
        }
        gzbuffer(g, 1 << 17)
        file = g
    }

    deinit { if let file { gzclose_r(file) } }

    /// Copies up to `count` bytes of the content at `offset` to `buffer`; 0 at the end.
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: UInt64) throws(CompressedFileError) -> Int {
        let keptStart = position - UInt64(kept.count)
        if offset < keptStart { try rewind() }
        if offset < position {
            let from = Int(offset - (position - UInt64(kept.count)))
            let n = min(count, kept.count - from)
            kept.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + from, byteCount: n) }
            return n
        }
        // Skip forward to the offset (a saved position inside the file).
        if position < offset {
            let scratchSize = 1 << 16
            let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchSize, alignment: 16)
            defer { scratch.deallocate() }
            while position < offset {
                let n = try take(scratch, Int(min(UInt64(scratchSize), offset - position)))
                if n == 0 { return 0 }
            }
        }
        let n = try take(buffer, count)
        kept = Array(UnsafeRawBufferPointer(start: buffer, count: n))
        return n
    }

    /// The first `count` bytes of the content (for its fingerprint).
    func prefix(_ count: Int) throws(CompressedFileError) -> [UInt8] {
        let out = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 16)
        defer { out.deallocate() }
        var got = 0
        while got < count {
            let n = try read(into: out + got, count: count - got, at: UInt64(got))
            if n == 0 { break }
            got += n
        }
        return Array(UnsafeRawBufferPointer(start: out, count: got))
    }

    private func take(_ buffer: UnsafeMutableRawPointer, _ count: Int) throws(CompressedFileError) -> Int {
        let n = gzread(file, buffer, UInt32(clamping: count))
        if n < 0 {
            var code: Int32 = 0
            let message = gzerror(file, &code).map { String(cString: $0) } ?? "zlib error \(code)"
            throw CompressedFileError(path: path, offset: position, message: message)
        }
        position += UInt64(n)
        if n == 0 { end = position }
        return Int(n)
    }

    private func rewind() throws(CompressedFileError) {
        guard gzrewind(file) == 0 else {
            throw CompressedFileError(path: path, offset: position, message: "cannot rewind")
        }
        position = 0
        kept = []
    }
}
