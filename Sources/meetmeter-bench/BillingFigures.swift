import HostSampling
import LogLines
import LogParsers
import LogSources
import Workloads
import Billing
import Foundation
import UsageRecords

/// Issue 6: rating a month of records for many hosts under the hosting and live-collaboration
/// policies, against merely reading (decoding) the same records from their wire form.
enum BillingFigures {
    static let hosting = """
        preset = "hosting"
        [[meters]]
        item = "instance-running"
        sizes = { small = "0.05", large = "0.40" }
        [[meters]]
        item = "instance-stopped"
        price = "0.005"
        [[meters]]
        item = "recording-processing"
        price = "0.60"
        [[meters]]
        item = "storage"
        price = "0.10"
        [[meters]]
        item = "live-collaboration"
        measure = "participant-minutes"
        price = "0.01"
        """

    static func month(hosts: Int) throws -> [String] {
        let shape = SyntheticUsage.Shape.month(hosts: hosts)
        let lines = SyntheticUsage.records(shape).map(RecordCodec.encode)
        let bytes = lines.reduce(0) { $0 + $1.utf8.count + 1 }
        let policy = try BillingPolicy.parse(text: hosting, path: "bench-billing.toml")
        let period = try Period.parse("2026-11")
        var decoded: [UsageRecord] = []
        let read = try Measure.seconds(repeats: 1) {
            decoded = try lines.map { try RecordCodec.decode($0) }
        }
        var invoice: Invoice?
        let rate = Measure.seconds(repeats: 1) {
            invoice = Invoice.rate(records: decoded, policy: policy, period: period)
        }
        let total = invoice.map { "\($0.lines.count) invoice lines" } ?? "no invoice"
        return [
            "rating a month of \(hosts) hosts (\(lines.count) records, \(bytes / 1_000_000) MB): read \(String(format: "%.1f", read)) s, "
                + "rate \(String(format: "%.1f", rate)) s (\(total)) | rating takes \(String(format: "%.2f", rate / read))× the time of reading",
        ]
    }
}
