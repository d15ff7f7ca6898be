import UsageRecords

/// Prepaid packages (seed "Whiteboard Duration Billing Explanation": "a prepaid package of minutes
/// is drawn down first"): in cycle order, each account's usage is taken from its packages valid
/// on the cycle's first day, oldest first, before the postpaid price applies. Usage in cycles
/// before the statement, back to the package's first day, is drawn first, so the balance left
/// at the statement's start follows from the records alone.
enum Prepaid {
    static func apply(_ packages: [PrepaidPackage], earlier: [Piece], current: [Piece]) -> [Piece] {
        guard !packages.isEmpty else { return current }
        var balance = packages.map(\.quantity)
        let order = packages.indices.sorted { (packages[$0].from, $0) < (packages[$1].from, $1) }

        func draw(_ p: Piece) -> [(package: Int, quantity: Int64)] {
            guard p.kind == .usage else { return [] }
            var want = p.quantity
            var out: [(Int, Int64)] = []
            let day = p.bucket.start.civilDate
            for i in order where want > 0 && balance[i] > 0 {
                let pk = packages[i]
                guard pk.account == p.account, pk.from <= day, pk.until.map({ day <= $0 }) ?? true else { continue }
                let n = min(want, balance[i])
                balance[i] -= n
                want -= n
                out.append((i, n))
            }
            return out
        }

        for p in earlier.sorted(by: precedes) { _ = draw(p) }
        var out: [Piece] = []
        for p in current.sorted(by: precedes) {
            var rest = p
            for (i, n) in draw(p) {
                rest.quantity -= n
                var drawn = p
                drawn.kind = .prepaid
                drawn.quantity = n
                drawn.unitPrice = .zero
                drawn.detail = [p.detail, "package from \(packages[i].from)"].compactMap { $0 }.joined(separator: ", ")
                out.append(drawn)
            }
            if rest.quantity > 0 { out.append(rest) }
        }
        return out
    }

    /// Cycle order, then account, so that drawing down is deterministic.
    static func precedes(_ a: Piece, _ b: Piece) -> Bool {
        if a.bucket != b.bucket { return a.bucket < b.bucket }
        if a.account != b.account { return a.account < b.account }
        if a.kind != b.kind { return a.kind < b.kind }
        if a.detail != b.detail { return (a.detail ?? "") < (b.detail ?? "") }
        return a.sources.lexicographicallyPrecedes(b.sources)
    }
}
