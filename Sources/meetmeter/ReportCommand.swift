import Aggregation
import ArgumentParser
import Billing
import ConfigFiles
import UsageRecords

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print usage per meeting and per person for a period, from the aggregator's store.")

    @Option(help: "The aggregator's configuration, which says where the store is.")
    var config = "/etc/meetmeter/aggregator.toml"

    @Option(help: "A month (2026-11), an ISO week (2026-W47) or a day (2026-11-22), in UTC.")
    var period: String

    @Option(help: "table, json or csv.")
    var format: OutputFormat = .table

    func run() async throws {
        let configuration: AggregatorConfiguration
        do {
            configuration = try AggregatorConfiguration.load(path: config)
        } catch {
            printError("meetmeter: \(error)")
            throw ExitCode(78)
        }
        let period: Period
        do {
            period = try Period.parse(self.period)
        } catch {
            throw ValidationError("\(error)")
        }
        let store = try SQLiteRecordStore(path: configuration.databasePath, readOnly: true)
        let records = try await store.records(overlapping: period.start, to: period.end)
        let meetings = UsageReport.meetings(from: records, in: period)
        switch format {
        case .table: print(ReportRendering.table(meetings, period: period), terminator: "")
        case .json: print(ReportRendering.json(meetings, period: period))
        case .csv: print(ReportRendering.csv(meetings), terminator: "")
        }
    }
}
