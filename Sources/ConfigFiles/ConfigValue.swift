/// A TOML value copied out of the parser into plain Swift values, so that configuration can be
/// passed between tasks.
public indirect enum ConfigValue: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    /// Dates and times, in their TOML text.
    case datetime(String)
    case array([ConfigValue])
    case table([String: ConfigValue])

    public var typeName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .bool: "a boolean"
        case .datetime: "a date-time"
        case .array: "an array"
        case .table: "a table"
        }
    }
}
