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
        while true {
            try Task.checkCancellation()
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

/// The connection an operation holds, so that a timeout can close it under the operation.
final class HeldConnection: Sendable {
    private let connection = Mutex<PostgresConnection?>(nil)
    func hold(_ c: PostgresConnection?) { connection.withLock { $0 = c } }
    var held: PostgresConnection? { connection.withLock { $0 } }
}

/// The store was closed while an operation still asked for a connection.
struct StoreClosed: Error, CustomStringConvertible {
    var description: String { "the store is closed" }
}
