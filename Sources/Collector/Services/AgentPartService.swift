import Logging
import ServiceLifecycle
import SystemCalls

/// One long-running part of the agent (the shipper, the readers, a sampler) as a service of the
/// lifecycle. It runs its part of the current generation, starts over when a reload supersedes
/// it, and stops at a graceful shutdown in the part's own way: readers and samplers are
/// cancelled (their positions already cover only what is spooled), the shipper is told to finish.
///
/// A part that ends by itself while it should run is a failure (`AgentError.partEnded`): a daemon
/// that stops by itself must not look like one that was told to, since systemd restarts only what
/// fails. A part that ends with an error while it is being stopped is stopping, not failing.
struct AgentPartService: Service {
    enum Stopping: Sendable {
        /// Cancelled at a graceful shutdown.
        case cancel
        /// `finish` opens at a graceful shutdown; the part returns when it has finished.
        case finish
    }

    let part: AgentPart
    let generations: AgentGenerations
    let stopping: Stopping
    /// Whether returning by itself is the part's normal end (readers in drain mode).
    let mayEnd: Bool
    let logger: Logger
    let body: @Sendable (_ agent: Agent, _ finish: Latch) async throws -> Void

    func run() async throws {
        let finish = Latch()
        switch stopping {
        case .cancel:
            try await cancelWhenGracefulShutdown { try await loop(finish) }
        case .finish:
            try await withGracefulShutdownHandler {
                try await loop(finish)
            } onGracefulShutdown: {
                finish.open()
            }
        }
    }

    private func loop(_ finish: Latch) async throws {
        var generation = generations.current
        while true {
            let agent = generation.agent
            let superseded = generation.superseded
            let reloaded: Bool
            do {
                reloaded = try await withThrowingTaskGroup(of: Bool.self) { group in
                    group.addTask { try await body(agent, finish); return false }
                    group.addTask { await superseded.wait(); return true }
                    defer { group.cancelAll() }
                    return try await group.next() ?? false
                }
            } catch {
                if stopped(finish) {
                    logger.debug("a part ended with an error while stopping", metadata: ["part": "\(part.rawValue)", "error": "\(error)"])
                    return
                }
                throw error
            }
            if stopped(finish) { return }
            if reloaded {
                generation = generations.current
                continue
            }
            if mayEnd { return }
            throw AgentError.partEnded(part)
        }
    }

    private func stopped(_ finish: Latch) -> Bool {
        Task.isCancelled || finish.isOpen || Task.isShuttingDownGracefully
    }
}
