/// Prices as the policy quotes them, turned into prices per billed unit (DESIGN.md: "a price per
/// hour becomes a price per minute (per GB becomes per MB) to 12 decimal places").
struct Pricing: Sendable {
    let digits: Int
    let megabytesPerGigabyte: Int64

    init(_ policy: BillingPolicy) {
        digits = policy.unitPriceDigits
        megabytesPerGigabyte = policy.megabytesPerGigabyte
    }

    /// Price per minute (time meters) or per megabyte (storage).
    func perUnit(_ price: ExactDecimal, per: PriceUnit) -> ExactDecimal {
        switch per {
        case .minute, .megabyte: price.rounded(scale: digits).widened(to: digits)
        case .hour: price.divided(by: 60, scale: digits)
        case .thousandMinutes: price.divided(by: 1000, scale: digits)
        case .gigabyte: price.divided(by: megabytesPerGigabyte, scale: digits)
        }
    }

    /// The same price per hour, exactly (for minimum hourly rates and breakout fractions).
    func hourly(_ price: ExactDecimal, per: PriceUnit) -> ExactDecimal {
        switch per {
        case .hour: price
        case .minute: price * 60
        case .thousandMinutes: price * ExactDecimal(significand: 6, scale: 2)
        case .megabyte, .gigabyte: price
        }
    }

    func perMinute(hourly: ExactDecimal) -> ExactDecimal { hourly.divided(by: 60, scale: digits) }
}

/// One figure on its way to a line: quantity in one cycle, for one account, at one price.
struct Piece: Sendable {
    var account: String
    var detail: String?
    var kind: LineKind
    var bucket: Bucket
    var quantity: Int64
    var unit: String
    var unitPrice: ExactDecimal
    var sources: [String]
}
