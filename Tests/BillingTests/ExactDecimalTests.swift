import Testing
@testable import Billing

@Suite struct ExactDecimalTests {
    static func d(_ s: String) -> ExactDecimal {
        guard let v = ExactDecimal(s) else { fatalError("not a decimal: \(s)") }
        return v
    }

    @Test(arguments: ["0", "0.30", "-1.5", "123456789.000000000001", "0.000083333333"])
    func roundTripsText(text: String) {
        #expect(Self.d(text).description == text)
    }

    @Test(arguments: ["", "-", ".", "1e3", "1.2.3", " 1", "0x10", "1,5"])
    func refusesNonDecimals(text: String) {
        #expect(ExactDecimal(text) == nil)
    }

    @Test func addsAndMultipliesExactly() {
        #expect((Self.d("0.1") + Self.d("0.2")) == Self.d("0.3"))
        #expect((Self.d("0.005") * ExactDecimal(Int64(20))) == Self.d("0.1"))
        #expect((Self.d("1.50") * Self.d("0.001")).description == "0.00150")
    }

    @Test func pricePerHourBecomesPerMinuteTo12Places() {
        #expect(Self.d("0.05").divided(by: 60, scale: 12).description == "0.000833333333")
        #expect(Self.d("0.10").divided(by: 60, scale: 12).description == "0.001666666667") // half up
        #expect(Self.d("0.30").divided(by: 60, scale: 12).description == "0.005000000000")
        #expect(Self.d("1.50").divided(by: 1000, scale: 12).description == "0.001500000000")
    }

    @Test(arguments: [("0.125", "0.13"), ("0.135", "0.14"), ("0.1349999", "0.13"), ("-0.125", "-0.13"), ("2.5", "2.50"), ("0.004", "0.00")])
    func roundsHalfAwayFromZero(value: String, cents: String) {
        #expect(Self.d(value).formatted(scale: 2) == cents)
    }

    @Test func comparesAcrossScales() {
        #expect(Self.d("0.30") == Self.d("0.3"))
        #expect(Self.d("0.30").hashValue == Self.d("0.3").hashValue)
        #expect(Self.d("0.099") < Self.d("0.10"))
        #expect(max(Self.d("0.2"), Self.d("0.30")) == Self.d("0.3"))
    }

    @Test func minutesRoundHalfUpOnWholeSeconds() {
        #expect(minutes(fromSeconds: 29) == 0)
        #expect(minutes(fromSeconds: 30) == 1)
        #expect(minutes(fromSeconds: 89) == 1)
        #expect(minutes(fromSeconds: 90) == 2)
        #expect(minutes(fromSeconds: 152) == 3)
    }
}
