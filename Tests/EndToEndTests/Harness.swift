import Foundation
import Synchronization
import Testing
import TestThreads
import Workloads

/// Finds the package's folders and the executables `swift build --build-tests` made.
enum Paths {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The folder holding the built executables (beside the test bundle).
    static let binaries: String = {
        let bundle = Bundle.main.bundleURL.deletingLastPathComponent().path
        for candidate in [bundle, packageRoot + "/.build/debug"]
        where FileManager.default.isExecutableFile(atPath: candidate + "/meetmeter-aggregator") {
            return candidate
        }
        return packageRoot + "/.build/debug"
    }()

    static func binary(_ name: String) -> String { binaries + "/" + name }

    static func temporaryDirectory(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "meetmeter-e2e-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// A child process that the test owns and stops by its PID, whatever happens. Spawned without
/// Foundation's `Process` (see `SpawnedProcess`), with standard output and error in `output`.
final class Child: Sendable {
    let process: SpawnedProcess
    let output: String
    let name: String

    init(_ executable: String, _ arguments: [String], logTo output: String, environment: [String: String] = [:]) throws {
        self.output = output
        self.name = (executable as NSString).lastPathComponent
        FileManager.default.createFile(atPath: output, contents: nil)
        process = try SpawnedProcess(executable, arguments,
                                     environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                                     standardOutput: .file(output), standardError: .file(output))
    }

    var pid: Int32 { process.pid }
    var log: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }
    /// The exit code, or the signal that ended it; -1 while it runs.
    var terminationStatus: Int32 { process.terminationStatus ?? -1 }

    /// Waits until the log holds `text` (the daemon said it is ready), or fails.
    /// The deadline is generous and checked once more at the end: on a loaded machine this task
    /// may not run for a long while, and only whether the text came matters.
    func waitForLog(_ text: String, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if log.contains(text) { return }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        if log.contains(text) { return }
        throw HarnessError("\(name) did not log '\(text)'; its log:\n\(log)")
    }

    func signal(_ sig: Int32) { process.signal(sig) }

    func stop() {
        signal(SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill(pid, SIGKILL); process.waitUntilExit() } }
}

/// Runs a command to its end and returns its exit status, standard output and standard error.
/// The wait happens on a thread of its own (`onOwnThread`): a child that runs for minutes must
/// not hold a thread of the cooperative pool.
@discardableResult
func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 120) async throws -> (status: Int32, out: String, err: String) {
    try await onOwnThread { try runBlocking(executable, arguments, environment: environment, timeout: timeout) }
}

/// `run` on the calling thread, for the few synchronous set-ups (making certificates).
func runBlocking(_ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 120) throws -> (status: Int32, out: String, err: String) {
    // Pipes closed on exec: only the child's own standard descriptors hold their write ends, so
    // reading to the end ends when the child (and whatever it left running with them) is done.
    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    // (pipe2 is not in Swift's Glibc module; every child here is spawned with nothing but its
    // standard descriptors anyway, so no other child can take these between pipe and fcntl.)
    guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw HarnessError("pipe: \(String(cString: strerror(errno)))") }
    for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    let process: SpawnedProcess
    do {
        process = try SpawnedProcess(executable, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                                     standardOutput: .descriptor(outPipe[1]), standardError: .descriptor(errPipe[1]))
    } catch {
        for fd in outPipe + errPipe { close(fd) }
        throw error
    }
    close(outPipe[1])
    close(errPipe[1])
    // Drain both pipes while the child runs, so a chatty child cannot block on a full pipe.
    nonisolated(unsafe) var outData = Data()
    nonisolated(unsafe) var errData = Data()
    let outHandle = FileHandle(fileDescriptor: outPipe[0], closeOnDealloc: true)
    let errHandle = FileHandle(fileDescriptor: errPipe[0], closeOnDealloc: true)
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { outData = outHandle.readDataToEndOfFile(); group.leave() }
    group.enter()
    DispatchQueue.global().async { errData = errHandle.readDataToEndOfFile(); group.leave() }
    if group.wait(timeout: .now() + timeout) == .timedOut {
        kill(process.pid, SIGKILL)
        process.waitUntilExit()
        throw HarnessError("\(executable) \(arguments) ran over \(timeout) s")
    }
    process.waitUntilExit()
    return (process.terminationStatus ?? -1, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A free TCP port on 127.0.0.1, found by binding port 0.
/// Ports handed out so far: tests run at once, and the kernel may give a port that was just
/// closed to the next caller before the first daemon has bound it.
private let handedOutPorts = Mutex<Set<Int>>([])

func freePort() throws -> Int {
    for _ in 0..<64 {
        let port = try kernelFreePort()
        if handedOutPorts.withLock({ $0.insert(port).inserted }) { return port }
    }
    throw HarnessError("cannot find a free port not handed out before")
}

private func kernelFreePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard ok else { throw HarnessError("cannot find a free port") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A blocking TCP socket connected to 127.0.0.1:`port`, with a receive timeout; the caller closes it.
func connectLoopback(port: Int, receiveTimeout seconds: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var tv = timeval(tv_sec: seconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let ok = withUnsafePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    guard ok else {
        close(fd)
        throw HarnessError("cannot connect to the aggregator")
    }
    return fd
}
