/// One thing billed: what it measures, in which cycle, at what price.
public struct Meter: Sendable, Hashable {
    /// The invoice item's name; unique in a policy.
    public var item: String
    public var description: String?
    public var cycle: Cycle
    public var lines: LineGrouping
    /// The price per `per`; nil only for breakout rooms (priced from the parent meeting).
    public var price: ExactDecimal?
    public var per: PriceUnit
    public var rule: MeterRule

    public init(item: String, description: String? = nil, cycle: Cycle, lines: LineGrouping = .summed,
                price: ExactDecimal?, per: PriceUnit, rule: MeterRule) {
        self.item = item
        self.description = description
        self.cycle = cycle
        self.lines = lines
        self.price = price
        self.per = per
        self.rule = rule
    }

    public var measure: Measure { rule.measure }
}

/// What a meter measures (the `measure` key).
public enum Measure: String, Sendable, Hashable, CaseIterable {
    case participantMinutes = "participant-minutes"
    case whiteboardMinutes = "whiteboard-minutes"
    case meetingHours = "meeting-hours"
    case breakoutRooms = "breakout-rooms"
    case recordingMinutes = "recording-minutes"
    case storageMegabytes = "storage-megabytes"
    case instanceRunningMinutes = "instance-running-minutes"
    case instanceStoppedMinutes = "instance-stopped-minutes"

    /// The units that its price may be quoted per.
    var prices: [PriceUnit] {
        switch self {
        case .storageMegabytes: [.megabyte, .gigabyte]
        default: [.minute, .hour, .thousandMinutes]
        }
    }
}

/// Where seconds are summed and rounded (DESIGN.md: "per week and item").
public enum Cycle: String, Sendable, Hashable, CaseIterable {
    /// Each UTC day.
    case daily
    /// Each ISO week, Monday to Sunday; a month bills the weeks whose Sunday it holds.
    case weekly
    /// Each calendar month.
    case monthly
}

/// One invoice line for the whole period, or one per cycle (whiteboard's daily deductions).
public enum LineGrouping: String, Sendable, Hashable, CaseIterable {
    case summed
    case perCycle = "per-cycle"
}

public enum PriceUnit: String, Sendable, Hashable, CaseIterable {
    case minute, hour
    case thousandMinutes = "thousand-minutes"
    case megabyte, gigabyte
}

/// Rounding of participant minutes: the bucket's sum, or each person's time in each meeting.
public enum Rounding: String, Sendable, Hashable, CaseIterable {
    case bucket, person
}

/// The measure with the settings only it has.
public enum MeterRule: Sendable, Hashable {
    case participantMinutes(ParticipantRule)
    case whiteboardMinutes(WhiteboardRule)
    case meetingHours(MeetingRule)
    case breakoutRooms(BreakoutRule)
    case recordingMinutes(RecordingRule)
    case storageMegabytes(StorageRule)
    case instanceMinutes(InstanceRule)

    public var measure: Measure {
        switch self {
        case .participantMinutes: .participantMinutes
        case .whiteboardMinutes: .whiteboardMinutes
        case .meetingHours: .meetingHours
        case .breakoutRooms: .breakoutRooms
        case .recordingMinutes: .recordingMinutes
        case .storageMegabytes: .storageMegabytes
        case .instanceMinutes(let r): r.state == .running ? .instanceRunningMinutes : .instanceStoppedMinutes
        }
    }
}
