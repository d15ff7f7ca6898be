@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads
import Testing

/// The rotated names followed, and their order by age (the rule of meetmeter-agent(8), LOG ROTATION).
@Suite struct RotatedSiblingTests {
    @Test(arguments: [
        ("app.log.1", "app.log", "index 1 plain"),
        ("app.log.12.gz", "app.log", "index 12 gz"),
        ("app.1.log", "app.log", "index 1 plain"),
        ("app.log-20261120", "app.log", "date 20261120/0 plain"),
        ("app.log-20261120.gz", "app.log", "date 20261120/0 gz"),
        ("app.log-2026112013", "app.log", "date 2026112013/0 plain"),
        ("app.log-20261120-1764750000", "app.log", "date 202611201764750000/0 plain"),
        ("app-20261120.log", "app.log", "date 20261120/0 plain"),
        ("app.log.2026-11-20", "app.log", "date 20261120/0 plain"),
        ("bbb-web.2026-11-20.log", "bbb-web.log", "date 20261120/0 plain"),
        ("bbb-web.2026-11-20.log.gz", "bbb-web.log", "date 20261120/0 gz"),
        ("bbb-web.2026-11-20.3.log", "bbb-web.log", "date 20261120/3 plain"),
        ("app.log", "app.log", "-"),
        ("app.log.xz", "app.log", "-"),
        ("app.log.1.xz", "app.log", "-"),
        ("app.log.old", "app.log", "-"),
        ("app.log-web", "app.log", "-"),
        ("app-b.log", "app.log", "-"),
        ("app.log.20261399", "app.log", "-"),
        ("other.log.1", "app.log", "-"),
        ("bbb-webhooks.log", "bbb-web.log", "-"),
    ])
    func names(name: String, live: String, expected: String) {
        let got: String
        switch RotatedSibling.parse(name, live: live) {
        case nil: got = "-"
        case let (compressed, .index(i))?: got = "index \(i) \(compressed ? "gz" : "plain")"
        case let (compressed, .date(d, i))?: got = "date \(d)/\(i) \(compressed ? "gz" : "plain")"
        }
        #expect(got == expected, "\(name) of \(live)")
        if expected != "-" { #expect(RotatedSibling.liveName(of: name) == live) }
    }

    @Test func orderIsOldestFirst() {
        func s(_ path: String, _ age: RotatedSibling.Age, _ mtime: Int64, gz: Bool = false) -> RotatedSibling {
            RotatedSibling(path: path, compressed: gz, age: age, mtime: mtime)
        }
        let ordered = RotatedSibling.order([
            s("a.1", .index(1), 50), s("a.3.gz", .index(3), 10, gz: true), s("a.2.gz", .index(2), 30, gz: true), s("a.2", .index(2), 30),
            s("b.2026-11-21.log", .date("20261121", 0), 5), s("b.2026-11-20.1.log", .date("20261120", 1), 4),
            s("b.2026-11-20.0.log", .date("20261120", 0), 4),
        ])
        // Numbers: higher is older (mtime does not override the name), plain before gzip at one
        // age; dates: earlier is older, then the logback index; the two schemes merged by mtime.
        #expect(ordered.map(\.path) == ["b.2026-11-20.0.log", "b.2026-11-20.1.log", "b.2026-11-21.log", "a.3.gz", "a.2", "a.2.gz", "a.1"])
    }
}
