import Synchronization
import SystemCalls

/// The agent of the configuration in force, and the news that a reload replaced it: every
/// service of the agent runs its part of the current generation, and starts over with the next
/// when its generation's `superseded` latch opens.
public final class AgentGenerations: Sendable {
    public struct Generation: Sendable {
        public let agent: Agent
        /// Opens when a reload published the next generation.
        public let superseded: Latch
    }

    private let state: Mutex<Generation>

    public init(_ agent: Agent) {
        state = Mutex(Generation(agent: agent, superseded: Latch()))
    }

    public var current: Generation { state.withLock { $0 } }

    /// Makes `agent` the current generation and tells the parts of the old one.
    public func publish(_ agent: Agent) {
        let old = state.withLock { g -> Generation in
            let old = g
            g = Generation(agent: agent, superseded: Latch())
            return old
        }
        old.superseded.open()
    }
}
