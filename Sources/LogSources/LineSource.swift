import LogLines
import SystemCalls
import UsageRecords

/// A place the agent reads lines from: the journal or a set of log files.
///
/// A source reads lines and hands them over in batches. `deliver` returns only once the records
/// made from the batch are safe (spooled and fsynced); it may block a long time when the spool is
/// full, and the source then simply stops reading (DESIGN.md principle 4: the source is the
/// buffer). Only after `deliver` returned does the source save its position (principle 5),
/// atomically and at most about once a second, and only when it changed. `run` goes on until its
/// task is cancelled; then it saves the last delivered position and returns normally.
public protocol LineSource: Sendable {
    var name: String { get }
    func run(deliver: @escaping @Sendable ([LogLine]) async throws -> Void) async throws
    /// Lines read but never handed over (a file follower's prefilter passed over them): they
    /// count as read, as `meetmeter parse` counts them.
    var passedOver: Int { get }
}

extension LineSource {
    public var passedOver: Int { 0 }
}

extension Error {
    /// Whether this error only says that the task was cancelled (a normal way to stop).
    public var isCancellation: Bool { self is CancellationError }
}
