import UsageRecords

/// Everything billing.toml says: currency and rounding, how meetings map to accounts, the meters
/// with their prices, prepaid packages, carrying small balances and closing periods.
///
/// Built by `BillingPolicy.parse(text:path:)`; every value is checked there, so rating never fails.
public struct BillingPolicy: Sendable, Hashable {
    /// The preset the file started from, if any.
    public var preset: PolicyPreset?
    /// ISO 4217 code printed on the invoice (`USD`).
    public var currency: String
    /// Each invoice line's amount is rounded half up to this many decimals (2: cents).
    public var amountDigits: Int
    /// Per-minute and per-megabyte prices are rounded half up to this many decimals (12).
    public var unitPriceDigits: Int
    /// Bytes in the megabyte that storage is billed in (1000000, or 1048576 for a mebibyte).
    public var bytesPerMegabyte: Int64
    /// Megabytes in the gigabyte that storage prices are quoted in (1000, or 1024).
    public var megabytesPerGigabyte: Int64
    public var accounts: AccountRules
    /// In the order the invoice lists them.
    public var meters: [Meter]
    public var prepaid: [PrepaidPackage]
    public var carry: CarryRule
    public var closing: ClosingRule
    public var stripe: StripeSettings

    public init(preset: PolicyPreset? = nil, currency: String = "USD", amountDigits: Int = 2, unitPriceDigits: Int = 12,
                bytesPerMegabyte: Int64 = 1_000_000, megabytesPerGigabyte: Int64 = 1000, accounts: AccountRules = AccountRules(),
                meters: [Meter] = [], prepaid: [PrepaidPackage] = [], carry: CarryRule = CarryRule(), closing: ClosingRule = ClosingRule(),
                stripe: StripeSettings = StripeSettings()) {
        self.preset = preset
        self.currency = currency
        self.amountDigits = amountDigits
        self.unitPriceDigits = unitPriceDigits
        self.bytesPerMegabyte = bytesPerMegabyte
        self.megabytesPerGigabyte = megabytesPerGigabyte
        self.accounts = accounts
        self.meters = meters
        self.prepaid = prepaid
        self.carry = carry
        self.closing = closing
        self.stripe = stripe
    }

    public func meter(_ item: String) -> Meter? { meters.first { $0.item == item } }
}

/// The three documents the rules come from (DESIGN.md, "The billing rules").
public enum PolicyPreset: String, Sendable, Hashable, CaseIterable {
    /// Participant minutes with the admin grace period.
    case liveCollaboration = "live-collaboration"
    /// Whiteboard minutes in clock-aligned slots, deducted daily.
    case whiteboard
    /// Weekly collation, monthly bills: instances, recordings, meetings, breakout rooms, storage.
    case hosting
}

/// A package of units paid in advance, drawn down before postpaid prices apply.
public struct PrepaidPackage: Sendable, Hashable {
    public var account: String
    /// The meter (`item`) whose units it pays for.
    public var item: String
    /// Units of that meter: minutes for time meters, megabytes for storage.
    public var quantity: Int64
    /// First day it may be drawn on (UTC).
    public var from: CivilDate
    /// Last day it may be drawn on, inclusive; nil: no end.
    public var until: CivilDate?

    public init(account: String, item: String, quantity: Int64, from: CivilDate, until: CivilDate? = nil) {
        self.account = account
        self.item = item
        self.quantity = quantity
        self.from = from
        self.until = until
    }
}

/// "A balance too small to charge is carried to the next month."
public struct CarryRule: Sendable, Hashable {
    /// An account's balance above zero and below this is carried instead of charged; zero: never.
    public var below: ExactDecimal
    /// The first month billed: rating a later month re-rates each month from here to find what
    /// was carried into it. Nil: nothing is carried in unless the caller says.
    public var since: Period?

    public init(below: ExactDecimal = .zero, since: Period? = nil) {
        self.below = below
        self.since = since
    }
}

/// "Periods close": after this grace window, late usage becomes an adjustment on a later statement.
public struct ClosingRule: Sendable, Hashable {
    /// Days after a period's end before it is closed.
    public var graceDays: Int64
    /// How many earlier periods a statement looks back over for late usage.
    public var lookback: Int

    public init(graceDays: Int64 = 3, lookback: Int = 3) {
        self.graceDays = graceDays
        self.lookback = lookback
    }

    public func closes(_ period: Period) -> Timestamp { period.end.adding(seconds: graceDays * 86_400) }
}

/// How the export of metered usage for Stripe (`--format stripe`) names customers and meters.
public struct StripeSettings: Sendable, Hashable {
    /// Account → Stripe customer id (`cus_…`); an account not listed is sent under its own name.
    public var customers: [String: String]
    /// Meter item (or `item:detail`, as `instance-running:large`) → the Stripe meter's event name.
    /// Unlisted: the item (and detail) in lower case with `_` for anything but letters and digits,
    /// and `_minimum` for per-meeting minimum charges.
    public var eventNames: [String: String]

    public init(customers: [String: String] = [:], eventNames: [String: String] = [:]) {
        self.customers = customers
        self.eventNames = eventNames
    }
}
