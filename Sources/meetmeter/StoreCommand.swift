import ArgumentParser
import Logging
import RecordStorage

#if canImport(Glibc)
import Glibc
#endif

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Work on a record store as a whole.",
        subcommands: [StoreCopyCommand.self])
}

/// `meetmeter store copy`: moving from SQLite to PostgreSQL (or back, or between databases).
struct StoreCopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy every record and kept conflicting copy from one store to another, as they are.",
        discussion: """
            A store is a SQLite file or a postgresql://USER@HOST:PORT/DB URL. Idempotent: ids the \
            destination holds are skipped, so a copy cut short is finished by running it again. \
            Exit status: 0 when copied, 64 on bad arguments, 66 when the source cannot be read, \
            73 when the destination cannot be created or written.
            """)

    @Option(help: "The store to read: a SQLite file, or a PostgreSQL URL.")
    var from: String

    @Option(help: "The store to write, created and migrated if needed: a SQLite file, or a PostgreSQL URL.")
    var to: String

    @Option(help: "The file whose first line is the source database's password (PostgreSQL).")
    var fromPasswordFile: String?

    @Option(help: "The file whose first line is the destination database's password (PostgreSQL).")
    var toPasswordFile: String?

    @Option(help: "Records a transaction.")
    var pageSize = StoreCopy.defaultPageSize

    func run() async throws {
        guard pageSize > 0 else { throw ValidationError("--page-size must be at least 1") }
        let source = try Self.location(from, passwordFile: fromPasswordFile, option: "--from")
        let destination = try Self.location(to, passwordFile: toPasswordFile, option: "--to")
        guard source != destination else {
            throw ValidationError("--from and --to name the same store (\(source))")
        }
        let logger = Logger(label: "meetmeter.store") { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let counts: StoreCopy.Counts
        do {
            counts = try await RecordStores.withStore(source, readOnly: true, logger: logger) { reading in
                let total = try await reading.count()
                printError("meetmeter: copying \(total) records from \(source) to \(destination)")
                do {
                    return try await RecordStores.withStore(destination, logger: logger) { writing in
                        var progress = ProgressLine(total: total)
                        return try await StoreCopy.copy(from: reading, to: writing, pageSize: pageSize) { progress.show($0) }
                    }
                } catch let error as StoreCopy.Failure {
                    throw error
                } catch {
                    // Opening or migrating the destination.
                    throw StoreCopy.Failure.writing(error)
                }
            }
        } catch let failure as StoreCopy.Failure {
            printError("meetmeter: store copy: \(failure)")
            switch failure {
            case .reading: throw ExitCode(66)
            case .writing: throw ExitCode(73)
            }
        } catch {
            // Opening the source, or counting its records.
            printError("meetmeter: store copy: cannot read the source: \(error)")
            throw ExitCode(66)
        }
        print("records: \(counts.recordsRead) read, \(counts.recordsAdded) added, \(counts.recordsAlreadyHeld) already held")
        print("conflicting copies: \(counts.conflictsRead) read, \(counts.conflictsAdded) added, \(counts.conflictsAlreadyHeld) already held")
    }

    /// A store named on the command line: a URL is PostgreSQL, anything else a SQLite file.
    static func location(_ text: String, passwordFile: String?, option: String) throws -> StoreLocation {
        if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") {
            do {
                return .postgresql(try PostgresAddress(url: text, passwordFile: passwordFile))
            } catch {
                throw ValidationError("\(option): \(error)")
            }
        }
        guard passwordFile == nil else {
            throw ValidationError("\(option) names a SQLite file, which has no password; \(option)-password-file is for a PostgreSQL URL")
        }
        guard !text.isEmpty else { throw ValidationError("\(option) is empty") }
        return .sqlite(path: text)
    }
}

/// The copy's progress on stderr: at most one line a second, and the last one.
struct ProgressLine {
    let total: Int
    private var lastShown: ContinuousClock.Instant?

    init(total: Int) { self.total = total }

    mutating func show(_ counts: StoreCopy.Counts) {
        let now = ContinuousClock.now
        if let last = lastShown, now - last < .seconds(1), counts.recordsRead < total { return }
        lastShown = now
        let percent = total > 0 ? min(100, counts.recordsRead * 100 / total) : 100
        var line = "meetmeter: \(counts.recordsRead) of \(total) records read (\(percent)%), \(counts.recordsAdded) added"
        if counts.conflictsRead > 0 { line += "; \(counts.conflictsRead) conflicting copies read, \(counts.conflictsAdded) added" }
        printError(line)
    }
}
