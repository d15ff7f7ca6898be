/// A table of a configuration file with typed getters whose errors name the file, line and key.
public struct ConfigTable: Sendable {
    public let file: String
    /// The keys leading to this table (`["sources", "files[0]"]`).
    public let path: [String]
    public let values: [String: ConfigValue]
    let locator: KeyLocator

    init(file: String, path: [String], values: [String: ConfigValue], locator: KeyLocator) {
        self.file = file
        self.path = path
        self.values = values
        self.locator = locator
    }

    public var keys: [String] { values.keys.sorted() }
    public func has(_ key: String) -> Bool { values[key] != nil }

    var tablePath: String { path.joined(separator: ".") }

    public func keyPath(_ key: String) -> String { path.isEmpty ? key : tablePath + "." + key }

    /// The line of `key` in this table, or of the table's header.
    public func line(of key: String) -> Int? { locator.line(table: tablePath, key: key) ?? locator.line(table: tablePath) }

    /// An error about `key` in this table, for checks the getters cannot make.
    public func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: line(of: key), key: keyPath(key), message: message)
    }

    /// An error about a key that must be present and is not.
    public func missing(_ key: String) -> ConfigError {
        let where_ = path.isEmpty ? "" : " in [\(tablePath)]"
        return ConfigError(file: file, line: locator.line(table: tablePath), key: keyPath(key),
                           message: "is required\(where_) but missing")
    }

    private func wrongType(_ key: String, _ value: ConfigValue, expected: String) -> ConfigError {
        error(key, "should be \(expected), not \(value.typeName)")
    }

    // MARK: Getters

    public func optionalString(_ key: String) throws(ConfigError) -> String? {
        guard let v = values[key] else { return nil }
        guard case .string(let s) = v else { throw wrongType(key, v, expected: "a string") }
        return s
    }

    public func string(_ key: String) throws(ConfigError) -> String {
        guard let s = try optionalString(key) else { throw missing(key) }
        return s
    }

    public func string(_ key: String, default fallback: String) throws(ConfigError) -> String {
        try optionalString(key) ?? fallback
    }

    /// A string that must be one of `choices`.
    public func choice(_ key: String, of choices: [String], default fallback: String) throws(ConfigError) -> String {
        let s = try string(key, default: fallback)
        guard choices.contains(s) else {
            throw error(key, "'\(s)' is not one of \(choices.map { "'\($0)'" }.joined(separator: ", "))")
        }
        return s
    }

    public func optionalInteger(_ key: String) throws(ConfigError) -> Int64? {
        guard let v = values[key] else { return nil }
        guard case .integer(let i) = v else { throw wrongType(key, v, expected: "an integer") }
        return i
    }

    public func integer(_ key: String) throws(ConfigError) -> Int64 {
        guard let i = try optionalInteger(key) else { throw missing(key) }
        return i
    }

    public func integer(_ key: String, default fallback: Int64, range: ClosedRange<Int64>? = nil) throws(ConfigError) -> Int64 {
        let i = try optionalInteger(key) ?? fallback
        if let range, !range.contains(i) {
            throw error(key, "\(i) is out of range; it must be from \(range.lowerBound) to \(range.upperBound)")
        }
        return i
    }

    public func optionalBool(_ key: String) throws(ConfigError) -> Bool? {
        guard let v = values[key] else { return nil }
        guard case .bool(let b) = v else { throw wrongType(key, v, expected: "true or false") }
        return b
    }

    public func bool(_ key: String, default fallback: Bool) throws(ConfigError) -> Bool {
        try optionalBool(key) ?? fallback
    }

    /// A decimal number as exact text. Money is written as a string (`"0.30"`) so that no binary
    /// floating point touches it; an integer is accepted too. A TOML float is refused.
    public func optionalDecimal(_ key: String) throws(ConfigError) -> String? {
        guard let v = values[key] else { return nil }
        switch v {
        case .integer(let i): return String(i)
        case .string(let s):
            guard Self.isDecimal(s) else { throw error(key, "'\(s)' is not a decimal number such as \"0.30\"") }
            return s
        case .float:
            throw error(key, "write decimal amounts as strings (\"0.30\"), so that they are exact; floats are refused")
        default: throw wrongType(key, v, expected: "a decimal string such as \"0.30\"")
        }
    }

    public func decimal(_ key: String) throws(ConfigError) -> String {
        guard let d = try optionalDecimal(key) else { throw missing(key) }
        return d
    }

    public func decimal(_ key: String, default fallback: String) throws(ConfigError) -> String {
        try optionalDecimal(key) ?? fallback
    }

    static func isDecimal(_ s: String) -> Bool {
        var digits = 0
        var dots = 0
        for (i, c) in s.enumerated() {
            if c == "-" || c == "+" { if i != 0 { return false }; continue }
            if c == "." { dots += 1; continue }
            guard c.isASCII, c.isNumber else { return false }
            digits += 1
        }
        return digits > 0 && dots <= 1
    }

    public func stringArray(_ key: String, default fallback: [String] = []) throws(ConfigError) -> [String] {
        guard let v = values[key] else { return fallback }
        guard case .array(let items) = v else { throw wrongType(key, v, expected: "an array of strings") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else {
                throw error(key, "should hold only strings, but holds \(item.typeName)")
            }
            out.append(s)
        }
        return out
    }

    /// A sub-table (`[a.b]` or an inline table), or nil if absent.
    public func table(_ key: String) throws(ConfigError) -> ConfigTable? {
        guard let v = values[key] else { return nil }
        guard case .table(let t) = v else { throw wrongType(key, v, expected: "a table") }
        return ConfigTable(file: file, path: path + [key], values: t, locator: locator)
    }

    /// A sub-table, or an empty one if absent, so that every key takes its default.
    public func tableOrEmpty(_ key: String) throws(ConfigError) -> ConfigTable {
        try table(key) ?? ConfigTable(file: file, path: path + [key], values: [:], locator: locator)
    }

    /// An array of tables (`[[a]]`).
    public func tables(_ key: String) throws(ConfigError) -> [ConfigTable] {
        guard let v = values[key] else { return [] }
        guard case .array(let items) = v else { throw wrongType(key, v, expected: "an array of tables ([[\(keyPath(key))]])") }
        var out: [ConfigTable] = []
        for (i, item) in items.enumerated() {
            guard case .table(let t) = item else {
                throw error(key, "should hold only tables, but item \(i + 1) is \(item.typeName)")
            }
            var p = path
            p.append("\(key)[\(i)]")
            out.append(ConfigTable(file: file, path: p, values: t, locator: locator))
        }
        return out
    }

    /// Refuses one of two keys without the other (a certificate without its key). The error
    /// stands on the line of the key that is present, since the missing one has no line.
    public func requireBoth(_ first: String, _ second: String, _ message: String) throws(ConfigError) {
        guard has(first) != has(second) else { return }
        let (present, absent) = has(first) ? (first, second) : (second, first)
        throw error(present, "\(message): \(keyPath(absent)) is missing")
    }

    /// Refuses keys this version does not know, so that a misspelt key is not silently ignored.
    public func rejectUnknownKeys(allowed: Set<String>) throws(ConfigError) {
        for key in keys where !allowed.contains(key) {
            let known = allowed.sorted().joined(separator: ", ")
            throw error(key, "is not a known key here; known keys: \(known)")
        }
    }
}

/// A value read from a table, with the table kept to name the file, line and key of a mistake
/// found only later: TLS files are read when a daemon is wired, not when its file is.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public let table: ConfigTable

    public init(_ value: Value, in table: ConfigTable) {
        self.value = value
        self.table = table
    }

    public func error(_ key: String, _ message: String) -> ConfigError { table.error(key, message) }
}
