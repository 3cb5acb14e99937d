import XCTest

@testable import Statistics

/// Issue 9, part 1: arguments that data can produce (NaN, ∞, 10³⁰⁸) and formulas a user can write must not trap.
final class CrashAuditStatisticsTests: XCTestCase {
    /// A huge power of a sum is the sum's full interaction (patsy: a term times itself is itself); a power that
    /// expands into more than 10000 terms is refused with its position.
    func testFormulaPowersAreBounded() throws {
        let huge = try Formula("y ~ (a + b + c)**9223372036854775807")
        let three = try Formula("y ~ (a + b + c)**3")
        XCTAssertEqual(huge.terms, three.terms)
        XCTAssertEqual(huge.terms.count, 8)  // Intercept, a, b, c, a:b, a:c, b:c, a:b:c
        let names = (0..<14).map { "x\($0)" }.joined(separator: " + ")
        XCTAssertThrowsError(try Formula("y ~ (\(names))**14")) { error in
            XCTAssertTrue("\(error)".contains("more than 10000 terms"), "\(error)")
        }
    }

    /// NaN in, NaN out (no precondition trap); shapes and noncentralities far beyond data stay finite in time.
    func testDistributionsTakeNonFiniteArguments() {
        XCTAssertTrue(Distributions.incompleteBeta(.nan, 1, 1).isNaN)
        XCTAssertTrue(Distributions.studentTwoSidedP(.nan, df: 3).isNaN)
        XCTAssertTrue(Distributions.studentTwoSidedP(1, df: .nan).isNaN)
        XCTAssertTrue(Distributions.studentTwoSidedQuantile(.nan, df: 3).isNaN)
        XCTAssertTrue(Distributions.normalQuantile(.nan).isNaN)
        XCTAssertTrue(Gamma.regularizedLower(a: .nan, x: 1).isNaN)
        XCTAssertTrue(Gamma.inverseRegularizedUpper(a: 2, q: .nan).isNaN)
        XCTAssertTrue(NoncentralChiSquared.cdf(3, degreesOfFreedom: 2, noncentrality: .infinity).isNaN)
        XCTAssertTrue(NoncentralChiSquared.cdf(3, degreesOfFreedom: 2, noncentrality: 1e300).isNaN)
        XCTAssertTrue(NoncentralChiSquared.cdf(.nan, degreesOfFreedom: 2, noncentrality: 1).isNaN)
        // Γ shape 10³⁰⁸: the iteration bound used to be Int(50·√a), a trap; P(a, a/2) is 0 for such a shape.
        XCTAssertEqual(Gamma.regularizedLower(a: 1e308, x: 5e307), 0)
        XCTAssertEqual(Gamma.regularizedLower(a: 1, x: 0), 0)
    }
}
