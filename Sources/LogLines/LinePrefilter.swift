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
