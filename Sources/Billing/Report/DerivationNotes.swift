/// How often the records needed mending while presence was derived from them, so that the report
/// can show it beside the figures (DESIGN.md principles 2 and 7).
public struct DerivationNotes: Sendable, Hashable {
    /// Records whose id was already seen (stored twice, sent twice): kept once.
    public var duplicateRecords = 0
    /// `user.left` for someone not present: nothing to close.
    public var leavesWithoutJoin = 0
    /// `user.joined` for someone already present: no change.
    public var repeatedJoins = 0
    /// A second `meeting.ended` for a meeting already ended: no change.
    public var repeatedEnds = 0
    /// People still present when the meeting ended: they leave at its end.
    public var presencesClosedAtEnd = 0
    /// Meetings a reboot of their host closed (at its last sign of life before the reboot).
    public var meetingsClosedByReboot = 0
    /// Meetings whose host fell silent: closed at its last sign of life.
    public var meetingsClosedBySilence = 0
    /// Meetings still open at the end of the evidence.
    public var meetingsOpen = 0
    /// Joins, leaves and other meeting records later than the meeting's end: ignored.
    public var recordsAfterEnd = 0

    public init() {}

    /// True when nothing needed mending.
    public var isClean: Bool { self == DerivationNotes() }

    /// Each count that is not zero, named, for reports.
    public var items: [(name: String, count: Int)] {
        [("duplicate records", duplicateRecords), ("leaves without a join", leavesWithoutJoin),
         ("repeated joins", repeatedJoins), ("repeated meeting ends", repeatedEnds),
         ("people present at the meeting's end", presencesClosedAtEnd),
         ("meetings closed by a host reboot", meetingsClosedByReboot),
         ("meetings closed by a silent host", meetingsClosedBySilence),
         ("meetings still open", meetingsOpen), ("records after the meeting's end", recordsAfterEnd)]
            .filter { $0.1 != 0 }
    }

    static func + (a: DerivationNotes, b: DerivationNotes) -> DerivationNotes {
        var s = a
        s.duplicateRecords += b.duplicateRecords
        s.leavesWithoutJoin += b.leavesWithoutJoin
        s.repeatedJoins += b.repeatedJoins
        s.repeatedEnds += b.repeatedEnds
        s.presencesClosedAtEnd += b.presencesClosedAtEnd
        s.meetingsClosedByReboot += b.meetingsClosedByReboot
        s.meetingsClosedBySilence += b.meetingsClosedBySilence
        s.meetingsOpen += b.meetingsOpen
        s.recordsAfterEnd += b.recordsAfterEnd
        return s
    }
}
