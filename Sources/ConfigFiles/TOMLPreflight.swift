/// Finds a table header whose name starts with a character TOML does not allow there, before the
/// text reaches TOMLKit: the toml++ inside it asserts on such a header (`[é]`, `[{]`, `[.]`) and
/// aborts the process instead of reporting an error (`[` alone on a line too), so a typo in /etc/meetmeter would kill a
/// daemon with SIGABRT rather than exit 78 naming the line (found by fuzzing).
///
/// A header is a line whose first character, outside strings and outside an open array or
/// inline table, is `[`. The scan follows TOML's strings (basic, literal, multi-line), comments
/// and brackets just far enough to know where headers can be.
enum TableHeaderCheck {
    /// The 1-based line and the character of the first bad header, if any.
    static func firstBadHeader(in text: String) -> (line: Int, character: Unicode.Scalar)? {
        let s = Array(text.unicodeScalars)
        var i = 0
        var line = 1
        var depth = 0
        var atLineStart = true
        func at(_ j: Int, _ c: Unicode.Scalar) -> Bool { j < s.count && s[j] == c }
        func triple(_ j: Int, _ q: Unicode.Scalar) -> Bool { at(j, q) && at(j + 1, q) && at(j + 2, q) }
        while i < s.count {
            let c = s[i]
            if c == "\n" {
                line += 1
                atLineStart = true
                i += 1
                continue
            }
            if c == " " || c == "\t" || c == "\r" {
                i += 1
                continue
            }
            if atLineStart && depth == 0 && c == "[" {
                var j = i + 1
                if at(j, "[") { j += 1 }
                while at(j, " ") || at(j, "\t") { j += 1 }
                // A `[` alone on its line (or at the end) makes it assert too.
                guard j < s.count else { return (line, "\n") }
                if !isBareKey(s[j]), s[j] != "\"", s[j] != "'", s[j] != "]" {
                    return (line, s[j])
                }
                // The rest of a header is names, not values: on to the next line (a quoted name
                // holding a bracket must not count as one).
                while i < s.count && s[i] != "\n" { i += 1 }
                continue
            }
            atLineStart = false
            switch c {
            case "#":
                while i < s.count && s[i] != "\n" { i += 1 }
                continue
            case "\"", "'":
                if triple(i, c) {
                    i += 3
                    while i < s.count && !triple(i, c) {
                        if c == "\"" && s[i] == "\\" { i += 1 }
                        if i < s.count && s[i] == "\n" { line += 1 }
                        i += 1
                    }
                    i += 3
                    continue
                }
                i += 1
                while i < s.count && s[i] != c && s[i] != "\n" {
                    if c == "\"" && s[i] == "\\" { i += 1 }
                    i += 1
                }
                if at(i, c) { i += 1 }
                continue
            case "[", "{": depth += 1
            case "]", "}": depth = max(0, depth - 1)
            default: break
            }
            i += 1
        }
        return nil
    }

    static func isBareKey(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
        default: false
        }
    }
}
