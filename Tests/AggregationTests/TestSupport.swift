import Aggregation
import RecordStorage
import Glibc
import Logging
import NIOCore
import NIOPosix
import UsageRecords

/// A fresh folder under /tmp, removed by `remove()`.
struct TemporaryFolder {
    let path: String

    init() {
        var template = Array("/tmp/meetmeter-aggregation-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: template)
    }

    var database: String { path + "/records.sqlite" }

    func remove() {
        for suffix in ["", "-wal", "-shm"] { unlink(database + suffix) }
        rmdir(path)
    }
}

/// Records as an agent on `host` would make them.
enum Sample {
    static let t0 = Timestamp(rfc3339: "2026-11-22T10:00:00Z")!

    static func joined(_ n: Int, host: String = "bbb1", meeting: String = "m1", at seconds: Int64 = 0) -> UsageRecord {
        UsageRecord(
            id: RecordID(rawValue: "\(host):test:\(meeting):\(n)"), time: t0.adding(seconds: seconds), host: host,
            payload: .userJoined(UserJoined(meeting: meeting, user: "u\(n)", role: "VIEWER", client: "HTML5")))
    }

    static func record(_ id: String, _ payload: Payload, host: String = "bbb1", at seconds: Int64) -> UsageRecord {
        UsageRecord(id: RecordID(rawValue: id), time: t0.adding(seconds: seconds), host: host, payload: payload)
    }

    static func line(_ record: UsageRecord) -> String { RecordCodec.encode(record) }
}

let testLogger: Logger = {
    var logger = Logger(label: "meetmeter.aggregation.tests")
    logger.logLevel = .critical
    return logger
}()

/// A listener on 127.0.0.1 and a free port over a real SQLite file, stopped and removed after `body`.
func withListener<T>(
    tokens: [String: String] = [:], allowUnauthenticated: Bool? = nil, maxLineBytes: Int = RecordCodec.maximumLineBytes,
    maxBadLines: Int = 10, helloTimeout: Duration = .seconds(30), connections: ConnectionLimits? = nil,
    store: (any RecordWriter)? = nil, _ body: (_ port: Int, _ store: any RecordStore) async throws -> T
) async throws -> T {
    try await withListener(tokens: tokens, allowUnauthenticated: allowUnauthenticated, maxLineBytes: maxLineBytes,
                           maxBadLines: maxBadLines, helloTimeout: helloTimeout, connections: connections, store: store) { port, store, _ in
        try await body(port, store)
    }
}

/// As above, with the listener itself for tests that wait on its state.
func withListener<T>(
    tokens: [String: String] = [:], allowUnauthenticated: Bool? = nil, maxLineBytes: Int = RecordCodec.maximumLineBytes,
    maxBadLines: Int = 10, helloTimeout: Duration = .seconds(30), connections: ConnectionLimits? = nil,
    store: (any RecordWriter)? = nil, _ body: (_ port: Int, _ store: any RecordStore, _ listener: RecordListener) async throws -> T
) async throws -> T {
    let folder = TemporaryFolder()
    defer { folder.remove() }
    let sqlite = try SQLiteRecordStore(path: folder.database)
    // A test's own writer (a failing or gated one) takes the commits; the body reads the file.
    let used: any RecordWriter = store ?? sqlite
    var configuration = ListenerConfiguration(
        host: "127.0.0.1", port: 0, tokens: tokens, allowUnauthenticated: allowUnauthenticated,
        maxLineBytes: maxLineBytes, maxBadLines: maxBadLines, helloTimeout: helloTimeout)
    if let connections { configuration.connections = connections }
    let listener = RecordListener(configuration: configuration, store: used, logger: testLogger)
    let port = try await listener.start()
    let running = Task { try await listener.run() }
    do {
        let result = try await body(port, sqlite, listener)
        await listener.shutdown()
        try await running.value
        return result
    } catch {
        await listener.shutdown()
        _ = try? await running.value
        throw error
    }
}

/// A line-speaking TCP client for the tests: what an agent (or `nc`) does, with a deadline on
/// every read so that a broken listener fails a test instead of hanging it.
struct LineClient {
    typealias Channel = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let channel: any NIOCore.Channel
    var pending: [UInt8] = []

    /// `limit` bounds the whole connection, so that a hang becomes a failure; it is generous
    /// because every test runs at once on two cores.
    static func connect<T>(port: Int, limit: TimeAmount = .seconds(60), _ body: (inout LineClient) async throws -> T) async throws -> T {
        let connection = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Channel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        let raw = connection.channel
        let deadline = raw.eventLoop.scheduleTask(in: limit) { raw.close(promise: nil) }
        defer { deadline.cancel() }
        return try await connection.executeThenClose { inbound, outbound in
            var client = LineClient(outbound: outbound, inbound: inbound.makeAsyncIterator(), channel: raw)
            return try await body(&client)
        }
    }

    func send(_ lines: [String]) async throws {
        var buffer = ByteBuffer()
        for line in lines {
            buffer.writeString(line)
            buffer.writeString("\n")
        }
        try await outbound.write(buffer)
    }

    func sendRaw(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Half-closes: no more lines from this side.
    func finish() { outbound.finish() }

    /// The next line, or nil once the peer has closed.
    mutating func readLine() async throws -> String? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            guard let chunk = try await inbound.next() else { return nil }
            pending.append(contentsOf: chunk.readableBytesView)
        }
    }

    mutating func reply() async throws -> WireProtocol.Reply? {
        guard let line = try await readLine() else { return nil }
        return try WireProtocol.decodeReply(line)
    }

    mutating func ack() async throws -> WireProtocol.Ack? {
        guard case .ack(let ack) = try await reply() else { return nil }
        return ack
    }

    mutating func hello(host: String = "bbb1", token: String? = nil) async throws -> WireProtocol.Reply? {
        try await send([WireProtocol.Hello(host: host, token: token).line])
        return try await reply()
    }
}
