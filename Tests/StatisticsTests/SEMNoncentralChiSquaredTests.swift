import XCTest

@testable import Statistics

/// The noncentral chi-square CDF behind the RMSEA interval, against R 4.2.2 `pchisq(x, df, ncp)`.
final class SEMNoncentralChiSquaredTests: XCTestCase {
    func testAgainstR() {
        let cases: [(x: Double, df: Double, ncp: Double, p: Double)] = [
            (5, 3, 2, 0.59340518008315557),
            (0.5, 1, 0.1, 0.49898181968631811),
            (30, 5, 20, 0.72550463232046813),
            (191.192, 24, 140, 0.86358489304235264),
            (400, 10, 300, 0.9926120615564159)
        ]
        for c in cases {
            assertRelative(
                NoncentralChiSquared.cdf(c.x, degreesOfFreedom: c.df, noncentrality: c.ncp), c.p, 1e-12,
                "pchisq(\(c.x), \(c.df), ncp = \(c.ncp))")
        }
        // λ = 0 is the central distribution; x ≤ 0 has probability 0.
        XCTAssertEqual(
            NoncentralChiSquared.cdf(3, degreesOfFreedom: 2, noncentrality: 0), 1 - exp(-1.5), accuracy: 1e-15)
        XCTAssertEqual(NoncentralChiSquared.cdf(0, degreesOfFreedom: 2, noncentrality: 4), 0)
    }
}
