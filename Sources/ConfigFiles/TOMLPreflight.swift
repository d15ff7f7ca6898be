/// Finds, before the text reaches TOMLKit, the mistakes on which the toml++ inside it asserts
/// and so aborts the process instead of reporting an error: a typo in /etc/meetmeter would kill a
/// daemon with SIGABRT rather than make it exit 78 naming the line (found by fuzzing):
///
/// - a table header whose name starts with a character no name may start with (`[é]`, `[{]`,
///   `[.]`), or with no name at all (`[` alone on its line);
/// - a `}` where an array expects a value (`a = [}`, `a = [1, }`).
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
            switch c {
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

    static func isBareKey(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
        default: false
        }
    }
}
