import Aggregation
import RecordStorage
import Testing
import UsageRecords

@Suite struct SQLiteRecordStoreTests {
    let received = Timestamp(rfc3339: "2026-11-22T12:00:00Z")!

    @Test func theSameIdTwiceIsStoredOnce() async throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let store = try SQLiteRecordStore(path: folder.database)
        let r = Sample.joined(1)
        #expect(try await store.store([r], receivedAt: received) == [.stored])
        #expect(try await store.store([r], receivedAt: received.adding(seconds: 5)) == [.duplicate])
        #expect(try await store.count() == 1)
        // The first copy is the one kept, with the time it was first received.
        let health = try await store.hostHealth()
        #expect(health.map(\.lastReceived) == [received])
    }

    @Test func aBatchMixesNewAndDuplicate() async throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let store = try SQLiteRecordStore(path: folder.database)
        _ = try await store.store([Sample.joined(1), Sample.joined(3)], receivedAt: received)
        let statuses = try await store.store(
            [Sample.joined(1), Sample.joined(2), Sample.joined(3), Sample.joined(4), Sample.joined(2)], receivedAt: received)
        #expect(statuses == [.duplicate, .stored, .duplicate, .stored, .duplicate])
        #expect(try await store.count() == 4)
        #expect(try await store.store([], receivedAt: received) == [])
    }

    @Test func reopeningTheFileFindsTheRecordsUnchanged() async throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        var meta: [String: JSONValue] = ["account": .string("acme"), "price": .number("1.50")]
        meta["nested"] = .object(["b": .bool(true), "a": .null])
        let started = Sample.record(
            "bbb1:test:start", .meetingStarted(MeetingStarted(meeting: "m1", external: "room-1", name: "Maths", meta: meta)), at: 0)
        var unknown = Sample.record("bbb1:test:poll", .other("poll.started"), at: 30)
        unknown.extra = ["meeting": .string("m1"), "question": .string("Tea or coffee?"), "options": .array([.string("tea"), .string("coffee")])]
        let records = [started, Sample.joined(1, at: 10), unknown]
        do {
            let store = try SQLiteRecordStore(path: folder.database)
            #expect(try store.synchronousMode() == 2, "synchronous = FULL, so an acknowledged commit survives power loss")
            _ = try await store.store(records, receivedAt: received)
            try store.close()
        }
        let reopened = try SQLiteRecordStore(path: folder.database)
        #expect(try reopened.synchronousMode() == 2)
        #expect(try await reopened.count() == 3)
        let back = try await reopened.records(from: Sample.t0, to: Sample.t0.adding(seconds: 3600))
        #expect(back == records)
        #expect(back.map(RecordCodec.encode) == records.map(RecordCodec.encode))
        // An unknown kind naming a meeting is found with that meeting.
        #expect(try await reopened.records(meetings: ["m1"]).count == 3)
        #expect(try await reopened.store([unknown], receivedAt: received) == [.duplicate])
    }

    @Test func concurrentWritersKeepEachIdOnce() async throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let store = try SQLiteRecordStore(path: folder.database)
        let received = self.received
        // Eight writers, each sending ids 0..<200 in its own order and batch size: every id is
        // stored exactly once and reported as stored exactly once.
        let storedCounts = try await withThrowingTaskGroup(of: [Int: Int].self) { group in
            for writer in 0..<8 {
                group.addTask {
                    var ids = Array(0..<200)
                    ids.shuffle()
                    var stored: [Int: Int] = [:]
                    let batch = 1 + writer * 7
                    for start in stride(from: 0, to: ids.count, by: batch) {
                        let slice = Array(ids[start..<min(start + batch, ids.count)])
                        let statuses = try await store.store(slice.map { Sample.joined($0) }, receivedAt: received)
                        for (id, status) in zip(slice, statuses) where status == .stored { stored[id, default: 0] += 1 }
                    }
                    return stored
                }
            }
            var total: [Int: Int] = [:]
            for try await part in group { total.merge(part, uniquingKeysWith: +) }
            return total
        }
        #expect(storedCounts.count == 200)
        #expect(storedCounts.values.allSatisfy { $0 == 1 })
        #expect(try await store.count() == 200)
    }

    @Test func rangesAreHalfOpenOnSourceTime() async throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let store = try SQLiteRecordStore(path: folder.database)
        _ = try await store.store([Sample.joined(1, at: 0), Sample.joined(2, at: 60), Sample.joined(3, at: 120)], receivedAt: received)
        let got = try await store.records(from: Sample.t0.adding(seconds: 60), to: Sample.t0.adding(seconds: 120))
        #expect(got.map(\.id.rawValue) == ["bbb1:test:m1:2"])
        #expect(try await store.records(from: Sample.t0, to: Sample.t0).isEmpty)
    }

    @Test func overlappingBringsWholeMeetingsAndTheRangesOtherRecords() async throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let store = try SQLiteRecordStore(path: folder.database)
        let hour: Int64 = 3600
        let records = [
            // m1 starts before the range and has a join inside it.
            Sample.record("a1", .meetingStarted(MeetingStarted(meeting: "m1")), at: 0),
            Sample.record("a2", .userJoined(UserJoined(meeting: "m1", user: "u", role: "MODERATOR")), at: 2 * hour),
            Sample.record("a3", .meetingEnded(MeetingEnded(meeting: "m1")), at: 5 * hour),
            // m2 spans the range with no record inside it.
            Sample.record("b1", .meetingStarted(MeetingStarted(meeting: "m2")), at: hour / 2),
            Sample.record("b2", .meetingEnded(MeetingEnded(meeting: "m2")), at: 4 * hour),
            // m3 started before the range and has not ended.
            Sample.record("c1", .meetingStarted(MeetingStarted(meeting: "m3")), at: hour / 4),
            // m4 is over before the range; m5 starts after it.
            Sample.record("d1", .meetingStarted(MeetingStarted(meeting: "m4")), at: 0),
            Sample.record("d2", .meetingEnded(MeetingEnded(meeting: "m4")), at: hour / 2),
            Sample.record("e1", .meetingStarted(MeetingStarted(meeting: "m5")), at: 3 * hour),
            // A heartbeat inside the range and one outside.
            Sample.record("h1", .hostHeartbeat(HostHeartbeat(boot: "b", size: "large", interval: 60)), at: hour + 60),
            Sample.record("h2", .hostHeartbeat(HostHeartbeat(boot: "b", size: "large", interval: 60)), at: 3 * hour),
            // Before the range: this host's heartbeat since its meetings' start comes too (it may
            // be the last sign of life that closes m3); another host's does not.
            Sample.record("h0", .hostHeartbeat(HostHeartbeat(boot: "b", size: "large", interval: 60)), at: hour / 3),
            Sample.record("h9", .hostHeartbeat(HostHeartbeat(boot: "b", size: "large", interval: 60)), host: "bbb9", at: hour / 3),
        ]
        _ = try await store.store(records, receivedAt: received)
        let got = try await store.records(overlapping: Sample.t0.adding(seconds: hour), to: Sample.t0.adding(seconds: 3 * hour))
        #expect(got.map(\.id.rawValue) == ["a1", "c1", "h0", "b1", "h1", "a2", "b2", "a3"])
    }

    @Test func hostHealthPerHost() async throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let store = try SQLiteRecordStore(path: folder.database)
        _ = try await store.store([Sample.joined(1, host: "bbb2", at: 10), Sample.joined(2, host: "bbb2", at: 20)], receivedAt: received)
        _ = try await store.store(
            [Sample.record("bbb1:hb", .hostHeartbeat(HostHeartbeat(boot: "x", size: "s", interval: 60)), host: "bbb1", at: 5)],
            receivedAt: received.adding(seconds: 1))
        let health = try await store.hostHealth()
        #expect(health.map(\.host) == ["bbb1", "bbb2"])
        #expect(health[0].lastHeartbeat == Sample.t0.adding(seconds: 5))
        #expect(health[0].lastReceived == received.adding(seconds: 1))
        #expect(health[1].lastHeartbeat == nil)
        #expect(health[1].recordCount == 2)
        #expect(health[1].lastRecordTime == Sample.t0.adding(seconds: 20))
        #expect(health[1].lagMicroseconds == received.microseconds(since: Sample.t0.adding(seconds: 20)))
    }

    @Test func anOpenErrorNamesTheFile() throws {
        let path = "/nonexistent-meetmeter-folder/records.sqlite"
        do {
            _ = try SQLiteRecordStore(path: path)
            Issue.record("opened \(path)")
        } catch {
            #expect(error.code == .cannotOpen)
            #expect("\(error)".hasPrefix(path + ": cannot open the database"), "\(error)")
        }
    }

    @Test func aReadOnlyStoreReadsBesideAWriter() async throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let writer = try SQLiteRecordStore(path: folder.database)
        _ = try await writer.store([Sample.joined(1)], receivedAt: received)
        let reader = try SQLiteRecordStore(path: folder.database, readOnly: true)
        #expect(try await reader.count() == 1)
        _ = try await writer.store([Sample.joined(2)], receivedAt: received)
        #expect(try await reader.count() == 2)
        await #expect(throws: StoreError.self) { try await reader.store([Sample.joined(3)], receivedAt: received) }
        // And after the aggregator has closed (and SQLite removed the -wal and -shm files).
        try reader.close()
        try writer.close()
        let later = try SQLiteRecordStore(path: folder.database, readOnly: true)
        #expect(try await later.count() == 2)
    }

    @Test func meetingsOverlappingAPeriodWithTheirFacts() async throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let store = try SQLiteRecordStore(path: folder.database)
        let records = [
            Sample.record("s1", .meetingStarted(MeetingStarted(
                meeting: "m1", external: "room-1", name: "Maths", meta: ["account": .string("acme")])), at: 0),
            Sample.record("j1", .userJoined(UserJoined(meeting: "m1", user: "u1", role: "MODERATOR")), at: 10),
            Sample.record("j2", .userJoined(UserJoined(meeting: "m1", user: "u2", role: "VIEWER")), at: 20),
            Sample.record("j3", .userJoined(UserJoined(meeting: "m1", user: "u1", role: "MODERATOR")), at: 30),
            Sample.record("b1", .meetingStarted(MeetingStarted(meeting: "m1-b1", parent: "m1")), at: 40),
            Sample.record("e1", .meetingEnded(MeetingEnded(meeting: "m1")), at: 600),
            Sample.record("e2", .meetingEnded(MeetingEnded(meeting: "m1")), at: 700),
            Sample.record("h1", .hostHeartbeat(HostHeartbeat(boot: "b", size: "s", interval: 60)), at: 50),
        ]
        _ = try await store.store(records, receivedAt: received)
        let meetings = try await store.meetings(overlapping: Sample.t0, to: Sample.t0.adding(seconds: 3600))
        #expect(meetings.map(\.meeting) == ["m1", "m1-b1"])
        let m1 = meetings[0]
        #expect(m1.started == Sample.t0)
        #expect(m1.ended == Sample.t0.adding(seconds: 600), "the first end counts; a second is no change")
        #expect(m1.lastRecord == Sample.t0.adding(seconds: 700))
        #expect(m1.external == "room-1")
        #expect(m1.name == "Maths")
        #expect(m1.meta == ["account": .string("acme")])
        #expect(m1.participants == 2)
        #expect(m1.recordCount == 6)
        #expect(meetings[1].parent == "m1")
        #expect(meetings[1].ended == nil)
    }

    @Test func storedRecordsCarryBothTimes() async throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let store = try SQLiteRecordStore(path: folder.database)
        _ = try await store.store([Sample.joined(1, at: 0)], receivedAt: received)
        _ = try await store.store([Sample.joined(2, at: 10)], receivedAt: received.adding(seconds: 3600))
        let all = try await store.storedRecords(from: Sample.t0, to: Sample.t0.adding(seconds: 60))
        #expect(all == [
            StoredRecord(record: Sample.joined(1, at: 0), receivedAt: received),
            StoredRecord(record: Sample.joined(2, at: 10), receivedAt: received.adding(seconds: 3600)),
        ])
        let late = try await store.storedRecords(receivedFrom: received.adding(seconds: 1), to: received.adding(seconds: 7200))
        #expect(late.map(\.record.id.rawValue) == ["bbb1:test:m1:2"])
    }

}
