import LogLines
import UsageRecords

/// A JSON object that a log line carries behind a fixed marker (akka-apps' `-- analytics -- `,
/// bbb-web's `--analytics-- data=`), read with the strict parser of UsageRecords.
enum EmbeddedJSON {
    enum Result {
        case value(JSONValue)
        /// The text stops inside the value: the line was cut (rsyslog's 8 KiB limit, journald's
        /// LineMax split, a pager's `$`, an excerpt) and its rest may follow on the next lines.
        case truncated(JSONSyntaxError)
        case invalid(JSONSyntaxError)
    }

    static func parse(_ b: LineBuffer, from start: Int) -> Result {
        let slice = UnsafeBufferPointer(rebasing: b[min(start, b.count)...])
        do throws(JSONSyntaxError) {
            let (value, _) = try JSONParser.parsePrefix(slice)
            return .value(value)
        } catch {
            if error.offset >= slice.count || error.reason.hasPrefix("the text ends") { return .truncated(error) }
            return .invalid(error)
        }
    }

    static func parse(_ bytes: [UInt8]) -> Result {
        bytes.withUnsafeBufferPointer { parse($0, from: 0) }
    }

    static func skip(_ error: some CustomStringConvertible, truncated: Bool, what: String) -> SkipReason {
        truncated
            ? SkipReason("truncated-json", "the \(what) JSON stops before its end (\(error))")
            : SkipReason("bad-json", "the \(what) JSON does not parse: \(error)")
    }
}

/// The head of a JSON value cut at the end of its line, waiting for the lines that continue it.
///
/// Real files do not wrap lines, but journald splits entries longer than its LineMax into several,
/// and pasted or exported logs wrap at a column. The pieces are joined without a separator, since
/// the cut falls anywhere, even inside a token.
struct PendingJSON: Sendable {
    enum Route: Sendable { case akka, web }

    var route: Route
    var bytes: [UInt8]
    var lines = 1
    var origin: String?
    /// The time the head line gave (logback or journal), for JSON that carries none.
    var lineTime: Timestamp?

    static let maximumLines = 64
    static let maximumBytes = 8 << 20

    /// Levels as logback pads them: a line holding one near its start is a new log line.
    private static let levels = [" INFO  ", " DEBUG ", " WARN  ", " ERROR ", " TRACE "].map(ByteNeedle.init)

    /// Whether `b` starts the way a log line of its own does (a date, a syslog time, a Ruby
    /// Logger head, a logback level near its start).
    static func startsLogLine(_ b: LineBuffer) -> Bool {
        let start = b.skippingSpaces(from: 0)
        if start + 10 < b.count, isASCIIDigit(b[start]), isASCIIDigit(b[start + 3]), b[start + 4] == 0x2D, b[start + 7] == 0x2D {
            return true
        }
        if LogTime.syslog(b, at: start) != nil { return true }
        if start + 3 < b.count, b[start + 1] == UInt8(ascii: ","), b[start + 2] == 0x20, b[start + 3] == UInt8(ascii: "[") {
            return true // Ruby Logger
        }
        let head = min(b.count, 256)
        for level in Self.levels where b.find(level, to: head) != nil { return true }
        return false
    }
}
