import Foundation
import XCTest

@testable import Statistics

final class LogisticModelTests: XCTestCase {
    // A tiny data set: intercept and two regressors, mixed outcomes.
    private let x: [Double] = [
        1, 0.5, -1, 1, -0.3, 2, 1, 1.2, 0, 1, -1.5, 0.7, 1, 0.1, -0.4, 1, 2.0, 1.1, 1, -0.8, -0.2
    ]
    private let y: [Double] = [1, 0, 1, 0, 1, 1, 0]
    private let beta: [Double] = [0.3, -0.7, 0.4]

    private func statistic(_ beta: [Double], rows: Range<Int>? = nil) -> LogitStatistic {
        let r = rows ?? 0..<y.count
        return LogitStatistic(x: x, y: y, beta: beta, train: { r.contains($0) }, test: { _ in false })
    }

    private func logLikelihood(_ beta: [Double]) -> Double { statistic(beta).logLikelihood }

    func testLogLikelihoodMatchesDefinition() {
        var expected = 0.0
        for i in 0..<y.count {
            let eta = (0..<3).map { x[i * 3 + $0] * beta[$0] }.reduce(0, +)
            let p = 1 / (1 + exp(-eta))
            expected += y[i] * log(p) + (1 - y[i]) * log(1 - p)
        }
        assertRelative(logLikelihood(beta), expected, 1e-13, "ℓ(β)")
        XCTAssertEqual(statistic(beta).count, 7)
    }

    func testGradientAndInformationMatchFiniteDifferences() {
        let s = statistic(beta)
        let p = 3
        // Central differences: g_j ≈ (ℓ(β + h e_j) − ℓ(β − h e_j)) / 2h, error O(h²) ≈ 1e-10.
        let h = 1e-5
        for j in 0..<p {
            var plus = beta
            var minus = beta
            plus[j] += h
            minus[j] -= h
            let fd = (logLikelihood(plus) - logLikelihood(minus)) / (2 * h)
            XCTAssertEqual(s.gradient[j], fd, accuracy: 1e-7, "gradient[\(j)]")
        }
        // H_jk = −∂²ℓ/∂β_j∂β_k by the four-point formula, error O(h²) ≈ 1e-6.
        let k2 = 1e-3
        for j in 0..<p {
            for k in 0..<p {
                func l(_ sj: Double, _ sk: Double) -> Double {
                    var b = beta
                    b[j] += sj * k2
                    b[k] += sk * k2
                    return logLikelihood(b)
                }
                let fd = -(l(1, 1) - l(1, -1) - l(-1, 1) + l(-1, -1)) / (4 * k2 * k2)
                XCTAssertEqual(s.information[j * p + k], fd, accuracy: 1e-5, "information[\(j),\(k)]")
            }
        }
    }

    func testMeatAndHeldOutError() {
        let train: Set = [0, 2, 3, 5]
        let test: Set = [1, 6]
        let s = LogitStatistic(x: x, y: y, beta: beta, train: { train.contains($0) }, test: { test.contains($0) })
        var meat = [Double](repeating: 0, count: 9)
        var sse = 0.0
        for i in 0..<y.count {
            let eta = (0..<3).map { x[i * 3 + $0] * beta[$0] }.reduce(0, +)
            let r = y[i] - 1 / (1 + exp(-eta))
            if train.contains(i) {
                for a in 0..<3 { for b in 0..<3 { meat[a * 3 + b] += r * r * x[i * 3 + a] * x[i * 3 + b] } }
            }
            if test.contains(i) { sse += r * r }
        }
        assertClose(s.meat, meat, relative: 1e-14, scale: 1, "meat")
        XCTAssertEqual(s.count, 4)
        XCTAssertEqual(s.testCount, 2)
        XCTAssertEqual(s.testSquaredError, sse, accuracy: 1e-15)
    }

    func testMergeOfTwoPartsEqualsWhole() {
        let whole = statistic(beta)
        for cut in 0...y.count {
            var merged = statistic(beta, rows: 0..<cut)
            merged.merge(statistic(beta, rows: cut..<y.count))
            let label = "cut \(cut)"
            XCTAssertEqual(merged.count, whole.count, label)
            XCTAssertEqual(merged.logLikelihood, whole.logLikelihood, accuracy: 1e-12, label)
            assertClose(merged.gradient, whole.gradient, relative: 1e-12, scale: 1, "gradient \(label)")
            assertClose(merged.information, whole.information, relative: 1e-12, scale: 1, "information \(label)")
            assertClose(merged.meat, whole.meat, relative: 1e-12, scale: 1, "meat \(label)")
        }
        var empty = LogitStatistic(dimension: 3)
        empty.merge(whole)
        XCTAssertEqual(empty, whole)
    }

    /// 2×2 table: x = 0 has 3 ones in 10 rows, x = 1 has 6 ones in 10 rows. The MLE is saturated:
    /// intercept = logit(0.3) = log(3/7), slope = log odds ratio = log((6/4)/(3/7)) = log 3.5.
    /// At the MLE, H = [[n₀p₀q₀ + n₁p₁q₁, n₁p₁q₁], [n₁p₁q₁, n₁p₁q₁]] with n₀p₀q₀ = 2.1, n₁p₁q₁ = 2.4, so
    /// H⁻¹ = [[1/2.1, −1/2.1], [−1/2.1, 1/2.1 + 1/2.4]].
    func testNewtonStepsConvergeToTheClosedFormMLE() throws {
        var rows: [Double] = []
        var outcomes: [Double] = []
        for (xv, ones, zeros) in [(0.0, 3, 7), (1.0, 6, 4)] {
            for k in 0..<(ones + zeros) {
                rows += [1, xv]
                outcomes.append(k < ones ? 1 : 0)
            }
        }
        var b: [Double] = [0, 0]
        var previous: Double? = nil
        var covariance: [Double] = []
        var steps = 0
        while steps < 10 {
            let s = LogitStatistic(x: rows, y: outcomes, beta: b, train: { _ in true }, test: { _ in false })
            if let previous, LogisticModel.converged(previous: previous, current: s.logLikelihood) { break }
            previous = s.logLikelihood
            (b, covariance) = try LogisticModel.step(beta: b, statistic: s, names: ["Intercept", "x"])
            steps += 1
        }
        XCTAssertLessThan(steps, 10, "Newton should converge in a few steps")
        XCTAssertEqual(b[0], log(3.0 / 7.0), accuracy: 1e-10)
        XCTAssertEqual(b[1], log(3.5), accuracy: 1e-10)
        assertClose(
            covariance, [1 / 2.1, -1 / 2.1, -1 / 2.1, 1 / 2.1 + 1 / 2.4], relative: 1e-8, scale: 1, "H⁻¹ at the MLE")
    }

    func testStepOnSingularInformationNamesTheColumns() {
        // The second column copies the first: H is singular.
        let rows: [Double] = [1, 1, 1, 1, 1, 1, 1, 1]
        let s = LogitStatistic(x: rows, y: [1, 0, 1, 0], beta: [0, 0], train: { _ in true }, test: { _ in false })
        XCTAssertThrowsError(try LogisticModel.step(beta: [0, 0], statistic: s, names: ["Intercept", "copy"])) {
            error in
            XCTAssertEqual(error as? StatisticsError, .singularDesign(columns: ["Intercept", "copy"]))
        }
    }

    func testConverged() {
        XCTAssertTrue(LogisticModel.converged(previous: -100, current: -100 - 1e-9))
        XCTAssertFalse(LogisticModel.converged(previous: -100, current: -100 - 1e-7))
        XCTAssertFalse(LogisticModel.converged(previous: -.infinity, current: -5))
    }
}
