/// A JSON value, as the wire protocol and the logs carry it.
///
/// Numbers keep their exact text so that nothing is lost to binary floating point; objects are
/// written with their keys sorted so that the same value always encodes to the same bytes.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public static func integer<I: BinaryInteger>(_ value: I) -> JSONValue { .number(String(value)) }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer a number holds, if it is one exactly (`12`, `-3`, not `1.5` or `1e3`).
    public var int64Value: Int64? {
        if case .number(let text) = self { return Int64(text) }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// A path of keys into nested objects: `value["core", "body", "role"]`.
    public subscript(path: String...) -> JSONValue? {
        var current: JSONValue? = self
        for key in path { current = current?[key] }
        return current
    }

    /// The name of the JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Compact JSON with sorted keys.
    public var serialized: String {
        var out = ""
        write(to: &out)
        return out
    }

    public func write(to out: inout String) {
        var bytes: [UInt8] = []
        JSONBytes.appendValue(self, to: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }

    public static func writeString(_ s: String, to out: inout String) {
        var bytes: [UInt8] = []
        JSONBytes.appendString(s, to: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }
}

/// Why a text is not JSON, and where.
public struct JSONSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Byte offset of the problem from the start of the text.
    public var offset: Int
    public var reason: String
    public var description: String { "\(reason) at byte \(offset + 1)" }
}

/// A strict RFC 8259 parser over UTF-8 bytes: no trailing commas, no comments, no duplicate keys,
/// nesting at most 64 deep.
public struct JSONParser {
    public static let maximumDepth = 64

    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        var text = text
        var result: Result<JSONValue, JSONSyntaxError> = .failure(JSONSyntaxError(offset: 0, reason: "not parsed"))
        text.withUTF8 { bytes in
            do throws(JSONSyntaxError) { result = .success(try parse(bytes)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    /// The members of the object that `bytes` holds, in their order, without the dictionary: what
    /// the record decoder reads (a dozen fields, looked up by name once each). Nil when the text
    /// is JSON but not an object; the same errors as `parse` otherwise. `validated` says the
    /// caller has checked that all of `bytes` is UTF-8.
    public static func parseMembers(
        _ bytes: UnsafeBufferPointer<UInt8>, validated: Bool = false
    ) throws(JSONSyntaxError) -> [(key: String, value: JSONValue)]? {
        var parser = JSONParser(bytes: bytes, validated: validated)
        parser.skipWhitespace()
        guard parser.index < bytes.count, bytes[parser.index] == UInt8(ascii: "{") else {
            _ = try parse(bytes)
            return nil
        }
        let members = try parser.parseMemberList(depth: 1)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return members
    }

    /// As `parseObject`, into an array; a duplicate key is found by a linear search, cheaper than
    /// hashing for the few members of a record.
    private mutating func parseMemberList(depth: Int) throws(JSONSyntaxError) -> [(key: String, value: JSONValue)] {
        var members: [(key: String, value: JSONValue)] = []
        members.reserveCapacity(12)
        try parseMembers(depth: depth) { key, value in
            if members.contains(where: { $0.key == key }) { return false }
            members.append((key, value))
            return true
        }
        return members
    }

    /// Parses one JSON value at the start of `bytes` and returns it with the count of bytes used,
    /// leaving whatever follows (used by log parsers whose JSON is followed by other text).
    public static func parsePrefix(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> (JSONValue, Int) {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        return (value, parser.index)
    }

    // MARK: The record decoder's one pass

    /// Where one top-level member of a record line lies: its key (plain ASCII, no escapes) and
    /// its value, a string's without the quotes.
    struct RawMember {
        enum Form { case plainString, escapedString, other }
        var keyStart: Int
        var keyEnd: Int
        /// For `other`, the value's index in `others`.
        var valueStart: Int
        var valueEnd: Int
        var form: Form
        var used = false
    }

    /// Notes the members of the object that all of `bytes` holds (checked UTF-8) in `members`,
    /// parsing only values that are not strings, into `others`; returns their count. Nil for
    /// anything the general parser should look at: no object, bad JSON, a key that is escaped,
    /// not ASCII (Swift compares such keys by canonical equivalence) or there twice, or more
    /// members than `members` holds.
    static func scanMembers(
        _ bytes: UnsafeBufferPointer<UInt8>, into members: UnsafeMutableBufferPointer<RawMember>, others: inout [JSONValue]
    ) -> Int? {
        var p = JSONParser(bytes: bytes, validated: true)
        let n = bytes.count
        var count = 0
        p.skipWhitespace()
        guard p.index < n, bytes[p.index] == UInt8(ascii: "{") else { return nil }
        p.index += 1
        p.skipWhitespace()
        if p.index < n, bytes[p.index] == UInt8(ascii: "}") {
            p.index += 1
        } else {
            while true {
                p.skipWhitespace()
                guard count < members.count, p.index < n, bytes[p.index] == UInt8(ascii: "\"") else { return nil }
                let keyStart = p.index + 1
                var i = keyStart
                while i < n, bytes[i] != UInt8(ascii: "\"") {
                    let b = bytes[i]
                    if b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { return nil }
                    i += 1
                }
                guard i < n else { return nil }
                let keyEnd = i
                for m in members[..<count] where bytesEqual(bytes, m.keyStart, m.keyEnd, keyStart, keyEnd) { return nil }
                p.index = i + 1
                p.skipWhitespace()
                guard p.index < n, bytes[p.index] == UInt8(ascii: ":") else { return nil }
                p.index += 1
                p.skipWhitespace()
                guard p.index < n else { return nil }
                if bytes[p.index] == UInt8(ascii: "\"") {
                    // Only found here; its escapes are checked when it is read.
                    let valueStart = p.index + 1
                    var j = valueStart
                    var escaped = false
                    while true {
                        j = plainRunEnd(bytes, from: j)
                        guard j < n, bytes[j] != UInt8(ascii: "\"") else { break }
                        guard bytes[j] == UInt8(ascii: "\\") else { return nil } // a control character
                        escaped = true
                        j += 2
                    }
                    guard j < n else { return nil }
                    members[count] = RawMember(keyStart: keyStart, keyEnd: keyEnd, valueStart: valueStart, valueEnd: j,
                                               form: escaped ? .escapedString : .plainString)
                    p.index = j + 1
                } else {
                    guard let value = try? p.parseValue(depth: 1) else { return nil }
                    members[count] = RawMember(keyStart: keyStart, keyEnd: keyEnd, valueStart: others.count, valueEnd: 0, form: .other)
                    others.append(value)
                }
                count += 1
                p.skipWhitespace()
                guard p.index < n else { return nil }
                if bytes[p.index] == UInt8(ascii: ",") { p.index += 1; continue }
                if bytes[p.index] == UInt8(ascii: "}") { p.index += 1; break }
                return nil
            }
        }
        p.skipWhitespace()
        return p.index == n ? count : nil
    }

    /// The index of the first byte from `i` on that ends a run of plain string content (a quote,
    /// a backslash or a control character), or `b.count`: eight bytes at a time, as record
    /// strings run to dozens of bytes.
    @inline(__always)
    static func plainRunEnd(_ b: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        let n = b.count
        if let base = b.baseAddress {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            while i + 8 <= n {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                let q = w ^ (ones &* 0x22)
                let bs = w ^ (ones &* 0x5C)
                // A byte is zero in q or bs, or below 0x20 in w (the bit tricks of "Bit Twiddling
                // Hacks": a borrow carries only upwards).
                let found = ((q &- ones) & ~q) | ((bs &- ones) & ~bs) | ((w &- ones &* 0x20) & ~w)
                let hits = found & highs
                // A false hit lies only above a true one, so the lowest is the first such byte.
                if hits != 0 { return i + hits.trailingZeroBitCount / 8 }
                i += 8
            }
        }
        while i < n {
            let c = b[i]
            if c == 0x22 || c == 0x5C || c < 0x20 { return i }
            i += 1
        }
        return n
    }

    @inline(__always)
    private static func bytesEqual(_ b: UnsafeBufferPointer<UInt8>, _ s1: Int, _ e1: Int, _ s2: Int, _ e2: Int) -> Bool {
        guard e1 - s1 == e2 - s2 else { return false }
        var i = 0
        while s1 + i < e1 {
            if b[s1 + i] != b[s2 + i] { return false }
            i += 1
        }
        return true
    }

    /// The string whose opening quote is at `quote` in `bytes` (checked UTF-8), unescaped; nil
    /// for a bad escape.
    static func string(in bytes: UnsafeBufferPointer<UInt8>, at quote: Int) -> String? {
        var p = JSONParser(bytes: bytes, validated: true)
        p.index = quote
        return try? p.parseString()
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    /// Whether the caller has checked that all of `bytes` is UTF-8 (the record decoder does, once
    /// a line), so that strings need no check of their own.
    private let validated: Bool

    private init(bytes: UnsafeBufferPointer<UInt8>, validated: Bool = false) {
        self.bytes = bytes
        self.validated = validated
    }

    private func error(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(offset: index, reason: reason) }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard index < bytes.count else { throw error("the text ends where a value should be") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character '\(Self.show(bytes[index]))'")
        }
    }

    private static func show(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("the text ends inside '\(word)'") }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for i in 0..<count where bytes[index + i] != expected[i] {
            throw error("unexpected character '\(Self.show(bytes[index + i]))'")
        }
        index += count
    }

    private mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw error("nested deeper than \(Self.maximumDepth) levels") }
        var members: [String: JSONValue] = [:]
        try parseMembers(depth: depth) { key, value in members.updateValue(value, forKey: key) == nil }
        return .object(members)
    }

    /// The members of the object at `index`, each handed to `add`, which answers false for a key
    /// it already holds (a duplicate, an error at that key).
    private mutating func parseMembers(
        depth: Int, _ add: (String, JSONValue) -> Bool
    ) throws(JSONSyntaxError) {
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw error("the text ends inside an object") }
            guard bytes[index] == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
            let keyStart = index
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            guard add(key, value) else { throw JSONSyntaxError(offset: keyStart, reason: "duplicate key \"\(key)\"") }
            skipWhitespace()
            guard index < bytes.count else { throw error("the text ends inside an object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return }
            throw error("expected ',' or '}' in an object")
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw error("nested deeper than \(Self.maximumDepth) levels") }
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw error("the text ends inside an array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw error("expected ',' or ']' in an array")
        }
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw error("a number needs digits") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) { throw error("a number may not start with 0") }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("a fraction needs digits") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("an exponent needs digits") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
    }

    @inline(__always) private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        index += 1 // opening quote
        let start = index
        // Fast path: no escapes, the bytes become the string as they are.
        while index < bytes.count {
            index = Self.plainRunEnd(bytes, from: index)
            guard index < bytes.count else { break }
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                return try makeString(slice, at: start)
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("a control character inside a string must be escaped") }
            index += 1
        }
        // With escapes: the unescaped text is never longer than the escaped one (`\n` is two bytes
        // for one, `\uXXXX` six for at most three), so the bytes up to the closing quote bound the
        // string, which is written straight into its own storage.
        var end = index
        while true {
            end = Self.plainRunEnd(bytes, from: end)
            guard end < bytes.count, bytes[end] != UInt8(ascii: "\"") else { break }
            end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
        }
        let capacity = min(end, bytes.count) - start
        var failure: JSONSyntaxError?
        let s = String(unsafeUninitializedCapacity: capacity) { out in
            do throws(JSONSyntaxError) {
                return try unescape(from: start, into: out)
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        // The escapes are ASCII and stand for whole characters, so the text is UTF-8 exactly when
        // the escaped bytes are.
        if !validated, !UTF8Validation.isValid(UnsafeBufferPointer(rebasing: bytes[start..<index - 1])) {
            throw JSONSyntaxError(offset: start, reason: "a string is not valid UTF-8")
        }
        return s
    }

    /// The string's content from `start` (just after its opening quote) unescaped into `out`,
    /// up to and past its closing quote; returns the count of bytes written.
    private mutating func unescape(from start: Int, into out: UnsafeMutableBufferPointer<UInt8>) throws(JSONSyntaxError) -> Int {
        var n = 0
        index = start
        // Each byte written stands for at least one read, so `out` (as long as what is read) has
        // room; the check stays, as a guard against a mistake here becoming a stray write.
        func put(_ b: UInt8) throws(JSONSyntaxError) {
            guard n < out.count else { throw JSONSyntaxError(offset: index, reason: "a string longer than its text") }
            out[n] = b
            n += 1
        }
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                index += 1
                return n
            }
            if b < 0x20 { throw error("a control character inside a string must be escaped") }
            if b != UInt8(ascii: "\\") {
                // A run of plain bytes, copied at once.
                let runEnd = Self.plainRunEnd(bytes, from: index)
                let run = runEnd - index
                guard n + run <= out.count, let to = out.baseAddress, let from = bytes.baseAddress else {
                    throw JSONSyntaxError(offset: index, reason: "a string longer than its text")
                }
                (to + n).update(from: from + index, count: run)
                n += run
                index = runEnd
                continue
            }
            index += 1
            guard index < bytes.count else { break }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): try put(0x22)
            case UInt8(ascii: "\\"): try put(0x5C)
            case UInt8(ascii: "/"): try put(0x2F)
            case UInt8(ascii: "b"): try put(0x08)
            case UInt8(ascii: "f"): try put(0x0C)
            case UInt8(ascii: "n"): try put(0x0A)
            case UInt8(ascii: "r"): try put(0x0D)
            case UInt8(ascii: "t"): try put(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800...0xDBFF).contains(code) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                    else { throw error("a lone surrogate in a \\u escape") }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("a lone surrogate in a \\u escape") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(code) {
                    throw error("a lone surrogate in a \\u escape")
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("an invalid \\u escape") }
                for unit in scalar.utf8 { try put(unit) }
            default:
                index -= 1
                throw error("an unknown escape '\\\(Self.show(e))'")
            }
        }
        throw error("the text ends inside a string")
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("the text ends inside a \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: throw error("a \\u escape needs four hex digits")
            }
            v = v << 4 | d
            index += 1
        }
        return v
    }

    /// The string of unescaped bytes; checked to be UTF-8 unless the whole text was.
    private func makeString(_ slice: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSONSyntaxError) -> String {
        guard validated || UTF8Validation.isValid(slice) else {
            throw JSONSyntaxError(offset: offset, reason: "a string is not valid UTF-8")
        }
        return String(decoding: slice, as: UTF8.self)
    }
}

/// Whether bytes are well-formed UTF-8 (no overlong forms, no surrogates, nothing past
/// U+10FFFF), without making a String: ASCII runs are checked eight bytes at a time.
public enum UTF8Validation {
    public static func isValid(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress else { return true }
        let n = b.count
        var i = 0
        while i < n {
            // Eight ASCII bytes at a time.
            while i + 8 <= n {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                i += 8
            }
            guard i < n else { return true }
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            func cont(_ j: Int) -> Bool { j < n && b[j] & 0xC0 == 0x80 }
            switch c {
            case 0xC2...0xDF:
                guard cont(i + 1) else { return false }
                i += 2
            case 0xE0...0xEF:
                guard cont(i + 1), cont(i + 2) else { return false }
                let c1 = b[i + 1]
                if c == 0xE0 && c1 < 0xA0 { return false } // overlong
                if c == 0xED && c1 > 0x9F { return false } // surrogates
                i += 3
            case 0xF0...0xF4:
                guard cont(i + 1), cont(i + 2), cont(i + 3) else { return false }
                let c1 = b[i + 1]
                if c == 0xF0 && c1 < 0x90 { return false } // overlong
                if c == 0xF4 && c1 > 0x8F { return false } // past U+10FFFF
                i += 4
            default:
                return false
            }
        }
        return true
    }
}
