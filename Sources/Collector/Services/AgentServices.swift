import Delivery
import LogParsers
import Logging
import ServiceLifecycle
import SystemCalls

/// The agent's parts as services, in the order a `ServiceGroup` needs: it starts them in this
/// order and, at a graceful shutdown, stops them in the reverse one, each after the one after it
/// has returned. So at SIGTERM the readers stop first (their positions cover what is spooled),
/// then the samplers, and the shipper last, after the batch in flight is answered.
public struct AgentServices: Sendable {
    public let generations: AgentGenerations
    public let mode: AgentMode
    let logger: Logger
    /// What the readers made of their lines, once they have stopped (the summary of `--drain`).
    public let counts = LockedBox(ParseCounts())

    public init(agent: Agent, mode: AgentMode, logger: Logger) {
        self.generations = AgentGenerations(agent)
        self.mode = mode
        self.logger = logger
    }

    public var services: [ServiceGroupConfiguration.ServiceConfiguration] {
        let mode = self.mode
        let counts = self.counts
        var list: [ServiceGroupConfiguration.ServiceConfiguration] = []
        func add(_ part: AgentPart, _ stopping: AgentPartService.Stopping, mayEnd: Bool = false,
                 endsGroup: Bool = false, _ body: @escaping @Sendable (Agent, Latch) async throws -> Void)
        {
            let service = AgentPartService(part: part, generations: generations, stopping: stopping, mayEnd: mayEnd,
                                           logger: logger, body: body)
            list.append(.init(service: service, successTerminationBehavior: endsGroup ? .gracefullyShutdownGroup : .cancelGroup))
        }
        add(.shipper, .finish, mayEnd: mode == .drain) { agent, finish in
            try await agent.makeShipper().run(finish: finish, finishing: mode == .drain ? .whenSpoolEmpty : .afterBatchInFlight)
        }
        if mode == .follow {
            add(.heartbeat, .cancel) { agent, _ in try await agent.makeHeartbeat().run() }
            if generations.current.agent.configuration.storage != nil {
                add(.storageSampler, .cancel) { agent, _ in
                    // A reload that turned `[storage]` off leaves this part idle until the next.
                    if let sampler = agent.makeStorageSampler() { try await sampler.run() } else { await Latch().wait() }
                }
            }
        }
        // Reading to the end is the readers' normal end in drain mode: the group then shuts down
        // gracefully, which tells the shipper to finish once the spool is empty.
        add(.readers, .cancel, mayEnd: mode == .drain, endsGroup: mode == .drain) { agent, _ in
            let readers = try agent.makeReaders(mode)
            if readers.isEmpty && mode == .follow { await Latch().wait() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for reader in readers { group.addTask { try await reader.run() } }
                try await group.waitForAll()
            }
            var total = ParseCounts()
            for reader in readers { total.add(await reader.counts()) }
            counts.value = total
        }
        return list
    }
}
