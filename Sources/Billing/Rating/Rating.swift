import UsageRecords

extension Invoice {
    /// Rates `records` for `period` under `policy`: pure, and the same for any order of the
    /// records and any duplicates among them. Small balances are carried only on monthly
    /// statements of a policy whose `[carry] since` names the first month billed: what is carried
    /// in is found by rating each month from there. Without it nothing is carried, so that nothing
    /// carried out can be lost.
    public static func rate(records: [UsageRecord], policy: BillingPolicy, period: Period) -> Invoice {
        let d = Derivation(records: records)
        return rate(derivation: d, policy: policy, period: period, carriedIn: carriedIn(d, policy, before: period))
    }

    /// As above, with the balances carried in from the previous statement given by the caller
    /// (its `carriedOut`); balances under `[carry] below` are carried out of this one.
    public static func rate(records: [UsageRecord], policy: BillingPolicy, period: Period,
                            carriedIn: [String: ExactDecimal]) -> Invoice {
        rate(derivation: Derivation(records: records), policy: policy, period: period, carriedIn: carriedIn)
    }

    /// Balances carried out of each account, to feed the next statement.
    public var carriedOut: [String: ExactDecimal] {
        var out: [String: ExactDecimal] = [:]
        for a in accounts where !a.carriedOut.isZero { out[a.account] = a.carriedOut }
        return out
    }

    /// Nil: no chain of statements to carry along.
    static func carriedIn(_ d: Derivation, _ policy: BillingPolicy, before period: Period) -> [String: ExactDecimal]? {
        guard period.kind == .month, var p = policy.carry.since, !policy.carry.below.isZero, p.start <= period.start else { return nil }
        var carry: [String: ExactDecimal] = [:]
        while p.start < period.start {
            carry = rate(derivation: d, policy: policy, period: p, carriedIn: carry).carriedOut
            p = p.next
        }
        return carry
    }

    static func rate(derivation d: Derivation, policy: BillingPolicy, period: Period, carriedIn: [String: ExactDecimal]?) -> Invoice {
        let c = RatingContext(derivation: d, policy: policy)
        var warnings: [String] = []
        var measured: [(meter: Int, pieces: [Piece])] = []
        for (index, meter) in policy.meters.enumerated() {
            let buckets = Collation.buckets(period, meter.cycle)
            var pieces = measure(meter, policy: policy, buckets: buckets, context: c, warnings: &warnings)
            let packages = policy.prepaid.filter { $0.item == meter.item }
            if let from = packages.map(\.from).min(), meter.measure != .storageMegabytes {
                let before = Collation.buckets(from: from, before: period, meter.cycle)
                let earlier = before.isEmpty ? [] : measure(meter, policy: policy, buckets: before, context: c, warnings: &warnings)
                pieces = Prepaid.apply(packages, earlier: earlier, current: pieces)
            }
            measured.append((index, pieces))
        }
        return InvoiceAssembly.assemble(period: period, policy: policy, measured: measured, carriedIn: carriedIn,
                                        notes: d.notes, warnings: warnings)
    }

    static func measure(_ meter: Meter, policy: BillingPolicy, buckets: [Bucket], context c: RatingContext,
                        warnings: inout [String]) -> [Piece] {
        guard !buckets.isEmpty else { return [] }
        switch meter.rule {
        case .participantMinutes(let r): return ParticipantMinutes.pieces(meter, r, buckets: buckets, context: c)
        case .whiteboardMinutes(let r): return WhiteboardMinutes.pieces(meter, r, buckets: buckets, context: c)
        case .meetingHours(let r): return MeetingCharges.meetingPieces(meter, r, buckets: buckets, context: c)
        case .breakoutRooms(let r): return MeetingCharges.breakoutPieces(meter, r, policy: policy, buckets: buckets, context: c)
        case .recordingMinutes(let r): return RecordingProcessing.pieces(meter, r, buckets: buckets, context: c)
        case .storageMegabytes(let r): return StorageAverages.pieces(meter, r, policy: policy, buckets: buckets, context: c)
        case .instanceMinutes(let r): return InstanceTime.pieces(meter, r, buckets: buckets, context: c, warnings: &warnings)
        }
    }
}

extension BillingPolicy {
    /// The span of records a statement for `period` reads: the cycles it bills (a month's weeks
    /// reach into the months beside it), prepaid packages' first days, the first carried month,
    /// and `marginDays` either side for meetings that started before or ended after.
    public func evidenceWindow(for period: Period, marginDays: Int64 = 2) -> (start: Timestamp, end: Timestamp) {
        var start = period.start, end = period.end
        for m in meters {
            for b in Collation.buckets(period, m.cycle) {
                start = min(start, b.start)
                end = max(end, b.end)
            }
        }
        for p in prepaid { start = min(start, p.from.startOfDay) }
        if period.kind == .month, let since = carry.since, !carry.below.isZero { start = min(start, since.start) }
        return (start.adding(seconds: -marginDays * 86_400), end.adding(seconds: marginDays * 86_400))
    }
}
