import UsageRecords

/// The account of each meeting, recording and host, found once (DESIGN.md: "accounts found from
/// meeting metadata"). A breakout room pays with its parent.
struct AccountResolver: Sendable {
    let rules: AccountRules
    let derivation: Derivation

    func account(of m: MeetingTimeline) -> String {
        var current = m
        var hops = 0
        // Follow parents (a breakout of a breakout is possible), never in a circle.
        while let parent = current.info.parent, let p = derivation.meeting(parent), hops < 8, p.meeting != current.meeting {
            current = p
            hops += 1
        }
        return rules.account(meta: current.info.meta, external: current.info.external, host: current.host)
    }

    /// A meeting by id when its records are in the evidence; else the host's account.
    func account(meeting id: String?, host: String) -> String {
        if let id, let m = derivation.meeting(id) { return account(of: m) }
        return rules.account(host: host)
    }
}
