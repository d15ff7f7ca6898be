#if canImport(Glibc)
import Glibc
#endif

import LogLines
import Logging
import Metrics
import SystemCalls
import UsageRecords

// Discovery: which paths the patterns match now, and which of them are rotated names of another.
extension FollowState {
    static func expand(_ pattern: String) -> [String] {
        if !pattern.contains(where: { "*?[".contains($0) }) {
            return access(pattern, F_OK) == 0 ? [pattern] : []
        }
        var g = glob_t()
        defer { globfree(&g) }
        guard glob(pattern, 0, nil, &g) == 0 else { return [] }
        var paths: [String] = []
        for i in 0..<Int(g.gl_pathc) {
            if let p = g.gl_pathv[i] { paths.append(String(cString: p)) }
        }
        return paths
    }

    /// Matches the patterns against the file system: notices renamed and deleted files, opens
    /// new ones, and catches up on rotated files: on the first pass for every live file and every
    /// saved one, later for each file found rotated (several rotations may have passed between
    /// two looks).
    mutating func discover() throws {
        var current: [String: (UInt64, UInt64)] = [:]
        for pattern in configuration.patterns {
            for path in Self.expand(pattern) where !Self.isCompressed(path) {
                // A glob wide enough to match rotated, compressed copies must not read them as text.
                var st = stat()
                guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
                current[path] = (UInt64(st.st_dev), UInt64(st.st_ino))
            }
        }
        // What was read before this pass: the newest of these in a chain of rotated files is
        // where catching up starts.
        let anchors = Set(known.keys).union(files.compactMap { $0.fingerprint?.value })
        var rotatedNow: [String] = []
        // A tracked file whose path now leads elsewhere (or nowhere) has been rotated or deleted.
        for f in files where !f.rotated {
            if let id = current[f.path], id == (f.device, f.inode) { continue }
            if let (path, _) = current.first(where: { $0.value == (f.device, f.inode) }) {
                // Renamed to another name the patterns match: same file, keep reading it there.
                f.path = path
                continue
            }
            f.rotated = true
            f.lastGrowth = .now
            counts.rotations += 1
            rotatedNow.append(f.path)
            logger.info("file rotated or deleted; reading it to its end", metadata: ["path": "\(f.path)"])
        }
        let siblings = siblingsAmong(Set(current.keys))
        for (path, id) in current.sorted(by: { $0.key < $1.key }) {
            if files.contains(where: { ($0.device, $0.inode) == id }) { continue }
            // Rotated copies that a glob matches are read by catching up, not as new files.
            if siblings.contains(path) || leftAlone.contains([id.0, id.1]) { continue }
            do {
                try open(path: path)
                unreadable.remove(path)
            } catch {
                // One file we may not read (permissions) must not stop the others: say it once, retry later.
                if unreadable.insert(path).inserted {
                    logger.error("cannot read a file the patterns match; will try again", metadata: ["path": "\(path)", "error": "\(error)"])
                }
            }
        }
        if firstDiscovery {
            firstDiscovery = false
            var bases = Set(current.keys.filter { !siblings.contains($0) })
            for k in known.values where !k.path.isEmpty { bases.insert(Self.livePath(of: k.path)) }
            for base in bases.sorted() { catchUp(live: base, anchors: anchors) }
            reportLost()
        } else {
            for base in Set(rotatedNow).sorted() { catchUp(live: base, anchors: anchors) }
        }
    }

    /// The matches that are rotated names of another match (`app.log.1` beside `app.log`,
    /// `bbb-web.2026-11-20.log` beside `bbb-web.log`). Worked out again only when the matches change.
    mutating func siblingsAmong(_ matches: Set<String>) -> Set<String> {
        if matches == lastMatches { return siblingMatches }
        var byDir: [String: [String]] = [:]
        for m in matches { byDir[PosixFile.directory(of: m), default: []].append(Self.fileName(m)) }
        var out: Set<String> = []
        for (dir, names) in byDir where names.count > 1 {
            for name in names where names.contains(where: { $0 != name && RotatedSibling.parse(name, live: $0) != nil }) {
                out.insert(dir + "/" + name)
            }
        }
        lastMatches = matches
        siblingMatches = out
        return out
    }

    static func fileName(_ path: String) -> String {
        String(path[path.index(after: path.lastIndex(of: "/") ?? path.startIndex)...])
    }

    /// The live file a rotated path belongs to (`/x/app.log.2.gz` gives `/x/app.log`); the path
    /// itself when it is not a rotated name.
    static func livePath(of path: String) -> String {
        guard let live = RotatedSibling.liveName(of: fileName(path)) else { return path }
        return PosixFile.directory(of: path) + "/" + live
    }
}
