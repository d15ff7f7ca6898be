import TOMLKit

#if canImport(Glibc)
import Glibc
#endif

/// A parsed configuration file: its values, and enough of its text to say on which line a key
/// stands.
public struct ConfigDocument: Sendable {
    public let path: String
    public let root: ConfigTable

    /// Reads and parses the file at `path`.
    public init(path: String) throws(ConfigError) {
        let text: String
        do {
            text = try readWholeFile(path)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: path, line: nil, key: nil, message: "cannot be read: \(error)")
        }
        try self.init(text: text, path: path)
    }

    public init(text: String, path: String) throws(ConfigError) {
        self.path = path
        if let mistake = TOMLPreflight.firstMistake(in: text) {
            throw ConfigError(file: path, line: mistake.line, key: nil, message: "is not valid TOML: \(mistake.message)")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(file: path, line: error.source.begin.line, key: nil,
                              message: "is not valid TOML: \(error.description)")
        } catch {
            throw ConfigError(file: path, line: nil, key: nil, message: "is not valid TOML: \(error)")
        }
        let locator = KeyLocator(text: text)
        self.root = ConfigTable(file: path, path: [], values: Self.convert(table), locator: locator)
    }

    static func convert(_ table: TOMLTable) -> [String: ConfigValue] {
        var out: [String: ConfigValue] = [:]
        for key in table.keys {
            if let value = table[key] { out[key] = convert(value) }
        }
        return out
    }

    static func convert(_ value: TOMLValueConvertible) -> ConfigValue {
        switch value.type {
        case .string: return .string(value.string ?? "")
        case .int: return .integer(Int64(value.int ?? 0))
        case .double: return .float(value.double ?? 0)
        case .bool: return .bool(value.bool ?? false)
        case .table: return .table(value.table.map(convert) ?? [:])
        case .array: return .array(value.array.map { $0.map(convert) } ?? [])
        case .date, .time, .dateTime: return .datetime(value.debugDescription)
        }
    }
}

/// Finds the line of a key by reading the file as a person would: table headers (`[a.b]`,
/// `[[a]]`) and `key =` lines. TOMLKit keeps no positions for values, so this is how errors
/// about a value can name its line.
struct KeyLocator: Sendable {
    /// (dotted table path with array indices, key, line)
    private var entries: [(table: String, key: String, line: Int)] = []
    private var headers: [String: Int] = [:]

    init(text: String) {
        var current = ""
        var arrayCounts: [String: Int] = [:]
        var lineNo = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            let line = rawLine.drop(while: { $0 == " " || $0 == "\t" })
            if line.hasPrefix("[[") {
                let name = Self.clean(line.dropFirst(2).prefix(while: { $0 != "]" }))
                let index = arrayCounts[name, default: 0]
                arrayCounts[name] = index + 1
                current = "\(name)[\(index)]"
                headers[current] = lineNo
            } else if line.hasPrefix("[") {
                current = Self.clean(line.dropFirst().prefix(while: { $0 != "]" }))
                headers[current] = lineNo
            } else if let eq = line.firstIndex(of: "="), !line.hasPrefix("#") {
                let key = Self.clean(line[..<eq])
                if !key.isEmpty { entries.append((current, key, lineNo)) }
            }
        }
    }

    private static func clean(_ s: Substring) -> String {
        s.split(separator: ".").map { part in
            part.trimmingCharacters(in: " \t\"'")
        }.joined(separator: ".")
    }

    /// The line of `key` in the table at `tablePath` (a dotted key inside a table is matched too).
    func line(table tablePath: String, key: String) -> Int? {
        for e in entries where e.table == tablePath && e.key == key { return e.line }
        // `a.b = 1` written at top level, or inside a parent table.
        for e in entries where (e.table.isEmpty ? e.key : e.table + "." + e.key) == (tablePath.isEmpty ? key : tablePath + "." + key) {
            return e.line
        }
        return headers[tablePath.isEmpty ? key : tablePath + "." + key]
    }

    func line(table tablePath: String) -> Int? { headers[tablePath] }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

/// Reads a whole file without Foundation, so that error messages can carry errno's words.
func readWholeFile(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
        throw ConfigError(file: path, line: nil, key: nil, message: "cannot be opened: \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw ConfigError(file: path, line: nil, key: nil, message: "cannot be read: \(String(cString: strerror(errno)))")
        }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
        if bytes.count > 16 * 1024 * 1024 {
            throw ConfigError(file: path, line: nil, key: nil, message: "is larger than 16 MiB; is it the right file?")
        }
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw ConfigError(file: path, line: nil, key: nil, message: "is not valid UTF-8")
    }
    return text
}

extension ConfigDocument {
    /// The text of a file a configuration refers to (a token file), with errors that name it.
    public static func readText(path: String) throws(ConfigError) -> String {
        do {
            return try readWholeFile(path)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: path, line: nil, key: nil, message: "cannot be read: \(error)")
        }
    }
}
