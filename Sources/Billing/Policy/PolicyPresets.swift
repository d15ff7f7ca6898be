/// The three documents of DESIGN.md as policy files. `preset = "…"` in billing.toml starts from
/// one of these; the file's own keys and `[[meters]]` tables (matched by `item`) are laid over it.
/// Where a document states no price, the preset states none either and the file must.
public enum PolicyPresets {
    public static func text(_ preset: PolicyPreset) -> String {
        switch preset {
        case .liveCollaboration: liveCollaboration
        case .whiteboard: whiteboard
        case .hosting: hosting
        }
    }

    /// "I am still billed when users stay inside the room after admin/tutor has exited".
    static let liveCollaboration = #"""
    currency = "USD"

    [[meters]]
    item = "live-collaboration"
    description = "Live collaboration, participant minutes"
    measure = "participant-minutes"
    cycle = "monthly"
    per = "minute"
    # Roles with the permission to be in the room alone (admins, team leads, tutors).
    admin_roles = ["MODERATOR"]
    # General users stay billable at most five minutes after the last admin left.
    grace_seconds = 300
    """#

    /// Tencent Cloud, "Whiteboard Duration Billing Explanation".
    static let whiteboard = #"""
    currency = "USD"

    [[meters]]
    item = "whiteboard"
    description = "Whiteboard usage duration"
    measure = "whiteboard-minutes"
    # Postpaid: daily pay-as-you-go, one deduction a day.
    cycle = "daily"
    lines = "per-cycle"
    price = "1.50"
    per = "thousand-minutes"
    activity = "whiteboard"
    slot_seconds = 60
    # Android/iOS/H5/mini programs, web and macOS pause 3 minutes after going to the background.
    background_pause_seconds = 180
    # Windows bills from initialisation.
    never_pause_clients = ["windows"]
    """#

    /// "Billing Assumptions": weekly collation, monthly bills.
    static let hosting = #"""
    currency = "USD"

    [carry]
    # "Very small balances might be held over to a following month": Stripe's smallest USD charge.
    below = "0.50"

    [[meters]]
    item = "instance-running"
    description = "On demand instances, running"
    measure = "instance-running-minutes"
    cycle = "weekly"
    per = "hour"

    [[meters]]
    item = "instance-stopped"
    description = "On demand instances, stopped"
    measure = "instance-stopped-minutes"
    cycle = "weekly"
    per = "hour"

    [[meters]]
    item = "recording-processing"
    description = "Processing of recordings"
    measure = "recording-minutes"
    cycle = "weekly"
    per = "hour"
    minimum_minutes = 3

    [[meters]]
    item = "meetings"
    description = "On demand meetings"
    measure = "meeting-hours"
    cycle = "weekly"
    price = "0.30"
    per = "hour"
    minimum_hourly = "0.30"
    minimum_charge = "0.10"

    [[meters]]
    item = "breakout-rooms"
    description = "Breakout rooms"
    measure = "breakout-rooms"
    cycle = "weekly"
    per = "hour"
    fraction = "0.15"
    minimum_charge = "0.02"
    parent_item = "meetings"

    [[meters]]
    item = "storage"
    description = "Storage, largest weekly average"
    measure = "storage-megabytes"
    cycle = "weekly"
    per = "gigabyte"
    scopes = ["recording"]
    """#
}
