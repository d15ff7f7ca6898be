/// A mistake in a configuration file, said so that a person can fix it: the file, the line and
/// the key, then what is wrong and what would be right.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the mistake is not on one line (a missing key).
    public var line: Int?
    /// The dotted key path (`shipper.port`), or nil for a syntax error.
    public var key: String?
    public var message: String

    public init(file: String, line: Int?, key: String?, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": "
        if let key { s += "key '\(key)': " }
        return s + message
    }
}
