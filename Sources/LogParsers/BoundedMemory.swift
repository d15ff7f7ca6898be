import LogLines
import UsageRecords

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
    var isEmpty: Bool { members.isEmpty }
}

/// A meeting id as a set member. BigBlueButton's ids are 54 bytes that differ mostly at their
/// end (`<sha1>-<ms>`), so hashing the last 24 is as good and a fraction of the cost; equality is
/// still the whole text.
struct MeetingKey: Hashable, Sendable {
    let id: String

    init(_ id: String) { self.id = id }

    static func == (a: MeetingKey, b: MeetingKey) -> Bool { a.id == b.id }

    func hash(into h: inout Hasher) {
        var s = id
        s.withUTF8 { b in
            h.combine(b.count)
            h.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: b[Swift.max(0, b.count - 24)...])))
        }
    }
}

/// The last few lines that made facts, to drop a line repeated word for word (issue #8824 shows
/// akka-apps writing one twice). A journal entry's text may well repeat (the recording worker's
/// messages have no time in them), so its journal time must match too. Comparing texts costs a
/// length check in the common case.
struct RecentLines: Sendable {
    private var lines: [(text: String, time: Timestamp?)] = []
    private var next = 0
    static let size = 8

    /// Whether `line` (which made facts) repeats one of the last few lines that did; remembers it
    /// if not.
    mutating func isRepeat(_ line: LogLine) -> Bool {
        let text = line.text
        let length = text.utf8.count
        for seen in lines where seen.text.utf8.count == length && seen.time == line.time && seen.text == text { return true }
        if lines.count < Self.size {
            lines.append((text, line.time))
        } else {
            lines[next] = (text, line.time)
            next = (next + 1) % Self.size
        }
        return false
    }

    /// `.skipped(duplicate)` for a repeated line that made facts; the outcome otherwise.
    mutating func check(_ outcome: ParseOutcome, line: LogLine) -> ParseOutcome {
        guard case .events(let list) = outcome, !list.isEmpty else { return outcome }
        if isRepeat(line) {
            return .skipped(SkipReason("duplicate", "the same line (\(list[0].payload.kind)) was read just before"))
        }
        return outcome
    }
}
