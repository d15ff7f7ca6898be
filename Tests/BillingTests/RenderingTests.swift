import Testing
import UsageRecords
@testable import Billing

@Suite struct RenderingTests {
    static let invoice: Invoice = {
        let records = WhiteboardSeedTests.lesson(minutes: 40, people: [
            ("teacher", "2026-11-22T10:00:00Z", "2026-11-22T10:40:00Z", "HTML5"),
            ("a", "2026-11-22T10:00:00Z", "2026-11-22T10:30:00Z", "HTML5"),
            ("b", "2026-11-22T10:10:00Z", "2026-11-22T10:30:00Z", "HTML5"),
        ])
        return Invoice.rate(records: records, policy: PolicyFixtures.whiteboard, period: PolicyFixtures.period("2026-11"))
    }()

    @Test func jsonFollowsTheContract() throws {
        let text = InvoiceRendering.render(Self.invoice, format: .json)
        #expect(text.hasSuffix("}\n"))
        let value = try JSONParserShim.parse(text)
        #expect(value["period"]?.stringValue == "2026-11")
        #expect(value["currency"]?.stringValue == "USD")
        let line = try #require(value["lines"]?.arrayValue?.first)
        #expect(line["account"]?.stringValue == "school")
        #expect(line["item"]?.stringValue == "whiteboard")
        #expect(line["quantity"]?.stringValue == "90")
        #expect(line["unit"]?.stringValue == "minute")
        #expect(line["unit_price"]?.stringValue == "0.0015")
        #expect(line["amount"]?.stringValue == "0.14")
        #expect(value["total"]?.stringValue == "0.14")
        #expect(!text.contains("e-")) // no binary floating point anywhere
    }

    @Test func csvHasAHeaderAndOneRowALine() {
        let text = InvoiceRendering.render(Self.invoice, format: .csv)
        let rows = text.split(separator: "\r\n").map(String.init)
        #expect(rows.first == "period,currency,account,item,detail,kind,quantity,unit,unit_price,amount,from,to,cycles")
        #expect(rows.count == 2)
        #expect(rows[1] == "2026-11,USD,school,whiteboard,,usage,90,minute,0.0015,0.14,2026-11-22T00:00:00.000000Z,2026-11-23T00:00:00.000000Z,2026-11-22")
    }

    @Test func csvGuardsAgainstFormulasButNotNumbers() {
        #expect(InvoiceCSV.text("=SUM(A1)") == "'=SUM(A1)")
        #expect(InvoiceCSV.text("a,b") == "\"a,b\"")
        #expect(InvoiceCSV.text("say \"hi\"") == "\"say \"\"hi\"\"\"")
    }

    @Test func tableIsReadable() {
        let text = InvoiceRendering.render(Self.invoice, format: .table)
        #expect(text.contains("Invoice for 2026-11 (2026-11-01 to 2026-11-30, UTC), amounts in USD"))
        #expect(text.contains("""
            account  item        detail  kind   quantity  unit    unit price  amount
            -------  ----------  ------  -----  --------  ------  ----------  ------
            school   whiteboard          usage        90  minute      0.0015    0.14
            """))
        #expect(text.contains("total due: 0.14 USD"))
    }

    @Test func stripeMeterEvents() throws {
        let text = InvoiceRendering.render(Self.invoice, format: .stripe)
        let events = text.split(separator: "\n")
        #expect(events.count == 1)
        let e = try JSONParserShim.parse(String(events[0]))
        #expect(e["event_name"]?.stringValue == "whiteboard")
        #expect(e["identifier"]?.stringValue == "meetmeter-school-whiteboard-2026-11-22")
        #expect(e["timestamp"]?.int64Value == RecordBuilder.at("2026-11-22T23:59:59Z").seconds)
        #expect(e["payload", "stripe_customer_id"]?.stringValue == "school")
        #expect(e["payload", "value"]?.stringValue == "90")
    }

    @Test func stripeNamesFromThePolicy() throws {
        let policy = PolicyFixtures.parse("""
            preset = "whiteboard"
            [stripe]
            customers = { school = "cus_9s6XKzkNRiz8i3" }
            event_names = { whiteboard = "tiw_minutes" }
            """)
        let records = WhiteboardSeedTests.lesson(minutes: 20, people: [("teacher", "2026-11-22T10:00:00Z", "2026-11-22T10:20:00Z", "HTML5")])
        let invoice = Invoice.rate(records: records, policy: policy, period: PolicyFixtures.period("2026-11-22"))
        let e = try JSONParserShim.parse(InvoiceRendering.render(invoice, format: .stripe))
        #expect(e["event_name"]?.stringValue == "tiw_minutes")
        #expect(e["payload", "stripe_customer_id"]?.stringValue == "cus_9s6XKzkNRiz8i3")
    }

    @Test func anEmptyInvoiceSaysSo() {
        let empty = Invoice.rate(records: [], policy: PolicyFixtures.whiteboard, period: PolicyFixtures.period("2026-11"))
        #expect(InvoiceRendering.render(empty, format: .table).contains("no billable usage"))
        #expect(InvoiceRendering.render(empty, format: .stripe).isEmpty)
        #expect(InvoiceRendering.render(empty, format: .json).contains("\"lines\":[]"))
    }
}

enum JSONParserShim {
    static func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }
}
