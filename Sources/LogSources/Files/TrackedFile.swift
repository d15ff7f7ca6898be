#if canImport(Glibc)
import Glibc
#endif

import LogLines
import Logging
import Metrics
import SystemCalls
import UsageRecords

/// One file being read.
final class TrackedFile {
    let fd: Int32
    var path: String
    let device: UInt64
    let inode: UInt64
    var fingerprint: FileFingerprint?
    /// Offset after the last delivered line: where a restart resumes.
    var committed: UInt64
    /// Start of the line being assembled.
    var lineStart: UInt64
    /// How far the file has been read.
    var scanned: UInt64
    /// Cuts the file's bytes into lines, holding the start of a line not yet ended.
    var cutter: LineCutter
    /// The path no longer leads here (renamed or deleted): read to the end, then close.
    var rotated = false
    var lastGrowth = ContinuousClock.now
    /// Read once more at the end, even without a newline (one-shot mode).
    var sawEnd = false
    /// The decompressed content of a `.gz` file; nil for a plain file.
    var gz: GzipStream?
    /// The compressed content could not be read on: treated as ended, its position kept open.
    var failed = false
    /// Opened while catching up on rotated files: its lines are counted and logged when it closes.
    var catchingUp = false
    var linesRead = 0
    let startOffset: UInt64

    init(fd: Int32, path: String, device: UInt64, inode: UInt64, offset: UInt64, maxLineBytes: Int) {
        self.cutter = LineCutter(maximumLineBytes: maxLineBytes)
        self.fd = fd
        self.path = path
        self.device = device
        self.inode = inode
        self.committed = offset
        self.lineStart = offset
        self.scanned = offset
        self.startOffset = offset
    }

    /// How far there is to read now: the file's size, or for a compressed file its content's
    /// length once known (until then, more than any offset).
    func readableSize(_ st: stat) -> UInt64 {
        guard let gz else { return UInt64(st.st_size) }
        if failed { return scanned }
        return gz.end ?? UInt64.max
    }

    deinit { close(fd) }
}

struct FileBatch {
    var lines: [LogLine]
    /// The new committed offset once these lines are delivered.
    var end: UInt64
}

/// A saved offset of a file that is not open now (retired or not found yet).
struct KnownOffset {
    var offset: UInt64
    var path: String
    /// Read to its end and closed (a rotated file); otherwise it was being read when saved.
    var done: Bool
}
