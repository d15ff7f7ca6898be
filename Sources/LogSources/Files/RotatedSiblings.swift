#if canImport(Glibc)
import Glibc
#endif
import LogLines
import SystemCalls
import UsageRecords

/// The names that logrotate and logback give the rotated copies of a live log file, and their
/// order by age. For a live `DIR/app.log` (stem `app`, extension `.log`):
///
/// - `app.log.1`, `app.log.2`, ... (logrotate; the higher the number, the older), and with the
///   `extension .log` option `app.1.log`;
/// - `app.log-20261120` (logrotate `dateext`; any `dateformat` of digits and `-`/`_` whose first
///   eight digits are a date), `app-20261120.log` (`dateext` with `extension`), `app.log.2026-11-20`;
/// - `app.2026-11-20.log` (logback's `%d{yyyy-MM-dd}`, as BigBlueButton names its Java and Scala
///   logs) and `app.2026-11-20.3.log` (logback's `%d.%i`: within a day, the higher index is newer);
/// - each of these with `.gz` appended (compress; with delaycompress the newest is plain).
///
/// Order, oldest first: by number (higher is older) or by date (earlier is older, then the logback
/// index); the file's modification time breaks ties and orders files of different schemes.
/// Other compressions (`.xz`, `.bz2`, `.zst`, `.lz4`, `.Z`) are not read.
struct RotatedSibling: Equatable {
    enum Age: Equatable {
        /// `NAME.N`: higher is older.
        case index(Int)
        /// A date's digits (`20261120`, as many digits as the name has), then logback's `%i`.
        case date(String, Int)
    }

    var path: String
    var compressed: Bool
    var age: Age
    /// Modification time in nanoseconds since the epoch: the tiebreak.
    var mtime: Int64 = 0

    static let unreadableSuffixes = [".xz", ".bz2", ".zst", ".lz4", ".Z"]

    /// How `name` is a rotated name of `live` (both plain file names), or nil if it is not one.
    static func parse(_ name: String, live: String) -> (compressed: Bool, age: Age)? {
        var n = Substring(name)
        var compressed = false
        if n.hasSuffix(".gz") {
            n = n.dropLast(3)
            compressed = true
        } else if unreadableSuffixes.contains(where: { n.hasSuffix($0) }) {
            return nil
        }
        guard n != live else { return nil }
        if n.hasPrefix(live), let sep = n.dropFirst(live.count).first, sep == "." || sep == "-" {
            let token = n.dropFirst(live.count + 1)
            if let date = dateDigits(token) { return (compressed, .date(date, 0)) }
            if sep == ".", let i = number(token) { return (compressed, .index(i)) }
        }
        // Forms that keep the extension last: app.1.log, app-20261120.log, app.2026-11-20[.3].log.
        if let dot = live.lastIndex(of: "."), dot > live.startIndex {
            let stem = live[..<dot], ext = live[dot...]
            guard n.count > stem.count + ext.count + 1, n.hasPrefix(stem), n.hasSuffix(ext) else { return nil }
            let middle = n.dropFirst(stem.count).dropLast(ext.count)
            guard let sep = middle.first, sep == "." || sep == "-" else { return nil }
            let parts = middle.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 1 {
                if let date = dateDigits(parts[0]) { return (compressed, .date(date, 0)) }
                if sep == ".", let i = number(parts[0]) { return (compressed, .index(i)) }
            } else if parts.count == 2, sep == ".", let date = dateDigits(parts[0]), let i = number(parts[1]) {
                return (compressed, .date(date, i))
            }
        }
        return nil
    }

    /// The live name whose rotated name `name` is (`app.log.2.gz` gives `app.log`), or nil.
    /// Every cut at a `.` or `-` is tried, with and without the extension put back; the shortest
    /// that `parse` accepts wins (`app.2026-11-20.3.log` parses as a rotation of
    /// `app.2026-11-20.log` too).
    static func liveName(of name: String) -> String? {
        var n = Substring(name)
        if n.hasSuffix(".gz") { n = n.dropLast(3) }
        var candidates: [String] = []
        for i in n.indices where (n[i] == "." || n[i] == "-") && i > n.startIndex {
            candidates.append(String(n[..<i]))
        }
        if let dot = n.lastIndex(of: "."), dot > n.startIndex {
            let ext = n[dot...], body = n[..<dot]
            for i in body.indices where (body[i] == "." || body[i] == "-") && i > body.startIndex {
                candidates.append(String(body[..<i] + ext))
            }
        }
        return candidates.filter { parse(name, live: $0) != nil }.min { $0.count < $1.count }
    }

    /// The rotated siblings of `livePath` in its folder, oldest first.
    static func siblings(of livePath: String) -> [RotatedSibling] {
        let dir = PosixFile.directory(of: livePath)
        let live = String(livePath[livePath.index(after: livePath.lastIndex(of: "/") ?? livePath.startIndex)...])
        guard let names = try? PosixFile.list(dir) else { return [] }
        var numbered: [RotatedSibling] = [], dated: [RotatedSibling] = []
        for name in names {
            guard let (compressed, age) = parse(name, live: live) else { continue }
            let path = dir + "/" + name
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            let s = RotatedSibling(path: path, compressed: compressed, age: age,
                                   mtime: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
            if case .index = age { numbered.append(s) } else { dated.append(s) }
        }
        return order(numbered + dated)
    }

    /// Oldest first: each scheme by its names, the schemes merged by modification time.
    static func order(_ all: [RotatedSibling]) -> [RotatedSibling] {
        func older(_ a: RotatedSibling, _ b: RotatedSibling) -> Bool {
            switch (a.age, b.age) {
            case (.index(let x), .index(let y)) where x != y: return x > y
            case (.date(let x, let i), .date(let y, let j)) where x != y || i != j:
                return x.count != y.count ? a.mtime < b.mtime : (x, i) < (y, j)
            default:
                // Same age by name (NAME.1 and NAME.1.gz while gzip runs): the plain one first.
                if a.mtime != b.mtime { return a.mtime < b.mtime }
                return !a.compressed && b.compressed
            }
        }
        var numbered = all.filter { if case .index = $0.age { true } else { false } }.sorted(by: older)
        var dated = all.filter { if case .date = $0.age { true } else { false } }.sorted(by: older)
        var merged: [RotatedSibling] = []
        while let a = numbered.first, let b = dated.first {
            if b.mtime < a.mtime { merged.append(dated.removeFirst()) } else { merged.append(numbered.removeFirst()) }
        }
        return merged + numbered + dated
    }

    private static func number(_ s: Substring) -> Int? {
        guard !s.isEmpty, s.count <= 6, s.allSatisfy(\.isASCIIDigit) else { return nil }
        return Int(s)
    }

    /// The digits of a date token (`20261120`, `2026-11-20`, `2026112013`, `20261120-1732000000`):
    /// digits and `-`/`_`, at least eight digits, the first eight a plausible date.
    private static func dateDigits(_ s: Substring) -> String? {
        guard s.first?.isASCIIDigit == true, s.allSatisfy({ $0.isASCIIDigit || $0 == "-" || $0 == "_" }) else { return nil }
        let digits = String(s.filter(\.isASCIIDigit))
        guard digits.count >= 8 else { return nil }
        let d = Array(digits.utf8.prefix(8)).map { Int($0) - 48 }
        let year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]
        let month = d[4] * 10 + d[5], day = d[6] * 10 + d[7]
        guard (1970...2999).contains(year), (1...12).contains(month), (1...31).contains(day) else { return nil }
        return digits
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
