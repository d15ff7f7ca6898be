@testable import Collector
import ConfigFiles
import Foundation
import Logging
import ServiceLifecycle
@testable import SystemCalls
import Testing

/// The agent's parts as services of one ServiceGroup: the order they stop in, reloads, and a
/// part that ends by itself. The parts here are stand-ins that say what happened to them; the
/// real ones run end to end in EndToEndTests.
@Suite struct AgentServicesTests {
    let logger = Logger(label: "meetmeter.tests.services")

    func agent(host: String, in dir: String) throws -> Agent {
        let text = "host = \"\(host)\"\nstate_directory = \"\(dir)\"\n[[files]]\npaths = [\"\(dir)/x.log\"]\n"
        let configuration = try AgentConfiguration(document: try ConfigDocument(text: text, path: "\(dir)/agent.toml"))
        return try Agent(configuration: configuration, logger: logger)
    }

    func withFolder<T>(_ body: (String) async throws -> T) async throws -> T {
        let dir = NSTemporaryDirectory() + "meetmeter-services-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try await body(dir)
    }

    func part(_ part: AgentPart, _ stopping: AgentPartService.Stopping, _ generations: AgentGenerations, mayEnd: Bool = false,
              _ body: @escaping @Sendable (Agent, Latch) async throws -> Void) -> ServiceGroupConfiguration.ServiceConfiguration
    {
        .init(service: AgentPartService(part: part, generations: generations, stopping: stopping, mayEnd: mayEnd,
                                        logger: logger, body: body))
    }

    @Test func atAGracefulShutdownTheReadersStopBeforeTheShipperIsToldToFinish() async throws {
        try await withFolder { dir in
            let generations = AgentGenerations(try agent(host: "bbb1", in: dir))
            let events = LockedBox<[String]>([])
            let started = Latch()
            let group = ServiceGroup(configuration: .init(services: [
                part(.shipper, .finish, generations) { _, finish in
                    await finish.wait()
                    events.update { $0.append("shipper told to finish") }
                    // The batch in flight is answered after the readers stopped, not cut short.
                    try await Task.sleep(for: .milliseconds(50))
                    events.update { $0.append("shipper finished") }
                },
                part(.readers, .cancel, generations) { _, _ in
                    started.open()
                    await Latch().wait()  // until cancelled
                    events.update { $0.append("readers stopped") }
                },
            ], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                await started.wait()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(events.value == ["readers stopped", "shipper told to finish", "shipper finished"])
        }
    }

    @Test func aReloadRestartsEveryPartWithTheNewGeneration() async throws {
        try await withFolder { dir in
            let first = try agent(host: "bbb1", in: dir)
            let generations = AgentGenerations(first)
            let hosts = LockedBox<[String]>([])
            let ranTwice = Latch()
            let group = ServiceGroup(configuration: .init(services: [
                part(.readers, .cancel, generations) { agent, _ in
                    let count = hosts.update { h -> Int in
                        h.append(agent.configuration.host)
                        return h.count
                    }
                    if count == 2 { ranTwice.open() }
                    await Latch().wait()
                },
            ], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                while hosts.value.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
                generations.publish(try Agent(configuration: try agent(host: "bbb2", in: dir).configuration, logger: logger, spool: first.spool))
                await ranTwice.wait()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(hosts.value == ["bbb1", "bbb2"])
        }
    }

    @Test func aPartThatEndsByItselfEndsTheAgentWithAnError() async throws {
        try await withFolder { dir in
            let generations = AgentGenerations(try agent(host: "bbb1", in: dir))
            let group = ServiceGroup(configuration: .init(services: [
                part(.shipper, .finish, generations) { _, finish in await finish.wait() },
                part(.heartbeat, .cancel, generations) { _, _ in },
            ], logger: logger))
            await #expect {
                try await group.run()
            } throws: { error in
                guard case .partEnded(.heartbeat) = error as? AgentError else { return false }
                return true
            }
        }
    }

    @Test func inDrainModeTheReadersEndIsNormalAndTheShipperFinishes() async throws {
        try await withFolder { dir in
            let generations = AgentGenerations(try agent(host: "bbb1", in: dir))
            let events = LockedBox<[String]>([])
            let group = ServiceGroup(configuration: .init(services: [
                part(.shipper, .finish, generations, mayEnd: true) { _, finish in
                    await finish.wait()
                    events.update { $0.append("shipper finished") }
                },
                .init(service: AgentPartService(part: .readers, generations: generations, stopping: .cancel, mayEnd: true, logger: logger) { _, _ in
                    events.update { $0.append("readers read everything") }
                }, successTerminationBehavior: .gracefullyShutdownGroup),
            ], logger: logger))
            try await group.run()
            #expect(events.value == ["readers read everything", "shipper finished"])
        }
    }
}
