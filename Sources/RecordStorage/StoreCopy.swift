/// Copies every stored record and kept conflicting copy from one store to another, as they are
/// (received time included): `meetmeter store copy`, to move from SQLite to PostgreSQL.
///
/// Idempotent and resumable: pages go in id order, each page is one transaction that skips ids the
/// destination already holds, so a copy cut short is finished by running it again, and a run over
/// a complete copy adds nothing. The destination may meanwhile receive records of its own
/// (aggregators already writing to it): the id is the key, so nothing is doubled.
public enum StoreCopy {
    /// What a copy read and added.
    public struct Counts: Sendable, Hashable {
        public var recordsRead = 0
        public var recordsAdded = 0
        public var conflictsRead = 0
        public var conflictsAdded = 0
        public init() {}

        public var recordsAlreadyHeld: Int { recordsRead - recordsAdded }
        public var conflictsAlreadyHeld: Int { conflictsRead - conflictsAdded }
    }

    /// Which side failed, so that the command can say which store to look at.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case reading(any Error)
        case writing(any Error)

        public var description: String {
            switch self {
            case .reading(let error): "cannot read the source: \(error)"
            case .writing(let error): "cannot write the destination: \(error)"
            }
        }
    }

    public static let defaultPageSize = 5000

    /// Copies all of `source` into `destination`, calling `progress` after every page with the
    /// counts so far.
    public static func copy(from source: any RecordStore, to destination: any RecordStore, pageSize: Int = defaultPageSize,
                            progress: (Counts) -> Void = { _ in }) async throws(Failure) -> Counts {
        precondition(pageSize > 0)
        var counts = Counts()
        var after: String?
        while true {
            let page: [RecordRow]
            do { page = try await source.rows(after: after, limit: pageSize) } catch { throw .reading(error) }
            if page.isEmpty { break }
            do { counts.recordsAdded += try await destination.insert(rows: page) } catch { throw .writing(error) }
            counts.recordsRead += page.count
            after = page.last?.id
            progress(counts)
        }
        var key: ConflictRow.Key?
        while true {
            let page: [ConflictRow]
            do { page = try await source.conflictRows(after: key, limit: pageSize) } catch { throw .reading(error) }
            if page.isEmpty { break }
            do { counts.conflictsAdded += try await destination.insert(conflictRows: page) } catch { throw .writing(error) }
            counts.conflictsRead += page.count
            key = page.last?.key
            progress(counts)
        }
        return counts
    }
}
