@testable import Aggregation
import Synchronization
import Testing
import RecordStorage
import UsageRecords

/// The listener over real TCP on 127.0.0.1 with a real SQLite file.
@Suite(.timeLimit(.minutes(1))) struct RecordListenerTests {
    let token = "0123456789abcdef0"

    @Test func recordsAreStoredThenAcknowledgedAndAResendIsADuplicate() async throws {
        try await withListener(tokens: ["bbb1": token]) { port, store in
            let records = (1...5).map { Sample.joined($0) }
            try await LineClient.connect(port: port) { c in
                #expect(try await c.hello(token: token) == .hello(WireProtocol.Hello(host: "bbb1", token: nil)))
                try await c.send(records.map(Sample.line))
                for (n, r) in records.enumerated() {
                    let ack = try #require(try await c.ack())
                    #expect(ack == WireProtocol.Ack(line: Int64(n + 1), id: r.id.rawValue, status: .stored))
                }
                // Acknowledged means committed: the store holds them now.
                #expect(try await store.count() == 5)
            }
            // A new connection resends (the agent never saw the acks, say) and gets duplicates.
            try await LineClient.connect(port: port) { c in
                _ = try await c.hello(token: token)
                try await c.send(records.map(Sample.line) + [Sample.line(Sample.joined(6))])
                var statuses: [WireProtocol.Status] = []
                for _ in 0..<6 { statuses.append(try #require(try await c.ack()).status) }
                #expect(statuses == [.duplicate, .duplicate, .duplicate, .duplicate, .duplicate, .stored])
            }
            #expect(try await store.count() == 6)
            let stored = try await store.records(from: Sample.t0, to: Sample.t0.adding(seconds: 60))
            #expect(stored == records + [Sample.joined(6)])
        }
    }

    @Test func aBadLineIsRefusedWithItsReasonAndTheNextIsStored() async throws {
        try await withListener { port, store in
            try await LineClient.connect(port: port) { c in
                _ = try await c.hello()
                try await c.send([
                    #"{"id":"bbb1:1","kind":"user.joined","time":"2026-11-22T10:00:00Z","host":"bbb1","meeting":"m1","user":"u1"}"#,
                    #"{"id":"bbb1:2","kind":"user.joined",,}"#,
                    #"{"id":"bbb1:3","kind":"user.left","time":"yesterday","host":"bbb1","meeting":"m1","user":"u1"}"#,
                    Sample.line(Sample.joined(1)),
                ])
                let missing = try #require(try await c.ack())
                #expect(missing.status == .refused)
                #expect(missing.code == "missing-field")
                #expect(missing.error == "field 'role': is missing")
                let notJSON = try #require(try await c.ack())
                #expect(notJSON.code == "not-json")
                let badTime = try #require(try await c.ack())
                #expect(badTime.code == "invalid-time")
                #expect(badTime.error?.hasPrefix("field 'time'") == true)
                let good = try #require(try await c.ack())
                #expect(good == WireProtocol.Ack(line: 4, id: Sample.joined(1).id.rawValue, status: .stored))
            }
            #expect(try await store.count() == 1)
        }
    }

    @Test func aWrongTokenGetsAFatalMessageAndTheConnectionCloses() async throws {
        try await withListener(tokens: ["bbb1": token]) { port, store in
            try await LineClient.connect(port: port) { c in
                let reply = try await c.hello(token: "0123456789abcdefX")
                #expect(reply == .fatal(WireProtocol.Fatal(code: "auth", error: "wrong token for host bbb1")))
                try? await c.send([Sample.line(Sample.joined(1))])
                #expect(try await c.readLine() == nil, "closed after the fatal message")
            }
            #expect(try await store.count() == 0)
        }
    }

    @Test func recordsBeforeAHelloAreNotStored() async throws {
        try await withListener { port, store in
            try await LineClient.connect(port: port) { c in
                try await c.send([Sample.line(Sample.joined(1))])
                guard case .fatal(let fatal) = try await c.reply() else {
                    Issue.record("no fatal message")
                    return
                }
                #expect(fatal.code == "hello")
                #expect(try await c.readLine() == nil)
            }
            #expect(try await store.count() == 0)
        }
    }

    @Test func aRecordForAnotherHostIsRefused() async throws {
        try await withListener(tokens: ["bbb1": token, "bbb2": "fedcba98765432100"]) { port, store in
            try await LineClient.connect(port: port) { c in
                _ = try await c.hello(token: token)
                try await c.send([Sample.line(Sample.joined(1, host: "bbb2")), Sample.line(Sample.joined(2))])
                let spoofed = try #require(try await c.ack())
                #expect(spoofed.status == .refused)
                #expect(spoofed.code == "host-mismatch")
                #expect(spoofed.id == Sample.joined(1, host: "bbb2").id.rawValue)
                #expect(try await c.ack()?.status == .stored)
            }
            #expect(try await store.count() == 1)
        }
    }

    @Test func anOversizedLineEndsOnlyItsOwnConnection() async throws {
        try await withListener(maxLineBytes: 4096) { port, store in
            try await LineClient.connect(port: port) { good in
                _ = try await good.hello()
                try await LineClient.connect(port: port) { bad in
                    _ = try await bad.hello(host: "bbb1")
                    try await bad.send([Sample.line(Sample.joined(1)), String(repeating: "x", count: 100_000)])
                    #expect(try await bad.ack()?.status == .stored, "the line before the long one is committed")
                    guard case .fatal(let fatal) = try await bad.reply() else {
                        Issue.record("no fatal message")
                        return
                    }
                    #expect(fatal.code == "too-long")
                    #expect(try await bad.readLine() == nil)
                }
                try await good.send([Sample.line(Sample.joined(2))])
                #expect(try await good.ack()?.status == .stored)
            }
            #expect(try await store.count() == 2)
        }
    }

    @Test func manyAgentsAtOnce() async throws {
        try await withListener { port, store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for agent in 0..<16 {
                    group.addTask {
                        // 80 fsynced commits through one writer: slow when the disk is busy.
                        try await LineClient.connect(port: port, limit: .seconds(180)) { c in
                            let host = "bbb\(agent)"
                            _ = try await c.hello(host: host)
                            for round in 0..<5 {
                                let records = (0..<20).map { Sample.joined(round * 20 + $0, host: host) }
                                try await c.send(records.map(Sample.line))
                                for r in records { #expect(try await c.ack()?.id == r.id.rawValue) }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.count() == 16 * 100)
            #expect(try await store.hostHealth().count == 16)
        }
    }

    @Test func aLastLineWithoutNewlineIsAnsweredAfterTheAgentHalfCloses() async throws {
        try await withListener { port, store in
            try await LineClient.connect(port: port) { c in
                _ = try await c.hello()
                try await c.sendRaw(Array(Sample.line(Sample.joined(1)).utf8))
                c.finish()
                #expect(try await c.ack()?.status == .stored)
                #expect(try await c.readLine() == nil)
            }
            #expect(try await store.count() == 1)
        }
    }

    @Test func aFailedCommitAcknowledgesNothing() async throws {
        try await withListener(store: FailingStore()) { port, _ in
            try await LineClient.connect(port: port) { c in
                _ = try await c.hello()
                try await c.send([Sample.line(Sample.joined(1))])
                #expect(try await c.reply() == .fatal(WireProtocol.Fatal(
                    code: "unavailable", error: "the aggregator cannot commit records now; send them again later")))
                #expect(try await c.readLine() == nil)
            }
        }
    }

    @Test func shutdownEndsOpenConnectionsAndRun() async throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let store = try SQLiteRecordStore(path: folder.database)
        let listener = RecordListener(
            configuration: ListenerConfiguration(host: "127.0.0.1", port: 0), store: store, logger: testLogger)
        let port = try await listener.start()
        #expect(port > 0)
        #expect(try await listener.start() == port)
        let running = Task { try await listener.run() }
        try await LineClient.connect(port: port) { c in
            _ = try await c.hello()
            try await c.send([Sample.line(Sample.joined(1))])
            #expect(try await c.ack()?.status == .stored)
            await listener.shutdown()
            #expect(try await c.readLine() == nil, "the listener closes idle connections on shutdown")
        }
        try await running.value
        #expect(try await store.count() == 1)
    }

    @Test func aPortInUseIsNamedAndCancellationStopsRun() async throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let store = try SQLiteRecordStore(path: folder.database)
        let first = RecordListener(configuration: ListenerConfiguration(host: "127.0.0.1", port: 0), store: store, logger: testLogger)
        let port = try await first.start()
        let running = Task { try await first.run() }
        let second = RecordListener(configuration: ListenerConfiguration(host: "127.0.0.1", port: port), store: store, logger: testLogger)
        do {
            _ = try await second.start()
            Issue.record("bound a port in use")
        } catch {
            #expect("\(error)".hasPrefix("cannot listen on 127.0.0.1:\(port): "), "\(error)")
        }
        running.cancel()
        try await running.value
    }
    @Test func acknowledgementsWaitForTheCommit() async throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        let gated = GatedStore(inner: try SQLiteRecordStore(path: folder.database))
        try await withListener(store: gated) { port, _ in
            try await LineClient.connect(port: port) { c in
                _ = try await c.hello()
                try await c.send([Sample.line(Sample.joined(1))])
                await gated.waitUntilCalled()
                // The commit is held for a while; the answer must wait for it.
                let opener = Task {
                    try await Task.sleep(for: .milliseconds(300))
                    gated.open()
                }
                #expect(try await c.ack()?.status == .stored)
                #expect(gated.commits == 1, "answered before the commit returned")
                try await opener.value
            }
        }
    }

    /// Issue 20, item 4: closed after the hello deadline with a line saying why (it used to be
    /// closed without a word).
    @Test func anAgentThatNeverSaysHelloIsDisconnected() async throws {
        try await withListener(helloTimeout: .milliseconds(200)) { port, _ in
            let (reply, end) = try await LineClient.connect(port: port) { c in (try await c.reply(), try await c.readLine()) }
            #expect(reply == .fatal(WireProtocol.Fatal(code: "timeout", error: "no valid hello within 200 ms of connecting")))
            #expect(end == nil, "then closed")
        }
    }

    /// Issue 20, item 4: past the limits on connections without a hello, each new connection
    /// closes the oldest waiting one (`busy`); the agent, which says hello at once, gets in and
    /// is never closed to make room; the last idle one is closed at its deadline (`timeout`).
    @Test func idlePeersMakeRoomAndTheAgentGetsIn() async throws {
        // A deadline long enough that a loaded machine (CI, 2 cores) still gets the agent's hello in.
        let limits = ConnectionLimits(helloTimeout: .seconds(8), maxUnauthenticated: 2, maxUnauthenticatedPerAddress: 2, maxConnections: 10)
        try await withListener(tokens: ["bbb1": token], connections: limits) { port, store, listener in
            let codes = try await LineClient.connect(port: port) { a in
                try await LineClient.connect(port: port) { b in
                    try await LineClient.connect(port: port) { c in
                        // Let the listener admit the idle ones before the agent comes (which
                        // one is closed first does not matter; only that the agent is newest).
                        let admitted = ContinuousClock.now + .seconds(20)
                        while listener.gate.admittedCount < 3, ContinuousClock.now < admitted {
                            try await Task.sleep(for: .milliseconds(10))
                        }
                        #expect(listener.gate.admittedCount == 3)
                        return try await LineClient.connect(port: port) { agent in
                            #expect(try await agent.hello(token: token) == .hello(WireProtocol.Hello(host: "bbb1", token: nil)))
                            try await agent.send([Sample.line(Sample.joined(1))])
                            #expect(try await agent.ack()?.status == .stored)
                            // Two idle peers have been closed to make room; the agent stays.
                            var codes: [String] = []
                            for idle in [0, 1, 2] {
                                let reply: WireProtocol.Reply?
                                switch idle {
                                case 0: reply = try await a.reply()
                                case 1: reply = try await b.reply()
                                default: reply = try await c.reply()
                                }
                                if case .fatal(let f) = reply { codes.append(f.code) } else { codes.append("\(String(describing: reply))") }
                            }
                            try await agent.send([Sample.line(Sample.joined(2))])
                            #expect(try await agent.ack()?.status == .stored, "the agent was not closed to make room")
                            return codes
                        }
                    }
                }
            }
            #expect(codes.sorted() == ["busy", "busy", "timeout"])
            #expect(try await store.count() == 2)
        }
    }

    @Test func tooManyUndecodableLinesEndTheConnection() async throws {
        try await withListener(maxBadLines: 3) { port, _ in
            try await LineClient.connect(port: port) { c in
                _ = try await c.hello()
                try await c.send(["GET / HTTP/1.1", "Host: x", "", "Accept: */*", "User-Agent: y"])
                for _ in 0..<4 { #expect(try await c.ack()?.status == .refused) }
                guard case .fatal(let fatal) = try await c.reply() else {
                    Issue.record("no fatal message")
                    return
                }
                #expect(fatal.code == "garbage")
                #expect(try await c.readLine() == nil)
            }
        }
    }
}

/// A store whose disk is gone.
struct FailingStore: RecordWriter {
    struct Failure: Error {}
    func store(_ records: [UsageRecord], receivedAt: Timestamp) async throws -> [WireProtocol.Status] { throw Failure() }
    func records(from: Timestamp, to: Timestamp) async throws -> [UsageRecord] { [] }
    func records(overlapping from: Timestamp, to: Timestamp) async throws -> [UsageRecord] { [] }
    func count() async throws -> Int { 0 }
    func hostHealth() async throws -> [HostHealth] { [] }
}

/// A store whose commits wait until the test opens the gate, to show that no answer leaves
/// before its commit has returned.
final class GatedStore: RecordWriter {
    let inner: SQLiteRecordStore
    private let gate = AsyncGate()
    private let called = AsyncGate()
    init(inner: SQLiteRecordStore) { self.inner = inner }

    func waitUntilCalled() async { await called.wait() }
    func open() { gate.open() }
    private let committed = Mutex(0)
    /// Commits that have returned.
    var commits: Int { committed.withLock { $0 } }

    func store(_ records: [UsageRecord], receivedAt: Timestamp) async throws -> [WireProtocol.Status] {
        called.open()
        await gate.wait()
        let statuses = try await inner.store(records, receivedAt: receivedAt)
        committed.withLock { $0 += 1 }
        return statuses
    }
    func records(from: Timestamp, to: Timestamp) async throws -> [UsageRecord] { try await inner.records(from: from, to: to) }
    func records(overlapping from: Timestamp, to: Timestamp) async throws -> [UsageRecord] {
        try await inner.records(overlapping: from, to: to)
    }
    func count() async throws -> Int { try await inner.count() }
    func hostHealth() async throws -> [HostHealth] { try await inner.hostHealth() }
}

/// A one-shot latch for tests.
final class AsyncGate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = state.withLock { s in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s in
                if s.open { return true }
                s.waiters.append(c)
                return false
            }
            if ready { c.resume() }
        }
    }
}
