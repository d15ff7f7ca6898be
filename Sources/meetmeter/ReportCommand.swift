import Aggregation
import ArgumentParser
import Billing
import Logging
import RecordStorage
import Statements
import ConfigFiles
import UsageRecords

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print usage per meeting and per person for a period from the aggregator's store, or with --policy the invoice.")

    @OptionGroup var store: StoreOptions

    @Option(help: "Rate the period under this billing policy (billing.toml(5) or preset:NAME) and print the invoice.")
    var policy: String?

    @Option(help: "With --policy: the statement as it stood at this RFC 3339 time (default: now). Usage received after a period closed is an adjustment on the next statement.")
    var asOf: String?

    @Flag(help: "With --policy: rate the period with every record known now, as if it had never closed (audits, logs replayed long after).")
    var rerate = false

    @Option(help: "table, json or csv (with --policy also stripe).")
    var format: String = "table"

    func run() async throws {
        let period = try self.store.parsedPeriod()
        try await self.store.withStore { store in try await report(store: store, period: period) }
    }

    func report(store: any RecordStore, period: Period) async throws {
        if let policyPath = policy {
            guard let format = InvoiceFormat(rawValue: format) else {
                throw ValidationError("--format must be one of \(InvoiceFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let policy = try PolicyLoading.load(policyPath)
            let asOf: Timestamp
            if let text = self.asOf {
                guard let t = Timestamp(rfc3339: text) else { throw ValidationError("--as-of '\(text)' is not an RFC 3339 time") }
                asOf = t
            } else {
                asOf = SystemClock.now()
            }
            let invoice = try await StoredStatement.invoice(store: store, policy: policy, period: period, asOf: rerate ? nil : asOf)
            print(InvoiceRendering.render(invoice, format: format), terminator: "")
            return
        }
        guard let format = OutputFormat(rawValue: format) else {
            throw ValidationError("--format must be one of table, json, csv")
        }
        let records = try await store.records(overlapping: period.start, to: period.end)
        let meetings = UsageReport.meetings(from: records, in: period)
        switch format {
        case .table: print(ReportRendering.table(meetings, period: period), terminator: "")
        case .json: print(ReportRendering.json(meetings, period: period))
        case .csv: print(ReportRendering.csv(meetings), terminator: "")
        }
    }
}

/// Prints the stored records of a period, one a line: evidence to keep, to diff, or to feed
/// `meetmeter bill --records -`.
struct RecordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "Print the stored records of a period (by when they happened), one JSON record a line.")

    @OptionGroup var store: StoreOptions

    @Flag(help: "Print instead the conflicting copies: records that arrived with the id of a stored record and other content, each after a comment line saying who sent it, when and how often.")
    var conflicts = false

    func run() async throws {
        let period = try self.store.parsedPeriod()
        try await self.store.withStore { store in try await list(store: store, period: period) }
    }

    func list(store: any RecordStore, period: Period) async throws {
        var out = ""
        if conflicts {
            for c in try await store.conflicts(from: period.start, to: period.end) {
                out += "# conflict: id \(c.id) from host \(c.host), received \(c.count) time(s), first \(c.firstReceived.rfc3339), last \(c.lastReceived.rfc3339)\n"
                out += c.line + "\n"
            }
            print(out, terminator: "")
            return
        }
        for record in try await store.records(from: period.start, to: period.end) {
            out += RecordCodec.encode(record)
            out += "\n"
            if out.utf8.count > 1 << 16 {
                print(out, terminator: "")
                out = ""
            }
        }
        print(out, terminator: "")
    }
}

/// Where the store is and which period to read: `report` and `records` take both.
struct StoreOptions: ParsableArguments {
    @Option(help: "The aggregator's configuration, which says where the store is.")
    var config = "/etc/meetmeter/aggregator.toml"

    @Option(help: "A month (2026-11), an ISO week (2026-W47) or a day (2026-11-22), in UTC.")
    var period: String

    func parsedPeriod() throws -> Period {
        do { return try Period.parse(self.period) } catch { throw ValidationError("\(error)") }
    }

    func withStore(_ body: (any RecordStore) async throws -> Void) async throws {
        try await StoreOpening.withStore(config: config, body)
    }
}

enum StoreOpening {
    /// Opens the store aggregator.toml names, read-only, for the time of `body`; exits 78 on a
    /// bad configuration and 66 on a store that cannot be read, with the reason on stderr.
    static func withStore(config: String, _ body: (any RecordStore) async throws -> Void) async throws {
        let configuration: AggregatorConfiguration
        do {
            configuration = try AggregatorConfiguration.load(path: config)
        } catch {
            printError("meetmeter: \(error)")
            throw ExitCode(78)
        }
        let logger = Logger(label: "meetmeter.store") { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        do {
            try await RecordStores.withStore(configuration.store, readOnly: true, logger: logger, body)
        } catch let error as StoreError {
            printError("meetmeter: \(error)")
            throw ExitCode(66)
        }
    }
}
