/// The line protocol between agent and aggregator (meetmeter-protocol(7)). Every message is one
/// line of JSON; records travel as `RecordCodec` lines. Simple enough to speak with `nc`.
///
///     agent:      {"hello":"meetmeter","version":1,"host":"bbb1","token":"…"}
///     aggregator: {"hello":"meetmeter","version":1,"host":"bbb1"}
///     agent:      <record line>             (any number, pipelined)
///     aggregator: {"line":1,"id":"…","status":"stored"}      (one answer a line, in order,
///                 {"line":2,"id":"…","status":"duplicate"}    sent only after the records
///                 {"line":3,"status":"refused","code":"…","error":"…"}   are durably committed)
///     aggregator: {"fatal":"auth","error":"…"}   (then it closes the connection)
public enum WireProtocol {
    public static let name = "meetmeter"
    public static let version: Int64 = 1

    public struct Hello: Sendable, Hashable {
        public var version: Int64
        public var host: String
        public var token: String?

        public init(version: Int64 = WireProtocol.version, host: String, token: String?) {
            self.version = version
            self.host = host
            self.token = token
        }

        public var line: String {
            var w = FieldWriter()
            w.put("hello", .string(WireProtocol.name))
            w.put("version", .integer(version))
            w.put("host", .string(host))
            w.put("token", token)
            return w.finish()
        }

        public static func decode(_ line: String) throws(RecordLineError) -> Hello {
            let members = try object(line)
            var r = FieldReader(members)
            let name = try r.string("hello")
            guard name == WireProtocol.name else {
                throw RecordLineError(.invalidValue, field: "hello", "should be \"\(WireProtocol.name)\", not \"\(name.prefix(40))\"")
            }
            return Hello(version: try r.integer("version"), host: try r.string("host"), token: try r.optionalString("token"))
        }
    }

    public enum Status: String, Sendable, Hashable {
        /// Committed durably for the first time.
        case stored
        /// Already held; nothing to do. A success for the sender.
        case duplicate
        /// Will never be stored as sent; `error` says why. The sender must not resend it as is.
        case refused

        /// The sender may forget the record.
        public var isSettled: Bool { true }
    }

    /// The code of a `duplicate` whose id is held with other content: settled for the sender,
    /// kept apart by the aggregator as evidence (meetmeter-protocol(7)).
    public static let conflictCode = "conflict"

    public struct Ack: Sendable, Hashable {
        /// The 1-based number of the line on this connection after the hello.
        public var line: Int64
        public var id: String?
        public var status: Status
        public var code: String?
        public var error: String?

        public init(line: Int64, id: String?, status: Status, code: String? = nil, error: String? = nil) {
            self.line = line
            self.id = id
            self.status = status
            self.code = code
            self.error = error
        }

        public var encoded: String {
            var w = FieldWriter()
            w.put("line", .integer(line))
            w.put("id", id)
            w.put("status", .string(status.rawValue))
            w.put("code", code)
            w.put("error", error)
            return w.finish()
        }
    }

    /// A message that ends the connection.
    public struct Fatal: Sendable, Hashable, Error {
        public var code: String
        public var error: String
        public init(code: String, error: String) {
            self.code = code
            self.error = error
        }

        public var encoded: String {
            var w = FieldWriter()
            w.put("fatal", .string(code))
            w.put("error", .string(error))
            return w.finish()
        }
    }

    /// What the aggregator can say to an agent.
    public enum Reply: Sendable, Hashable {
        case hello(Hello)
        case ack(Ack)
        case fatal(Fatal)
    }

    public static func decodeReply(_ line: String) throws(RecordLineError) -> Reply {
        let members = try object(line)
        var r = FieldReader(members)
        if members["hello"] != nil { return .hello(try Hello.decode(line)) }
        if members["fatal"] != nil {
            // The words are for people; a fatal line with none (or empty) still ends the
            // connection with its code, and encodes back to what it was (found by fuzzing).
            let words: String
            if case .string(let s)? = members["error"] { words = s } else { words = "" }
            return .fatal(Fatal(code: try r.string("fatal"), error: words))
        }
        let lineNo = try r.integer("line")
        let statusText = try r.string("status")
        guard let status = Status(rawValue: statusText) else {
            throw RecordLineError(.invalidValue, field: "status", "'\(statusText.prefix(40))' is not stored, duplicate or refused")
        }
        return .ack(Ack(line: lineNo, id: try r.optionalString("id"), status: status,
                        code: try r.optionalString("code"), error: try r.optionalString("error")))
    }

    private static func object(_ line: String) throws(RecordLineError) -> [String: JSONValue] {
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            throw RecordLineError(.notJSON, "the line is not JSON: \(error)")
        }
        guard case .object(let members) = value else {
            throw RecordLineError(.notAnObject, "a message is a JSON object, not a \(value.typeName)")
        }
        return members
    }
}
