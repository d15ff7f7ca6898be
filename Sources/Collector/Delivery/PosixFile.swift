import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call on a file, with the path and errno's words: what an operator needs to act.
public struct FileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var errno: Int32

    public init(path: String, operation: String, errno: Int32) {
        self.path = path
        self.operation = operation
        self.errno = errno
    }

    public var description: String { "\(path): \(operation) failed: \(String(cString: strerror(errno)))" }
}

/// Thin wrappers over the system calls the spool and the position files need: explicit fsync,
/// positional reads, atomic replacement. Foundation's FileHandle hides fsync errors.
enum PosixFile {
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o640) throws(FileError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError(path: path, operation: "open", errno: errno) }
        return fd
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(FileError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, operation: "write", errno: errno)
            }
            done += n
        }
    }

    static func fsync(_ fd: Int32, path: String) throws(FileError) {
        guard Glibc.fsync(fd) == 0 else { throw FileError(path: path, operation: "fsync", errno: errno) }
    }

    /// Reads up to `count` bytes at `offset`; fewer at the end of the file.
    static func pread(_ fd: Int32, count: Int, offset: UInt64, path: String) throws(FileError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buffer.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress! + got, count - got, off_t(offset) + off_t(got)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, operation: "read", errno: errno)
            }
            if n == 0 { break }
            got += n
        }
        buffer.removeSubrange(got...)
        return buffer
    }

    static func size(_ fd: Int32, path: String) throws(FileError) -> UInt64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError(path: path, operation: "stat", errno: errno) }
        return UInt64(st.st_size)
    }

    static func fsyncDirectory(_ dir: String) throws(FileError) {
        let fd = try open(dir, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: dir)
    }

    static func makeDirectory(_ path: String) throws(FileError) {
        var partial = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            partial += "/" + component
            if mkdir(partial, 0o750) != 0 && errno != EEXIST {
                throw FileError(path: partial, operation: "mkdir", errno: errno)
            }
        }
    }

    /// Replaces `path` with `bytes` so that a crash leaves either the old or the new content:
    /// write a temporary file, fsync it, rename it over, fsync the folder.
    static func replaceAtomically(_ path: String, with bytes: [UInt8]) throws(FileError) {
        let tmp = path + ".tmp"
        let fd = try open(tmp, O_WRONLY | O_CREAT | O_TRUNC)
        var failure: FileError?
        bytes.withUnsafeBytes { raw in
            do throws(FileError) { try writeAll(fd, raw, path: tmp) } catch { failure = error }
        }
        if failure == nil {
            do throws(FileError) { try fsync(fd, path: tmp) } catch { failure = error }
        }
        close(fd)
        if let failure {
            // A half-written temporary file would hold blocks of a file system that is full.
            unlink(tmp)
            throw failure
        }
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw FileError(path: path, operation: "rename", errno: e)
        }
        try fsyncDirectory(directory(of: path))
    }

    static func readWhole(_ path: String) throws(FileError) -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw FileError(path: path, operation: "open", errno: errno)
        }
        defer { close(fd) }
        let size = try size(fd, path: path)
        return try pread(fd, count: Int(size), offset: 0, path: path)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func list(_ dir: String) throws(FileError) -> [String] {
        guard let d = opendir(dir) else { throw FileError(path: dir, operation: "opendir", errno: errno) }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func freeBytes(_ dir: String) -> UInt64? {
        var s = statvfs()
        guard statvfs(dir, &s) == 0 else { return nil }
        return UInt64(s.f_bavail) * UInt64(s.f_frsize)
    }
}

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
