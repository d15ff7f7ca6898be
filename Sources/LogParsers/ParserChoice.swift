import LogLines
import UsageRecords

/// What a parser needs to know beyond the lines themselves.
public struct ParserOptions: Sendable {
    /// The operator's own rules (agent.toml `[[rules]]`), tried before the built-in parser.
    public var rules: [CustomRule]
    /// The zone of times that logs print without an offset (jicofo, Ruby Logger, syslog text).
    public var localTimeZone: LocalTimeZone
    /// The year of syslog-style times (`Jul 07 08:55:25`), which have none. Only text copies of
    /// the journal need it (the agent reads the journal, whose entries have exact times).
    public var syslogYear: Int64?
    /// Without `syslogYear`: place a yearless time in the latest year that does not put it after
    /// this moment (by more than a day), as syslog readers do; `meetmeter parse` may pass "now"
    /// or the copy's modification time. Nil with no year: such lines are skipped (`no-timestamp`).
    public var syslogReference: Timestamp?

    public init(rules: [CustomRule] = [], localTimeZone: LocalTimeZone = .system, syslogYear: Int64? = nil,
                syslogReference: Timestamp? = nil)
    {
        self.rules = rules
        self.localTimeZone = localTimeZone
        self.syslogYear = syslogYear
        self.syslogReference = syslogReference
    }
}

/// `--software` (and agent.toml's `software`) named no parser.
public struct UnknownSoftwareError: Error, Sendable, Hashable, CustomStringConvertible {
    public var value: String
    public var reason: String

    public var description: String {
        "'\(value)' \(reason); choose one of \(ParserChoice.softwareNames.joined(separator: ", "))"
    }
}

/// The parser for a source, by the name of the meeting software that writes it.
public enum ParserChoice {
    /// `bbb`: BigBlueButton (akka-apps, bbb-web, bbb-rap); `jitsi`: jicofo; `auto`: each line by
    /// its look; `rules`: only the operator's rules.
    public static let softwareNames = ["bbb", "jitsi", "auto", "rules"]

    public static func make(software: String) throws(UnknownSoftwareError) -> any LogParser {
        try make(software: software, options: ParserOptions())
    }

    public static func make(software: String, options: ParserOptions) throws(UnknownSoftwareError) -> any LogParser {
        let builtIn: (any LogParser)?
        switch software {
        case "bbb": builtIn = BBBParser(options: options)
        case "jitsi": builtIn = JitsiParser(options: options)
        case "auto": builtIn = AutoParser(options: options)
        case "rules":
            guard !options.rules.isEmpty else {
                throw UnknownSoftwareError(value: software, reason: "needs at least one [[rules]] table in agent.toml")
            }
            builtIn = nil
        default:
            throw UnknownSoftwareError(value: software, reason: "is not a meeting software meetmeter reads")
        }
        if options.rules.isEmpty, let builtIn { return builtIn }
        return RulesParser(rules: options.rules, fallback: builtIn, zone: options.localTimeZone)
    }

    /// The prefilter of the parser `make` gives, for a file follower; nil where every line must
    /// reach the parser (the operator's rules may match any line; jitsi and auto have none yet).
    public static func prefilter(software: String, options: ParserOptions) -> (any LinePrefilter)? {
        guard options.rules.isEmpty else { return nil }
        switch software {
        case "bbb": return BBBPrefilter()
        default: return nil
        }
    }
}
