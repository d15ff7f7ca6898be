#if canImport(Glibc)
import Glibc
#endif

import LogLines
import UsageRecords

/// The members of a JSON object a parser wants, by path, each given a slot number.
///
/// An akka-apps join is some forty members of which a parser needs eight; building the whole
/// tree of dictionaries for each line is what made parsing slow. `JSONPick` walks the object
/// once, hands each wanted value to the strict `JSONParser`, and steps over the rest.
final class JSONPaths: Sendable {
    struct Entry: Sendable {
        let key: [UInt8]
        /// The key's first byte (0 for an empty key), compared before the rest.
        let first: UInt8
        let slot: Int?
        let child: JSONPaths?
    }

    let entries: [Entry]

    /// Slot `i` is `paths[i]`.
    convenience init(_ paths: [[String]]) {
        self.init(paths.enumerated().map { ($0.element[...], $0.offset) })
    }

    /// Each path with the slot it fills.
    convenience init(slots: [(path: [String], slot: Int)]) {
        self.init(slots.map { ($0.path[...], $0.slot) })
    }

    private init(_ paths: [(ArraySlice<String>, Int)]) {
        var order: [String] = []
        var groups: [String: [(ArraySlice<String>, Int)]] = [:]
        for (path, slot) in paths {
            // Paths are the parsers' constants; `match` skips empty keys, so none may be asked for.
            precondition(!path.contains(""), "JSONPaths: a path with an empty key: \(Array(path))")
            guard let first = path.first else { continue }
            if groups[first] == nil { order.append(first) }
            groups[first, default: []].append((path.dropFirst(), slot))
        }
        entries = order.map { key in
            let group = groups[key] ?? []
            let leaf = group.first { $0.0.isEmpty }?.1
            let deeper = group.filter { !$0.0.isEmpty }
            return Entry(key: Array(key.utf8), first: key.utf8.first ?? 0, slot: leaf, child: deeper.isEmpty ? nil : JSONPaths(deeper))
        }
    }
}

/// The wanted values of one JSON object, by slot. Only the values found are stored (a handful),
/// so a line costs no array of every slot to make and to free.
struct PickedJSON {
    private var found: [(slot: Int, value: JSONValue)] = []

    subscript(slot: Int) -> JSONValue? {
        for entry in found where entry.slot == slot { return entry.value }
        return nil
    }

    mutating func set(_ slot: Int, _ value: JSONValue) -> Bool {
        for entry in found where entry.slot == slot { return false }
        found.append((slot, value))
        return true
    }

    init() { found.reserveCapacity(12) }
}

/// Why picked JSON could not be read, and where (UsageRecords' JSONSyntaxError cannot be made here).
struct JSONReadError: Error, CustomStringConvertible {
    var offset: Int
    var reason: String
    /// The text ended inside the value: a cut line.
    var truncated: Bool
    var description: String { "\(reason) at byte \(offset + 1)" }
}

enum JSONPick {
    enum Result {
        case picked(PickedJSON)
        case truncated(JSONReadError)
        case invalid(JSONReadError)
    }

    static func pick(_ b: LineBuffer, from start: Int, paths: JSONPaths) -> Result {
        var reader = Reader(b: b, i: start)
        var picked = PickedJSON()
        do throws(JSONReadError) {
            reader.whitespace()
            try reader.object(paths, into: &picked)
            return .picked(picked)
        } catch {
            return error.truncated ? .truncated(error) : .invalid(error)
        }
    }

    static func pick(_ bytes: [UInt8], paths: JSONPaths) -> Result {
        bytes.withUnsafeBufferPointer { pick($0, from: 0, paths: paths) }
    }

    private struct Reader {
        let b: LineBuffer
        var i: Int
        let start: Int

        init(b: LineBuffer, i: Int) {
            self.b = b
            self.i = i
            start = i
        }

        func fail(_ reason: String) -> JSONReadError {
            // Offsets count from the JSON's start, as JSONParser's do.
            JSONReadError(offset: i - start, reason: reason, truncated: false)
        }

        func ends(_ what: String) -> JSONReadError {
            JSONReadError(offset: b.count - start, reason: "the text ends inside \(what)", truncated: true)
        }

        @inline(__always) mutating func whitespace() {
            while i < b.count {
                let c = b[i]
                guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
                i += 1
            }
        }

        @inline(__always) mutating func expect(_ byte: UInt8, _ what: String) throws(JSONReadError) {
            guard i < b.count else { throw ends(what) }
            guard b[i] == byte else { throw fail("expected '\(Character(Unicode.Scalar(byte)))' \(what)") }
            i += 1
        }

        mutating func object(_ paths: JSONPaths?, into picked: inout PickedJSON) throws(JSONReadError) {
            try expect(UInt8(ascii: "{"), "at the start of an object")
            whitespace()
            guard i < b.count else { throw ends("an object") }
            if b[i] == UInt8(ascii: "}") {
                i += 1
                return
            }
            while true {
                whitespace()
                guard i < b.count else { throw ends("an object") }
                guard b[i] == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
                let keyStart = i + 1
                try skipString()
                let keyEnd = i - 1
                whitespace()
                try expect(UInt8(ascii: ":"), "after a key")
                whitespace()
                guard i < b.count else { throw ends("an object") }
                // The entry's parts are read in place: copying an Entry out retains its arrays,
                // and this runs for every key of every usage line.
                var slot: Int?
                var child: JSONPaths?
                if let paths, let j = match(paths, keyStart, keyEnd) {
                    slot = paths.entries[j].slot
                    if slot == nil { child = paths.entries[j].child }
                }
                if let slot {
                    let keyAt = i
                    if b[i] == UInt8(ascii: "\""), let plain = plainString() {
                        // Most values are strings without escapes; the line is valid UTF-8 already
                        // (sources replace bad bytes), so the text is taken as it stands.
                        guard picked.set(slot, .string(plain)) else { i = keyAt; throw fail("a duplicate key") }
                        whitespace()
                        guard i < b.count else { throw ends("an object") }
                        if b[i] == UInt8(ascii: ",") { i += 1; continue }
                        if b[i] == UInt8(ascii: "}") { i += 1; return }
                        throw fail("expected ',' or '}' in an object")
                    }
                    let rest = UnsafeBufferPointer(rebasing: b[i...])
                    let value: JSONValue
                    let used: Int
                    do throws(JSONSyntaxError) {
                        (value, used) = try JSONParser.parsePrefix(rest)
                    } catch {
                        if error.offset >= rest.count || error.reason.hasPrefix("the text ends") { throw ends("a value") }
                        throw JSONReadError(offset: i - start + error.offset, reason: error.reason, truncated: false)
                    }
                    guard picked.set(slot, value) else { throw fail("a duplicate key") }
                    i += used
                } else if let child, b[i] == UInt8(ascii: "{") {
                    try object(child, into: &picked)
                } else {
                    try skipValue()
                }
                whitespace()
                guard i < b.count else { throw ends("an object") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return }
                throw fail("expected ',' or '}' in an object")
            }
        }

        /// The index of the entry named by the key at `start..<end`.
        func match(_ paths: JSONPaths, _ start: Int, _ end: Int) -> Int? {
            let length = end - start
            // No wanted key is empty.
            guard length > 0, let base = b.baseAddress else { return nil }
            // By index and memcmp: this runs for every key of every usage line.
            let first = base[start]
            for j in paths.entries.indices where paths.entries[j].first == first && paths.entries[j].key.count == length {
                let same = paths.entries[j].key.withUnsafeBufferPointer { key in
                    key.baseAddress.map { memcmp(base + start, $0, length) == 0 } ?? false
                }
                if same { return j }
            }
            return nil
        }

        /// The string at `i` if it has no escapes and no control characters, moving past it;
        /// otherwise nil, leaving `i` alone for the strict parser.
        mutating func plainString() -> String? {
            var j = i + 1
            while j < b.count {
                let c = b[j]
                if c == UInt8(ascii: "\"") {
                    let s = String(decoding: UnsafeBufferPointer(rebasing: b[(i + 1)..<j]), as: UTF8.self)
                    i = j + 1
                    return s
                }
                if c == UInt8(ascii: "\\") || c < 0x20 { return nil }
                j += 1
            }
            return nil
        }

        /// From an opening quote to just after the closing one.
        mutating func skipString() throws(JSONReadError) {
            i += 1
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    i += 1
                    return
                }
                if c == UInt8(ascii: "\\") {
                    i += 2
                    continue
                }
                if c < 0x20 { throw fail("a control character inside a string must be escaped") }
                i += 1
            }
            throw ends("a string")
        }

        mutating func skipValue() throws(JSONReadError) {
            guard i < b.count else { throw ends("a value") }
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                try skipString()
            } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                try skipContainer()
            } else if c == UInt8(ascii: "t") || c == UInt8(ascii: "f") || c == UInt8(ascii: "n") {
                let s = i
                while i < b.count, b[i] >= UInt8(ascii: "a"), b[i] <= UInt8(ascii: "z") { i += 1 }
                let word = i - s
                guard i < b.count else { throw ends("a literal") }
                guard word >= 4, word <= 5 else { throw fail("unexpected text where a value should be") }
            } else if c == UInt8(ascii: "-") || isASCIIDigit(c) {
                // (Explicit comparisons: a range pattern here was not specialised and cost more
                // than the rest of the line.)
                while i < b.count {
                    let d = b[i]
                    guard isASCIIDigit(d) || d == UInt8(ascii: "-") || d == UInt8(ascii: "+") || d == UInt8(ascii: ".")
                        || d == UInt8(ascii: "e") || d == UInt8(ascii: "E") else { break }
                    i += 1
                }
                guard i < b.count else { throw ends("a number") }
            } else {
                throw fail("unexpected character where a value should be")
            }
        }

        /// An object or array with everything in it, checking that brackets pair up. The kinds of
        /// the open brackets are bits of one word: JSON deeper than 64 is refused anyway.
        mutating func skipContainer() throws(JSONReadError) {
            var depth = 0
            var arrays: UInt64 = 0
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    try skipString()
                    continue
                }
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                    guard depth < JSONParser.maximumDepth, depth < 64 else { throw fail("nested too deep") }
                    if c == UInt8(ascii: "[") { arrays |= 1 << UInt64(depth) } else { arrays &= ~(1 << UInt64(depth)) }
                    depth += 1
                } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                    guard depth > 0 else { throw fail("a bracket that does not match") }
                    depth -= 1
                    let isArray = arrays & (1 << UInt64(depth)) != 0
                    guard isArray == (c == UInt8(ascii: "]")) else { throw fail("a bracket that does not match") }
                    if depth == 0 {
                        i += 1
                        return
                    }
                }
                i += 1
            }
            throw ends("an object or array")
        }
    }
}
