#if canImport(Glibc)
import Glibc
#endif

import LogLines
import SystemCalls
import Logging
import Metrics
import UsageRecords

/// A line of a position file that does not read back, and why.
public struct PositionProblem: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var line: Int
    public var reason: String

    public var description: String { "\(path):\(line): \(reason)" }
}

/// What `PositionStore.loadChecked` read: the good fields, the bad lines, and where the
/// malformed file was kept aside (nil when it was well formed or could not be renamed).
public struct LoadedPosition: Sendable, Equatable {
    public var fields: [String: String]
    public var problems: [PositionProblem]
    public var keptAside: String?
}

/// Where each source keeps its position: one small file per source in a folder under the state
/// directory (`/var/lib/meetmeter-agent/positions/`). A write replaces the file atomically
/// (temporary file, fsync, rename, fsync of the folder) so that a crash or a power cut leaves
/// either the old or the new position, never a torn one (PITFALLS: positions written without fsync).
///
/// The content is text of `key=value` lines that the source defines; the store does not look inside.
public struct PositionStore: Sendable {
    public let directory: String
    /// Told of saves that fail for want of room, and of the save after (nil: nobody is told).
    public let disk: StateDisk?

    public init(directory: String, disk: StateDisk? = nil) throws(FileError) {
        self.directory = directory
        self.disk = disk
        try PosixFile.makeDirectory(directory)
    }

    /// The file of a source: its name made safe for a file name, plus a hash of the full name so
    /// that two names that sanitise alike never share a file.
    public func path(for source: String) -> String {
        let safe = String(String.UnicodeScalarView(source.unicodeScalars.map { c in
            (c.properties.isAlphabetic && c.isASCII) || ("0"..."9").contains(c) || c == "-" || c == "_" || c == "." ? c : "_"
        }).prefix(80))
        let hash = String(StableHash.fnv1a64(source), radix: 16)
        return directory + "/" + safe + "-" + hash + ".pos"
    }

    /// The saved fields of a source, or nil when it has never saved. A file that does not read
    /// back (it cannot be torn, but could be edited by hand or damaged) is not skipped in silence:
    /// see `loadChecked`.
    public func load(_ source: String, logger: Logger? = nil,
                     check: (_ key: String, _ value: String) -> String? = { _, _ in nil }) throws(FileError) -> [String: String]?
    {
        try loadChecked(source, logger: logger, check: check)?.fields
    }

    /// The saved fields of a source and what was wrong with its file. Each line is `key=value`;
    /// `check` may find fault with a value (nil: fine). A malformed file is logged (a warning
    /// naming the file, each bad line and what is wrong), counted
    /// (`meetmeter_agent_position_files_malformed_total`) and kept aside as `<file>.bad` (the last
    /// one is kept); the well-formed lines are used, and the source says where it resumes.
    public func loadChecked(_ source: String, logger: Logger? = nil,
                            check: (_ key: String, _ value: String) -> String? = { _, _ in nil }) throws(FileError) -> LoadedPosition?
    {
        let file = path(for: source)
        guard let bytes = try PosixFile.readWhole(file) else { return nil }
        var fields: [String: String] = [:]
        var firstLine: [String: Int] = [:]
        var problems: [PositionProblem] = []
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        if bytes.isEmpty { problems.append(PositionProblem(path: file, line: 1, reason: "the file is empty")) }
        for (i, raw) in lines.enumerated() {
            let number = i + 1
            if raw.isEmpty { continue }
            guard let line = String(validating: raw, as: UTF8.self) else {
                problems.append(PositionProblem(path: file, line: number, reason: "not UTF-8 text"))
                continue
            }
            guard let eq = line.firstIndex(of: "=") else {
                problems.append(PositionProblem(path: file, line: number, reason: "no '=' (each line is key=value): \(Self.excerpt(line))"))
                continue
            }
            let key = String(line[..<eq]), value = String(line[line.index(after: eq)...])
            if key.isEmpty {
                problems.append(PositionProblem(path: file, line: number, reason: "empty key"))
                continue
            }
            if let first = firstLine[key] {
                problems.append(PositionProblem(path: file, line: number, reason: "key \(key) given again (first on line \(first))"))
                continue
            }
            if let reason = check(key, value) {
                problems.append(PositionProblem(path: file, line: number, reason: "\(key): \(reason)"))
                continue
            }
            firstLine[key] = number
            fields[key] = value
        }
        guard !problems.isEmpty else { return LoadedPosition(fields: fields, problems: [], keptAside: nil) }
        let log = logger ?? Logger(label: "meetmeter.positions")
        let aside = file + ".bad"
        let keptAside = rename(file, aside) == 0 ? aside : nil
        for p in problems.prefix(10) {
            log.warning("malformed line in a position file", metadata: [
                "file": "\(p.path)", "line": "\(p.line)", "problem": "\(p.reason)",
            ])
        }
        log.warning("position file is malformed; its well-formed lines are used and the file is kept aside", metadata: [
            "file": "\(file)", "source": "\(source)", "bad_lines": "\(problems.count)", "good_lines": "\(fields.count)",
            "kept_aside": "\(keptAside ?? "(could not rename: \(String(cString: strerror(errno))))")",
        ])
        Counter(label: "meetmeter_agent_position_files_malformed_total", dimensions: [("source", source)]).increment()
        return LoadedPosition(fields: fields, problems: problems, keptAside: keptAside)
    }

    private static func excerpt(_ line: String) -> String {
        line.count <= 60 ? "\"\(line)\"" : "\"\(line.prefix(60))...\""
    }

    /// Replaces the saved fields of a source atomically. Values must not hold newlines.
    public func save(_ source: String, _ fields: [String: String]) throws(FileError) {
        var text = ""
        for key in fields.keys.sorted() {
            text += key + "=" + fields[key]!.replacingNewlines() + "\n"
        }
        try PosixFile.replaceAtomically(path(for: source), with: Array(text.utf8))
    }

    /// Removes a source's position (the next run starts from the beginning).
    public func remove(_ source: String) {
        unlink(path(for: source))
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(String.UnicodeScalarView(unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : $0 }))
    }
}

/// Saves a source's position at most about once a second and only when it changed
/// (PITFALLS: a cursor database that wrote 23 KB/s while idle). Owned by one source's task.
struct ThrottledPositionSaver {
    let store: PositionStore?
    let source: String
    let interval: Duration
    private var lastSaved: [String: String]?
    private var lastSaveTime: ContinuousClock.Instant?
    private(set) var saves = 0

    init(store: PositionStore?, source: String, interval: Duration = .seconds(1)) {
        self.store = store
        self.source = source
        self.interval = interval
    }

    /// Records `fields` as the current position; writes it unless it was written less than
    /// `interval` ago (then a later call, or `flush`, writes it). One attempt: a failure is thrown.
    mutating func update(_ fields: [String: String], force: Bool = false) throws(FileError) {
        guard let store, due(fields, force: force) else { return }
        try store.save(source, fields)
        saved(fields)
    }

    /// `update`, but a save that fails for want of room (the state disk is full) is retried with
    /// backoff until it gets through, and the caller waits: its source stops reading, and the
    /// position on disk stays the last one saved (issue 20). Other failures are thrown.
    mutating func updateWaitingForRoom(_ fields: [String: String], force: Bool = false) async throws {
        guard let store, due(fields, force: force) else { return }
        let source = self.source
        if let disk = store.disk {
            try await disk.retrying("position of \(source)") { try store.save(source, fields) }
        } else {
            try store.save(source, fields)
        }
        saved(fields)
    }

    private mutating func due(_ fields: [String: String], force: Bool) -> Bool {
        if fields == lastSaved { pending = nil; return false }
        if !force, let last = lastSaveTime, ContinuousClock.now - last < interval { pending = fields; return false }
        return true
    }

    private mutating func saved(_ fields: [String: String]) {
        lastSaved = fields
        lastSaveTime = .now
        pending = nil
        saves += 1
    }

    private var pending: [String: String]?

    /// Whether a position is waiting for the interval to pass.
    var hasPending: Bool { pending != nil }

    /// Writes the latest position now if it was held back.
    mutating func flush() throws(FileError) {
        if let p = pending { try update(p, force: true) }
    }

    /// `flush`, waiting for room like `updateWaitingForRoom`.
    mutating func flushWaitingForRoom() async throws {
        if let p = pending { try await updateWaitingForRoom(p, force: true) }
    }
}
