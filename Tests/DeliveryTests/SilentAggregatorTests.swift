import Delivery
import Foundation
import Logging
import Synchronization
import SystemCalls
import Testing
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

/// An aggregator that answers the hello and then never a batch (its database hangs): the agent
/// gives the connection up at its answer timeout, says so in those words, keeps the records and
/// sends them again on the next connection.
@Suite(.timeLimit(.minutes(2))) struct SilentAggregatorTests {
    @Test func anOverdueAnswerIsToldAsATimeoutAndTheBatchIsSentAgain() async throws {
        let dir = NSTemporaryDirectory() + "meetmeter-silent-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let said = SaidLines()
        let logger = Logger(label: "meetmeter.tests.silent") { _ in SayingLogHandler(said: said) }
        let spool = try Spool(configuration: SpoolConfiguration(directory: dir), logger: logger)
        try await spool.append([ShipperFinishingTests.record])

        let server = try SilentServer()
        defer { server.stop() }
        var c = ShipperConfiguration(host: "127.0.0.1", port: server.port, agentHost: "bbb1", token: nil)
        c.answerTimeout = .seconds(2)
        c.initialBackoff = .milliseconds(50)
        c.maximumBackoff = .milliseconds(100)
        let finish = Latch()
        let running = Task { try await Shipper(configuration: c, spool: spool, logger: logger).run(finish: finish) }
        // Two connections, each given the batch and giving it up unanswered.
        let deadline = ContinuousClock.now + .seconds(60)
        while server.batchLinesReceived < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        finish.open()
        try await running.value
        #expect(server.batchLinesReceived >= 2, "the record was sent again on a new connection")
        #expect(await spool.pendingRecords == 1, "an unanswered record stays in the spool")
        let warnings = said.lines.filter { $0.contains("cannot ship records") }
        #expect(warnings.contains { $0.contains("no answer from the aggregator within 2.0 seconds") }, "\(warnings)")
        #expect(!warnings.contains { $0.contains("the aggregator closed the connection") }, "\(warnings)")
    }
}

/// Lines logged, message and metadata together.
final class SaidLines: Sendable {
    private let all = Mutex<[String]>([])
    var lines: [String] { all.withLock { $0 } }
    func add(_ line: String) { all.withLock { $0.append(line) } }
}

struct SayingLogHandler: LogHandler {
    let said: SaidLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        said.add(([event.message.description] + fields).joined(separator: " "))
    }
}

/// A loopback listener on a thread of its own: answers each connection's hello as an aggregator
/// does, then reads and never answers.
final class SilentServer: Sendable {
    let port: Int
    private let listener: Int32
    private let received = Atomic<Int>(0)
    var batchLinesReceived: Int { received.load(ordering: .acquiring) }

    init() throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = listener
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                Thread.detachNewThread {
                    var text = ""
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    var answered = false
                    while true {
                        let n = read(client, &buffer, buffer.count)
                        if n <= 0 { break }
                        text += String(decoding: buffer[0..<n], as: UTF8.self)
                        while let newline = text.firstIndex(of: "\n") {
                            let line = text[..<newline]
                            text = String(text[text.index(after: newline)...])
                            if !answered {
                                answered = true
                                let hello = #"{"hello":"meetmeter","version":1,"host":"silent"}"# + "\n"
                                _ = hello.withCString { write(client, $0, strlen($0)) }
                            } else if !line.isEmpty {
                                self.received.add(1, ordering: .releasing)
                            }
                        }
                    }
                    close(client)
                }
            }
        }
    }

    func stop() { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
}
