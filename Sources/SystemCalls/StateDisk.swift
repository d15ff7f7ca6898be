#if canImport(Glibc)
import Glibc
#endif
import Logging
import Metrics
import Synchronization

/// Whether the agent's state directory has room for its writes (issue 20, item 2).
///
/// Every write under the state directory — spool segments, the spool's `acked` file, position
/// files — that fails because the file system is full (ENOSPC, EDQUOT) is not an error that ends
/// the agent: the writer keeps what it last saved, waits with backoff and tries again, and the
/// source it belongs to stops reading meanwhile (the source is the buffer). This type says so once
/// per episode (a warning when the first writer is blocked, a notice when the last one got through),
/// counts episodes in `meetmeter_agent_state_disk_full_total`, shows the state in the gauge
/// `meetmeter_agent_state_disk_full` and in the agent's `/health` (`state_disk_full`).
///
/// One instance is shared by the spool and the position stores of an agent.
public final class StateDisk: Sendable {
    private struct State {
        /// The writers now waiting for room, with the error that stopped each.
        var blocked: [String: String] = [:]
        var since: ContinuousClock.Instant?
        var episodes = 0
    }

    private let state = Mutex(State())
    private let logger: Logger
    private let episodes = Counter(label: "meetmeter_agent_state_disk_full_total")
    private let fullGauge = Gauge(label: "meetmeter_agent_state_disk_full")
    public let initialBackoff: Duration
    public let maximumBackoff: Duration

    public init(logger: Logger = Logger(label: "meetmeter.agent"),
                initialBackoff: Duration = .milliseconds(100), maximumBackoff: Duration = .seconds(5))
    {
        self.logger = logger
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
    }

    /// Whether a failed write means "no room now" (wait and retry) rather than a fault.
    public static func isNoRoom(_ error: any Error) -> Bool {
        guard let e = error as? FileError else { return false }
        return e.errno == ENOSPC || e.errno == EDQUOT
    }

    /// Whether some write is waiting for room now.
    public var isFull: Bool { state.withLock { !$0.blocked.isEmpty } }

    /// How long the current episode has lasted; nil when no write is waiting.
    public var fullFor: Duration? {
        state.withLock { s in s.since.map { ContinuousClock.now - $0 } }
    }

    /// Episodes since the agent started.
    public var episodeCount: Int { state.withLock { $0.episodes } }

    /// What is blocked, for `/health`: `writer: error` of each, sorted.
    public var blockedWriters: [String] {
        state.withLock { s in s.blocked.keys.sorted().map { "\($0): \(s.blocked[$0] ?? "")" } }
    }

    /// `writer` could not write for want of room.
    public func failed(_ writer: String, _ error: any Error) {
        let first: Bool = state.withLock { s in
            let first = s.blocked.isEmpty
            s.blocked[writer] = "\(error)"
            if first {
                s.since = .now
                s.episodes += 1
            }
            return first
        }
        guard first else { return }
        episodes.increment()
        fullGauge.record(1)
        logger.error("the state directory's file system is full; reading stops, positions stay at the last saved, writes are retried until there is room", metadata: [
            "writer": "\(writer)", "error": "\(error)",
        ])
    }

    /// `writer` wrote (after having failed, or not: then this costs a lock and nothing else).
    public func succeeded(_ writer: String) {
        let ended: Duration? = state.withLock { s in
            guard s.blocked.removeValue(forKey: writer) != nil, s.blocked.isEmpty else { return nil }
            let lasted = s.since.map { ContinuousClock.now - $0 } ?? .zero
            s.since = nil
            return lasted
        }
        guard let ended else { return }
        fullGauge.record(0)
        logger.notice("the state directory has room again; reading resumes", metadata: [
            "writer": "\(writer)", "full_for": "\(ended)",
        ])
    }

    /// `writer` stopped waiting without having written (its task was cancelled: the agent stops
    /// or reloads). Ends the episode quietly when it was the last.
    public func withdrew(_ writer: String) {
        let emptied: Bool = state.withLock { s in
            guard s.blocked.removeValue(forKey: writer) != nil, s.blocked.isEmpty else { return false }
            s.since = nil
            return true
        }
        if emptied { fullGauge.record(0) }
    }

    /// The next wait after `backoff`, doubling up to the maximum.
    public func next(after backoff: Duration) -> Duration { min(backoff * 2, maximumBackoff) }

    /// Runs `write` until it succeeds: a failure for want of room is noted and retried after a
    /// backoff; any other failure is thrown. Cancellation ends the wait with CancellationError.
    public func retrying<T>(_ writer: String, _ write: () throws -> T) async throws -> T {
        var backoff = initialBackoff
        while true {
            do {
                let value = try write()
                succeeded(writer)
                return value
            } catch {
                guard Self.isNoRoom(error) else { throw error }
                failed(writer, error)
                do {
                    try await Task.sleep(for: backoff)
                } catch {
                    withdrew(writer)
                    throw error
                }
                backoff = next(after: backoff)
            }
        }
    }
}
