import Aggregation
import RecordStorage
import Collector
import Delivery
import LogLines
import LogParsers
import LogSources
import Workloads
import Foundation
import Testing
import TestThreads
import UsageRecords

/// Issue 5: connections cut mid-batch again and again, while a hostile client sends garbage,
/// huge lines, wrong tokens and records for another host. The real agent's records all arrive,
/// once; the hostile client stores nothing.
@Suite(.serialized) struct HostilePeerTests {
    @Test func cutConnectionsAndHostilePeersLoseAndDoubleNothing() async throws {
        let users = 2000
        let setup = try DeliveryFaultTests.Setup(name: "hostile", users: users)
        defer { try? FileManager.default.removeItem(atPath: setup.dir) }
        let aggregator = try await setup.startAggregator()
        defer { aggregator.stop() }
        let proxy = try CuttingProxy(upstream: setup.port, cuts: 12)
        defer { proxy.stop() }
        // The agent talks to the proxy.
        let config = try String(contentsOfFile: setup.agentConfig, encoding: .utf8)
            .replacingOccurrences(of: "address = \"127.0.0.1:\(setup.port)\"", with: "address = \"127.0.0.1:\(proxy.port)\"")
        try config.write(toFile: setup.agentConfig, atomically: true, encoding: .utf8)

        let hostile = Task { try await onOwnThread { try HostileClient.attack(port: setup.port) } }
        let r = try await run(Paths.binary("meetmeter-agent"), ["--config", setup.agentConfig, "--drain"], timeout: 300)
        #expect(r.status == 0, "\(r.err)")
        let answers = try await hostile.value

        #expect(proxy.cutsMade.load(ordering: .relaxed) >= 1, "the proxy cut connections")
        let ids = try await setup.storedIDs()
        #expect(ids.count == 2 * users + 2, "every record once")
        #expect(Set(ids).count == ids.count, "no id twice")
        #expect(try await SQLiteRecordStore(path: setup.database).count() == 2 * users + 2, "nothing from the hostile client")
        // Each hostile attempt got a refusal it can read.
        #expect(answers.garbage.contains("\"fatal\":\"garbage\""), "\(answers.garbage)")
        #expect(answers.huge.contains("\"fatal\":\"too-long\""), "\(answers.huge)")
        #expect(answers.wrongToken.contains("\"fatal\":\"auth\""), "\(answers.wrongToken)")
        #expect(answers.spoofed.contains("host-mismatch"), "\(answers.spoofed)")
    }
}

/// A raw TCP client that misbehaves in every way the protocol answers.
enum HostileClient {
    struct Answers: Sendable {
        var garbage = "", huge = "", wrongToken = "", spoofed = ""
    }

    static func attack(port: Int) throws -> Answers {
        var a = Answers()
        for round in 0..<3 {
            let hello = #"{"hello":"meetmeter","version":1,"host":"bbb-fault","token":"fault-test-token-0123456789"}"#
            let garbage = (0..<20).map { "this is not json \($0)" }.joined(separator: "\n")
            a.garbage = try exchange(port, hello + "\n" + garbage + "\n")
            a.huge = try exchange(port, hello + "\n" + String(repeating: "x", count: 300_000) + "\n")
            a.wrongToken = try exchange(port, #"{"hello":"meetmeter","version":1,"host":"bbb-fault","token":"wrong-token-\#(round)-0000000000"}"# + "\n")
            let spoofed = #"{"id":"other:evil:\#(round)","kind":"meeting.ended","time":"2026-11-22T10:15:00Z","host":"other","meeting":"m1"}"#
            a.spoofed = try exchange(port, hello + "\n" + spoofed + "\n")
        }
        return a
    }

    /// Sends `text`, half-closes, and returns all that came back.
    static func exchange(_ port: Int, _ text: String) throws -> String {
        let fd = try connectLoopback(port: port, receiveTimeout: 10)
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }  // the aggregator may close on us mid-way (a huge line): fine
            sent += n
        }
        shutdown(fd, Int32(SHUT_WR))
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
