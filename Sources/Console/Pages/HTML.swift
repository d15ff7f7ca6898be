import UsageRecords

/// HTML made by hand, escaped at every value: the console's pages are few and static in shape,
/// and a template engine would add a dependency and a second language for four tables.
enum HTML {
    /// Text or an attribute value, safe between tags and inside double quotes.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A time as people read it on a page: UTC to the second, `2026-11-29 23:00:00`. (The API
    /// gives RFC 3339 to the microsecond; a tooltip may too.)
    static func time(_ t: Timestamp) -> String {
        let text = t.rfc3339
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(8))
    }

    /// A path segment or query value, percent-encoded.
    static func component(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    /// A whole page: the stylesheet, a header with the places a viewer may go, and `body`.
    static func page(title: String, nav: [(String, String)], _ body: String) -> String {
        let links = nav.map { "<a href=\"\(escape($0.1))\">\(escape($0.0))</a>" }.joined(separator: " ")
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · meetmeter</title>
            <link rel="stylesheet" href="/console/style.css">
            <link rel="icon" href="/console/icon.svg" type="image/svg+xml">
            </head>
            <body>
            <header><strong>meetmeter</strong> <nav>\(links)</nav>
            <form method="post" action="/console/logout"><button type="submit">Sign out</button></form></header>
            <main>
            \(body)
            </main>
            </body>
            </html>

            """
    }

    /// Undoes `%XX` escapes (a `+` stays a `+`, as in a path); nil for a bad escape or bytes
    /// that are not UTF-8.
    static func percentDecoded(_ text: String) -> String? {
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "%") {
                guard i + 2 < utf8.count, let hi = hexValue(utf8[i + 1]), let lo = hexValue(utf8[i + 2]) else { return nil }
                bytes.append(hi << 4 | lo)
                i += 3
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Decodes `application/x-www-form-urlencoded` (`+` is a space, `%XX` a byte).
    static func formValues(_ body: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            // `+` is a space in a form; a bad escape is kept as it came.
            let key = String(parts[0]).replacingPluses, value = String(parts[1]).replacingPluses
            out[percentDecoded(key) ?? key] = percentDecoded(value) ?? value
        }
        return out
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

private extension String {
    var replacingPluses: String { String(map { $0 == "+" ? " " : $0 }) }
}
