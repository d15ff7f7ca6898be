import ConfigFiles

/// Reads one `[[meters]]` table, over the preset's meter of the same item when there is one.
enum MeterParser {
    static let common: Set<String> = ["item", "measure", "description", "cycle", "lines", "price", "per", "disabled"]

    static func keys(for measure: Measure) -> Set<String> {
        switch measure {
        case .participantMinutes: common.union(["admin_roles", "grace_seconds", "rounding", "count_breakout_rooms"])
        case .whiteboardMinutes:
            common.union(["activity", "slot_seconds", "background_pause_seconds", "never_pause_clients", "pause_by_client"])
        case .meetingHours: common.union(["minimum_hourly", "minimum_charge", "rate_from_meta", "rates"])
        case .breakoutRooms: common.union(["fraction", "minimum_charge", "parent_item"])
        case .recordingMinutes: common.union(["minimum_minutes", "steps"])
        case .storageMegabytes: common.union(["scopes"])
        case .instanceRunningMinutes, .instanceStoppedMinutes: common.union(["sizes"])
        }
    }

    /// Nil when the table says `disabled = true`.
    static func meter(_ t: ConfigTable, base: Meter?) throws(ConfigError) -> Meter? {
        let item = try t.string("item")
        guard !item.isEmpty, !item.contains(where: { $0 == "," || $0 == "\n" }) else {
            throw t.error("item", "must be a non-empty name without commas or line breaks")
        }
        let measure: Measure
        if let base {
            measure = base.measure
            if let given = try t.optionalString("measure"), given != base.measure.rawValue {
                throw t.error("measure", "'\(given)' differs from the preset's '\(base.measure.rawValue)' for item '\(item)'; give the meter another item name")
            }
        } else {
            guard t.has("measure") else { throw t.missing("measure") }
            measure = Measure(rawValue: try t.choice("measure", of: Measure.allCases.map(\.rawValue), default: "")) ?? .participantMinutes
        }
        try t.rejectUnknownKeys(allowed: keys(for: measure))
        if try t.bool("disabled", default: false) { return nil }

        let cycle = Cycle(rawValue: try t.choice("cycle", of: Cycle.allCases.map(\.rawValue),
                                                 default: base?.cycle.rawValue ?? (measure == .whiteboardMinutes ? "daily" : "monthly"))) ?? .monthly
        let lines = LineGrouping(rawValue: try t.choice("lines", of: LineGrouping.allCases.map(\.rawValue),
                                                        default: base?.lines.rawValue ?? "summed")) ?? .summed
        let defaultPer: PriceUnit = switch measure {
        case .storageMegabytes: .gigabyte
        case .participantMinutes, .whiteboardMinutes, .recordingMinutes: .minute
        default: .hour
        }
        let per = PriceUnit(rawValue: try t.choice("per", of: measure.prices.map(\.rawValue),
                                                   default: base?.per.rawValue ?? defaultPer.rawValue)) ?? defaultPer
        let price = try amount(t, "price") ?? base?.price
        let description = try t.optionalString("description") ?? base?.description

        let rule: MeterRule
        switch measure {
        case .participantMinutes:
            let b: ParticipantRule = if case .participantMinutes(let r)? = base?.rule { r } else { ParticipantRule() }
            rule = .participantMinutes(ParticipantRule(
                adminRoles: try t.stringArray("admin_roles", default: b.adminRoles),
                graceSeconds: try t.integer("grace_seconds", default: b.graceSeconds, range: 0...86_400),
                rounding: Rounding(rawValue: try t.choice("rounding", of: Rounding.allCases.map(\.rawValue), default: b.rounding.rawValue)) ?? .bucket,
                countBreakoutRooms: try t.bool("count_breakout_rooms", default: b.countBreakoutRooms)))
        case .whiteboardMinutes:
            let b: WhiteboardRule = if case .whiteboardMinutes(let r)? = base?.rule { r } else { WhiteboardRule() }
            var byClient = b.pauseByClient
            if let table = try t.table("pause_by_client") {
                for client in table.keys { byClient[client] = try table.integer(client, default: 0, range: 0...86_400) }
            }
            let slot = try t.integer("slot_seconds", default: b.slotSeconds, range: 1...86_400)
            guard 86_400 % slot == 0 else { throw t.error("slot_seconds", "\(slot) does not divide a day; slots are aligned to the clock") }
            // The meter counts minutes: a slot must be whole minutes, each counted in full.
            guard slot % 60 == 0 else { throw t.error("slot_seconds", "\(slot) is not a whole number of minutes; whiteboard time is billed in minutes") }
            rule = .whiteboardMinutes(WhiteboardRule(
                activity: try t.string("activity", default: b.activity), slotSeconds: slot,
                backgroundPauseSeconds: try t.integer("background_pause_seconds", default: b.backgroundPauseSeconds, range: 0...86_400),
                neverPauseClients: try t.stringArray("never_pause_clients", default: b.neverPauseClients), pauseByClient: byClient))
        case .meetingHours:
            let b: MeetingRule = if case .meetingHours(let r)? = base?.rule { r } else { MeetingRule() }
            var rates = b.rates
            if t.has("rates") {
                rates = []
                for r in try t.tables("rates") {
                    try r.rejectUnknownKeys(allowed: ["meta", "equals", "at_least", "price"])
                    let rate = RateRule(meta: try r.string("meta"), equals: try r.optionalString("equals"),
                                        atLeast: try r.optionalInteger("at_least"), price: try amount(r, "price") ?? .zero)
                    guard r.has("price") else { throw r.missing("price") }
                    guard (rate.equals == nil) != (rate.atLeast == nil) else {
                        throw r.error("equals", "give exactly one of 'equals' (a text) or 'at_least' (a whole number)")
                    }
                    rates.append(rate)
                }
            }
            rule = .meetingHours(MeetingRule(
                minimumHourly: try amount(t, "minimum_hourly") ?? b.minimumHourly,
                minimumCharge: try amount(t, "minimum_charge") ?? b.minimumCharge,
                rateFromMeta: try t.optionalString("rate_from_meta") ?? b.rateFromMeta, rates: rates))
        case .breakoutRooms:
            let b: BreakoutRule = if case .breakoutRooms(let r)? = base?.rule { r } else { BreakoutRule() }
            let fraction = try amount(t, "fraction") ?? b.fraction
            guard fraction <= ExactDecimal(1) else { throw t.error("fraction", "\(fraction) is more than 1; write 15% as \"0.15\"") }
            rule = .breakoutRooms(BreakoutRule(fraction: fraction, minimumCharge: try amount(t, "minimum_charge") ?? b.minimumCharge,
                                               parentItem: try t.optionalString("parent_item") ?? b.parentItem))
        case .recordingMinutes:
            let b: RecordingRule = if case .recordingMinutes(let r)? = base?.rule { r } else { RecordingRule() }
            rule = .recordingMinutes(RecordingRule(minimumMinutes: try t.integer("minimum_minutes", default: b.minimumMinutes, range: 0...1440),
                                                   steps: try t.stringArray("steps", default: b.steps)))
        case .storageMegabytes:
            let b: StorageRule = if case .storageMegabytes(let r)? = base?.rule { r } else { StorageRule() }
            rule = .storageMegabytes(StorageRule(scopes: try t.stringArray("scopes", default: b.scopes)))
        case .instanceRunningMinutes, .instanceStoppedMinutes:
            let b: InstanceRule = if case .instanceMinutes(let r)? = base?.rule { r }
                else { InstanceRule(state: measure == .instanceRunningMinutes ? .running : .stopped) }
            var sizes = b.sizes
            if let table = try t.table("sizes") {
                for size in table.keys { sizes[size] = try amount(table, size) }
            }
            rule = .instanceMinutes(InstanceRule(state: b.state, sizes: sizes))
        }
        return Meter(item: item, description: description, cycle: cycle, lines: lines, price: price, per: per, rule: rule)
    }

    /// A non-negative decimal written as a string (or an integer); floats are refused.
    static func amount(_ t: ConfigTable, _ key: String) throws(ConfigError) -> ExactDecimal? {
        guard let text = try t.optionalDecimal(key) else { return nil }
        guard let d = ExactDecimal(text), d.scale <= 18 else {
            throw t.error(key, "'\(text)' is not a decimal amount with at most 18 decimals")
        }
        guard !d.isNegative else { throw t.error(key, "'\(text)' is negative") }
        return d
    }
}
