@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads
import Testing
import UsageRecords

@Suite struct HeartbeatTests {
    @Test func heartbeatsAreNamedByTheirSlot() async throws {
        let dir = temporaryDirectory("heartbeat")
        defer { removeTree(dir) }
        let spool = try Spool(configuration: SpoolConfiguration(directory: dir))
        let hb = Heartbeat(host: "bbb1", interval: 60, size: "large", spool: spool)
        let t = Timestamp(rfc3339: "2026-11-22T10:15:42.5Z")!
        #expect(hb.slot(containing: t) == Timestamp(rfc3339: "2026-11-22T10:15:00Z")!)
        // Taken twice for one slot, a heartbeat is one record; the next slot is another.
        let a = hb.record(slot: hb.slot(containing: t))
        let b = hb.record(slot: hb.slot(containing: t.adding(seconds: 10)))
        let c = hb.record(slot: hb.slot(containing: t.adding(seconds: 60)))
        #expect(a.id == b.id)
        #expect(a.id != c.id)
        guard case .hostHeartbeat(let payload) = a.payload else { Issue.record("not a heartbeat"); return }
        #expect(payload.size == "large")
        #expect(payload.interval == 60)
        #expect(payload.boot.count == 32, "the kernel's boot id, as the journal writes it")
    }
}
