#if canImport(Glibc)
import Glibc
#endif
import UsageRecords

/// Where each source keeps its position: one small file per source in a folder under the state
/// directory (`/var/lib/meetmeter-agent/positions/`). A write replaces the file atomically
/// (temporary file, fsync, rename, fsync of the folder) so that a crash or a power cut leaves
/// either the old or the new position, never a torn one (PITFALLS: positions written without fsync).
///
/// The content is text of `key=value` lines that the source defines; the store does not look inside.
public struct PositionStore: Sendable {
    public let directory: String

    public init(directory: String) throws(FileError) {
        self.directory = directory
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
    /// back (it cannot be torn, but could be edited by hand) is an error, not a silent restart.
    public func load(_ source: String) throws(FileError) -> [String: String]? {
        guard let bytes = try PosixFile.readWhole(path(for: source)) else { return nil }
        var fields: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return fields
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
    /// `interval` ago (then a later call, or `flush`, writes it).
    mutating func update(_ fields: [String: String], force: Bool = false) throws(FileError) {
        guard let store else { return }
        if fields == lastSaved { pending = nil; return }
        let now = ContinuousClock.now
        if !force, let last = lastSaveTime, now - last < interval { pending = fields; return }
        try store.save(source, fields)
        lastSaved = fields
        lastSaveTime = now
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
}
