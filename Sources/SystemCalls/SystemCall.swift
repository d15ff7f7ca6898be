import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The system calls of the agent, each retried on EINTR (swift-system's `FileDescriptor` does
/// that) and failing with a `FileError` that names the path and the operation. Sources, the
/// spool and the samplers go through here instead of calling libc in loops of their own.
public enum SystemCall {
    /// Runs `body`, turning swift-system's `Errno` into a `FileError` about `path`.
    @inlinable
    public static func attempt<T>(_ operation: String, path: String, _ body: () throws -> T) throws(FileError) -> T {
        do {
            return try body()
        } catch let e as Errno {
            throw FileError(path: path, operation: operation, errno: e.rawValue)
        } catch {
            throw FileError(path: path, operation: operation, errno: EIO)
        }
    }

    /// Runs a libc call that answers -1 and sets errno on failure, again while it fails with EINTR.
    @inlinable
    public static func retrying<T: FixedWidthInteger>(_ operation: String, path: String, _ call: () -> T) throws(FileError) -> T {
        while true {
            let result = call()
            if result != -1 { return result }
            let e = errno
            if e == EINTR { continue }
            throw FileError(path: path, operation: operation, errno: e)
        }
    }

    /// Reads what is there, up to the buffer's size; 0 at the end.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws(FileError) -> Int {
        try attempt("read", path: path) { try FileDescriptor(rawValue: fd).read(into: buffer) }
    }

    /// Reads what is there at `offset`, up to the buffer's size; 0 at the end.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64, path: String) throws(FileError) -> Int {
        try attempt("read", path: path) { try FileDescriptor(rawValue: fd).read(fromAbsoluteOffset: Int64(offset), into: buffer) }
    }

    /// Writes all of `bytes`.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(FileError) {
        _ = try attempt("write", path: path) { try FileDescriptor(rawValue: fd).writeAll(bytes) }
    }
}
