import ConfigFiles
import UsageRecords

extension BillingPolicy {
    /// Reads billing.toml. Every mistake names the file, the line and the key.
    public static func parse(text: String, path: String) throws(ConfigError) -> BillingPolicy {
        try parse(try ConfigDocument(text: text, path: path).root)
    }

    /// A preset as it stands, without a file (its meters without a price in the document keep none).
    public static func preset(_ preset: PolicyPreset) -> BillingPolicy {
        do {
            var p = try parseLayer(try ConfigDocument(text: PolicyPresets.text(preset), path: "<preset \(preset.rawValue)>").root, base: nil)
            p.preset = preset
            return p
        } catch {
            preconditionFailure("the shipped preset '\(preset.rawValue)' does not parse: \(error)")
        }
    }

    static let topKeys: Set<String> = [
        "preset", "currency", "amount_digits", "unit_price_digits", "bytes_per_megabyte", "megabytes_per_gigabyte",
        "accounts", "meters", "prepaid", "carry", "closing", "stripe",
    ]

    static func parse(_ root: ConfigTable) throws(ConfigError) -> BillingPolicy {
        var base: BillingPolicy?
        if root.has("preset") {
            let name = try root.choice("preset", of: PolicyPreset.allCases.map(\.rawValue), default: "")
            base = PolicyPreset(rawValue: name).map { preset($0) }
        }
        let policy = try parseLayer(root, base: base)
        try validate(policy, root)
        return policy
    }

    /// One file laid over `base` (a preset): keys given replace the base's; meters are matched by `item`.
    static func parseLayer(_ root: ConfigTable, base: BillingPolicy?) throws(ConfigError) -> BillingPolicy {
        try root.rejectUnknownKeys(allowed: topKeys)
        let b = base ?? BillingPolicy()
        var p = b
        if let name = try root.optionalString("preset") { p.preset = PolicyPreset(rawValue: name) }
        p.currency = try root.string("currency", default: b.currency)
        guard p.currency.count == 3, p.currency.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw root.error("currency", "'\(p.currency)' is not a three-letter ISO 4217 code such as \"USD\"")
        }
        p.amountDigits = Int(try root.integer("amount_digits", default: Int64(b.amountDigits), range: 0...6))
        p.unitPriceDigits = Int(try root.integer("unit_price_digits", default: Int64(b.unitPriceDigits), range: 2...18))
        p.bytesPerMegabyte = try root.integer("bytes_per_megabyte", default: b.bytesPerMegabyte, range: 1...(1 << 40))
        p.megabytesPerGigabyte = try root.integer("megabytes_per_gigabyte", default: b.megabytesPerGigabyte, range: 1...(1 << 20))
        p.accounts = try accounts(root.tableOrEmpty("accounts"), base: b.accounts)

        var meters = b.meters
        var seen: Set<String> = []
        for t in try root.tables("meters") {
            let item = try t.string("item")
            guard seen.insert(item).inserted else { throw t.error("item", "'\(item)' is named by two [[meters]] tables") }
            let index = meters.firstIndex { $0.item == item }
            let m = try MeterParser.meter(t, base: index.map { meters[$0] })
            switch (index, m) {
            case (let i?, let m?): meters[i] = m
            case (let i?, nil): meters.remove(at: i)
            case (nil, let m?): meters.append(m)
            case (nil, nil): break
            }
        }
        p.meters = meters

        if root.has("prepaid") {
            p.prepaid = []
            for t in try root.tables("prepaid") { p.prepaid.append(try prepaid(t)) }
        }
        p.carry = try carry(root.tableOrEmpty("carry"), base: b.carry)
        let closing = try root.tableOrEmpty("closing")
        try closing.rejectUnknownKeys(allowed: ["grace_days", "lookback"])
        p.closing = ClosingRule(graceDays: try closing.integer("grace_days", default: b.closing.graceDays, range: 0...366),
                                lookback: Int(try closing.integer("lookback", default: Int64(b.closing.lookback), range: 0...36)))
        let stripe = try root.tableOrEmpty("stripe")
        try stripe.rejectUnknownKeys(allowed: ["customers", "event_names"])
        p.stripe.customers = try stringTable(stripe, "customers", base: b.stripe.customers)
        p.stripe.eventNames = try stringTable(stripe, "event_names", base: b.stripe.eventNames)
        return p
    }

    /// A table of strings (`{ acme = "cus_123" }`), added to `base`.
    static func stringTable(_ t: ConfigTable, _ key: String, base: [String: String]) throws(ConfigError) -> [String: String] {
        var out = base
        if let table = try t.table(key) {
            for k in table.keys {
                let v = try table.string(k)
                guard !v.isEmpty else { throw table.error(k, "must not be empty") }
                out[k] = v
            }
        }
        return out
    }

    static func accounts(_ t: ConfigTable, base: AccountRules) throws(ConfigError) -> AccountRules {
        try t.rejectUnknownKeys(allowed: ["meta", "external", "hosts", "fallback"])
        var a = base
        a.metaKeys = try t.stringArray("meta", default: base.metaKeys)
        a.fallback = try t.string("fallback", default: base.fallback)
        guard !a.fallback.isEmpty else { throw t.error("fallback", "must name an account") }
        if t.has("external") {
            a.external = []
            for rule in try t.tables("external") {
                try rule.rejectUnknownKeys(allowed: ["pattern", "account"])
                let pattern = ExternalPattern(pattern: try rule.string("pattern"), account: try rule.string("account"))
                guard !pattern.pattern.isEmpty, !pattern.account.isEmpty else {
                    throw rule.error(pattern.pattern.isEmpty ? "pattern" : "account", "must not be empty")
                }
                let wildcards = pattern.pattern.filter { $0 == "*" || $0 == "?" }.count
                for n in 1...9 where pattern.account.contains("{\(n)}") && n > wildcards {
                    throw rule.error("account", "uses {\(n)} but the pattern has \(wildcards) wildcard(s)")
                }
                a.external.append(pattern)
            }
        }
        a.hosts = try stringTable(t, "hosts", base: base.hosts)
        return a
    }

    static func prepaid(_ t: ConfigTable) throws(ConfigError) -> PrepaidPackage {
        try t.rejectUnknownKeys(allowed: ["account", "item", "quantity", "from", "until"])
        let from = try date(t, "from")
        let until = t.has("until") ? try date(t, "until") : nil
        if let until, until < from { throw t.error("until", "is before 'from'") }
        guard t.has("quantity") else { throw t.missing("quantity") }
        return PrepaidPackage(account: try t.string("account"), item: try t.string("item"),
                              quantity: try t.integer("quantity", default: 0, range: 1...Int64.max / 4), from: from, until: until)
    }

    /// A day as `2026-11-01`, quoted or as a TOML date.
    static func date(_ t: ConfigTable, _ key: String) throws(ConfigError) -> CivilDate {
        var text: String
        switch t.values[key] {
        case .string(let s)?: text = s
        case .datetime(let s)?: text = String(s.prefix(10))
        case nil: throw t.missing(key)
        case let v?: throw t.error(key, "should be a day such as 2026-11-01, not \(v.typeName)")
        }
        text = text.trimmingQuotes
        guard let p = try? Period.parse(text), p.kind == .day else {
            throw t.error(key, "'\(text)' is not a day such as 2026-11-01")
        }
        return p.start.civilDate
    }

    static func carry(_ t: ConfigTable, base: CarryRule) throws(ConfigError) -> CarryRule {
        try t.rejectUnknownKeys(allowed: ["below", "since"])
        var c = base
        if let text = try t.optionalDecimal("below") {
            guard let d = ExactDecimal(text), !d.isNegative else { throw t.error("below", "'\(text)' is not an amount of zero or more") }
            c.below = d
        }
        if let since = try t.optionalString("since") {
            guard let p = try? Period.parse(since), p.kind == .month else {
                throw t.error("since", "'\(since)' is not a month such as 2026-01")
            }
            c.since = p
        }
        return c
    }

    static func validate(_ p: BillingPolicy, _ root: ConfigTable) throws(ConfigError) {
        let meterTables = (try? root.tables("meters")) ?? []
        func where_(_ item: String) -> (ConfigTable?, String) {
            (meterTables.first { (try? $0.string("item")) == item }, "meters[item=\(item)]")
        }
        for m in p.meters {
            if case .breakoutRooms(let b) = m.rule {
                let parents = p.meters.filter { $0.measure == .meetingHours }
                if let name = b.parentItem, !parents.contains(where: { $0.item == name }) {
                    let (t, key) = where_(m.item)
                    throw t?.error("parent_item", "'\(name)' is not a meter that measures meeting-hours")
                        ?? ConfigError(file: root.file, line: nil, key: key + ".parent_item", message: "'\(name)' is not a meeting-hours meter")
                }
                if parents.isEmpty && m.price == nil {
                    let (t, key) = where_(m.item)
                    throw t?.error("price", "a breakout-rooms meter needs a meeting-hours meter to take its parent's rate from, or a price of its own")
                        ?? ConfigError(file: root.file, line: nil, key: key, message: "needs a meeting-hours meter or a price")
                }
                continue
            }
            if case .instanceMinutes(let r) = m.rule, m.price == nil, !r.sizes.isEmpty { continue }
            if m.price == nil {
                let (t, key) = where_(m.item)
                let origin = p.preset.map { "the preset '\($0.rawValue)' states none (its document gives no price)" } ?? "it has none"
                throw ConfigError(file: root.file, line: t.flatMap { $0.line(of: "item") }, key: key + ".price",
                                  message: "meter '\(m.item)' (\(m.measure.rawValue)) needs a price: \(origin); add price = \"…\" to a [[meters]] table with item = \"\(m.item)\"")
            }
        }
        let items = Set(p.meters.map(\.item))
        let packages = (try? root.tables("prepaid")) ?? []
        for (i, pk) in p.prepaid.enumerated() where !items.contains(pk.item) {
            let t = i < packages.count ? packages[i] : root
            throw t.error("item", "'\(pk.item)' is not the item of any meter; known: \(p.meters.map(\.item).joined(separator: ", "))")
        }
    }
}

private extension String {
    var trimmingQuotes: String {
        var s = Substring(self)
        while let f = s.first, f == "\"" || f == "'" || f == " " { s = s.dropFirst() }
        while let l = s.last, l == "\"" || l == "'" || l == " " { s = s.dropLast() }
        return String(s)
    }
}
