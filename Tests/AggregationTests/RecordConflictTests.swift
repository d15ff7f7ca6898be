import Aggregation
import RecordStorage
import Testing
import UsageRecords

/// Issue 20, item 3 in the store and over real TCP: ids bound to hosts, and the same id with
/// other content counted and kept, never dropped in silence.
@Suite(.timeLimit(.minutes(2))) struct RecordConflictTests {
    let received = Timestamp(rfc3339: "2026-11-22T12:00:00Z")!

    @Test func anIdenticalResendIsADuplicateAndAnotherContentAConflict() async throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let store = try SQLiteRecordStore(path: folder.database)
        let first = Sample.joined(1)
        var other = first
        other.payload = .userJoined(UserJoined(meeting: "m1", user: "someone-else", role: "MODERATOR", client: "HTML5"))
        var third = first
        third.extra = ["note": .string("a newer agent's field")]

        #expect(try await store.commit([first], receivedAt: received) == [.stored])
        #expect(try await store.commit([first], receivedAt: received.adding(seconds: 1)) == [.duplicate])
        #expect(try await store.commit([other, first, third], receivedAt: received.adding(seconds: 2)) == [.conflict, .duplicate, .conflict])
        #expect(try await store.commit([other], receivedAt: received.adding(seconds: 3)) == [.conflict])
        // The wire statuses stay as they were: duplicates.
        #expect(try await store.store([other], receivedAt: received.adding(seconds: 4)) == [.duplicate])
        // Within one batch too: the second copy of a new id, with other content.
        let fresh = Sample.joined(2)
        var freshOther = fresh
        freshOther.time = fresh.time.adding(seconds: 1)
        #expect(try await store.commit([fresh, freshOther], receivedAt: received) == [.stored, .conflict])

        // The held records are the first copies, unchanged.
        #expect(try await store.count() == 2)
        #expect(try await store.records(from: Sample.t0, to: Sample.t0.adding(seconds: 60)) == [first, fresh])
        // Three distinct conflicting copies, five arrivals.
        let counts = try await store.conflictCounts()
        #expect(counts.distinct == 3)
        #expect(counts.arrivals == 5)
        let kept = try await store.conflicts(from: Sample.t0, to: Sample.t0.adding(seconds: 60))
        #expect(kept.count == 3)
        let byLine = Dictionary(uniqueKeysWithValues: kept.map { ($0.line, $0) })
        let o = try #require(byLine[RecordCodec.encode(other)])
        #expect(o.id == first.id.rawValue)
        #expect(o.host == "bbb1")
        #expect(o.count == 3)
        #expect(o.firstReceived == received.adding(seconds: 2))
        #expect(o.lastReceived == received.adding(seconds: 4))
        #expect(byLine[RecordCodec.encode(third)]?.count == 1)
        #expect(byLine[RecordCodec.encode(freshOther)]?.id == fresh.id.rawValue)
        #expect(try await store.conflicts(limit: 1).map(\.line) == [RecordCodec.encode(other)], "latest arrival first")

        // Kept across a reopening, and readable by a read-only store (meetmeter records --conflicts).
        try store.close()
        let reader = try SQLiteRecordStore(path: folder.database, readOnly: true)
        #expect(try await reader.conflictCounts().arrivals == 5)
    }

    /// The case: h1 sends heartbeats with h2's ids; then h2 sends its own. Before, h1's
    /// were stored and all of h2's answered "duplicate" and lost.
    @Test func aHostCannotTakeAnotherHostsIds() async throws {
        let tokens = ["h1": "0123456789abcdef1", "h2": "0123456789abcdef2"]
        try await withListener(tokens: tokens) { port, store in
            let forged = (0..<20).map { RecordIntegrityTests.heartbeat(host: "h1", claiming: "h2", slot: Int64($0)) }
            let real = (0..<20).map { RecordIntegrityTests.heartbeat(host: "h2", claiming: "h2", slot: Int64($0)) }
            #expect(forged.map(\.id) == real.map(\.id), "the forged ids are exactly h2's")
            let forgedAcks = try await LineClient.connect(port: port) { c in
                _ = try await c.hello(host: "h1", token: tokens["h1"])
                try await c.send(forged.map(RecordCodec.encode))
                var acks: [WireProtocol.Ack] = []
                for _ in forged { acks.append(try #require(try await c.ack())) }
                return acks
            }
            #expect(forgedAcks.filter { $0.status == .refused && $0.code == "id-namespace" }.count == 20)
            #expect(try await store.count() == 0)
            let realAcks = try await LineClient.connect(port: port) { c in
                _ = try await c.hello(host: "h2", token: tokens["h2"])
                try await c.send(real.map(RecordCodec.encode))
                var acks: [WireProtocol.Ack] = []
                for _ in real { acks.append(try #require(try await c.ack())) }
                return acks
            }
            #expect(realAcks.map(\.status) == Array(repeating: .stored, count: 20))
            #expect(try await store.count() == 20)
            #expect(try await store.records(from: Timestamp(seconds: 0), to: Timestamp(seconds: 4_000_000_000)) == real)
        }
    }

    @Test func aConflictingResendOverTCPIsAnsweredAndKept() async throws {
        try await withListener { port, store in
            let r = Sample.joined(1)
            var changed = r
            changed.host = "bbb1"
            changed.payload = .userJoined(UserJoined(meeting: "m1", user: "u1", role: "MODERATOR", client: "HTML5"))
            let acks = try await LineClient.connect(port: port) { c in
                _ = try await c.hello()
                try await c.send([Sample.line(r), Sample.line(r), Sample.line(changed)])
                return [try await c.ack(), try await c.ack(), try await c.ack()]
            }
            #expect(acks.map { $0?.status } == [.stored, .duplicate, .duplicate])
            #expect(acks.map { $0?.code } == [nil, nil, "conflict"])
            let sqlite = try #require(store as? SQLiteRecordStore)
            #expect(try await sqlite.conflictCounts().arrivals == 1)
            #expect(try await sqlite.conflicts(limit: 10).map(\.line) == [Sample.line(changed)])
            #expect(try await store.count() == 1)
        }
    }
}
