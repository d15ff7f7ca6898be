import Synchronization

/// A one-way event that tasks can wait for: closed until `open()`, then open for good. The
/// shipper waits on one to learn that it should finish, the agent's parts on one to learn that a
/// reload superseded their configuration.
public final class Latch: Sendable {
    private struct State {
        var isOpen = false
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public var isOpen: Bool { state.withLock { $0.isOpen } }

    /// Opens the latch and wakes every waiter. Opening twice does nothing more.
    public func open() {
        let waiting = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            guard !s.isOpen else { return [] }
            s.isOpen = true
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for w in waiting { w.resume() }
    }

    /// Returns when the latch is open, or when the waiting task is cancelled.
    public func wait() async {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.isOpen || Task.isCancelled { return true }
                    s.waiters[id] = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            let w = state.withLock { $0.waiters.removeValue(forKey: id) }
            w?.resume()
        }
    }
}
