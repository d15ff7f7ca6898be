#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Billing
import ConfigFiles
import UsageRecords

extension InvoiceFormat: ExpressibleByArgument {}

struct BillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bill",
        abstract: "Rate usage records for a period under a billing policy and print the invoice.",
        discussion: """
            The records file holds one record a line, as `meetmeter parse` and `meetmeter records` print them. \
            A line that is not a record stops the run with its line number and what is wrong: an invoice is never \
            made from part of the evidence. Exit status 65 for bad records, 78 for a bad policy.
            """)

    @Option(help: "The billing policy (billing.toml(5)), or preset:live-collaboration, preset:whiteboard, preset:hosting.")
    var policy: String

    @Option(help: "The records, one JSON record a line; - for standard input.")
    var records: String

    @Option(help: "A month (2026-11), an ISO week (2026-W47) or a day (2026-11-22), in UTC.")
    var period: String

    @Option(help: "table, json, csv or stripe (Stripe meter events, one a line).")
    var format: InvoiceFormat = .table

    func run() throws {
        let policy = try PolicyLoading.load(self.policy)
        let period: Period
        do { period = try Period.parse(self.period) } catch { throw ValidationError("\(error)") }
        let list = try RecordFile.read(records)
        let invoice = Invoice.rate(records: list, policy: policy, period: period)
        print(InvoiceRendering.render(invoice, format: format), terminator: "")
    }
}

/// billing.toml, or a preset by name.
enum PolicyLoading {
    static func load(_ argument: String) throws -> BillingPolicy {
        if argument.hasPrefix("preset:") {
            let name = String(argument.dropFirst("preset:".count))
            guard let preset = PolicyPreset(rawValue: name) else {
                throw ValidationError("no preset '\(name)'; presets: \(PolicyPreset.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return BillingPolicy.preset(preset)
        }
        do {
            let text = try ConfigDocument.readText(path: argument)
            return try BillingPolicy.parse(text: text, path: argument)
        } catch {
            printError("meetmeter: \(error)")
            throw ExitCode(78)
        }
    }
}

/// A file of records, one JSON line each, read whole; every bad line is named.
enum RecordFile {
    static func read(_ path: String) throws -> [UsageRecord] {
        let text: String
        do {
            text = path == "-" ? StandardInput.readAll() : try ConfigDocument.readText(path: path)
        } catch {
            printError("meetmeter: \(error)")
            throw ExitCode(66) // EX_NOINPUT
        }
        var records: [UsageRecord] = []
        var bad = 0
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            if line.isEmpty { continue }
            do {
                records.append(try RecordCodec.decode(String(line)))
            } catch {
                bad += 1
                if bad <= 10 { printError("meetmeter: \(path):\(number): \(error)") }
            }
        }
        if bad > 0 {
            printError("meetmeter: \(path): \(bad) line(s) are not records; no invoice made")
            throw ExitCode(65) // EX_DATAERR
        }
        return records
    }
}

enum StandardInput {
    static func readAll() -> String {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            data += chunk[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }
}
