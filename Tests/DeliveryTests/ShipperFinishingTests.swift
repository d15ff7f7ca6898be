import Delivery
import Foundation
import Logging
import SystemCalls
import Testing
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

/// What the real shipper does when told to finish, with a real spool and no aggregator to talk
/// to: at SIGTERM it does not wait out its backoff; in drain mode it returns once the spool is
/// empty. The backoff is set far longer than the time limit, so a shipper that ignored the
/// latch would hang the test instead of passing it.
@Suite(.timeLimit(.minutes(1))) struct ShipperFinishingTests {
    let logger = Logger(label: "meetmeter.tests.shipper")

    func withSpool(_ body: (Spool) async throws -> Void) async throws {
        let dir = NSTemporaryDirectory() + "meetmeter-shipper-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await body(try Spool(configuration: SpoolConfiguration(directory: dir), logger: logger))
    }

    /// A loopback port nobody listens on: connections to it are refused at once.
    func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func shipper(_ spool: Spool) throws -> Shipper {
        var c = ShipperConfiguration(host: "127.0.0.1", port: try closedPort(), agentHost: "bbb1", token: nil)
        c.initialBackoff = .seconds(600)
        c.maximumBackoff = .seconds(600)
        return Shipper(configuration: c, spool: spool, logger: logger)
    }

    static let record = UsageRecord(
        id: RecordID(rawValue: "bbb1:test:m1:1"), time: Timestamp(rfc3339: "2026-11-22T10:00:00Z")!, host: "bbb1",
        payload: .userJoined(UserJoined(meeting: "m1", user: "u1", role: "VIEWER", client: "HTML5")))

    @Test func toldToFinishWhileTheAggregatorIsAwayItStopsAndKeepsTheSpool() async throws {
        try await withSpool { spool in
            try await spool.append([Self.record])
            let shipper = try shipper(spool)
            let finish = Latch()
            let running = Task { try await shipper.run(finish: finish, finishing: .afterBatchInFlight) }
            // Its first connection is refused; it now waits out a backoff of ten minutes.
            try await Task.sleep(for: .milliseconds(200))
            finish.open()
            try await running.value
            #expect(await spool.pendingRecords == 1)
        }
    }

    @Test func inDrainModeAnEmptySpoolIsFinishedWithoutConnecting() async throws {
        try await withSpool { spool in
            let finish = Latch()
            finish.open()
            try await shipper(spool).run(finish: finish, finishing: .whenSpoolEmpty)
            #expect(await spool.pendingRecords == 0)
        }
    }
}
