import Testing
import UsageRecords
@testable import Billing

@Suite struct AccountTests {
    static let rules = AccountRules(metaKeys: ["meta_tenant", "tenant"],
                                    external: [ExternalPattern(pattern: "*:*", account: "{1}"), ExternalPattern(pattern: "school-??-*", account: "schools")],
                                    hosts: ["bbb-acme": "acme"], fallback: "house")

    @Test(arguments: [
        (["meta_tenant": JSONValue.string("globex")], "initech:room", "bbb-acme", "globex"), // metadata first
        (["tenant": .string("hooli")], nil, nil, "hooli"),
        ([:], "initech:room-7", "bbb-acme", "initech"), // then patterns on the external id
        ([:], "school-12-maths", nil, "schools"),
        ([:], "school-1-maths", "bbb-acme", "acme"), // no pattern matches: the host's account
        ([:], nil, "elsewhere", "house"), // and last the fallback
        (["meta_tenant": .string("")], nil, nil, "house"),
    ] as [([String: JSONValue], String?, String?, String)])
    func resolution(meta: [String: JSONValue], external: String?, host: String?, expected: String) {
        #expect(Self.rules.account(meta: meta, external: external, host: host) == expected)
    }

    @Test func aBreakoutRoomPaysWithItsParent() {
        var b = RecordBuilder()
        let records = [
            b.started("2026-11-18T10:00:00Z", "parent", meta: ["meta_tenant": .string("globex")]),
            b.started("2026-11-18T10:10:00Z", "room", parent: "parent"),
            b.joined("2026-11-18T10:10:00Z", "room", "u", "MODERATOR"),
            b.ended("2026-11-18T10:40:00Z", "room"),
            b.ended("2026-11-18T11:00:00Z", "parent"),
        ]
        let d = Derivation(records: records)
        let resolver = AccountResolver(rules: Self.rules, derivation: d)
        #expect(d.meeting("room").map(resolver.account(of:)) == "globex")
    }
}
