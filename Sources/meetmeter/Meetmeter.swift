import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

@main
struct Meetmeter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meetmeter",
        abstract: "Parse meeting logs, report usage and bill it.",
        discussion: "See meetmeter(1).",
        subcommands: [ParseCommand.self, ReportCommand.self, BillCommand.self, RecordsCommand.self, StoreCommand.self, StatusCommand.self, CheckConfigCommand.self])
}

func printError(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Output formats shared by report and bill.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}
