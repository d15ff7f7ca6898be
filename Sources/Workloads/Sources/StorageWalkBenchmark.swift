import LogLines
import LogParsers
import HostSampling
import LogSources
import SystemCalls
import UsageRecords
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A program run to its end with its standard output captured (posix_spawn; no shell).
enum ChildProcess {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `arguments[0]` (searched in PATH) with the C locale; returns its exit status (or 128 +
    /// signal) and standard output. Standard error is left to the caller's.
    static let environment: [String] = ["LC_ALL=C", "PATH=/usr/local/bin:/usr/bin:/bin"]

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        guard !arguments.isEmpty else { throw Failure(description: "no program to run") }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw Failure(description: "pipe: \(String(cString: strerror(errno)))") }
        // Neither end is for other children (the child gets the write end as its stdout by dup2).
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { for p in argv + envp { Glibc.free(p) } }
        var pid = pid_t()
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, argv, envp)
        close(fds[1])
        guard spawned == 0 else {
            close(fds[0])
            throw Failure(description: "\(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output += buffer[0..<n]
        }
        close(fds[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw Failure(description: "waitpid: \(String(cString: strerror(errno)))") }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import (they are macros).
        let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (code, String(decoding: output, as: UTF8.self))
    }

    /// `du -sB1 PATH`: the allocated bytes du counts for a tree.
    static func du(_ path: String) throws -> Int64 {
        let (status, output) = try run(["du", "-sB1", path])
        guard let field = output.split(whereSeparator: { $0 == "\t" || $0 == " " }).first, let bytes = Int64(field) else {
            throw Failure(description: "du -sB1 \(path) printed '\(output.prefix(200))' (status \(status))")
        }
        return bytes
    }
}

/// How the storage walk compares with `du -s` on a tree of small files (the lead's benchmark
/// command prints the line). Rates, not pass/fail: the machine is shared and noisy.
public enum StorageWalkBenchmark {
    /// Builds a tree of `files` small files in a temporary folder, laid out as BigBlueButton
    /// recordings (folders of 500 files, two to a recording), measures it with our walk and with
    /// `du -sB1` (best of three each, after one warming run of du), then with the sampler's
    /// second pass (recordings reused), and removes the tree. Returns one line.
    public static func run(files: Int = 200_000) throws -> String {
        let perFolder = 500
        let count = max(files, 1)
        var template = Array("/tmp/meetmeter-walkbench-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard let made else { throw FileError(path: "/tmp/meetmeter-walkbench-XXXXXX", operation: "mkdtemp", errno: errno) }
        let top = String(cString: made)
        defer { _ = try? ChildProcess.run(["rm", "-rf", "--one-file-system", top]) }
        let root = top + "/raw"
        try PosixFile.makeDirectory(root)

        let payload = [UInt8](repeating: 0x61, count: 100)
        var created = 0
        var folder = 0
        while created < count {
            let recording = root + "/" + String(repeating: "0", count: 32) + hex8(UInt32(folder / 2)) + "-1764000000000"
            let dir = recording + "/part\(folder % 2)"
            try PosixFile.makeDirectory(dir)
            let dirFD = try PosixFile.open(dir, O_RDONLY | O_DIRECTORY)
            defer { close(dirFD) }
            for i in 0..<min(perFolder, count - created) {
                let fd = openat(dirFD, "slide-\(i).svg", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw FileError(path: dir + "/slide-\(i).svg", operation: "open", errno: errno) }
                _ = payload.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
                created += 1
            }
            folder += 1
        }

        _ = try ChildProcess.du(root) // warm the caches for both
        var ours: (bytes: Int64, files: Int) = (0, 0)
        let oursSeconds = try best { ours = try TreeUsage.measure(root: root) }
        var duBytes: Int64 = 0
        let duSeconds = try best { duBytes = try ChildProcess.du(root) }

        // The sampler's steady state: every recording finished long ago, so a pass checks
        // directories only.
        let later = Heartbeat.now().adding(seconds: 7200)
        let scanner = RecordingScanner(roots: [root], quietPeriod: 3600, rewalkAfter: 86_400)
        var logger = Logger(label: "meetmeter.benchmark")
        logger.logLevel = .warning
        _ = scanner.scan(now: later, logger: logger)
        let cachedSeconds = best { _ = scanner.scan(now: later, logger: logger) }

        let oursRate = Double(ours.files) / oursSeconds
        let duRate = Double(ours.files) / duSeconds
        return "storage walk, \(ours.files) files: ours \(Int(oursRate)) files/s | du -s \(Int(duRate)) files/s"
            + " | ratio \(format(oursRate / duRate))"
            + " | bytes \(ours.bytes == duBytes ? "equal" : "DIFFER: ours \(ours.bytes), du \(duBytes)")"
            + " | cached pass \(format(cachedSeconds * 1000)) ms (\(scanner.statistics.reused) of \(scanner.statistics.recordingFolders) reused)"
    }

    private static func best(_ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<3 {
            let start = RecordingScanner.monotonicMicroseconds()
            try body()
            best = min(best, Double(RecordingScanner.monotonicMicroseconds() - start) / 1e6)
        }
        return best
    }

    private static func format(_ v: Double) -> String {
        let hundredths = Int((v * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    private static func hex8(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }
}
