#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A program started with posix_spawn, with only the descriptors it is given: the tests' and the
/// bench's way to run the daemons and tools, instead of Foundation's `Process`.
///
/// Why not `Process`: on Linux, `Process.run()` can read past the end of glibc's directory
/// buffer while it lists /proc/self/fd (swift-corelibs-foundation #5472, in Swift 6.3.1) and
/// crash the whole test process now and then; and a server that a child leaves running keeps
/// the descriptors it inherited, so `Process` may never see that child end. Here the child gets
/// its three standard descriptors and nothing else (`posix_spawn_file_actions_addclosefrom_np`).
public final class SpawnedProcess: Sendable {
    public enum Output: Sendable {
        /// Discarded.
        case null
        /// Appended to this file (created if missing).
        case file(String)
        /// Written to this descriptor of ours (a pipe's write end).
        case descriptor(Int32)
    }

    public let pid: pid_t
    public let executable: String
    /// The raw wait status once the child has been reaped.
    private let reaped = Mutex<Int32?>(nil)

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                standardOutput: Output = .null, standardError: Output = .null) throws {
        self.executable = executable
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (fd, output) in [(Int32(1), standardOutput), (Int32(2), standardError)] {
            switch output {
            case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .file(let path): posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            case .descriptor(let own): posix_spawn_file_actions_adddup2(&actions, own, fd)
            }
        }
        // Nothing else of this process (glibc 2.34 has it; Swift's Glibc module does not show it).
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        defer {
            for a in argv { free(a) }
            for e in envp { free(e) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, &argv, &envp)
        guard spawned == 0 else { throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(spawned)))") }
        self.pid = pid
    }

    /// Whether the child still runs (it is reaped here when it has ended).
    public var isRunning: Bool {
        reaped.withLock { status in
            guard status == nil else { return false }
            var raw: Int32 = 0
            let r = waitpid(pid, &raw, WNOHANG)
            if r == pid { status = raw; return false }
            return r == 0
        }
    }

    /// Waits for the child to end; answers its raw wait status.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        while true {
            if let done = reaped.withLock({ status -> Int32? in
                if let status { return status }
                var raw: Int32 = 0
                let r = waitpid(pid, &raw, WNOHANG)
                if r == pid { status = raw; return raw }
                return r == -1 && errno != EINTR ? -1 : nil
            }) {
                return done
            }
            usleep(5_000)
        }
    }

    /// As Foundation's: the exit code, or the number of the signal that ended it; nil while it runs.
    public var terminationStatus: Int32? {
        guard !isRunning, let raw = reaped.withLock({ $0 }) else { return nil }
        return (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : raw & 0x7f
    }

    public func signal(_ sig: Int32) { if isRunning { kill(pid, sig) } }
}

public struct SpawnError: Error, CustomStringConvertible {
    public var description: String
}
