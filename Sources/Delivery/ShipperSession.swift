import SystemCalls
import UsageRecords

/// The protocol logic of one connection to the aggregator, without sockets or a spool: lines the
/// aggregator sent in, what they mean for the batch in flight out. The aggregator's
/// `AgentSession` is its other half. `Shipper` drives it over NIO; the tests drive it directly.
///
/// Several batches may be in flight (a window): the aggregator answers every line in order, so
/// answers are for the oldest batch until it is complete, then for the next. The session numbers
/// its lines as the aggregator does (1-based, over the whole connection, the hello not counted)
/// and checks that every answer is for the next unanswered line, so that an acknowledgement is
/// never applied to the wrong record.
public struct ShipperSession: Sendable {
    public enum State: Sendable, Hashable {
        /// The hello is sent; the aggregator's hello (or refusal) is next.
        case awaitingHello
        /// Greeted, no batch in flight: the shipper may send one.
        case ready
        /// The oldest batch in flight has `count` lines, `answered` of them answered (more
        /// batches may be in flight behind it: `batchesInFlight`).
        case awaitingAnswers(count: Int, answered: Int)
        /// The aggregator refused the connection or broke the protocol; nothing more is read.
        case closed
    }

    /// What one answer says about one record of the batch in flight.
    public enum Outcome: Sendable, Hashable {
        /// Stored now, or held already: the record is the aggregator's.
        case settled
        /// Held already with other content: settled, and the aggregator keeps this copy apart
        /// as evidence. Worth a warning.
        case conflict(reason: String)
        /// Can never be stored as it is: kept in refused.log, counted.
        case refused(code: String, reason: String)
    }

    /// What a line from the aggregator meant.
    public enum Event: Sendable, Hashable {
        /// The hello was answered with this protocol's version: batches may be sent.
        case greeted
        /// The answer for record `index` (0-based) of the oldest batch in flight; `batchComplete`
        /// when it was the last one, and the batch may be released from the spool.
        case answered(index: Int, Outcome, batchComplete: Bool)
    }

    public private(set) var state: State = .awaitingHello
    /// Lines sent on this connection after the hello, as the aggregator counts them.
    public private(set) var linesSent: Int64 = 0
    /// Lines answered on this connection: the next answer is for line `linesAnswered + 1`.
    private var linesAnswered: Int64 = 0
    /// The sizes of the batches in flight behind the oldest one, in the order sent.
    private var queuedBatches: [Int] = []

    /// How many batches are sent and not completely answered.
    public var batchesInFlight: Int {
        if case .awaitingAnswers = state { return 1 + queuedBatches.count }
        return 0
    }

    /// The first line of the connection.
    public static func hello(host: String, token: String?) -> String {
        WireProtocol.Hello(host: host, token: token).line
    }

    public init() {}

    /// A batch of `count` records is about to be written, behind those in flight.
    public mutating func sending(count: Int) {
        precondition(count > 0, "a batch has records")
        switch state {
        case .ready: state = .awaitingAnswers(count: count, answered: 0)
        case .awaitingAnswers: queuedBatches.append(count)
        case .awaitingHello, .closed: preconditionFailure("a batch only when greeted")
        }
        linesSent += Int64(count)
    }

    /// One line the aggregator sent. Throws what ends the connection: a refusal or a protocol
    /// violation; the session is then closed.
    public mutating func received(_ line: String) throws(ShipperError) -> Event {
        let reply: WireProtocol.Reply
        do {
            reply = try WireProtocol.decodeReply(line)
        } catch {
            throw fail(.protocolViolation("unreadable answer: \(error)"))
        }
        switch (state, reply) {
        case (_, .fatal(let fatal)):
            throw fail(.refusedByAggregator(code: fatal.code, message: fatal.error))
        case (.awaitingHello, .hello(let hello)):
            guard hello.version == WireProtocol.version else {
                throw fail(.protocolViolation("protocol version \(hello.version), expected \(WireProtocol.version)"))
            }
            state = .ready
            return .greeted
        case (.awaitingHello, .ack):
            throw fail(.protocolViolation("an acknowledgement before the hello"))
        case (.awaitingAnswers, .hello), (.ready, .hello):
            throw fail(.protocolViolation("a second hello"))
        case (.ready, .ack(let ack)):
            throw fail(.protocolViolation("answer for line \(ack.line) with no batch in flight"))
        case (.awaitingAnswers(let count, let answered), .ack(let ack)):
            let expected = linesAnswered + 1
            guard ack.line == expected else {
                throw fail(.protocolViolation("answer for line \(ack.line), expected \(expected)"))
            }
            let outcome: Outcome
            switch ack.status {
            case .refused: outcome = .refused(code: ack.code ?? "refused", reason: ack.error ?? "")
            case .duplicate where ack.code == WireProtocol.conflictCode: outcome = .conflict(reason: ack.error ?? "")
            case .stored, .duplicate: outcome = .settled
            }
            let complete = answered + 1 == count
            linesAnswered += 1
            if !complete {
                state = .awaitingAnswers(count: count, answered: answered + 1)
            } else if queuedBatches.isEmpty {
                state = .ready
            } else {
                state = .awaitingAnswers(count: queuedBatches.removeFirst(), answered: 0)
            }
            return .answered(index: answered, outcome, batchComplete: complete)
        case (.closed, _):
            throw fail(.protocolViolation("a line after the connection ended"))
        }
    }

    private mutating func fail(_ error: ShipperError) -> ShipperError {
        state = .closed
        return error
    }
}
