/// Finds, before the text reaches TOMLKit, the mistakes on which the toml++ inside it asserts
/// and so aborts the process instead of reporting an error: a typo in /etc/meetmeter would kill a
/// daemon with SIGABRT rather than make it exit 78 naming the line (found by fuzzing):
///
/// - a table header whose name starts with a character no name may start with (`[é]`, `[{]`,
///   `[.]`), or with no name at all (`[` alone on its line);
/// - a `}` where an array expects a value (`a = [}`, `a = [1, }`);
/// - a date whose time does not start with two digits (`a = 2000-01-01Tx0:00:00Z`,
///   `a = 2000-01-01 0`).
///
/// The scan follows TOML's strings (basic, literal, multi-line), comments and brackets just far
/// enough to know where headers and array values can be; everything else is left to TOMLKit.
enum TOMLPreflight {
    struct Mistake: Equatable {
        var line: Int
        var message: String
    }

    static func firstMistake(in text: String) -> Mistake? {
        let s = Array(text.unicodeScalars)
        var i = 0
        var line = 1
        /// The open arrays (`[`) and inline tables (`{`) of the value being read.
        var open: [Unicode.Scalar] = []
        /// Just after an array's `[` or `,`: the next significant character is a value.
        var valueDue = false
        var atLineStart = true
        /// After a key's `=` on this line: what follows is a value.
        var inValue = false
        func at(_ j: Int, _ c: Unicode.Scalar) -> Bool { j < s.count && s[j] == c }
        func triple(_ j: Int, _ q: Unicode.Scalar) -> Bool { at(j, q) && at(j + 1, q) && at(j + 2, q) }
        while i < s.count {
            let c = s[i]
            if c == "\n" {
                line += 1
                atLineStart = true
                if open.isEmpty { inValue = false }
                i += 1
                continue
            }
            if c == " " || c == "\t" || c == "\r" {
                i += 1
                continue
            }
            if c == "#" {
                while i < s.count && s[i] != "\n" { i += 1 }
                continue
            }
            if atLineStart && open.isEmpty && c == "[" {
                var j = i + 1
                if at(j, "[") { j += 1 }
                while at(j, " ") || at(j, "\t") { j += 1 }
                guard j < s.count, s[j] != "\n", s[j] != "\r" else {
                    return Mistake(line: line, message: "a table header without a name")
                }
                if !isBareKey(s[j]), s[j] != "\"", s[j] != "'", s[j] != "]" {
                    return Mistake(line: line, message: "a table name cannot start with '\(s[j].escaped(asASCII: true))'; use letters, digits, _ and -, or quote the name")
                }
                // The rest of a header is names, not values: on to the next line (a quoted name
                // holding a bracket must not count as one).
                while i < s.count && s[i] != "\n" { i += 1 }
                continue
            }
            atLineStart = false
            if valueDue && c == "}" {
                return Mistake(line: line, message: "an array expects a value or ']', not '}'")
            }
            valueDue = false
            if (inValue || !open.isEmpty), isDigit(c), i == 0 || !isBareKey(s[i - 1]), let end = dateEnd(s, i) {
                let sep = end < s.count ? s[end] : "\n"
                let first = end + 1 < s.count && isDigit(s[end + 1])
                let second = end + 2 < s.count && isDigit(s[end + 2])
                if (sep == "T" || sep == "t") && end + 1 < s.count && !(first && second) && !isTerminator(s[end + 1])
                    || sep == " " && first && !second {
                    return Mistake(line: line, message: "a date-time needs its time as HH:MM:SS after the date")
                }
                i = end
                continue
            }
            switch c {
            case "=":
                if open.isEmpty { inValue = true }
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
            case "[":
                open.append("[")
                valueDue = true
            case "{":
                open.append("{")
            case "]", "}":
                if !open.isEmpty { open.removeLast() }
            case ",":
                valueDue = open.last == "["
            default:
                break
            }
            i += 1
        }
        return nil
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    static func isTerminator(_ c: Unicode.Scalar) -> Bool {
        c == "\n" || c == "\r" || c == " " || c == "\t" || c == "," || c == "]" || c == "}" || c == "#"
    }

    /// Where a `YYYY-MM-DD` starting at `i` ends, if one does.
    static func dateEnd(_ s: [Unicode.Scalar], _ i: Int) -> Int? {
        guard i + 10 <= s.count else { return nil }
        for k in 0..<10 {
            let c = s[i + k]
            if k == 4 || k == 7 { guard c == "-" else { return nil } } else { guard isDigit(c) else { return nil } }
        }
        return i + 10
    }

    static func isBareKey(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
        default: false
        }
    }
}
