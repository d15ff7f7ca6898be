import UsageRecords

/// A statement for one period: lines per account and item, totals per account, and the
/// quantities per cycle behind every line (for drill-down and for exports).
public struct Invoice: Sendable, Hashable {
    public var period: Period
    public var currency: String
    /// Decimals of amounts (2 for cents).
    public var amountDigits: Int
    /// Sorted by account, then the policy's order of meters, then cycle and kind.
    public var lines: [InvoiceLine]
    /// One per account with a line, sorted by account.
    public var accounts: [AccountTotal]
    /// Sum of what each account is due.
    public var total: ExactDecimal
    /// What each meter measured per account and cycle, before lines were summed.
    public var quantities: [BilledQuantity]
    /// What had to be mended while deriving presence from the records.
    public var notes: DerivationNotes
    /// Things the operator should look at (an instance size without a price, …).
    public var warnings: [String]
    /// How the Stripe export names customers and meters.
    public var stripe: StripeSettings

    public init(period: Period, currency: String, amountDigits: Int, lines: [InvoiceLine], accounts: [AccountTotal],
                total: ExactDecimal, quantities: [BilledQuantity], notes: DerivationNotes = DerivationNotes(), warnings: [String] = [],
                stripe: StripeSettings = StripeSettings()) {
        self.period = period
        self.currency = currency
        self.amountDigits = amountDigits
        self.lines = lines
        self.accounts = accounts
        self.total = total
        self.quantities = quantities
        self.notes = notes
        self.warnings = warnings
        self.stripe = stripe
    }

    public func lines(account: String) -> [InvoiceLine] { lines.filter { $0.account == account } }

    /// The statement as one account sees it: its lines, quantities and total only. The notes
    /// and warnings are the operator's (they may name other accounts' meetings).
    public func restricted(to account: String) -> Invoice {
        let mine = accounts.filter { $0.account == account }
        return Invoice(period: period, currency: currency, amountDigits: amountDigits, lines: lines(account: account), accounts: mine,
                       total: mine.first?.due ?? ExactDecimal(0), quantities: quantities.filter { $0.account == account },
                       stripe: stripe)
    }
    public func lines(item: String) -> [InvoiceLine] { lines.filter { $0.item == item } }
    public func total(account: String) -> AccountTotal? { accounts.first { $0.account == account } }
}

public struct InvoiceLine: Sendable, Hashable {
    public var account: String
    /// The meter's item (`whiteboard`, `meetings`, …).
    public var item: String
    /// What sets this line apart from others of its item: an instance size, a prepaid package,
    /// the period an adjustment is for.
    public var detail: String?
    public var description: String?
    public var kind: LineKind
    public var quantity: ExactDecimal
    /// `minute`, `MB`, `meeting`, `room`, `balance`.
    public var unit: String
    public var unitPrice: ExactDecimal
    /// `quantity × unitPrice`, rounded half up to the currency's decimals.
    public var amount: ExactDecimal
    /// The usage the line covers: from the first cycle's start to the last one's end.
    public var from: Timestamp
    public var to: Timestamp
    /// Labels of the cycles summed into it.
    public var cycles: [String]
    /// Meetings, recordings or hosts behind it, for drill-down.
    public var sources: [String]

    public init(account: String, item: String, detail: String? = nil, description: String? = nil, kind: LineKind,
                quantity: ExactDecimal, unit: String, unitPrice: ExactDecimal, amount: ExactDecimal, from: Timestamp,
                to: Timestamp, cycles: [String] = [], sources: [String] = []) {
        self.account = account
        self.item = item
        self.detail = detail
        self.description = description
        self.kind = kind
        self.quantity = quantity
        self.unit = unit
        self.unitPrice = unitPrice
        self.amount = amount
        self.from = from
        self.to = to
        self.cycles = cycles
        self.sources = sources
    }
}

public enum LineKind: String, Sendable, Hashable, Comparable {
    /// Metered usage at the meter's price.
    case usage
    /// A per-meeting or per-room minimum charge in place of the usage price.
    case minimum
    /// Usage drawn from a prepaid package (price zero).
    case prepaid
    /// Usage of a closed period that arrived after it closed (DESIGN.md lessons).
    case adjustment
    /// A balance carried from the previous period.
    case carriedIn = "carried-in"
    /// A balance too small to charge, carried to the next period.
    case carriedOut = "carried-out"

    var order: Int {
        switch self {
        case .usage: 0
        case .minimum: 1
        case .prepaid: 2
        case .adjustment: 3
        case .carriedIn: 4
        case .carriedOut: 5
        }
    }

    public static func < (a: LineKind, b: LineKind) -> Bool { a.order < b.order }
}

public struct AccountTotal: Sendable, Hashable {
    public var account: String
    /// Usage, minimums, prepaid and adjustments.
    public var charges: ExactDecimal
    public var carriedIn: ExactDecimal
    /// Carried to the next period because it was too small to charge.
    public var carriedOut: ExactDecimal
    /// `charges + carriedIn − carriedOut`.
    public var due: ExactDecimal

    public init(account: String, charges: ExactDecimal, carriedIn: ExactDecimal, carriedOut: ExactDecimal, due: ExactDecimal) {
        self.account = account
        self.charges = charges
        self.carriedIn = carriedIn
        self.carriedOut = carriedOut
        self.due = due
    }
}

/// What a meter measured for one account in one cycle: the figure a weekly report to a payment
/// provider carries.
public struct BilledQuantity: Sendable, Hashable {
    public var account: String
    public var item: String
    public var detail: String?
    public var kind: LineKind
    public var cycle: Bucket
    /// In `unit`, already rounded (minutes from summed seconds, megabytes from bytes).
    public var quantity: Int64
    public var unit: String
    public var unitPrice: ExactDecimal
    public var sources: [String]

    public init(account: String, item: String, detail: String? = nil, kind: LineKind, cycle: Bucket, quantity: Int64,
                unit: String, unitPrice: ExactDecimal, sources: [String] = []) {
        self.account = account
        self.item = item
        self.detail = detail
        self.kind = kind
        self.cycle = cycle
        self.quantity = quantity
        self.unit = unit
        self.unitPrice = unitPrice
        self.sources = sources
    }
}
