import LogLines
import UsageRecords

/// `BBBParser`'s prefilter. It passes over a line only when the parser would dismiss it by its
/// bytes alone (no marker, no recording step; or an analytics message or log code of no interest)
/// and no cut JSON value may be waiting for its rest.
///
/// After a line the parser reads, the parser may hold the head of a JSON value cut at the line's
/// end. Whether it does is not worked out here (that would mean reading every usage line's JSON
/// twice, which cost more than it saved): until a line that starts afresh, every line reaches the
/// parser, which alone decides whether it continues the value. That fresh line (or an analytics
/// line) reaches it too, since it ends the wait, a change of the parser's state; it is read as
/// itself, and from the line after it the prefilter judges lines alone again.
struct BBBPrefilter: LinePrefilter {
    /// Whether the parser may hold the head of a cut value.
    private var mayHoldCut = false

    mutating func keeps(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        // A line that is not UTF-8 reaches the parser repaired (each bad byte a U+FFFD of three
        // bytes), so its bytes here are not the parser's: it is kept, and a cut value is assumed
        // to wait after it (found by fuzzing). Keeping is always exact; only passing over is not.
        guard UTF8Validation.isValid(b) else {
            mayHoldCut = true
            return true
        }
        guard mayHoldCut else { return readAlone(b) }
        // A file's lines all have the same origin.
        if BBBParser.endsPendingJSON(b) {
            mayHoldCut = false
            _ = readAlone(b)
        }
        return true
    }

    /// Whether a line read as itself reaches the parser.
    private mutating func readAlone(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let route = BBBParser.route(b)
        switch route {
        case .none:
            return false
        case .rap:
            return true
        case .akka, .web:
            if BBBParser.isDismissedUnread(b, route) { return false }
            mayHoldCut = true
            return true
        }
    }
}
