/// An exact decimal number: an Int128 significand and a count of digits after the point.
///
/// Money and prices never touch binary floating point (DESIGN.md): `0.30` is 30 × 10⁻², sums and
/// products are exact, and rounding happens only where a rule says so, half away from zero
/// ("half up" for the positive amounts of a bill, and the mirror for credits).
public struct ExactDecimal: Sendable, Hashable, Comparable, CustomStringConvertible {
    public private(set) var significand: Int128
    /// Digits after the decimal point, 0 to `maximumScale`.
    public private(set) var scale: Int

    public static let maximumScale = 30
    public static let zero = ExactDecimal(0)

    public init(significand: Int128, scale: Int) {
        precondition(scale >= 0 && scale <= Self.maximumScale, "scale out of range")
        self.significand = significand
        self.scale = scale
    }

    public init(_ integer: Int64) { self.init(significand: Int128(integer), scale: 0) }
    public init(_ integer: Int) { self.init(significand: Int128(integer), scale: 0) }

    /// Parses `12`, `-0.30`, `+1.500`; nil for anything else (exponents, spaces, empty).
    public init?(_ text: String) {
        var negative = false
        var digitsSeen = 0
        var fraction = -1
        var value: Int128 = 0
        for (i, c) in text.utf8.enumerated() {
            switch c {
            case UInt8(ascii: "-") where i == 0: negative = true
            case UInt8(ascii: "+") where i == 0: break
            case UInt8(ascii: ".") where fraction < 0: fraction = 0
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard digitsSeen < 36 else { return nil }
                value = value * 10 + Int128(c - 48)
                digitsSeen += 1
                if fraction >= 0 { fraction += 1 }
            default: return nil
            }
        }
        guard digitsSeen > 0, fraction <= Self.maximumScale else { return nil }
        self.init(significand: negative ? -value : value, scale: max(fraction, 0))
    }

    // MARK: Arithmetic

    static func pow10(_ n: Int) -> Int128 {
        var p: Int128 = 1
        for _ in 0..<n { p *= 10 }
        return p
    }

    /// The same number written with `scale` digits (scale must not drop digits).
    func widened(to newScale: Int) -> ExactDecimal {
        newScale <= scale ? self : ExactDecimal(significand: significand * Self.pow10(newScale - scale), scale: newScale)
    }

    public static func + (a: ExactDecimal, b: ExactDecimal) -> ExactDecimal {
        let s = max(a.scale, b.scale)
        return ExactDecimal(significand: a.widened(to: s).significand + b.widened(to: s).significand, scale: s)
    }

    public static func - (a: ExactDecimal, b: ExactDecimal) -> ExactDecimal {
        let s = max(a.scale, b.scale)
        return ExactDecimal(significand: a.widened(to: s).significand - b.widened(to: s).significand, scale: s)
    }

    public static prefix func - (a: ExactDecimal) -> ExactDecimal { ExactDecimal(significand: -a.significand, scale: a.scale) }

    public static func += (a: inout ExactDecimal, b: ExactDecimal) { a = a + b }
    public static func -= (a: inout ExactDecimal, b: ExactDecimal) { a = a - b }

    /// Exact; the scales add (trailing zeros are dropped first if they would pass the maximum).
    public static func * (a: ExactDecimal, b: ExactDecimal) -> ExactDecimal {
        var x = a, y = b
        if x.scale + y.scale > maximumScale { x = x.trimmed; y = y.trimmed }
        return ExactDecimal(significand: x.significand * y.significand, scale: x.scale + y.scale)
    }

    public static func * (a: ExactDecimal, n: Int64) -> ExactDecimal {
        ExactDecimal(significand: a.significand * Int128(n), scale: a.scale)
    }

    /// The quotient rounded half away from zero to `scale` digits.
    public func divided(by divisor: ExactDecimal, scale target: Int) -> ExactDecimal {
        precondition(divisor.significand != 0, "division by zero")
        // a/10^sa ÷ b/10^sb = (a · 10^(target + sb − sa)) / b, then scaled by 10^-target.
        var numerator = significand
        var denominator = divisor.significand
        let shift = target + divisor.scale - scale
        if shift >= 0 { numerator *= Self.pow10(shift) } else { denominator *= Self.pow10(-shift) }
        return ExactDecimal(significand: Self.divideHalfAway(numerator, denominator), scale: target)
    }

    public func divided(by n: Int64, scale target: Int) -> ExactDecimal { divided(by: ExactDecimal(n), scale: target) }

    /// Rounded half away from zero to `scale` digits (never adds digits).
    public func rounded(scale target: Int) -> ExactDecimal {
        guard target < scale else { return self }
        return ExactDecimal(significand: Self.divideHalfAway(significand, Self.pow10(scale - target)), scale: target)
    }

    /// The same number with trailing zeros after the point dropped.
    public var trimmed: ExactDecimal {
        var s = significand, k = scale
        while k > 0 && s % 10 == 0 { s /= 10; k -= 1 }
        return ExactDecimal(significand: s, scale: k)
    }

    static func divideHalfAway(_ n: Int128, _ d: Int128) -> Int128 {
        let q = n / d, r = n % d
        let twice = (r < 0 ? -r : r) * 2
        let absD = d < 0 ? -d : d
        guard twice >= absD else { return q }
        return (n < 0) != (d < 0) ? q - 1 : q + 1
    }

    // MARK: Comparison

    public var isZero: Bool { significand == 0 }
    public var isNegative: Bool { significand < 0 }

    public static func == (a: ExactDecimal, b: ExactDecimal) -> Bool {
        let s = max(a.scale, b.scale)
        return a.widened(to: s).significand == b.widened(to: s).significand
    }

    public func hash(into hasher: inout Hasher) {
        let t = trimmed
        hasher.combine(t.significand)
        hasher.combine(t.scale)
    }

    public static func < (a: ExactDecimal, b: ExactDecimal) -> Bool {
        let s = max(a.scale, b.scale)
        return a.widened(to: s).significand < b.widened(to: s).significand
    }

    // MARK: Text

    /// With exactly `scale` digits after the point, as stored: `0.30` stays `0.30`.
    public var description: String {
        let negative = significand < 0
        var digits = String(negative ? -significand : significand)
        if scale > 0 {
            if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        }
        return (negative ? "-" : "") + digits
    }

    /// Rounded (half away from zero) or padded to exactly `scale` digits after the point.
    public func formatted(scale target: Int) -> String { rounded(scale: target).widened(to: target).description }
}
