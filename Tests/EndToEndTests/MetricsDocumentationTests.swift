import Foundation
import Testing

/// Every metric the daemons define is described in its daemon's page (METRICS), and the Grafana
/// dashboard the aggregator's package ships queries only metrics that exist.
@Suite struct MetricsDocumentationTests {
    static func read(_ path: String) throws -> String { try String(contentsOfFile: Paths.packageRoot + "/" + path, encoding: .utf8) }

    /// The names the sources give metrics (`label: "meetmeter_…"` and the dimensioned counters).
    static func defined() throws -> Set<String> {
        var names = Set<String>()
        let sources = FileManager.default.enumerator(atPath: Paths.packageRoot + "/Sources")
        let pattern = try NSRegularExpression(pattern: #"(?<![/`{])"(meetmeter_(agent|aggregator)_[a-z_]+)""#)
        while let file = sources?.nextObject() as? String {
            guard file.hasSuffix(".swift") else { continue }
            let text = try read("Sources/" + file)
            for m in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let r = Range(m.range(at: 1), in: text) { names.insert(String(text[r])) }
            }
        }
        return names
    }

    @Test func everyMetricIsDescribedAndTheDashboardQueriesOnlyThese() throws {
        let names = try Self.defined()
        #expect(names.count > 20, "\(names.sorted())")
        for name in names {
            let page = name.hasPrefix("meetmeter_agent_") ? "man/meetmeter-agent.8" : "man/meetmeter-aggregator.8"
            #expect(try Self.read(page).contains(".It Li \(name)\n"), "\(name) is described in \(page), METRICS")
        }
        let dashboard = try Self.read("grafana/meetmeter-dashboard.json")
        let parsed = try JSONSerialization.jsonObject(with: Data(dashboard.utf8)) as? [String: Any]
        #expect(parsed?["uid"] as? String == "meetmeter")
        let queried = try NSRegularExpression(pattern: #"meetmeter_(agent|aggregator)_[a-z_]+"#)
            .matches(in: dashboard, range: NSRange(dashboard.startIndex..., in: dashboard))
            .compactMap { Range($0.range, in: dashboard).map { String(dashboard[$0]) } }
        #expect(!queried.isEmpty)
        for name in Set(queried) { #expect(names.contains(name), "the dashboard queries \(name), which no daemon serves") }
    }
}
