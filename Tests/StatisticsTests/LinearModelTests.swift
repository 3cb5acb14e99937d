import XCTest

@testable import Statistics

final class LinearModelTests: XCTestCase {
    /// x = 1…6, y = (2, 3, 5, 4, 6, 9). By hand: x̄ = 3.5, ȳ = 29/6, Sxx = 17.5,
    /// Sxy = Σ(x − x̄)y = −5 − 4.5 − 2.5 + 2 + 9 + 22.5 = 21.5, slope = 21.5 / 17.5 = 43/35,
    /// intercept = 29/6 − (43/35)(3.5) = 8/15; Syy = 171 − 841/6 = 185/6,
    /// SSR = Syy − Sxy²/Sxx = 185/6 − 1849/70 = 464/105.
    /// X'X = [[6, 21], [21, 91]], det 105, so (X'X)⁻¹ = [[91, −21], [−21, 6]] / 105.
    private let x: [Double] = [1, 2, 3, 4, 5, 6]
    private let y: [Double] = [2, 3, 5, 4, 6, 9]

    private func moments(rows: Range<Int>) -> MomentMatrix {
        MomentMatrix(rows: rows.flatMap { [1, x[$0], y[$0]] }, count: rows.count, dimension: 3)
    }

    func testSolveMatchesClosedForm() throws {
        for cut in 0...6 {
            var m = moments(rows: 0..<cut)
            m.merge(moments(rows: cut..<6))
            let solution = try LinearModel.solve(m, names: ["Intercept", "x"])
            assertClose(solution.estimates, [8.0 / 15, 43.0 / 35], relative: 1e-13, scale: 1, "β̂, cut \(cut)")
            assertClose(
                solution.xtxInverse, [91.0 / 105, -21.0 / 105, -21.0 / 105, 6.0 / 105], relative: 1e-13, scale: 1,
                "(X'X)⁻¹, cut \(cut)")
            XCTAssertEqual(solution.count, 6)
            assertRelative(
                LinearModel.sumOfSquaredResiduals(m, estimates: solution.estimates), 464.0 / 105, 1e-12,
                "SSR, cut \(cut)")
        }
    }

    func testSumOfSquaredResidualsAtArbitraryCoefficients() {
        // At β = (1, 1): residuals y − 1 − x = (0, 0, 1, −1, 0, 2), SSR = 6. At β = (0, 0): Σy² = 171.
        let m = moments(rows: 0..<6)
        XCTAssertEqual(LinearModel.sumOfSquaredResiduals(m, estimates: [1, 1]), 6, accuracy: 1e-12)
        XCTAssertEqual(LinearModel.sumOfSquaredResiduals(m, estimates: [0, 0]), 171, accuracy: 1e-12)
        XCTAssertEqual(LinearModel.sumOfSquaredResiduals(MomentMatrix(dimension: 3), estimates: [1, 1]), 0)
    }

    func testTooFewRows() {
        let m = moments(rows: 0..<1)
        XCTAssertThrowsError(try LinearModel.solve(m, names: ["Intercept", "x"])) { error in
            XCTAssertEqual(error as? StatisticsError, .tooFewRows(rows: 1, coefficients: 2))
        }
        XCTAssertThrowsError(try LinearModel.solve(MomentMatrix(dimension: 3), names: ["Intercept", "x"])) { error in
            XCTAssertEqual(error as? StatisticsError, .tooFewRows(rows: 0, coefficients: 2))
        }
    }

    private func gram(_ columns: [[Double]]) -> [Double] {
        let p = columns.count
        var g = [Double](repeating: 0, count: p * p)
        for i in 0..<p { for j in 0..<p { g[i * p + j] = zip(columns[i], columns[j]).map { $0 * $1 }.reduce(0, +) } }
        return g
    }

    func testCheckRankNamesTheCollinearColumns() {
        let one: [Double] = [1, 1, 1, 1, 1, 1]
        let a: [Double] = [1, 2, 0, 3, 1, 5]
        let b: [Double] = [0, 1, 1, 2, 4, 1]
        let c = zip(a, b).map { $0 + $1 }
        XCTAssertNoThrow(try LinearModel.checkRank(gram([one, a, b]), names: ["Intercept", "a", "b"]))
        XCTAssertThrowsError(try LinearModel.checkRank(gram([one, a, b, c]), names: ["Intercept", "a", "b", "c"])) {
            error in
            XCTAssertEqual(error as? StatisticsError, .singularDesign(columns: ["a", "b", "c"]))
        }
        // Same dependency with the intercept in it: c = 2·1 − a.
        let d = a.map { 2 - $0 }
        XCTAssertThrowsError(try LinearModel.checkRank(gram([one, a, b, d]), names: ["Intercept", "a", "b", "d"])) {
            error in
            XCTAssertEqual(error as? StatisticsError, .singularDesign(columns: ["Intercept", "a", "d"]))
        }
    }

    func testCheckRankNamesAZeroColumnAlone() {
        let one: [Double] = [1, 1, 1, 1]
        let a: [Double] = [1, 2, 0, 3]
        let zero: [Double] = [0, 0, 0, 0]
        XCTAssertThrowsError(try LinearModel.checkRank(gram([one, zero, a]), names: ["Intercept", "z", "a"])) { error in
            XCTAssertEqual(error as? StatisticsError, .singularDesign(columns: ["z"]))
        }
    }

    func testSolveReportsASingularDesignByName() {
        // Columns 1, a, 2a: the moments of [1, a, 2a, y].
        let a: [Double] = [1, 2, 0, 3, 1]
        let rows: [Double] = a.enumerated().flatMap { (i, v) -> [Double] in [1, v, 2 * v, Double(i)] }
        let m = MomentMatrix(rows: rows, count: 5, dimension: 4)
        XCTAssertThrowsError(try LinearModel.solve(m, names: ["Intercept", "a", "twice_a"])) { error in
            XCTAssertEqual(error as? StatisticsError, .singularDesign(columns: ["a", "twice_a"]))
        }
    }
}
