import Logging

/// Opens the store a location names, for the time of `body`: the one place that knows which
/// engines exist. The aggregator and every `meetmeter` command go through here and see only
/// `RecordStore`.
public enum RecordStores {
    /// Opens the store (creating and migrating it unless `readOnly`), runs `body` with it, and
    /// closes it. For PostgreSQL the client's connections run beside `body` and stop after it.
    public static func withStore<Result: Sendable>(
        _ location: StoreLocation, readOnly: Bool = false, logger: Logger,
        _ body: (any RecordStore) async throws -> Result
    ) async throws -> Result {
        switch location {
        case .sqlite(let path):
            let store = try SQLiteRecordStore(path: path, readOnly: readOnly)
            do {
                let result = try await body(store)
                try store.close()
                return result
            } catch {
                try? store.close()
                throw error
            }
        case .postgresql(let address):
            let store = try PostgresRecordStore(address: address, logger: logger)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await store.run() }
                defer { group.cancelAll() }
                try await store.prepare(readOnly: readOnly)
                return try await body(store)
            }
        }
    }
}
