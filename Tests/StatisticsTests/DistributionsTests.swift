import XCTest

@testable import Statistics

/// Reference values below were made with SciPy 1.17.1 (`python3 -c "from scipy import stats, special; ..."`),
/// and the Student-t quantiles cross-checked with mpmath at 40 digits (`mp.findroot` on `mp.betainc`).
final class DistributionsTests: XCTestCase {
    func testNormal() {
        // stats.norm.ppf(0.975)
        XCTAssertEqual(Distributions.normalQuantile(0.975), 1.959963984540054, accuracy: 1e-12)
        // Symmetry and the median, by definition.
        XCTAssertEqual(Distributions.normalQuantile(0.025), -1.959963984540054, accuracy: 1e-12)
        XCTAssertEqual(Distributions.normalQuantile(0.5), 0, accuracy: 1e-15)
        // 2 * stats.norm.sf(1.959963984540054)
        XCTAssertEqual(Distributions.normalTwoSidedP(1.959963984540054), 0.05, accuracy: 1e-15)
        XCTAssertEqual(Distributions.normalTwoSidedP(-1.959963984540054), 0.05, accuracy: 1e-15)
        XCTAssertEqual(Distributions.normalTwoSidedP(0), 1)
        XCTAssertEqual(Distributions.normalCDF(0), 0.5)
    }

    func testStudentQuantile() {
        // stats.t.ppf(0.975, df) for df = 10, 1, 9995; mpmath agrees to all printed digits.
        let cases: [(df: Double, q: Double)] = [
            (10, 2.228138851986274),
            (1, 12.706204736174694),  // also tan(0.475 π)
            (9995, 1.9602013585917737)
        ]
        for c in cases {
            assertRelative(Distributions.studentTwoSidedQuantile(0.05, df: c.df), c.q, 1e-12, "t quantile df=\(c.df)")
        }
    }

    func testStudentTwoSidedP() {
        // 2 * stats.t.sf(2, 5)
        assertRelative(Distributions.studentTwoSidedP(2.0, df: 5), 0.10193947882985835, 1e-13, "P(|T₅| > 2)")
        assertRelative(Distributions.studentTwoSidedP(-2.0, df: 5), 0.10193947882985835, 1e-13, "P(|T₅| > |−2|)")
        XCTAssertEqual(Distributions.studentTwoSidedP(0, df: 5), 1)
        XCTAssertEqual(Distributions.studentTwoSidedP(.infinity, df: 5), 0)
        // The quantile inverts the p-value.
        for df in [1.0, 3, 10, 100] {
            let q = Distributions.studentTwoSidedQuantile(0.05, df: df)
            assertRelative(Distributions.studentTwoSidedP(q, df: df), 0.05, 1e-10, "round trip df=\(df)")
        }
    }

    func testIncompleteBetaAgainstScipy() {
        // special.betainc(a, b, x) for x in xs (rows) and (a, b) in params (columns).
        let xs: [Double] = [0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99]
        let params: [(Double, Double)] = [(0.5, 0.5), (1, 1), (2, 3), (5, 0.5), (0.5, 5), (10, 20), (50, 0.5)]
        let expected: [[Double]] = [
            [
                0.06376856085851985, 0.01, 0.0005920299999999999, 2.4712578086395438e-11, 0.24284189089843747,
                1.6841317932875388e-13, 7.998227417904836e-102
            ],
            [
                0.20483276469913345, 0.1, 0.05230000000000001, 2.5705896992293723e-06, 0.6833570849799877,
                0.0003325960345446004, 8.380332558688329e-52
            ],
            [
                0.36901011956554536, 0.3, 0.34829999999999994, 0.0006913033857629756, 0.9347377538310915,
                0.3640040810719437, 6.800825885173791e-28
            ],
            [
                0.5000000000000001, 0.5, 0.6875, 0.010119559735433718, 0.9898804402645663, 0.9692858271300793,
                9.90168898459413e-17
            ],
            [
                0.6309898804344546, 0.7, 0.9163, 0.0652622461689081, 0.999308696614237, 0.9999828580828269,
                2.5571939944368708e-09
            ],
            [
                0.7951672353008665, 0.9, 0.9963, 0.3166429150200122, 0.9999974294103009, 0.9999999999999593,
                0.001204149832559813
            ],
            [0.9362314391414803, 0.99, 0.99999603, 0.7571581091015623, 0.9999999999752873, 1.0, 0.3173043978741973]
        ]
        for (i, x) in xs.enumerated() {
            for (k, (a, b)) in params.enumerated() {
                assertRelative(Distributions.incompleteBeta(x, a, b), expected[i][k], 1e-12, "I_\(x)(\(a), \(b))")
            }
        }
        XCTAssertEqual(Distributions.incompleteBeta(0, 2, 3), 0)
        XCTAssertEqual(Distributions.incompleteBeta(1, 2, 3), 1)
    }
}
