/// One fact about the use of a meeting host, as it travels from agent to aggregator and rests in
/// the store: what happened (`payload`), when (`time`, from the source), where (`host`), and an id
/// that names it for good.
public struct UsageRecord: Sendable, Hashable {
    public var id: RecordID
    public var time: Timestamp
    public var host: String
    public var payload: Payload
    /// Fields beyond what the kind defines, kept as received so that nothing is lost.
    public var extra: [String: JSONValue]

    public var kind: RecordKind { payload.kind }

    public init(id: RecordID, time: Timestamp, host: String, payload: Payload, extra: [String: JSONValue] = [:]) {
        self.id = id
        self.time = time
        self.host = host
        self.payload = payload
        self.extra = extra
    }
}

/// Why a line is not a record. Each case names the field a person has to look at.
public struct RecordLineError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case emptyLine = "empty-line"
        case tooLong = "too-long"
        case notUTF8 = "not-utf8"
        case notJSON = "not-json"
        case notAnObject = "not-an-object"
        case missingField = "missing-field"
        case wrongType = "wrong-type"
        case emptyField = "empty-field"
        case invalidTime = "invalid-time"
        case invalidID = "invalid-id"
        case invalidValue = "invalid-value"
    }

    public var code: Code
    /// The field at fault, when one is.
    public var field: String?
    public var detail: String

    public init(_ code: Code, field: String? = nil, _ detail: String) {
        self.code = code
        self.field = field
        self.detail = detail
    }

    public var description: String {
        if let field { return "field '\(field)': \(detail)" }
        return detail
    }
}

/// The line codec of the wire protocol: one record a line, JSON, UTF-8, at most 64 KiB.
public enum RecordCodec {
    public static let maximumLineBytes = 64 * 1024

    // MARK: Encoding

    /// The record as one line of JSON without the newline. Keys come in a fixed order (`id`,
    /// `kind`, `time`, `host`, the kind's fields, then extra fields sorted), so the same record
    /// always encodes to the same bytes.
    public static func encode(_ record: UsageRecord) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        encode(record, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the record's line (without the newline) to `out`: the spool and `meetmeter parse`
    /// encode into one buffer they reuse.
    public static func encode(_ record: UsageRecord, into out: inout [UInt8]) {
        var w = FieldWriter(taking: &out, trackingKeys: !record.extra.isEmpty)
        w.put("id", record.id.rawValue)
        w.put("kind", record.kind.rawValue)
        w.putTime("time", record.time)
        w.put("host", record.host)
        record.payload.write(to: &w)
        if !record.extra.isEmpty {
            for key in record.extra.keys.sorted() where !w.has(key) {
                if let value = record.extra[key] { w.put(key, value) }
            }
        }
        w.finish(into: &out)
    }

    // MARK: Decoding

    public static func decode(_ line: String) throws(RecordLineError) -> UsageRecord {
        var line = line
        var result: Result<UsageRecord, RecordLineError> = .failure(RecordLineError(.emptyLine, "not decoded"))
        line.withUTF8 { bytes in
            do throws(RecordLineError) { result = .success(try decode(bytes)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// Decodes one line (with or without its trailing newline).
    public static func decode(_ raw: UnsafeBufferPointer<UInt8>) throws(RecordLineError) -> UsageRecord {
        var bytes = raw
        if let last = bytes.last, last == 0x0A { bytes = UnsafeBufferPointer(rebasing: bytes.dropLast()) }
        if let last = bytes.last, last == 0x0D { bytes = UnsafeBufferPointer(rebasing: bytes.dropLast()) }
        guard bytes.count <= maximumLineBytes else {
            throw RecordLineError(.tooLong, "the line has \(bytes.count) bytes; the limit is \(maximumLineBytes)")
        }
        guard !bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else {
            throw RecordLineError(.emptyLine, "the line is empty")
        }
        guard UTF8Validation.isValid(bytes) else {
            throw RecordLineError(.notUTF8, "the line is not valid UTF-8")
        }
        let members: [(key: String, value: JSONValue)]
        do {
            guard let object = try JSONParser.parseMembers(bytes) else {
                let value = try JSONParser.parse(bytes)
                throw RecordLineError(.notAnObject, "a record is a JSON object, not a \(value.typeName)")
            }
            members = object
        } catch let error as RecordLineError {
            throw error
        } catch {
            throw RecordLineError(.notJSON, "the line is not JSON: \(error)")
        }
        return try decode(FieldReader(members: members))
    }

    public static func decode(object members: [String: JSONValue]) throws(RecordLineError) -> UsageRecord {
        try decode(FieldReader(members))
    }

    private static func decode(_ reader: FieldReader) throws(RecordLineError) -> UsageRecord {
        var r = reader
        let idText = try r.string("id")
        if let problem = RecordID.problem(with: idText) {
            throw RecordLineError(.invalidID, field: "id", "the id \(problem)")
        }
        let kind = RecordKind(try r.string("kind"))
        let time = try r.time("time")
        let host = try r.string("host")
        let payload = try Payload.read(kind: kind, from: &r)
        return UsageRecord(id: RecordID(rawValue: idText), time: time, host: host, payload: payload, extra: r.remaining)
    }
}

/// Reads typed fields from a JSON object and remembers which it used, so that the rest can be
/// kept as extra fields.
public struct FieldReader {
    /// A record's dozen members, searched in order: cheaper than hashing each name twice.
    private var members: [(key: String, value: JSONValue)]

    public init(_ members: [String: JSONValue]) { self.members = members.map { ($0.key, $0.value) } }

    /// Members as parsed, with no key twice (`JSONParser.parseMembers`).
    public init(members: [(key: String, value: JSONValue)]) { self.members = members }

    /// The fields not read yet.
    public var remaining: [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (key, value) in members { out[key] = value }
        return out
    }

    private func value(_ key: String) -> JSONValue? {
        members.first(where: { $0.key == key })?.value
    }

    private mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let i = members.firstIndex(where: { $0.key == key }) else { return nil }
        members.swapAt(i, members.count - 1) // the order of the rest does not matter
        return members.removeLast().value
    }

    public mutating func string(_ key: String) throws(RecordLineError) -> String {
        guard let value = removeValue(forKey: key) else {
            throw RecordLineError(.missingField, field: key, "is missing")
        }
        guard case .string(let s) = value else {
            throw RecordLineError(.wrongType, field: key, "should be a string, not a \(value.typeName)")
        }
        guard !s.isEmpty else { throw RecordLineError(.emptyField, field: key, "is empty") }
        return s
    }

    public mutating func optionalString(_ key: String) throws(RecordLineError) -> String? {
        guard let value = value(key) else { return nil }
        if case .null = value {
            _ = removeValue(forKey: key)
            return nil
        }
        return try string(key)
    }

    public mutating func integer(_ key: String) throws(RecordLineError) -> Int64 {
        guard let value = removeValue(forKey: key) else {
            throw RecordLineError(.missingField, field: key, "is missing")
        }
        guard case .number(let text) = value else {
            throw RecordLineError(.wrongType, field: key, "should be a number, not a \(value.typeName)")
        }
        guard let n = Int64(text) else {
            throw RecordLineError(.invalidValue, field: key, "should be a whole number, not \(text)")
        }
        return n
    }

    public mutating func time(_ key: String) throws(RecordLineError) -> Timestamp {
        let text = try string(key)
        do throws(TimestampError) {
            return try Timestamp.parse(rfc3339: text)
        } catch {
            throw RecordLineError(.invalidTime, field: key,
                                  "'\(text.prefix(64))' is not an RFC 3339 time such as 2026-11-22T10:15:00.000000Z (\(error))")
        }
    }

    public mutating func object(_ key: String) throws(RecordLineError) -> [String: JSONValue] {
        guard let value = removeValue(forKey: key) else { return [:] }
        switch value {
        case .null: return [:]
        case .object(let o): return o
        default: throw RecordLineError(.wrongType, field: key, "should be an object, not a \(value.typeName)")
        }
    }
}

/// Writes fields of a record, or of a wire message, in the order they are put, as JSON bytes.
public struct FieldWriter {
    private var out: [UInt8]
    private var count = 0
    /// The keys put, kept only when someone will ask (`has`): a record with extra fields.
    private var keys: [String]?

    public init() {
        out = [UInt8(ascii: "{")]
        keys = []
    }

    /// Writes into `buffer`'s storage (appending to what it holds); `finish(into:)` gives it back.
    init(taking buffer: inout [UInt8], trackingKeys: Bool) {
        out = []
        swap(&out, &buffer)
        out.append(UInt8(ascii: "{"))
        keys = trackingKeys ? [] : nil
    }

    public func has(_ key: String) -> Bool { keys?.contains(key) ?? false }

    private mutating func key(_ key: String) {
        if count > 0 { out.append(UInt8(ascii: ",")) }
        count += 1
        keys?.append(key)
        JSONBytes.appendString(key, to: &out)
        out.append(UInt8(ascii: ":"))
    }

    public mutating func put(_ key: String, _ value: JSONValue) {
        self.key(key)
        JSONBytes.appendValue(value, to: &out)
    }

    public mutating func put(_ key: String, _ value: String?) {
        guard let value else { return }
        self.key(key)
        JSONBytes.appendString(value, to: &out)
    }

    mutating func putTime(_ key: String, _ value: Timestamp) {
        self.key(key)
        out.append(0x22)
        value.appendRFC3339(to: &out)
        out.append(0x22)
    }

    mutating func putInteger(_ key: String, _ value: Int64) {
        self.key(key)
        JSONBytes.appendInteger(value, to: &out)
    }

    public mutating func finish() -> String {
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    mutating func finish(into buffer: inout [UInt8]) {
        out.append(UInt8(ascii: "}"))
        swap(&out, &buffer)
    }
}

extension Payload {
    static func read(kind: RecordKind, from r: inout FieldReader) throws(RecordLineError) -> Payload {
        switch kind {
        case .meetingStarted:
            return .meetingStarted(MeetingStarted(
                meeting: try r.string("meeting"), external: try r.optionalString("external"),
                name: try r.optionalString("name"), meta: try r.object("meta"), parent: try r.optionalString("parent")))
        case .meetingEnded:
            return .meetingEnded(MeetingEnded(meeting: try r.string("meeting"), reason: try r.optionalString("reason")))
        case .userJoined:
            return .userJoined(UserJoined(
                meeting: try r.string("meeting"), user: try r.string("user"), role: try r.string("role"),
                client: try r.optionalString("client")))
        case .userLeft:
            return .userLeft(UserLeft(meeting: try r.string("meeting"), user: try r.string("user")))
        case .userRole:
            return .userRole(UserRoleChanged(meeting: try r.string("meeting"), user: try r.string("user"), role: try r.string("role")))
        case .activityStarted, .activityStopped:
            let a = Activity(meeting: try r.string("meeting"), user: try r.optionalString("user"), activity: try r.string("activity"))
            return kind == .activityStarted ? .activityStarted(a) : .activityStopped(a)
        case .clientBackground, .clientForeground:
            let c = ClientVisibility(meeting: try r.string("meeting"), user: try r.string("user"))
            return kind == .clientBackground ? .clientBackground(c) : .clientForeground(c)
        case .recordingProcessed:
            let p = RecordingProcessed(
                recording: try r.string("recording"), meeting: try r.string("meeting"), step: try r.string("step"),
                started: try r.time("started"), ended: try r.time("ended"))
            guard p.ended >= p.started else {
                throw RecordLineError(.invalidValue, field: "ended", "is before 'started'")
            }
            return .recordingProcessed(p)
        case .storageSample:
            let s = StorageSample(
                scope: try r.string("scope"), key: try r.string("key"), meeting: try r.optionalString("meeting"),
                bytes: try r.integer("bytes"))
            guard s.bytes >= 0 else { throw RecordLineError(.invalidValue, field: "bytes", "is negative") }
            return .storageSample(s)
        case .hostHeartbeat:
            let h = HostHeartbeat(boot: try r.string("boot"), size: try r.string("size"), interval: try r.integer("interval"))
            guard h.interval > 0 else { throw RecordLineError(.invalidValue, field: "interval", "must be positive") }
            return .hostHeartbeat(h)
        default:
            return .other(kind)
        }
    }

    func write(to w: inout FieldWriter) {
        switch self {
        case .meetingStarted(let p):
            w.put("meeting", p.meeting)
            w.put("external", p.external)
            w.put("name", p.name)
            w.put("meta", .object(p.meta))
            w.put("parent", p.parent)
        case .meetingEnded(let p):
            w.put("meeting", p.meeting)
            w.put("reason", p.reason)
        case .userJoined(let p):
            w.put("meeting", p.meeting)
            w.put("user", p.user)
            w.put("role", p.role)
            w.put("client", p.client)
        case .userLeft(let p):
            w.put("meeting", p.meeting)
            w.put("user", p.user)
        case .userRole(let p):
            w.put("meeting", p.meeting)
            w.put("user", p.user)
            w.put("role", p.role)
        case .activityStarted(let p), .activityStopped(let p):
            w.put("meeting", p.meeting)
            w.put("user", p.user)
            w.put("activity", p.activity)
        case .clientBackground(let p), .clientForeground(let p):
            w.put("meeting", p.meeting)
            w.put("user", p.user)
        case .recordingProcessed(let p):
            w.put("recording", p.recording)
            w.put("meeting", p.meeting)
            w.put("step", p.step)
            w.putTime("started", p.started)
            w.putTime("ended", p.ended)
        case .storageSample(let p):
            w.put("scope", p.scope)
            w.put("key", p.key)
            w.put("meeting", p.meeting)
            w.putInteger("bytes", p.bytes)
        case .hostHeartbeat(let p):
            w.put("boot", p.boot)
            w.put("size", p.size)
            w.putInteger("interval", p.interval)
        case .other:
            break
        }
    }
}
