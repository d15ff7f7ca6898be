import UsageRecords

/// A half-open stretch of time [start, end), and the algebra on sorted, disjoint lists of them
/// that presence, grace periods and pauses need.
struct Span: Sendable, Hashable {
    var start: Timestamp
    var end: Timestamp

    init(_ start: Timestamp, _ end: Timestamp) {
        self.start = start
        self.end = end
    }

    var micro: Int64 { max(0, end.microseconds - start.microseconds) }
    var isEmpty: Bool { end <= start }

    /// Sorted, disjoint, non-empty; touching spans are merged.
    static func union(_ spans: [Span]) -> [Span] {
        let sorted = spans.filter { !$0.isEmpty }.sorted { ($0.start, $0.end) < ($1.start, $1.end) }
        var out: [Span] = []
        for s in sorted {
            if let last = out.last, s.start <= last.end {
                out[out.count - 1].end = max(last.end, s.end)
            } else {
                out.append(s)
            }
        }
        return out
    }

    /// Both sorted and disjoint.
    static func intersect(_ a: [Span], _ b: [Span]) -> [Span] {
        var out: [Span] = []
        var i = 0, j = 0
        while i < a.count && j < b.count {
            let s = max(a[i].start, b[j].start), e = min(a[i].end, b[j].end)
            if s < e { out.append(Span(s, e)) }
            if a[i].end < b[j].end { i += 1 } else { j += 1 }
        }
        return out
    }

    /// `a` without `b`; both sorted and disjoint.
    static func subtract(_ a: [Span], _ b: [Span]) -> [Span] {
        var out: [Span] = []
        var j = 0
        for var s in a {
            while j < b.count && b[j].end <= s.start { j += 1 }
            var k = j
            while k < b.count && b[k].start < s.end {
                if b[k].start > s.start { out.append(Span(s.start, b[k].start)) }
                s.start = max(s.start, b[k].end)
                k += 1
            }
            if s.start < s.end { out.append(s) }
        }
        return out
    }

    /// Microseconds of `spans` inside each bucket, added to `into[bucket index]`.
    static func distribute(_ spans: [Span], over buckets: [Bucket], into: inout [Int64]) {
        for s in spans {
            guard var i = Collation.index(of: max(s.start, buckets.first?.start ?? s.start), in: buckets) else { continue }
            while i < buckets.count && buckets[i].start < s.end {
                into[i] += overlap(s.start, s.end, buckets[i].start, buckets[i].end)
                i += 1
            }
        }
    }
}
