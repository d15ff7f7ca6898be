import Testing
import RecordStorage
@_exported import Workloads

extension PostgresServer {
    public static let unavailableReason: Comment = Comment(rawValue: unavailableText)

    /// The server a `.postgresServer` suite started.
    @TaskLocal public static var current: PostgresServer?
}

/// Starts one PostgreSQL server for a suite and stops it after the suite's last test.
public struct PostgresServerTrait: SuiteTrait, TestScoping {
    public var isRecursive: Bool { false }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        let server = try PostgresServer()
        defer { server.remove() }
        try await PostgresServer.$current.withValue(server) { try await function() }
    }
}

extension Trait where Self == PostgresServerTrait {
    /// One PostgreSQL server for the suite, as `PostgresServer.current`.
    public static var postgresServer: Self { PostgresServerTrait() }
}

extension PostgresAddress {
    /// The address with a bound of a minute, for tests that check what is stored rather than how
    /// soon: on a machine whose disk and cores the other suites keep busy, a migration or a commit
    /// of theirs once took longer than the daemon's 15 seconds. The tests of the bound keep it.
    public var patient: PostgresAddress {
        var address = self
        address.operationTimeout = .seconds(60)
        return address
    }
}
