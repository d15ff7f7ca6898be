import Delivery
import HostSampling
import LogLines
import LogSources
import SystemCalls
import ConfigFiles
import NIOSSL
import LogParsers
import TransportSecurity
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

/// agent.toml, read and checked. Every key, its default and its meaning is in agent.toml(5).
public struct AgentConfiguration: Sendable {
    public struct FileSource: Sendable {
        /// Paths or globs to follow.
        public var paths: [String]
        /// `bbb`, `jitsi`, `auto` or `rules`.
        public var software: String
    }

    public struct JournalSource: Sendable {
        /// A folder of journal files to read instead of the system journal.
        public var directory: String?
        public var units: [String]
        public var identifiers: [String]
        public var software: String
    }

    /// The host name records carry; the aggregator authenticates it.
    public var host: String
    public var stateDirectory: String
    /// The aggregators (`address`, or `addresses` for several): the agent ships to the first
    /// that answers and moves to the next when it fails.
    public var aggregators: [NetworkAddress]
    public var token: String?
    /// TLS towards the aggregator, as file names; nil for plain TCP (a trusted network or
    /// 127.0.0.1 only). The files are read by `makeTLSContext`, when the agent is wired.
    public var tls: Located<ClientTLSSettings>?
    public var spoolMaxBytes: UInt64
    public var batchSize: Int
    /// Batches sent before the oldest is answered.
    public var batchesInFlight: Int
    public var files: [FileSource]
    public var journal: JournalSource?
    public var maxLineBytes: Int
    public var heartbeatInterval: Int64
    public var instanceSize: String
    /// Where `/metrics` and `/health` are served; nil when `[metrics] address = ""`.
    public var metricsAddress: NetworkAddress?
    /// Seconds the oldest unacknowledged record may wait before `/health` says the agent is behind.
    public var maxLag: Int64
    /// The disk-usage sampler (`[storage]`); nil when disabled.
    public var storage: StorageSettings?

    public struct StorageSettings: Sendable {
        public var interval: Int64
        public var recordingRoots: [String]
        public var filesystems: [String]
        public var quietPeriod: Int64
        public var rewalkAfter: Int64
    }
    /// The operator's own rules (`[[rules]]`), tried on every source's lines before its parser.
    public var rules: [CustomRule]
    /// Where the configuration came from, for messages.
    public var path: String

    /// `rules` reads a source by the `[[rules]]` alone.
    public static let softwareChoices = ["bbb", "jitsi", "auto", "rules"]

    /// The parser options every source shares.
    public var parserOptions: ParserOptions { ParserOptions(rules: rules) }

    /// Reads the TLS files, with errors that name the setting's file, line and key; nil without TLS.
    public func makeTLSContext() throws(ConfigError) -> NIOSSLContext? {
        guard let tls else { return nil }
        do throws(TLSFileError) {
            return try tls.value.makeContext()
        } catch {
            throw tls.error(error.setting ?? "certificate_file", error.description)
        }
    }

    public static func load(path: String) throws(ConfigError) -> AgentConfiguration {
        let doc = try ConfigDocument(path: path)
        return try AgentConfiguration(document: doc)
    }

    public init(document: ConfigDocument) throws(ConfigError) {
        let root = document.root
        path = document.path
        try root.rejectUnknownKeys(allowed: ["host", "state_directory", "aggregator", "spool", "files", "journal", "heartbeat", "storage", "metrics", "max_line_bytes", "rules"])
        host = try root.string("host", default: Self.systemHostName())
        if host.isEmpty || host.contains(where: { $0 == " " || $0 == ":" }) {
            throw root.error("host", "'\(host)' is not a usable host name (no spaces or colons)")
        }
        stateDirectory = try root.string("state_directory", default: "/var/lib/meetmeter-agent")
        maxLineBytes = Int(try root.integer("max_line_bytes", default: 1 << 20, range: 1024...(64 << 20)))

        let aggregator = try root.tableOrEmpty("aggregator")
        try aggregator.rejectUnknownKeys(allowed: [
            "address", "addresses", "token", "token_file", "batch_size", "batches_in_flight", "tls", "ca_file", "server_name", "certificate_file", "key_file",
        ])
        if aggregator.has("addresses") {
            guard !aggregator.has("address") else {
                throw aggregator.error("addresses", "set either address or addresses, not both")
            }
            let texts = try aggregator.stringArray("addresses")
            guard !texts.isEmpty else { throw aggregator.error("addresses", "name at least one aggregator (HOST:PORT)") }
            var seen: Set<NetworkAddress> = []
            aggregators = []
            for text in texts {
                guard let address = NetworkAddress(text) else {
                    throw aggregator.error("addresses", "'\(text)' is not HOST:PORT (for example 127.0.0.1:7800)")
                }
                guard seen.insert(address).inserted else { throw aggregator.error("addresses", "'\(text)' is listed twice") }
                aggregators.append(address)
            }
        } else {
            aggregators = [try aggregator.address("address", default: "127.0.0.1:7800")]
        }
        if let tokenFile = try aggregator.optionalString("token_file") {
            do {
                let text = try ConfigDocument.readText(path: tokenFile)
                token = text.trimmingWhitespace()
            } catch {
                throw aggregator.error("token_file", "\(error.message)")
            }
        } else {
            token = try aggregator.optionalString("token")
        }
        batchSize = Int(try aggregator.integer("batch_size", default: 500, range: 1...100_000))
        batchesInFlight = Int(try aggregator.integer("batches_in_flight", default: 4, range: 1...64))
        if try aggregator.bool("tls", default: false) {
            let settings = ClientTLSSettings(
                caFile: try aggregator.optionalString("ca_file"), serverName: try aggregator.optionalString("server_name"),
                certificateFile: try aggregator.optionalString("certificate_file"), keyFile: try aggregator.optionalString("key_file"))
            try aggregator.requireBoth("certificate_file", "key_file", "mutual TLS needs both certificate_file and key_file")
            tls = Located(settings, in: aggregator)
        } else {
            for key in ["ca_file", "server_name", "certificate_file", "key_file"] where aggregator.has(key) {
                throw aggregator.error(key, "is set but tls is not true")
            }
            tls = nil
        }

        let spool = try root.tableOrEmpty("spool")
        try spool.rejectUnknownKeys(allowed: ["max_bytes"])
        spoolMaxBytes = UInt64(try spool.integer("max_bytes", default: 256 << 20, range: (64 << 10)...(1 << 40)))

        var files: [FileSource] = []
        for table in try root.tables("files") {
            try table.rejectUnknownKeys(allowed: ["paths", "software"])
            let paths = try table.stringArray("paths")
            if paths.isEmpty { throw table.missing("paths") }
            for p in paths where !p.hasPrefix("/") {
                throw table.error("paths", "'\(p)' is not an absolute path")
            }
            files.append(FileSource(paths: paths, software: try table.choice("software", of: Self.softwareChoices, default: "auto")))
        }
        self.files = files

        if let j = try root.table("journal") {
            try j.rejectUnknownKeys(allowed: ["enabled", "directory", "units", "identifiers", "software"])
            if try j.bool("enabled", default: true) {
                journal = JournalSource(
                    directory: try j.optionalString("directory"),
                    units: try j.stringArray("units"),
                    identifiers: try j.stringArray("identifiers"),
                    software: try j.choice("software", of: Self.softwareChoices, default: "auto"))
            } else {
                journal = nil
            }
        } else {
            journal = nil
        }

        let heartbeat = try root.tableOrEmpty("heartbeat")
        try heartbeat.rejectUnknownKeys(allowed: ["interval", "size"])
        heartbeatInterval = try heartbeat.integer("interval", default: 60, range: 1...86_400)
        instanceSize = try heartbeat.string("size", default: "default")

        let metrics = try root.tableOrEmpty("metrics")
        try metrics.rejectUnknownKeys(allowed: ["address", "max_lag"])
        metricsAddress = try metrics.optionalAddress("address", default: "127.0.0.1:9781")
        maxLag = try metrics.integer("max_lag", default: 300, range: 1...(7 * 86_400))

        let storage = try root.tableOrEmpty("storage")
        try storage.rejectUnknownKeys(allowed: ["enabled", "interval", "recording_roots", "filesystems", "quiet_period", "rewalk_after"])
        if try storage.bool("enabled", default: true) {
            let settings = StorageSettings(
                interval: try storage.integer("interval", default: 900, range: 60...86_400),
                recordingRoots: try storage.stringArray("recording_roots", default: StorageSampler.bigBlueButtonRecordingRoots),
                filesystems: try storage.stringArray("filesystems", default: StorageSampler.defaultFilesystems),
                quietPeriod: try storage.integer("quiet_period", default: 3600, range: 0...(30 * 86_400)),
                rewalkAfter: try storage.integer("rewalk_after", default: 86_400, range: 0...(365 * 86_400)))
            for (key, paths) in [("recording_roots", settings.recordingRoots), ("filesystems", settings.filesystems)] {
                for p in paths where !p.hasPrefix("/") {
                    throw storage.error(key, "'\(p)' is not an absolute path")
                }
            }
            self.storage = settings
        } else {
            self.storage = nil
        }

        rules = try Self.rules(in: root)
        let usesRules = files.contains { $0.software == "rules" } || journal?.software == "rules"
        if usesRules && rules.isEmpty {
            throw ConfigError(file: path, line: nil, key: "software",
                              message: "a source reads with software = \"rules\" but there is no [[rules]] table")
        }

        if files.isEmpty && journal == nil {
            throw ConfigError(file: path, line: nil, key: nil,
                              message: "names no source: add a [[files]] table or a [journal] table")
        }
    }

    /// The `[[rules]]` tables of `root` (agent.toml(5), RULES), each checked as it would be used.
    public static func rules(in root: ConfigTable) throws(ConfigError) -> [CustomRule] {
        var rules: [CustomRule] = []
        var names: Set<String> = []
        for table in try root.tables("rules") {
            try table.rejectUnknownKeys(allowed: ["name", "kind", "regex", "json_after", "json_equals", "fields",
                                                  "contains", "origin", "time", "time_format"])
            let name = try table.string("name")
            guard names.insert(name).inserted else { throw table.error("name", "'\(name)' names another rule too") }
            let kind = RecordKind(try table.string("kind"))
            let match: CustomRule.Match
            switch (try table.optionalString("regex"), table.has("json_after") || table.has("json_equals")) {
            case (let pattern?, false):
                match = .regex(pattern)
            case (nil, true):
                var equals: [String: String] = [:]
                if let conditions = try table.table("json_equals") {
                    for key in conditions.keys { equals[key] = try conditions.string(key) }
                }
                match = .json(after: try table.optionalString("json_after"), equals: equals)
            case (_?, true):
                throw table.error("regex", "and json_after/json_equals are two ways to match: give one")
            case (nil, false):
                throw table.error("regex", "is missing: a rule matches by regex, or by json_after/json_equals")
            }
            var fields: [String: String] = [:]
            guard let fieldTable = try table.table("fields") else { throw table.missing("fields") }
            for key in fieldTable.keys { fields[key] = try fieldTable.string(key) }
            let format = try table.choice("time_format", of: CustomRule.TimeFormat.allCases.map(\.rawValue), default: "rfc3339")
            let contains = try table.optionalString("contains")
            let origin = try table.optionalString("origin")
            let time = try table.optionalString("time")
            do throws(CustomRuleError) {
                rules.append(try CustomRule(name: name, kind: kind, match: match, fields: fields, contains: contains,
                                            origin: origin, time: time,
                                            timeFormat: CustomRule.TimeFormat(rawValue: format) ?? .rfc3339))
            } catch {
                throw table.error(error.field ?? "name", error.message)
            }
        }
        return rules
    }

    /// The system's host name, the default of `host`.
    public static var defaultHostName: String { systemHostName() }

    static func systemHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(cString: buffer)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
