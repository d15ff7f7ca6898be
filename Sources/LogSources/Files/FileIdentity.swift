#if canImport(Glibc)
import Glibc
#endif

import LogLines
import Logging
import Metrics
import SystemCalls
import UsageRecords

// Identity: opening a file and knowing it by its content, whatever its name or inode.
extension FollowState {
    /// Opens a file that the patterns match and that is not open yet. Its offset is the saved one
    /// for its fingerprint, or 0. Files whose fingerprint is not known yet (no complete first line)
    /// are opened too and fingerprinted when their first line is complete.
    mutating func open(path: String, rotatedCopy: Bool = false, offset forced: UInt64? = nil) throws {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            if errno == ENOENT { return }
            throw FileError(path: path, operation: "open", errno: errno)
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw FileError(path: path, operation: "stat", errno: e)
        }
        var gz: GzipStream? = nil
        let fp: FileFingerprint?
        if path.hasSuffix(".gz") {
            do {
                let stream = try GzipStream(fd: fd, path: path)
                fp = try FileFingerprint.of(prefix: stream.prefix(FileFingerprint.maxBytes))
                gz = stream
            } catch {
                close(fd)
                throw error
            }
        } else {
            fp = try FileFingerprint.read(fd: fd, path: path)
        }
        if let fp, files.contains(where: { $0.fingerprint == fp }) {
            // A copy of a file already open (copytruncate's copy, or a second name matching the
            // patterns): the original is read; the copy is used only if the original is truncated.
            close(fd)
            return
        }
        var offset: UInt64 = forced ?? 0
        if forced == nil, let fp, let k = known.removeValue(forKey: fp.value) {
            offset = k.offset
            retiredOrder.removeAll { $0 == fp.value }
            if gz == nil, offset > UInt64(st.st_size) {
                logger.warning("file is shorter than its saved offset; reading it from the start", metadata: [
                    "path": "\(path)", "saved": "\(offset)", "size": "\(st.st_size)",
                ])
                offset = 0
                counts.truncations += 1
            }
        }
        let f = TrackedFile(fd: fd, path: path, device: UInt64(st.st_dev), inode: UInt64(st.st_ino), offset: offset,
                            maxLineBytes: configuration.maxLineBytes)
        f.fingerprint = fp
        f.rotated = rotatedCopy
        f.gz = gz
        files.append(f)
        counts.filesOpened += 1
        logger.debug("reading file", metadata: ["path": "\(path)", "offset": "\(offset)"])
    }

    static func isCompressed(_ path: String) -> Bool {
        [".gz", ".xz", ".bz2", ".zst", ".lz4", ".Z"].contains { path.hasSuffix($0) }
    }

    /// The fingerprint and (device, inode) of a file, decompressing a `.gz`; nil when it cannot
    /// be read or has no complete first line yet.
    static func identify(_ path: String) -> (fingerprint: UInt64, id: [UInt64])? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let fp: FileFingerprint?
        if path.hasSuffix(".gz") {
            guard let gz = try? GzipStream(fd: fd, path: path), let head = try? gz.prefix(FileFingerprint.maxBytes) else { return nil }
            fp = FileFingerprint.of(prefix: head)
        } else {
            fp = try? FileFingerprint.read(fd: fd, path: path)
        }
        guard let fp else { return nil }
        return (fp.value, [UInt64(st.st_dev), UInt64(st.st_ino)])
    }
}
