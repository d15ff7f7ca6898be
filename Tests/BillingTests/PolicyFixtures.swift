@testable import Billing
import UsageRecords

/// Policies the tests rate with: each preset with the prices its document leaves out.
enum PolicyFixtures {
    static func parse(_ text: String, path: String = "billing.toml") -> BillingPolicy {
        do {
            return try BillingPolicy.parse(text: text, path: path)
        } catch {
            fatalError("a test policy does not parse: \(error)")
        }
    }

    static let liveCollaboration = parse("""
        preset = "live-collaboration"
        [[meters]]
        item = "live-collaboration"
        price = "0.01"
        """)

    static let whiteboard = parse("""
        preset = "whiteboard"
        """)

    static let hosting = parse("""
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
        """)

    static func period(_ text: String) -> Period {
        do { return try Period.parse(text) } catch { fatalError("\(error)") }
    }

    static func d(_ s: String) -> ExactDecimal { ExactDecimalTests.d(s) }
}
