import Logging
import PostgresNIO
import Synchronization

/// The store's own few connections to PostgreSQL, made when asked for and dropped at the first
/// error. postgres-nio's `PostgresClient` pool was not enough here: after the server crashed and
/// came back, its leases waited forever without reconnecting, and a lease that waits cannot be
/// bounded. Here every wait is cancellable and a connection that failed once is never reused, so
/// the next operation after a restart simply connects again.
actor PostgresConnections {
    let configuration: PostgresConnection.Configuration
    let maximum: Int
    let logger: Logger
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var nextID = 1
    private var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    private var closed = false

    init(configuration: PostgresConnection.Configuration, maximum: Int, logger: Logger) {
        self.configuration = configuration
        self.maximum = max(maximum, 1)
        self.logger = logger
    }

    /// An idle connection, a new one if fewer than `maximum` are open, or the next one released.
    func lease() async throws -> PostgresConnection {
        var woken = false
        while true {
            if Task.isCancelled {
                // Woken for a place that this cancelled lease will not take: pass it on.
                if woken { wakeOne() }
                throw CancellationError()
            }
            if closed { throw StoreClosed() }
            while let connection = idle.popLast() {
                if !connection.isClosed { return connection }
                open -= 1
            }
            if open < maximum {
                open += 1
                let id = nextID
                nextID += 1
                do {
                    return try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
                } catch {
                    open -= 1
                    wakeOne()
                    throw error
                }
            }
            let id = nextID
            nextID += 1
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    waiters.append((id, continuation))
                }
            } onCancel: {
                // Runs on the actor after this waiter is queued (the actor is busy until then).
                Task { await self.cancelWaiter(id) }
            }
            woken = true
        }
    }

    /// Gives a connection back; one that failed (`broken`) is closed and forgotten.
    func release(_ connection: PostgresConnection, broken: Bool) {
        if broken || closed || connection.isClosed {
            open -= 1
            wakeOne()
            Self.close(connection)
            return
        }
        idle.append(connection)
        wakeOne()
    }

    /// Closes the idle connections and refuses new leases.
    func closeAll() {
        closed = true
        let connections = idle
        idle = []
        for waiter in waiters { waiter.continuation.resume(throwing: StoreClosed()) }
        waiters = []
        for connection in connections {
            open -= 1
            Self.close(connection)
        }
    }

    /// Closes without waiting: closing a connection whose server died can wait forever.
    nonisolated static func close(_ connection: PostgresConnection) {
        let future: EventLoopFuture<Void> = connection.close()
        // Held until closed: postgres-nio asserts that a connection is closed before it goes.
        future.whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    private func wakeOne() {
        if !waiters.isEmpty { waiters.removeFirst().continuation.resume() }
    }

    private func cancelWaiter(_ id: Int) {
        // Not there: it was woken meanwhile, and its lease loop sees the cancellation.
        if let index = waiters.firstIndex(where: { $0.id == id }) {
            waiters.remove(at: index).continuation.resume(throwing: CancellationError())
        }
    }
}

/// The connection an operation holds, given back to the pool exactly once: by the operation
/// when it ends, or by whoever abandons it first (a timeout, a cancelled caller).
final class OperationLease: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var abandoned = false
    }
    private let state = Mutex(State())

    /// Holds `connection` for the operation; false when the operation was abandoned meanwhile.
    func hold(_ connection: PostgresConnection) -> Bool {
        state.withLock { state in
            if state.abandoned { return false }
            state.connection = connection
            return true
        }
    }

    /// The held connection, to give back; nil once given back or abandoned.
    func take() -> PostgresConnection? {
        state.withLock { state in
            defer { state.connection = nil }
            return state.connection
        }
    }

    /// Marks the operation abandoned; the connection it held, if any, to give back as broken.
    func abandon() -> PostgresConnection? {
        state.withLock { state in
            state.abandoned = true
            defer { state.connection = nil }
            return state.connection
        }
    }
}

/// The first result an operation gets (its value, a timeout or a cancellation), handed to the one
/// caller waiting for it; later ones are dropped.
final class OperationOutcome<T: Sendable>: Sendable {
    private enum State {
        case pending(CheckedContinuation<T, any Error>?)
        case resolved(Result<T, any Error>)
        case delivered
    }
    private let state = Mutex(State.pending(nil))

    /// Settles the outcome; false when it was settled already.
    @discardableResult
    func resolve(_ result: Result<T, any Error>) -> Bool {
        let waiting: CheckedContinuation<T, any Error>?? = state.withLock { state in
            guard case .pending(let continuation) = state else { return .none }
            if let continuation {
                state = .delivered
                return .some(continuation)
            }
            state = .resolved(result)
            return .some(nil)
        }
        guard let waiting else { return false }
        waiting?.resume(with: result)
        return true
    }

    /// Waits for the outcome (once).
    func value() async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let ready: Result<T, any Error>? = state.withLock { state in
                switch state {
                case .pending:
                    state = .pending(continuation)
                    return nil
                case .resolved(let result):
                    state = .delivered
                    return result
                case .delivered:
                    return .failure(CancellationError())
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

/// The store was closed while an operation still asked for a connection.
struct StoreClosed: Error, CustomStringConvertible {
    var description: String { "the store is closed" }
}
