#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import LogLines
import UsageRecords

/// The zone of log times written without an offset (jicofo, Ruby Logger, syslog text). Those
/// programs print the host's local time, and the agent runs on that host, so `.system` is right
/// in production; tests and `meetmeter parse` on copied logs name a zone to be reproducible.
public enum LocalTimeZone: Sendable, Hashable {
    case utc
    /// Seconds east of UTC.
    case fixed(seconds: Int64)
    /// The zone of this process (TZ, else /etc/localtime), daylight saving included.
    case system

    /// The zone an operator writes: `local` (or `system`), `UTC` (or `Z`), or an offset such as
    /// `+02:00`, `-0430`, `+05`. Nil for anything else (named zones other than UTC are left to
    /// the system's TZ setting, which `local` follows).
    public init?(configured text: String) {
        switch text.lowercased() {
        case "local", "system": self = .system
        case "utc", "z", "+00:00", "-00:00": self = .utc
        default:
            let bytes = Array(text.utf8)
            guard bytes.count >= 3, bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-") else { return nil }
            let digits = bytes.dropFirst().filter { $0 != UInt8(ascii: ":") }
            guard digits.count == 2 || digits.count == 4, digits.allSatisfy(isASCIIDigit),
                  bytes.dropFirst().filter({ $0 == UInt8(ascii: ":") }).count <= (digits.count == 4 ? 1 : 0)
            else { return nil }
            let values = digits.map { Int64($0 - 0x30) }
            let hours = values[0] * 10 + values[1]
            let minutes = values.count == 4 ? values[2] * 10 + values[3] : 0
            guard hours <= 14, minutes < 60 else { return nil }
            let seconds = (hours * 3600 + minutes * 60) * (bytes[0] == UInt8(ascii: "-") ? -1 : 1)
            self = seconds == 0 ? .utc : .fixed(seconds: seconds)
        }
    }

    /// The UTC instant of a wall-clock time given as seconds since the epoch as if it were UTC.
    func instant(localSeconds: Int64, microseconds: Int64) -> Timestamp {
        let utc: Int64
        switch self {
        case .utc: utc = localSeconds
        case .fixed(let offset): utc = localSeconds - offset
        case .system:
            // Two rounds of "local minus the offset in force then" settle every time except the
            // hour a clock is put back, which is ambiguous in the log itself.
            let first = localSeconds - Self.systemOffset(at: localSeconds)
            utc = localSeconds - Self.systemOffset(at: first)
        }
        return Timestamp(microseconds: utc * 1_000_000 + microseconds)
    }

    private static func systemOffset(at seconds: Int64) -> Int64 {
        var t = time_t(seconds)
        var parts = tm()
        guard localtime_r(&t, &parts) != nil else { return 0 }
        return Int64(parts.tm_gmtoff)
    }
}

/// A wall-clock time read from text, before a zone is known.
struct CivilTime {
    /// Seconds since the epoch as if the time were UTC.
    var seconds: Int64
    var microseconds: Int64
    /// The index just after the time (and its fraction).
    var end: Int
}

/// The time layouts log lines carry, read straight from bytes (no Foundation, no allocation).
enum LogTime {
    private static let months: [[UInt8]] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .map { Array($0.utf8) }

    /// `YYYY-MM-DD[T ]hh:mm:ss[.,fraction]` at `start`, without a zone.
    static func civil(_ b: LineBuffer, at start: Int) -> CivilTime? {
        var i = start
        func number(_ width: Int) -> Int64? {
            guard i + width <= b.count else { return nil }
            var v: Int64 = 0
            for k in 0..<width {
                let c = b[i + k]
                guard isASCIIDigit(c) else { return nil }
                v = v * 10 + Int64(c - 0x30)
            }
            i += width
            return v
        }
        func expect(_ byte: UInt8) -> Bool {
            guard i < b.count, b[i] == byte else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect(0x2D), let month = number(2), expect(0x2D), let day = number(2) else { return nil }
        guard i < b.count, b[i] == UInt8(ascii: "T") || b[i] == 0x20 else { return nil }
        i += 1
        guard let hour = number(2), expect(0x3A), let minute = number(2), expect(0x3A), let second = number(2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= CivilDate.daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 61 else { return nil }
        var micro: Int64 = 0
        if i < b.count, b[i] == 0x2E || b[i] == 0x2C, i + 1 < b.count, isASCIIDigit(b[i + 1]) {
            i += 1
            var digits = 0
            while i < b.count, isASCIIDigit(b[i]) {
                if digits < 6 { micro = micro * 10 + Int64(b[i] - 0x30) }
                digits += 1
                i += 1
            }
            for _ in min(digits, 6)..<6 { micro *= 10 }
        }
        let days = CivilDate(year: year, month: month, day: day).daysSinceEpoch
        return CivilTime(seconds: days * 86_400 + hour * 3600 + minute * 60 + min(second, 59), microseconds: micro, end: i)
    }

    /// An RFC 3339 time with its zone (`Z`, `±hh:mm`, `±hhmm`) at `start` (logback, rsyslog).
    static func zoned(_ b: LineBuffer, at start: Int) -> (time: Timestamp, end: Int)? {
        guard let c = civil(b, at: start) else { return nil }
        var i = c.end
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let negative = b[i] == UInt8(ascii: "-")
            i += 1
            guard i + 2 <= b.count, isASCIIDigit(b[i]), isASCIIDigit(b[i + 1]) else { return nil }
            let hours = Int64(b[i] - 0x30) * 10 + Int64(b[i + 1] - 0x30)
            i += 2
            if i < b.count, b[i] == 0x3A { i += 1 }
            var minutes: Int64 = 0
            if i + 2 <= b.count, isASCIIDigit(b[i]), isASCIIDigit(b[i + 1]) {
                minutes = Int64(b[i] - 0x30) * 10 + Int64(b[i + 1] - 0x30)
                i += 2
            }
            guard hours < 24, minutes < 60 else { return nil }
            offset = (hours * 3600 + minutes * 60) * (negative ? -1 : 1)
        } else {
            return nil
        }
        return (Timestamp(microseconds: (c.seconds - offset) * 1_000_000 + c.microseconds), i)
    }

    /// The last zoned time that starts before `limit`: in a line such as
    /// `<rsyslog time> host bbb-web[1]: <logback time> INFO … --analytics--`, the logback time,
    /// which is the program's own (LOG-FORMATS.md: prefer it to the journal's).
    static func lastZoned(_ b: LineBuffer, before limit: Int) -> Timestamp? {
        var i = min(limit, b.count) - 20
        while i >= 0 {
            if b[i + 4] == 0x2D, b[i + 7] == 0x2D, isASCIIDigit(b[i]), i == 0 || !isASCIIDigit(b[i - 1]),
               let found = zoned(b, at: i)
            {
                return found.time
            }
            i -= 1
        }
        return nil
    }

    /// `Mmm dd hh:mm:ss` (syslog, journalctl's short output) at `start`. It has no year: the
    /// caller supplies one or gives up.
    static func syslog(_ b: LineBuffer, at start: Int) -> (month: Int64, day: Int64, secondOfDay: Int64, end: Int)? {
        guard start + 15 <= b.count else { return nil }
        var month: Int64 = 0
        for (k, name) in months.enumerated() where b[start] == name[0] && b[start + 1] == name[1] && b[start + 2] == name[2] {
            month = Int64(k + 1)
        }
        guard month > 0, b[start + 3] == 0x20 else { return nil }
        let d1 = b[start + 4], d2 = b[start + 5]
        guard d1 == 0x20 || isASCIIDigit(d1), isASCIIDigit(d2) else { return nil }
        let day = (d1 == 0x20 ? 0 : Int64(d1 - 0x30)) * 10 + Int64(d2 - 0x30)
        var i = start + 7
        guard b[start + 6] == 0x20 else { return nil }
        var parts: [Int64] = []
        for k in 0..<3 {
            guard i + 2 <= b.count, isASCIIDigit(b[i]), isASCIIDigit(b[i + 1]) else { return nil }
            parts.append(Int64(b[i] - 0x30) * 10 + Int64(b[i + 1] - 0x30))
            i += 2
            if k < 2 {
                guard i < b.count, b[i] == 0x3A else { return nil }
                i += 1
            }
        }
        guard day >= 1, day <= 31, parts[0] < 24, parts[1] < 60, parts[2] < 61 else { return nil }
        return (month, day, parts[0] * 3600 + parts[1] * 60 + min(parts[2], 59), i)
    }

    /// What a line says of its own time in front of its message.
    enum Leading {
        case time(Timestamp)
        /// A syslog time with no year and none configured.
        case noYear
        case none
    }

    /// The time at the head of a text line, in the forms that copies of the journal and of
    /// syslog take: journalctl's `Mmm dd hh:mm:ss host ident[pid]:` (local, no year), rsyslog's
    /// RFC 3339 with zone, RFC 5424's `<pri>1 time …`, Ruby Logger's `X, [time #pid]` (local),
    /// and a bare `YYYY-MM-DD hh:mm:ss` (local).
    static func leading(_ b: LineBuffer, zone: LocalTimeZone, year: Int64?, reference: Timestamp? = nil) -> Leading {
        var i = b.skippingSpaces(from: 0)
        guard i < b.count else { return .none }
        if b[i] == UInt8(ascii: "<") {
            // RFC 5424: <pri>version SP time
            var j = i + 1
            while j < b.count, isASCIIDigit(b[j]) { j += 1 }
            guard j < b.count, b[j] == UInt8(ascii: ">") else { return .none }
            j += 1
            while j < b.count, isASCIIDigit(b[j]) { j += 1 }
            i = b.skippingSpaces(from: j)
        }
        if i + 4 < b.count, b[i + 1] == UInt8(ascii: ","), b[i + 2] == 0x20, b[i + 3] == UInt8(ascii: "[") {
            i += 4 // Ruby Logger
        }
        guard i < b.count else { return .none }
        if isASCIIDigit(b[i]) {
            if let z = zoned(b, at: i) { return .time(z.time) }
            if let c = civil(b, at: i) { return .time(zone.instant(localSeconds: c.seconds, microseconds: c.microseconds)) }
            return .none
        }
        if let s = syslog(b, at: i) {
            func place(_ year: Int64) -> Timestamp? {
                guard s.day <= CivilDate.daysIn(month: s.month, year: year) else { return nil }
                let days = CivilDate(year: year, month: s.month, day: s.day).daysSinceEpoch
                return zone.instant(localSeconds: days * 86_400 + s.secondOfDay, microseconds: 0)
            }
            if let year { return place(year).map(Leading.time) ?? .none }
            guard let reference else { return .noYear }
            // The latest year that does not put the line more than a day after the reference
            // (what syslog readers do; a day covers zones and clocks a little ahead).
            let latest = reference.adding(seconds: 86_400)
            let y = reference.civilDate.year
            for candidate in [y + 1, y, y - 1, y - 2, y - 3, y - 4] {
                if let t = place(candidate), t <= latest { return .time(t) }
            }
            return .none
        }
        return .none
    }
}
