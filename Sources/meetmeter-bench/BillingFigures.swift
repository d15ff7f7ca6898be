/// Issue 6: rating a month of records for many hosts, against merely reading them.
enum BillingFigures {
    static func month(hosts: Int) throws -> [String] {
        throw BenchSkip("the billing benchmark is not wired yet")
    }
}
