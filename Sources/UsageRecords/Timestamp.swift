/// A point in time in UTC with microsecond precision, as the wire protocol carries it.
///
/// Integer microseconds since the Unix epoch: exact arithmetic for billing, no time zones,
/// no floating point.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }
    public init(seconds: Int64) { self.microseconds = seconds * 1_000_000 }
    public init(milliseconds: Int64) { self.microseconds = milliseconds * 1_000 }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microseconds < b.microseconds }

    /// The instants the record form can carry: years 0000 to 9999. A time read from a log is
    /// checked against it, so that a damaged number neither overflows (a trap, and a crashed
    /// agent) nor becomes a record that cannot be written.
    public static let representable = Timestamp(microseconds: -62_167_219_200_000_000)...Timestamp(microseconds: 253_402_300_799_999_999)

    /// `seconds` and `microseconds` since the epoch, or nil outside `representable`.
    public init?(checkedSeconds seconds: Int64, microseconds: Int64 = 0) {
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        let (sum, overflow2) = scaled.addingReportingOverflow(microseconds)
        guard !overflow, !overflow2, Self.representable.contains(Timestamp(microseconds: sum)) else { return nil }
        self.microseconds = sum
    }

    /// Milliseconds since the epoch, or nil outside `representable`.
    public init?(checkedMilliseconds milliseconds: Int64) {
        let (scaled, overflow) = milliseconds.multipliedReportingOverflow(by: 1_000)
        guard !overflow, Self.representable.contains(Timestamp(microseconds: scaled)) else { return nil }
        self.microseconds = scaled
    }

    /// Whole seconds since the epoch, rounded towards the past.
    public var seconds: Int64 { floorDiv(microseconds, 1_000_000) }

    public func adding(seconds: Int64) -> Timestamp { Timestamp(microseconds: microseconds + seconds * 1_000_000) }
    public func adding(microseconds delta: Int64) -> Timestamp { Timestamp(microseconds: microseconds + delta) }

    /// Microseconds from `other` to `self`.
    public func microseconds(since other: Timestamp) -> Int64 { microseconds - other.microseconds }

    /// `2026-11-22T10:15:00.000000Z`: the one form records carry.
    public var rfc3339: String {
        var out: [UInt8] = []
        out.reserveCapacity(27)
        appendRFC3339(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The `rfc3339` form appended to `out`, digit by digit (the codec writes every time so).
    public func appendRFC3339(to out: inout [UInt8]) {
        let days = floorDiv(microseconds, 86_400_000_000)
        let date = CivilDate(daysSinceEpoch: days)
        guard (0...9999).contains(date.year) else {
            out.append(contentsOf: paddedRFC3339.utf8)
            return
        }
        let inDay = microseconds - days * 86_400_000_000
        let secondOfDay = inDay / 1_000_000
        // Laid out in a 27-byte buffer on the stack and appended at once.
        var text: (UInt64, UInt64, UInt64, UInt32) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &text) { t in
            func put(_ value: Int64, digits: Int, at: Int) {
                var v = value
                for i in stride(from: at + digits - 1, through: at, by: -1) {
                    t[i] = 0x30 + UInt8(truncatingIfNeeded: v % 10)
                    v /= 10
                }
            }
            put(date.year, digits: 4, at: 0)
            t[4] = UInt8(ascii: "-")
            put(date.month, digits: 2, at: 5)
            t[7] = UInt8(ascii: "-")
            put(date.day, digits: 2, at: 8)
            t[10] = UInt8(ascii: "T")
            put(secondOfDay / 3600, digits: 2, at: 11)
            t[13] = UInt8(ascii: ":")
            put(secondOfDay / 60 % 60, digits: 2, at: 14)
            t[16] = UInt8(ascii: ":")
            put(secondOfDay % 60, digits: 2, at: 17)
            t[19] = UInt8(ascii: ".")
            put(inDay % 1_000_000, digits: 6, at: 20)
            t[26] = UInt8(ascii: "Z")
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: t[..<27]))
        }
    }

    /// The form for years outside 0 to 9999, which no record carries past the aggregator's time
    /// window, kept as it always printed.
    private var paddedRFC3339: String {
        let days = floorDiv(microseconds, 86_400_000_000)
        let inDay = microseconds - days * 86_400_000_000
        let date = CivilDate(daysSinceEpoch: days)
        let secondOfDay = inDay / 1_000_000
        let micro = inDay % 1_000_000
        return "\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2))T"
            + "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))."
            + "\(pad(micro, 6))Z"
    }

    public var description: String { rfc3339 }

    public var civilDate: CivilDate { CivilDate(daysSinceEpoch: floorDiv(microseconds, 86_400_000_000)) }

    /// Parses RFC 3339 and the close relatives that logs print: `T` or a space between date and
    /// time, 0 to 9 fraction digits, `Z`, `+hh:mm`, `+hhmm` or `+hh`. Returns nil for anything else.
    public init?(rfc3339 text: Substring) {
        guard let t = try? Self.parse(rfc3339: text) else { return nil }
        self = t
    }

    /// As `init?(rfc3339:)`, saying what is wrong. An offset is within ±23:59 (RFC 3339's
    /// `time-numoffset`: hours 00-23, minutes 00-59); `+99:00` once moved a time by four days.
    public static func parse(rfc3339 text: Substring) throws(TimestampError) -> Timestamp {
        // Over the bytes when they are at hand (a native string's are): walking a Substring's
        // UTF-8 view index by index was most of a record's time field.
        let parsed = text.utf8.withContiguousStorageIfAvailable { bytes in
            Result { () throws(TimestampError) in try parse(rfc3339Bytes: bytes) }
        }
        if let parsed { return try parsed.get() }
        return try parse(rfc3339Bytes: text.utf8)
    }

    /// As `parse(rfc3339:)`, over UTF-8 bytes: the record decoder reads a time without making a
    /// String of it.
    public static func parse(rfc3339 bytes: UnsafeBufferPointer<UInt8>) throws(TimestampError) -> Timestamp {
        try parse(rfc3339Bytes: bytes)
    }

    private static func parse<C: Collection>(rfc3339Bytes bytes: C) throws(TimestampError) -> Timestamp where C.Element == UInt8 {
        var p = ASCIIScanner(bytes)
        guard let year = p.digits(4), p.skip(UInt8(ascii: "-")),
              let month = p.digits(2), p.skip(UInt8(ascii: "-")),
              let day = p.digits(2),
              p.skip(UInt8(ascii: "T")) || p.skip(UInt8(ascii: "t")) || p.skip(UInt8(ascii: " ")),
              let hour = p.digits(2), p.skip(UInt8(ascii: ":")),
              let minute = p.digits(2), p.skip(UInt8(ascii: ":")),
              let second = p.digits(2)
        else { throw TimestampError(.layout) }
        guard (1...12).contains(month), (1...CivilDate.daysIn(month: month, year: year)).contains(day) else {
            throw TimestampError(.noSuchDate)
        }
        guard hour < 24, minute < 60, second < 61 else { throw TimestampError(.noSuchTime) }
        var micro: Int64 = 0
        if p.skip(UInt8(ascii: ".")) || p.skip(UInt8(ascii: ",")) {
            var count = 0
            while let d = p.digit() {
                if count < 6 { micro = micro * 10 + Int64(d) }
                count += 1
            }
            guard count > 0 else { throw TimestampError(.layout) }
            for _ in min(count, 6)..<6 { micro *= 10 }
        }
        var offsetSeconds: Int64 = 0
        if p.skip(UInt8(ascii: "Z")) || p.skip(UInt8(ascii: "z")) {
        } else if let sign = p.peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            _ = p.next()
            guard let oh = p.digits(2) else { throw TimestampError(.layout) }
            var om: Int64 = 0
            if p.skip(UInt8(ascii: ":")) {
                guard let m = p.digits(2) else { throw TimestampError(.layout) }
                om = m
            } else if let m = p.digits(2) {
                om = m
            }
            guard oh < 24, om < 60 else { throw TimestampError(.offsetOutOfRange) }
            offsetSeconds = (oh * 3600 + om * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
        } else {
            throw TimestampError(.noZone) // a time without a zone is not UTC; callers that know the zone say so
        }
        guard p.atEnd else { throw TimestampError(.layout) }
        let days = CivilDate(year: year, month: month, day: day).daysSinceEpoch
        let secs = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetSeconds
        return Timestamp(microseconds: secs * 1_000_000 + micro)
    }

    public static func parse(rfc3339 text: String) throws(TimestampError) -> Timestamp { try parse(rfc3339: text[...]) }

    public init?(rfc3339 text: String) { self.init(rfc3339: text[...]) }
}

/// Why a text is not an RFC 3339 time. The caller names the field; this says what is wrong in it.
public struct TimestampError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// Not `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`.
        case layout
        /// A month or day that no calendar has (2026-02-30).
        case noSuchDate
        /// An hour, minute or second out of range.
        case noSuchTime
        /// An offset beyond ±23:59.
        case offsetOutOfRange
        /// No `Z` or offset.
        case noZone
    }

    public var reason: Reason
    public init(_ reason: Reason) { self.reason = reason }

    public var description: String {
        switch reason {
        case .layout: "not laid out as YYYY-MM-DDThh:mm:ss[.fraction] and a zone"
        case .noSuchDate: "no such date"
        case .noSuchTime: "no such time of day"
        case .offsetOutOfRange: "the zone offset is beyond ±23:59"
        case .noZone: "there is no zone (Z or an offset such as +01:00)"
        }
    }
}

/// A calendar date in the proleptic Gregorian calendar (UTC), with the arithmetic billing needs.
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int64
    public var month: Int64
    public var day: Int64

    public init(year: Int64, month: Int64, day: Int64) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Howard Hinnant's days-from-civil, exact for every date.
    public var daysSinceEpoch: Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public init(daysSinceEpoch z0: Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: yoe + era * 400 + (m <= 2 ? 1 : 0), month: m, day: d)
    }

    /// ISO weekday: 1 = Monday … 7 = Sunday.
    public var isoWeekday: Int64 {
        let w = floorMod(daysSinceEpoch + 3, 7) // 1970-01-01 was a Thursday
        return w + 1
    }

    public var startOfDay: Timestamp { Timestamp(seconds: daysSinceEpoch * 86_400) }

    public func adding(days: Int64) -> CivilDate { CivilDate(daysSinceEpoch: daysSinceEpoch + days) }

    public static func < (a: CivilDate, b: CivilDate) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }

    public static func isLeap(_ y: Int64) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public var description: String { "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))" }
}

@inline(__always) func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

@inline(__always) func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

func pad(_ value: Int64, _ width: Int) -> String {
    let s = String(value)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

/// A tiny cursor over ASCII bytes for the fixed-layout parsing that timestamps need.
struct ASCIIScanner<C: Collection> where C.Element == UInt8 {
    private let bytes: C
    private var index: C.Index

    init(_ bytes: C) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    var atEnd: Bool { index == bytes.endIndex }

    func peek() -> UInt8? { atEnd ? nil : bytes[index] }

    mutating func next() -> UInt8? {
        guard !atEnd else { return nil }
        defer { index = bytes.index(after: index) }
        return bytes[index]
    }

    mutating func skip(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        index = bytes.index(after: index)
        return true
    }

    mutating func digit() -> Int64? {
        guard let b = peek(), b >= 48, b <= 57 else { return nil }
        index = bytes.index(after: index)
        return Int64(b - 48)
    }

    mutating func digits(_ n: Int) -> Int64? {
        var v: Int64 = 0
        for _ in 0..<n {
            guard let d = digit() else { return nil }
            v = v * 10 + d
        }
        return v
    }
}
