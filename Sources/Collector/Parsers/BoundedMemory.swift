/// A set that forgets its oldest members past a capacity. Parsers remember a little across lines
/// (meetings already ended, meetings akka-apps speaks for); a host that runs for years must not
/// make that memory grow without end.
struct BoundedSet<Element: Hashable & Sendable>: Sendable {
    private var members: Set<Element> = []
    private var order: [Element] = []
    private var head = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func contains(_ e: Element) -> Bool { members.contains(e) }

    mutating func insert(_ e: Element) {
        guard members.insert(e).inserted else { return }
        order.append(e)
        if members.count > capacity {
            members.remove(order[head])
            head += 1
            // Compact now and then so the order array does not keep the forgotten ones.
            if head > capacity {
                order.removeFirst(head)
                head = 0
            }
        }
    }

    mutating func remove(_ e: Element) {
        // Leaves `e` in `order`; evicting an absent member later is harmless.
        members.remove(e)
    }

    var count: Int { members.count }
}

/// The last few facts a parser made, to drop a line repeated word for word (issue #8824 shows
/// akka-apps writing one twice). The same fact at the same instant is not new.
struct RecentFacts: Sendable {
    private var ring: [ParsedEvent] = []
    private var next = 0
    static let size = 16

    func contains(_ e: ParsedEvent) -> Bool { ring.contains(e) }

    mutating func remember(_ events: [ParsedEvent]) {
        for e in events {
            if ring.count < Self.size {
                ring.append(e)
            } else {
                ring[next] = e
                next = (next + 1) % Self.size
            }
        }
    }

    /// `.skipped(duplicate)` when every event was made just before; otherwise remembers them.
    mutating func check(_ outcome: ParseOutcome) -> ParseOutcome {
        guard case .events(let events) = outcome, !events.isEmpty else { return outcome }
        if events.allSatisfy(contains) {
            return .skipped(SkipReason("duplicate", "the same \(events[0].payload.kind) at the same time was read just before"))
        }
        remember(events)
        return outcome
    }
}
