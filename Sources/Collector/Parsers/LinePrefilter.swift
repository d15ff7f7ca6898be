/// A parser's look at the raw bytes of each line, taken by the file follower before the line
/// becomes a `LogLine`: most lines of a meeting host's logs are not about usage, and for them the
/// String, the `LogLine` and the hand-over cost far more than the search that dismisses them.
///
/// The contract is exact, not heuristic: a prefilter may pass over a line only when its parser,
/// in the state the lines before have left it in, would ignore the line and stay in that state.
/// It sees every line of its source in the parser's order (it is one value per source), so it can
/// follow the little state that matters (a JSON value cut at the end of a line, whose rest the
/// parser joins from the lines after it). Lines passed over are still counted as read.
public protocol LinePrefilter: Sendable {
    /// Whether the line must reach the parser.
    mutating func keeps(_ line: UnsafeBufferPointer<UInt8>) -> Bool
}

/// How deep a JSON text is nested at its end so far, carried from line to line as the parser
/// joins the pieces of a cut value: strings and escapes are followed, so braces inside strings do
/// not count.
struct JSONDepth: Sendable {
    private(set) var depth = 0
    private var inString = false
    private var escaped = false
    /// Whether an object or array has begun: until one has, the text (empty, say) is no whole
    /// value either.
    private var begun = false

    /// Whether the value is not closed yet: the next line may be its rest.
    var isOpen: Bool { !begun || depth > 0 || inString }

    mutating func scan(_ b: UnsafeBufferPointer<UInt8>, from start: Int = 0) {
        var i = max(0, start)
        while i < b.count {
            let c = b[i]
            if inString {
                if escaped {
                    escaped = false
                } else if c == UInt8(ascii: "\\") {
                    escaped = true
                } else if c == UInt8(ascii: "\"") {
                    inString = false
                }
            } else {
                switch c {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; begun = true
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                default: break
                }
            }
            i += 1
        }
    }
}

/// `BBBParser`'s prefilter. It passes over a line only when the parser would dismiss it by its
/// bytes alone (no marker, no recording step; or an analytics message or log code of no interest)
/// and no cut JSON value is waiting for its rest: while one may be, every line reaches the parser,
/// which alone decides whether the line continues the value or ends the wait.
struct BBBPrefilter: LinePrefilter {
    private enum Held {
        case nothing
        /// The parser may hold the head of a cut value, nested this deep so far.
        case cut(JSONDepth)
        /// It may hold one, of a depth not followed here (a line that can be read either as a
        /// continuation or as a value of its own): every line reaches it until a fresh one.
        case unknown
    }

    private var held = Held.nothing

    mutating func keeps(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        switch held {
        case .nothing:
            return readAlone(b)
        case .cut, .unknown:
            // As BBBParser.continuePending: a fresh log line or an analytics line ends the wait
            // and is read as itself; any other line is joined to the value.
            if PendingJSON.startsLogLine(b) || b.find("analytics", anchor: 4) != nil {
                held = .nothing
                _ = readAlone(b)
                return true
            }
            if case .cut(var depth) = held {
                depth.scan(b)
                held = depth.isOpen ? .cut(depth) : .nothing
                // Joined text that does not parse makes the parser read the line as itself.
                if case .cut = held, case .akka = BBBParser.route(b) { held = .unknown }
                if case .nothing = held { _ = readAlone(b) }
            }
            return true
        }
    }

    /// Whether a line read as itself reaches the parser, noting a value it may cut.
    private mutating func readAlone(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let route = BBBParser.route(b)
        switch route {
        case .none:
            return false
        case .rap:
            return true
        case .akka(_, let json), .web(_, let json):
            if BBBParser.isDismissedUnread(b, route) { return false }
            var depth = JSONDepth()
            depth.scan(b, from: json)
            if depth.isOpen { held = .cut(depth) }
            return true
        }
    }
}
