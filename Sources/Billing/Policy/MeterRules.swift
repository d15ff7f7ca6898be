/// The settings each kind of meter has beyond price and cycle.

/// Live collaboration: admins may be alone; others are billable only with an admin present or
/// within the grace period after the last admin left.
public struct ParticipantRule: Sendable, Hashable {
    /// Roles that count as admin, compared without regard to case.
    public var adminRoles: [String]
    public var graceSeconds: Int64
    public var rounding: Rounding
    /// Count presence in breakout rooms as well as in their parents.
    public var countBreakoutRooms: Bool

    public init(adminRoles: [String] = ["MODERATOR"], graceSeconds: Int64 = 300, rounding: Rounding = .bucket,
                countBreakoutRooms: Bool = true) {
        self.adminRoles = adminRoles
        self.graceSeconds = graceSeconds
        self.rounding = rounding
        self.countBreakoutRooms = countBreakoutRooms
    }

    func isAdmin(_ role: String) -> Bool {
        adminRoles.contains { $0.uppercased() == role.uppercased() }
    }
}

/// Whiteboard minutes: clock-aligned slots, paused a while after a client goes to the background.
public struct WhiteboardRule: Sendable, Hashable {
    /// The `activity` of `activity.started`/`activity.stopped` records that counts.
    public var activity: String
    public var slotSeconds: Int64
    /// Seconds in the background before billing pauses, for clients not listed below.
    public var backgroundPauseSeconds: Int64
    /// Clients whose billing runs from initialisation, in the background too (`windows`).
    public var neverPauseClients: [String]
    /// Per-client pause delays that differ from the default.
    public var pauseByClient: [String: Int64]

    public init(activity: String = "whiteboard", slotSeconds: Int64 = 60, backgroundPauseSeconds: Int64 = 180,
                neverPauseClients: [String] = ["windows"], pauseByClient: [String: Int64] = [:]) {
        self.activity = activity
        self.slotSeconds = slotSeconds
        self.backgroundPauseSeconds = backgroundPauseSeconds
        self.neverPauseClients = neverPauseClients
        self.pauseByClient = pauseByClient
    }

    /// Seconds before a client of this type pauses in the background; nil: it never pauses.
    func pause(for client: String?) -> Int64? {
        guard let client else { return backgroundPauseSeconds }
        let c = client.lowercased()
        if neverPauseClients.contains(where: { $0.lowercased() == c }) { return nil }
        if let s = pauseByClient.first(where: { $0.key.lowercased() == c })?.value { return s }
        return backgroundPauseSeconds
    }
}

/// Meetings by length, at a price per meeting hour found from the meeting's parameters.
public struct MeetingRule: Sendable, Hashable {
    /// The hourly rate never goes below this.
    public var minimumHourly: ExactDecimal
    /// No meeting that started costs less than this.
    public var minimumCharge: ExactDecimal
    /// A metadata key whose value is the meeting's hourly price (as the front end's calculator put it).
    public var rateFromMeta: String?
    /// Checked in order; the first that matches sets the hourly rate, else the meter's price.
    public var rates: [RateRule]

    public init(minimumHourly: ExactDecimal = ExactDecimal(significand: 30, scale: 2),
                minimumCharge: ExactDecimal = ExactDecimal(significand: 10, scale: 2), rateFromMeta: String? = nil,
                rates: [RateRule] = []) {
        self.minimumHourly = minimumHourly
        self.minimumCharge = minimumCharge
        self.rateFromMeta = rateFromMeta
        self.rates = rates
    }
}

/// A price for meetings whose metadata say so.
public struct RateRule: Sendable, Hashable {
    public var meta: String
    /// Matches when the value is this text.
    public var equals: String?
    /// Matches when the value is a whole number at least this.
    public var atLeast: Int64?
    /// Per the meter's `per`.
    public var price: ExactDecimal

    public init(meta: String, equals: String? = nil, atLeast: Int64? = nil, price: ExactDecimal) {
        self.meta = meta
        self.equals = equals
        self.atLeast = atLeast
        self.price = price
    }
}

/// Breakout rooms at a fraction of their parent meeting's rate, with a minimum per room.
public struct BreakoutRule: Sendable, Hashable {
    public var fraction: ExactDecimal
    public var minimumCharge: ExactDecimal
    /// The meeting-hours meter whose rate the parent is priced at; nil: the first one.
    public var parentItem: String?

    public init(fraction: ExactDecimal = ExactDecimal(significand: 15, scale: 2),
                minimumCharge: ExactDecimal = ExactDecimal(significand: 2, scale: 2), parentItem: String? = nil) {
        self.fraction = fraction
        self.minimumCharge = minimumCharge
        self.parentItem = parentItem
    }
}

/// Recording processing time, with a minimum per recording.
public struct RecordingRule: Sendable, Hashable {
    public var minimumMinutes: Int64
    /// Steps that count (`archive`, `process`, …); empty: all.
    public var steps: [String]

    public init(minimumMinutes: Int64 = 3, steps: [String] = []) {
        self.minimumMinutes = minimumMinutes
        self.steps = steps
    }
}

/// Storage: time-weighted averages per cycle; the period bills the largest.
public struct StorageRule: Sendable, Hashable {
    /// `scope`s of `storage.sample` records that count.
    public var scopes: [String]

    public init(scopes: [String] = ["recording"]) { self.scopes = scopes }
}

/// Instance time in one state, each size at its own price.
public struct InstanceRule: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        case running, stopped
    }

    public var state: State
    /// Price per the meter's `per` for each size; sizes not listed take the meter's `price`.
    public var sizes: [String: ExactDecimal]

    public init(state: State, sizes: [String: ExactDecimal] = [:]) {
        self.state = state
        self.sizes = sizes
    }
}
