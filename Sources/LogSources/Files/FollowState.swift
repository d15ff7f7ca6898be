#if canImport(Glibc)
import Glibc
#endif

import LogLines
import Logging
import Metrics
import SystemCalls
import UsageRecords

/// The reading state of one run. Not shared: owned by the run's task.
struct FollowState {
    let configuration: FileFollowerConfiguration
    let logger: Logger
    var files: [TrackedFile] = []
    /// Offsets by fingerprint of files not open now (retired, or saved and not yet found).
    var known: [UInt64: KnownOffset] = [:]
    /// Retired fingerprints, oldest first, to bound `known`.
    var retiredOrder: [UInt64] = []
    var counts = FileFollowerCounts()
    var firstDiscovery = true
    /// Paths that failed to open, reported once each.
    var unreadable: Set<String> = []
    /// Rotated files (device, inode) that catching up decided not to read: a glob that matches
    /// them must not read them as new files either.
    var leftAlone: Set<[UInt64]> = []
    /// The matches last seen and which of them are rotated names of another match.
    var lastMatches: Set<String> = []
    var siblingMatches: Set<String> = []
    var anotherPass = false
    var buffer: [UInt8]
    var prefilter: (any LinePrefilter)?
    let overlongCounter: Counter
    /// Lines passed over count as read, as the lines the parser ignores do (LineProcessor).
    let linesRead: Counter

    init(configuration: FileFollowerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.buffer = [UInt8](repeating: 0, count: 1 << 18)
        self.prefilter = configuration.prefilter
        self.linesRead = Counter(label: "meetmeter_agent_lines_read_total", dimensions: [("source", configuration.name)])
        self.overlongCounter = Counter(label: "meetmeter_agent_overlong_lines_total", dimensions: [("source", configuration.name)])
        if let store = configuration.positions,
           let loaded = try store.loadChecked(configuration.name, logger: logger, check: Self.checkSaved)
        {
            for (key, value) in loaded.fields where key.hasPrefix("file.") {
                guard let fp = UInt64(key.dropFirst(5), radix: 16) else { continue }
                // `<offset> open|done <path>`
                let parts = value.split(separator: " ", maxSplits: 2)
                guard parts.count == 3, let offset = UInt64(parts[0]) else { continue }
                known[fp] = KnownOffset(offset: offset, path: String(parts[2]), done: parts[1] == "done")
            }
            if !loaded.problems.isEmpty {
                logger.warning("file positions restart from the well-formed lines of the position file; files without one are read from their saved state if any, new files from their start", metadata: [
                    "files_known": "\(known.count)", "bad_lines": "\(loaded.problems.count)",
                ])
            }
        }
    }

    mutating func takeAnotherPass() -> Bool {
        defer { anotherPass = false }
        return anotherPass
    }

    /// What a saved `file.<fingerprint>=<offset> open|done <path>` line must look like.
    static func checkSaved(_ key: String, _ value: String) -> String? {
        if key == "version" { return value == "1" ? nil : "version \(value) is not one this agent reads (1)" }
        guard key.hasPrefix("file.") else { return nil }
        guard key.count == 21, UInt64(key.dropFirst(5), radix: 16) != nil else { return "not a fingerprint of 16 hex digits" }
        let parts = value.split(separator: " ", maxSplits: 2)
        guard parts.count == 3, UInt64(parts[0]) != nil, parts[1] == "open" || parts[1] == "done" else {
            return "not `<offset> open|done <path>`"
        }
        return nil
    }

    /// Files in the order they are read: rotated ones first (they hold the older lines), in the
    /// order they were opened (catching up opens them oldest first).
    func readOrder() -> [TrackedFile] {
        files.filter(\.rotated) + files.filter { !$0.rotated }
    }

    /// The saved form: one `file.<fingerprint>=<offset> open|done <path>` line per known file.
    func positionFields() -> [String: String] {
        var fields: [String: String] = ["version": "1"]
        for (fp, k) in known {
            fields["file." + FileFingerprint(value: fp, length: 0).description] = "\(k.offset) \(k.done ? "done" : "open") \(k.path)"
        }
        for f in files {
            guard let fp = f.fingerprint else { continue }
            fields["file." + fp.description] = "\(f.committed) open \(f.path)"
        }
        return fields
    }

    // MARK: Finding files
}
