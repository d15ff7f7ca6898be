import NIOCore
import RecordStorage
import UsageRecords

/// The protocol logic of one agent connection, without sockets or a store: frames in, what to
/// commit and what to answer out (postgres-nio's way: a value-type state machine that returns
/// actions). The listener drives it; the tests drive it directly.
struct AgentSession {
    enum State: Equatable {
        case awaitingHello
        case open(host: String)
        case closed
    }

    /// What to do with one batch of frames.
    struct Step {
        /// Written first, before any acknowledgement.
        var hello: WireProtocol.Hello?
        /// The lines after the hello, in order.
        var lines: [Line] = []
        /// Written after the acknowledgements; then the connection is closed.
        var fatal: WireProtocol.Fatal?

        enum Line {
            case record(line: Int64, UsageRecord)
            case refused(line: Int64, id: String?, code: String, error: String)
        }

        /// The records to commit, in order.
        var records: [UsageRecord] {
            lines.compactMap { if case .record(_, let r) = $0 { r } else { nil } }
        }

        /// One acknowledgement a line, given the store's statuses for `records` in order.
        func acks(statuses: [WireProtocol.Status]) -> [WireProtocol.Ack] {
            acks(outcomes: statuses.map(StoreOutcome.init))
        }

        /// One acknowledgement a line, given the store's outcomes for `records` in order. A
        /// conflict is answered `duplicate` (agents of every version settle it; sending it again
        /// changes nothing) with the code `conflict` and an error saying what happened.
        func acks(outcomes: [StoreOutcome]) -> [WireProtocol.Ack] {
            precondition(outcomes.count == records.count, "one outcome a record")
            var next = outcomes.makeIterator()
            return lines.map { line in
                switch line {
                case .record(let n, let record):
                    switch next.next()! {
                    case .stored: WireProtocol.Ack(line: n, id: record.id.rawValue, status: .stored)
                    case .duplicate: WireProtocol.Ack(line: n, id: record.id.rawValue, status: .duplicate)
                    case .conflict:
                        WireProtocol.Ack(
                            line: n, id: record.id.rawValue, status: .duplicate, code: WireProtocol.conflictCode,
                            error: "a record with this id and other content is held; the held one stays and this copy is kept as evidence (meetmeter records --conflicts)")
                    }
                case .refused(let n, let id, let code, let error):
                    WireProtocol.Ack(line: n, id: id, status: .refused, code: code, error: error)
                }
            }
        }
    }

    let configuration: ListenerConfiguration
    private(set) var state: State = .awaitingHello
    /// Lines after the hello so far.
    private(set) var lineNumber: Int64 = 0
    /// Lines so far that were not JSON objects.
    private(set) var badLines = 0
    /// With mutual TLS, the host names the agent's certificate is for; nil without.
    var certifiedNames: [String]?
    /// The aggregator's clock, for the window of record times.
    var now: @Sendable () -> Timestamp = SystemClock.now

    init(configuration: ListenerConfiguration) {
        self.configuration = configuration
    }

    mutating func receive(_ frames: [LineFrame]) -> Step {
        var step = Step()
        for frame in frames {
            switch state {
            case .closed:
                return step
            case .awaitingHello:
                switch frame {
                case .tooLong(let bytes):
                    step.fatal = tooLong(bytes)
                case .line(let buffer):
                    switch hello(buffer) {
                    case .success(let hello): step.hello = hello
                    case .failure(let fatal): step.fatal = fatal
                    }
                }
            case .open(let host):
                switch frame {
                case .tooLong(let bytes):
                    step.fatal = tooLong(bytes)
                case .line(let buffer):
                    lineNumber += 1
                    let line = record(buffer, host: host)
                    step.lines.append(line)
                    if badLines > configuration.maxBadLines {
                        step.fatal = WireProtocol.Fatal(
                            code: "garbage",
                            error: "\(badLines) lines were not JSON objects, more than the \(configuration.maxBadLines) allowed on one connection")
                    }
                }
            }
            if step.fatal != nil { state = .closed }
        }
        return step
    }

    private mutating func hello(_ buffer: ByteBuffer) -> Result<WireProtocol.Hello, WireProtocol.Fatal> {
        let text = String(buffer: buffer)
        let hello: WireProtocol.Hello
        do {
            hello = try WireProtocol.Hello.decode(text)
        } catch {
            return .failure(WireProtocol.Fatal(code: "hello", error: "the first line must be a hello such as {\"hello\":\"meetmeter\",\"version\":1,\"host\":\"…\",\"token\":\"…\"}: \(error)"))
        }
        guard hello.version == WireProtocol.version else {
            return .failure(WireProtocol.Fatal(
                code: "version", error: "protocol version \(hello.version) is not spoken here; this aggregator speaks version \(WireProtocol.version)"))
        }
        if let names = certifiedNames, !names.contains(hello.host.lowercased()) {
            let held = names.isEmpty ? "no DNS name" : names.joined(separator: ", ")
            return .failure(WireProtocol.Fatal(
                code: "auth", error: "the client certificate is for \(held), not for host \(hello.host)"))
        }
        if let expected = configuration.tokens[hello.host] {
            guard let token = hello.token else {
                return .failure(WireProtocol.Fatal(code: "auth", error: "no token for host \(hello.host)"))
            }
            guard TokenComparison.equal(token, expected) else {
                return .failure(WireProtocol.Fatal(code: "auth", error: "wrong token for host \(hello.host)"))
            }
        } else if !configuration.allowUnauthenticated {
            return .failure(WireProtocol.Fatal(
                code: "auth", error: "host \(hello.host) is not listed in the aggregator's configuration"))
        }
        state = .open(host: hello.host)
        return .success(WireProtocol.Hello(host: hello.host, token: nil))
    }

    private mutating func record(_ buffer: ByteBuffer, host: String) -> Step.Line {
        let n = lineNumber
        let decoded: Result<UsageRecord, RecordLineError> = buffer.withUnsafeReadableBytes { raw in
            raw.withMemoryRebound(to: UInt8.self) { bytes in
                do throws(RecordLineError) { return .success(try RecordCodec.decode(bytes)) } catch { return .failure(error) }
            }
        }
        switch decoded {
        case .failure(let error):
            // Only lines that are not JSON objects count towards `garbage`: they come from a peer
            // that does not speak the protocol. A field an agent gets wrong (a newer agent, say)
            // is refused line by line, since ending the connection would make it resend the same
            // batch for ever.
            switch error.code {
            case .emptyLine, .tooLong, .notUTF8, .notJSON, .notAnObject: badLines += 1
            default: break
            }
            return .refused(line: n, id: nil, code: error.code.rawValue, error: error.description)
        case .success(let record):
            guard record.host == host else {
                return .refused(
                    line: n, id: record.id.rawValue, code: "host-mismatch",
                    error: "field 'host': '\(record.host.prefix(64))' is not the host of the hello, '\(host)'")
            }
            // An id names a record for good across all hosts, and the store keeps the first
            // record of an id: a host that could send another host's ids would take them, and
            // that host's real records would then be dropped as duplicates.
            guard record.id.isInNamespace(of: host) else {
                return .refused(
                    line: n, id: record.id.rawValue, code: "id-namespace",
                    error: "field 'id': '\(record.id.rawValue.prefix(64))' does not begin with '\(RecordID.namespace(host: host))'; a host may send only ids of its own namespace")
            }
            if let problem = configuration.recordWindow.problem(with: record, now: now()) {
                return .refused(line: n, id: record.id.rawValue, code: "time-window", error: "field '\(problem.field)': \(problem.reason)")
            }
            return .record(line: n, record)
        }
    }

    private func tooLong(_ bytes: Int) -> WireProtocol.Fatal {
        WireProtocol.Fatal(code: "too-long", error: "a line of at least \(bytes) bytes is longer than the limit of \(configuration.maxLineBytes) bytes")
    }
}

/// Compares secrets in time that depends only on their lengths, not on where they differ.
enum TokenComparison {
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: x.count ^ y.count) | (x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            let p = i < x.count ? x[i] : 0
            let q = i < y.count ? y[i] : 0
            difference |= p ^ q
        }
        return difference == 0
    }
}
