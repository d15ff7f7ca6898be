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
public enum PosixFile {
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o640) throws(FileError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError(path: path, operation: "open", errno: errno) }
        return fd
    }

    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(FileError) {
        try SystemCall.writeAll(fd, bytes, path: path)
    }

    public static func fsync(_ fd: Int32, path: String) throws(FileError) {
        guard Glibc.fsync(fd) == 0 else { throw FileError(path: path, operation: "fsync", errno: errno) }
    }

    /// Reads up to `count` bytes at `offset`; fewer at the end of the file.
    public static func pread(_ fd: Int32, count: Int, offset: UInt64, path: String) throws(FileError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = try buffer.withUnsafeMutableBytes { raw in
                Result { () throws(FileError) in
                    try SystemCall.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[got...]), at: offset + UInt64(got), path: path)
                }
            }.get()
            if n == 0 { break }
            got += n
        }
        buffer.removeSubrange(got...)
        return buffer
    }

    public static func size(_ fd: Int32, path: String) throws(FileError) -> UInt64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError(path: path, operation: "stat", errno: errno) }
        return UInt64(st.st_size)
    }

    public static func fsyncDirectory(_ dir: String) throws(FileError) {
        let fd = try open(dir, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: dir)
    }

    public static func makeDirectory(_ path: String) throws(FileError) {
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
    public static func replaceAtomically(_ path: String, with bytes: [UInt8]) throws(FileError) {
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

    public static func readWhole(_ path: String) throws(FileError) -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw FileError(path: path, operation: "open", errno: errno)
        }
        defer { close(fd) }
        let size = try size(fd, path: path)
        return try pread(fd, count: Int(size), offset: 0, path: path)
    }

    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func list(_ dir: String) throws(FileError) -> [String] {
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

    public static func freeBytes(_ dir: String) -> UInt64? {
        var s = statvfs()
        guard statvfs(dir, &s) == 0 else { return nil }
        return UInt64(s.f_bavail) * UInt64(s.f_frsize)
    }
}
