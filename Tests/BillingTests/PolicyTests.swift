import ConfigFiles
import Testing
import UsageRecords
@testable import Billing

@Suite struct PolicyTests {
    @Test(arguments: PolicyPreset.allCases)
    func everyPresetParsesAlone(preset: PolicyPreset) {
        let p = BillingPolicy.preset(preset)
        #expect(p.preset == preset)
        #expect(!p.meters.isEmpty)
        #expect(p.currency == "USD")
    }

    @Test func liveCollaborationPresetHasTheSeedsRules() throws {
        let p = PolicyFixtures.liveCollaboration
        guard case .participantMinutes(let r)? = p.meter("live-collaboration")?.rule else { Issue.record("no meter"); return }
        #expect(r.graceSeconds == 300)
        #expect(r.adminRoles == ["MODERATOR"])
        #expect(p.meter("live-collaboration")?.price == PolicyFixtures.d("0.01"))
    }

    @Test func whiteboardPresetHasTheSeedsRules() throws {
        let m = try #require(PolicyFixtures.whiteboard.meter("whiteboard"))
        #expect(m.price == PolicyFixtures.d("1.50"))
        #expect(m.per == .thousandMinutes)
        #expect(m.cycle == .daily)
        #expect(m.lines == .perCycle)
        guard case .whiteboardMinutes(let r) = m.rule else { Issue.record("wrong rule"); return }
        #expect(r.pause(for: "HTML5") == 180)
        #expect(r.pause(for: "mobile") == 180)
        #expect(r.pause(for: "Windows") == nil)
    }

    @Test func hostingPresetHasTheSeedsRules() throws {
        let p = PolicyFixtures.hosting
        #expect(p.meters.map(\.item) == ["instance-running", "instance-stopped", "recording-processing", "meetings", "breakout-rooms", "storage"])
        #expect(p.meters.allSatisfy { $0.cycle == .weekly })
        guard case .meetingHours(let m)? = p.meter("meetings")?.rule, case .breakoutRooms(let b)? = p.meter("breakout-rooms")?.rule,
              case .recordingMinutes(let r)? = p.meter("recording-processing")?.rule
        else { Issue.record("wrong rules"); return }
        #expect(m.minimumHourly == PolicyFixtures.d("0.30"))
        #expect(m.minimumCharge == PolicyFixtures.d("0.10"))
        #expect(b.fraction == PolicyFixtures.d("0.15"))
        #expect(b.minimumCharge == PolicyFixtures.d("0.02"))
        #expect(r.minimumMinutes == 3)
        #expect(p.carry.below == PolicyFixtures.d("0.50"))
    }

    @Test func aFullFileWithoutAPreset() throws {
        let p = try BillingPolicy.parse(text: """
            currency = "EUR"
            amount_digits = 2
            unit_price_digits = 12
            bytes_per_megabyte = 1048576
            megabytes_per_gigabyte = 1024

            [accounts]
            meta = ["meta_customer"]
            fallback = "house"
            hosts = { "bbb1.example.org" = "acme" }
            [[accounts.external]]
            pattern = "*:*"
            account = "{1}"

            [[meters]]
            item = "meetings"
            measure = "meeting-hours"
            price = "0.40"
            rate_from_meta = "meta_price"
            [[meters.rates]]
            meta = "meta_size"
            equals = "large"
            price = "1.20"
            [[meters.rates]]
            meta = "meta_max_participants"
            at_least = 100
            price = "2.00"

            [[prepaid]]
            account = "acme"
            item = "meetings"
            quantity = 6000
            from = "2026-11-01"
            until = 2027-10-31

            [carry]
            below = "1.00"
            since = "2026-01"

            [closing]
            grace_days = 5

            [stripe]
            customers = { acme = "cus_123" }
            event_names = { meetings = "meeting_minutes" }
            """, path: "billing.toml")
        #expect(p.currency == "EUR")
        #expect(p.bytesPerMegabyte == 1_048_576)
        #expect(p.accounts.fallback == "house")
        #expect(p.accounts.hosts["bbb1.example.org"] == "acme")
        #expect(p.accounts.external.first?.account(for: "globex:room-1") == "globex")
        guard case .meetingHours(let r)? = p.meter("meetings")?.rule else { Issue.record("no meter"); return }
        #expect(r.rates.count == 2)
        #expect(r.rateFromMeta == "meta_price")
        #expect(p.prepaid.first?.until == CivilDateFixture.day(2027, 10, 31))
        #expect(p.carry.since?.label == "2026-01")
        #expect(p.closing.graceDays == 5)
        #expect(p.stripe.customers["acme"] == "cus_123")
    }

    @Test(arguments: [
        // (file, line, key, words in the message)
        ("currency = \"dollars\"", 1, "currency", "ISO 4217"),
        ("preset = \"hostin\"", 1, "preset", "'hosting'"),
        ("[[meters]]\nitem = \"x\"\nmeasure = \"participant-minutes\"\nprice = 0.3", 4, "meters[0].price", "floats are refused"),
        ("[[meters]]\nitem = \"x\"\nmeasure = \"participant-minutes\"\nprice = \"0.3\"\ngrace = 5", 5, "meters[0].grace", "not a known key"),
        ("[[meters]]\nitem = \"x\"\nmeasure = \"watts\"", 3, "meters[0].measure", "'participant-minutes'"),
        ("[[meters]]\nitem = \"x\"\nmeasure = \"storage-megabytes\"\nprice = \"1\"\nper = \"hour\"", 5, "meters[0].per", "'gigabyte'"),
        ("preset = \"hosting\"", nil, "meters[item=instance-running].price", "needs a price"),
        ("[[meters]]\nitem = \"x\"\nmeasure = \"participant-minutes\"\nprice = \"-1\"", 4, "meters[0].price", "negative"),
        ("[[meters]]\nitem = \"x\"\nmeasure = \"whiteboard-minutes\"\nprice = \"1\"\nslot_seconds = 7", 5, "meters[0].slot_seconds", "does not divide"),
        ("[accounts]\n[[accounts.external]]\npattern = \"acme-*\"\naccount = \"{2}\"", 4, "accounts.external[0].account", "{2}"),
        ("[[prepaid]]\naccount = \"a\"\nitem = \"nothing\"\nquantity = 5\nfrom = \"2026-11-01\"", 3, "prepaid[0].item", "not the item"),
        ("[carry]\nsince = \"2026-W01\"", 2, "carry.since", "not a month"),
    ] as [(String, Int?, String, String)])
    func mistakesNameFileLineAndKey(text: String, line: Int?, key: String, words: String) {
        #expect {
            _ = try BillingPolicy.parse(text: text, path: "/etc/meetmeter/billing.toml")
        } throws: { error in
            guard let e = error as? ConfigError else { return false }
            let ok = e.file == "/etc/meetmeter/billing.toml" && e.key == key && e.line == line && e.message.contains(words)
            if !ok { Issue.record("got \(e)") }
            return ok
        }
    }

    @Test func aFileMeterIsLaidOverThePresetsOfTheSameItem() throws {
        let p = try BillingPolicy.parse(text: """
            preset = "whiteboard"
            [[meters]]
            item = "whiteboard"
            price = "1.20"
            never_pause_clients = []
            """, path: "b.toml")
        let m = try #require(p.meter("whiteboard"))
        #expect(m.price == PolicyFixtures.d("1.20"))
        #expect(m.per == .thousandMinutes)
        guard case .whiteboardMinutes(let r) = m.rule else { Issue.record("wrong rule"); return }
        #expect(r.pause(for: "windows") == 180)
        #expect(r.backgroundPauseSeconds == 180)
    }

    @Test func aPresetMeterCanBeDisabled() throws {
        let p = try BillingPolicy.parse(text: """
            preset = "hosting"
            [[meters]]
            item = "instance-running"
            disabled = true
            [[meters]]
            item = "instance-stopped"
            disabled = true
            [[meters]]
            item = "recording-processing"
            disabled = true
            [[meters]]
            item = "storage"
            disabled = true
            """, path: "b.toml")
        #expect(p.meters.map(\.item) == ["meetings", "breakout-rooms"])
    }
}

enum CivilDateFixture {
    static func day(_ y: Int64, _ m: Int64, _ d: Int64) -> UsageRecords.CivilDate { .init(year: y, month: m, day: d) }
}
