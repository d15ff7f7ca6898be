@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads
import Logging
import NIOPosix
import Testing
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

// Helpers shared by the File*, Journal* and Position* tests.

/// Blocking work of the tests (child processes, blocking sends, sleeps) runs here, off Swift's
/// cooperative pool: that pool has one thread per core, and blocking it starves the sources under
/// test and every other suite running at the same time.
let sourceBlockingPool: NIOThreadPool = {
    let pool = NIOThreadPool(numberOfThreads: 4)
    pool.start()
    return pool
}()

func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await sourceBlockingPool.runIfActive(body)
}

func sourceTestDirectory(_ name: String) -> String {
    var template = Array("/tmp/meetmeter-src-\(name)-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
}

func removeSourceTestDirectory(_ path: String) {
    precondition(path.hasPrefix("/tmp/meetmeter-src-"))
    _ = system("rm -rf '\(path)'")
}

/// Appends text to a file (creating it), the way a logger does: O_APPEND.
func sourceAppend(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    precondition(fd >= 0, "open \(path): \(errno)")
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

func sourceLinesOnDisk(_ path: String) -> [String] {
    guard let bytes = try? PosixFile.readWhole(path) else { return [] }
    return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
}

/// Collects what a source delivers; can be told to fail or block to simulate a crash or a full spool.
actor LineSink {
    private(set) var lines: [LogLine] = []
    private(set) var batches = 0

    func add(_ batch: [LogLine]) { lines += batch; batches += 1 }

    var texts: [String] { lines.map(\.text) }
    var count: Int { lines.count }
}

func sourceLogger(_ label: String = "test") -> Logger {
    var l = Logger(label: label)
    l.logLevel = .warning
    return l
}

/// Waits until `condition` holds, checking every 20 ms, for at most `seconds`. The bound only
/// matters when a test fails, so it is generous: every test runs at once on two cores.
func sourceEventually(_ seconds: Double = 30, _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// Runs a source in a task until `until` holds (or times out), then cancels it and waits for it
/// to save and return. Returns whether the condition was met.
@discardableResult
func runSource(_ source: some LineSource, sink: LineSink, seconds: Double = 30,
               until: @escaping @Sendable () async -> Bool) async throws -> Bool
{
    let task = Task { try await source.run { batch in await sink.add(batch) } }
    let met = await sourceEventually(seconds, until)
    task.cancel()
    try await task.value
    return met
}

/// Positions as a comparable key, to count distinct ones.
func sourcePositionKey(_ p: SourcePosition) -> String {
    switch p {
    case .file(let fp, let off): return "f:\(fp):\(off)"
    case .journal(let c): return "j:\(c)"
    case .stream(let n, let l): return "s:\(n):\(l)"
    }
}

/// A swift-log handler that keeps what is logged, to check that a warning was said and what it names.
struct CapturingLogHandler: LogHandler {
    final class Store: Sendable {
        let entries = LockedBox<[(level: Logger.Level, message: String, metadata: [String: String])]>([])
        /// The messages, each followed by its metadata as `key=value`, one string an entry.
        var lines: [String] {
            entries.value.map { e in ([e.message] + e.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: " ") }
        }
        func warnings(containing text: String) -> [String] {
            entries.value.filter { $0.level >= .warning }.map { e in
                ([e.message] + e.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
            }.filter { $0.contains(text) }
        }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all: [String: String] = [:]
        for (k, v) in metadata { all[k] = "\(v)" }
        for (k, v) in event.metadata ?? [:] { all[k] = "\(v)" }
        let entry = (level: event.level, message: "\(event.message)", metadata: all)
        store.entries.update { $0.append(entry) }
    }
}

/// A logger whose entries (info and above) can be read back.
func capturingLogger() -> (Logger, CapturingLogHandler.Store) {
    let store = CapturingLogHandler.Store()
    return (Logger(label: "test") { _ in CapturingLogHandler(store: store) }, store)
}
