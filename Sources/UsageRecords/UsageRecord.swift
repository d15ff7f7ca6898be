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
        w.field("id", record.id.rawValue)
        w.field("kind", record.kind.rawValue)
        w.putTime("time", record.time)
        w.field("host", record.host)
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
        // The common line, read straight from its bytes; the general way below gives the answer,
        // errors included, for anything the fast one does not take.
        if let record = decodeFast(bytes) { return record }
        let members: [(key: String, value: JSONValue)]
        do {
            guard let object = try JSONParser.parseMembers(bytes, validated: true) else {
                let value = try JSONParser.parse(bytes)
                throw RecordLineError(.notAnObject, "a record is a JSON object, not a \(value.typeName)")
            }
            members = object
        } catch let error as RecordLineError {
            throw error
        } catch {
            throw RecordLineError(.notJSON, "the line is not JSON: \(error)")
        }
        var r = GeneralFields(reader: FieldReader(members: members))
        return try decode(&r)
    }

    /// The most members a line read the fast way has; a record has a dozen at most unless it
    /// carries many extra fields.
    private static let fastMembers = 32

    /// The record a line (checked UTF-8) holds, read without a String for each key or a
    /// `JSONValue` for each string; nil for anything unusual and for every error.
    private static func decodeFast(_ bytes: UnsafeBufferPointer<UInt8>) -> UsageRecord? {
        withUnsafeTemporaryAllocation(of: JSONParser.RawMember.self, capacity: fastMembers) { space -> UsageRecord? in
            var others: [JSONValue] = []
            guard let count = JSONParser.scanMembers(bytes, into: space, others: &others) else { return nil }
            var r = LineFields(bytes: bytes, members: UnsafeMutableBufferPointer(rebasing: space[..<count]), others: others)
            return try? decode(&r)
        }
    }

    public static func decode(object members: [String: JSONValue]) throws(RecordLineError) -> UsageRecord {
        var r = GeneralFields(reader: FieldReader(members))
        return try decode(&r)
    }

    private static func decode<R: RecordFields>(_ r: inout R) throws(RecordLineError) -> UsageRecord {
        let id = try r.id("id")
        let kind = try r.kind("kind")
        let time = try r.time("time")
        let host = try r.string("host")
        let payload = try Payload.read(kind: kind, from: &r)
        return UsageRecord(id: id, time: time, host: host, payload: payload, extra: try r.remaining())
    }
}

/// Where `Payload.read` takes a record's fields from: a `FieldReader` over parsed members, or a
/// line's own bytes (`LineFields`). The same questions, asked in the same order, of either.
protocol RecordFields {
    mutating func id(_ key: StaticString) throws(RecordLineError) -> RecordID
    mutating func kind(_ key: StaticString) throws(RecordLineError) -> RecordKind
    mutating func string(_ key: StaticString) throws(RecordLineError) -> String
    mutating func optionalString(_ key: StaticString) throws(RecordLineError) -> String?
    mutating func integer(_ key: StaticString) throws(RecordLineError) -> Int64
    mutating func time(_ key: StaticString) throws(RecordLineError) -> Timestamp
    mutating func object(_ key: StaticString) throws(RecordLineError) -> [String: JSONValue]
    /// The fields not read.
    func remaining() throws(RecordLineError) -> [String: JSONValue]
}

/// The general way: parsed members, with the errors the protocol documents.
struct GeneralFields: RecordFields {
    var reader: FieldReader

    private func name(_ key: StaticString) -> String { key.withUTF8Buffer { String(decoding: $0, as: UTF8.self) } }

    mutating func id(_ key: StaticString) throws(RecordLineError) -> RecordID {
        let text = try reader.string(name(key))
        if let problem = RecordID.problem(with: text) {
            throw RecordLineError(.invalidID, field: name(key), "the id \(problem)")
        }
        return RecordID(rawValue: text)
    }

    mutating func kind(_ key: StaticString) throws(RecordLineError) -> RecordKind { RecordKind(try reader.string(name(key))) }
    mutating func string(_ key: StaticString) throws(RecordLineError) -> String { try reader.string(name(key)) }
    mutating func optionalString(_ key: StaticString) throws(RecordLineError) -> String? { try reader.optionalString(name(key)) }
    mutating func integer(_ key: StaticString) throws(RecordLineError) -> Int64 { try reader.integer(name(key)) }
    mutating func time(_ key: StaticString) throws(RecordLineError) -> Timestamp { try reader.time(name(key)) }
    mutating func object(_ key: StaticString) throws(RecordLineError) -> [String: JSONValue] { try reader.object(name(key)) }
    func remaining() -> [String: JSONValue] { reader.remaining }
}

/// The fast way: fields read from where `JSONParser.scanMembers` found them in the line. Any
/// error here only sends the line the general way (which words it), so these say little.
struct LineFields: RecordFields {
    let bytes: UnsafeBufferPointer<UInt8>
    let members: UnsafeMutableBufferPointer<JSONParser.RawMember>
    let others: [JSONValue]

    private static let refused = RecordLineError(.invalidValue, "not read the fast way")
    /// `RecordKind.known`'s names as bytes, in its order.
    private static let knownKinds: [[UInt8]] = RecordKind.known.map { Array($0.rawValue.utf8) }

    /// The index of the unread member named `key`.
    private func find(_ key: StaticString) -> Int? {
        key.withUTF8Buffer { k -> Int? in
            for i in members.indices where !members[i].used {
                let m = members[i]
                guard m.keyEnd - m.keyStart == k.count else { continue }
                var j = 0
                while j < k.count, bytes[m.keyStart + j] == k[j] { j += 1 }
                if j == k.count { return i }
            }
            return nil
        }
    }

    /// The bytes of the unread string member `key`, marked read; refused unless it is a
    /// non-empty string without escapes.
    private mutating func plainBytes(_ key: StaticString) throws(RecordLineError) -> UnsafeBufferPointer<UInt8> {
        guard let i = find(key), members[i].form == .plainString, members[i].valueEnd > members[i].valueStart else {
            throw Self.refused
        }
        members[i].used = true
        return UnsafeBufferPointer(rebasing: bytes[members[i].valueStart..<members[i].valueEnd])
    }

    private func value(_ m: JSONParser.RawMember) -> JSONValue? {
        switch m.form {
        case .plainString: .string(String(decoding: UnsafeBufferPointer(rebasing: bytes[m.valueStart..<m.valueEnd]), as: UTF8.self))
        case .escapedString: JSONParser.string(in: bytes, at: m.valueStart - 1).map { .string($0) }
        case .other: others[m.valueStart]
        }
    }

    mutating func id(_ key: StaticString) throws(RecordLineError) -> RecordID {
        let b = try plainBytes(key)
        guard RecordID.problem(with: b) == nil else { throw Self.refused }
        return RecordID(rawValue: String(decoding: b, as: UTF8.self))
    }

    mutating func kind(_ key: StaticString) throws(RecordLineError) -> RecordKind {
        let b = try plainBytes(key)
        // A known kind is its shared constant: no String made for it.
        for (i, name) in Self.knownKinds.enumerated() where name.count == b.count && name.elementsEqual(b) {
            return RecordKind.known[i]
        }
        return RecordKind(String(decoding: b, as: UTF8.self))
    }

    mutating func string(_ key: StaticString) throws(RecordLineError) -> String {
        guard let i = find(key), members[i].form != .other, members[i].valueEnd > members[i].valueStart,
              case .string(let s)? = value(members[i])
        else { throw Self.refused }
        members[i].used = true
        return s
    }

    mutating func optionalString(_ key: StaticString) throws(RecordLineError) -> String? {
        guard let i = find(key) else { return nil }
        if members[i].form == .other, case .null = others[members[i].valueStart] {
            members[i].used = true
            return nil
        }
        return try string(key)
    }

    mutating func integer(_ key: StaticString) throws(RecordLineError) -> Int64 {
        guard let i = find(key), members[i].form == .other, let n = others[members[i].valueStart].int64Value else {
            throw Self.refused
        }
        members[i].used = true
        return n
    }

    mutating func time(_ key: StaticString) throws(RecordLineError) -> Timestamp {
        guard let t = try? Timestamp.parse(rfc3339: try plainBytes(key)) else { throw Self.refused }
        return t
    }

    mutating func object(_ key: StaticString) throws(RecordLineError) -> [String: JSONValue] {
        guard let i = find(key) else { return [:] }
        guard members[i].form == .other else { throw Self.refused }
        switch others[members[i].valueStart] {
        case .null:
            members[i].used = true
            return [:]
        case .object(let o):
            members[i].used = true
            return o
        default:
            throw Self.refused
        }
    }

    func remaining() throws(RecordLineError) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for m in members where !m.used {
            let key = String(decoding: UnsafeBufferPointer(rebasing: bytes[m.keyStart..<m.keyEnd]), as: UTF8.self)
            guard let value = value(m) else { throw Self.refused } // a bad escape: the general way words it
            out[key] = value
        }
        return out
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

    /// A key of the record form, known to need no escape: written in one piece, as every field
    /// of every record has one.
    private mutating func key(_ key: StaticString) {
        if count > 0 { out.append(UInt8(ascii: ",")) }
        count += 1
        if keys != nil { keys?.append(key.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }) }
        out.append(0x22)
        key.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(0x22)
        out.append(UInt8(ascii: ":"))
    }

    mutating func field(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        self.key(key)
        JSONBytes.appendString(value, to: &out)
    }

    mutating func field(_ key: StaticString, _ value: JSONValue) {
        self.key(key)
        JSONBytes.appendValue(value, to: &out)
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

    mutating func putTime(_ key: StaticString, _ value: Timestamp) {
        self.key(key)
        out.append(0x22)
        value.appendRFC3339(to: &out)
        out.append(0x22)
    }

    mutating func putInteger(_ key: StaticString, _ value: Int64) {
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
    static func read<R: RecordFields>(kind: RecordKind, from r: inout R) throws(RecordLineError) -> Payload {
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
            w.field("meeting", p.meeting)
            w.field("external", p.external)
            w.field("name", p.name)
            w.field("meta", .object(p.meta))
            w.field("parent", p.parent)
        case .meetingEnded(let p):
            w.field("meeting", p.meeting)
            w.field("reason", p.reason)
        case .userJoined(let p):
            w.field("meeting", p.meeting)
            w.field("user", p.user)
            w.field("role", p.role)
            w.field("client", p.client)
        case .userLeft(let p):
            w.field("meeting", p.meeting)
            w.field("user", p.user)
        case .userRole(let p):
            w.field("meeting", p.meeting)
            w.field("user", p.user)
            w.field("role", p.role)
        case .activityStarted(let p), .activityStopped(let p):
            w.field("meeting", p.meeting)
            w.field("user", p.user)
            w.field("activity", p.activity)
        case .clientBackground(let p), .clientForeground(let p):
            w.field("meeting", p.meeting)
            w.field("user", p.user)
        case .recordingProcessed(let p):
            w.field("recording", p.recording)
            w.field("meeting", p.meeting)
            w.field("step", p.step)
            w.putTime("started", p.started)
            w.putTime("ended", p.ended)
        case .storageSample(let p):
            w.field("scope", p.scope)
            w.field("key", p.key)
            w.field("meeting", p.meeting)
            w.putInteger("bytes", p.bytes)
        case .hostHeartbeat(let p):
            w.field("boot", p.boot)
            w.field("size", p.size)
            w.putInteger("interval", p.interval)
        case .other:
            break
        }
    }
}
