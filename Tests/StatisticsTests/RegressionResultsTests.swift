import Foundation
import XCTest

@testable import Statistics

/// The results types against statsmodels 0.15 on two small data sets (Tests/Fixtures/reference/results/
/// small_models.json, made by Tests/Fixtures/scripts/make_results_reference.py): OLS and Logit with classical, HC0 and
/// HC1 covariances, statistics, p-values, 95% intervals and log-likelihoods.
final class RegressionResultsTests: XCTestCase {
    let reference: [String: Any] = {
        let url = Fixtures.root.appendingPathComponent("reference/results/small_models.json")
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }()

    func doubles(_ d: [String: Any], _ key: String) -> [Double] { (d[key] as! [NSNumber]).map(\.doubleValue) }

    /// Compares a table under one covariance with statsmodels' block for it.
    func check(_ rows: [CoefficientRow], _ block: [String: Any], _ label: String, tolerance: Double = 1e-9) {
        let columns: [(String, (CoefficientRow) -> Double)] = [
            ("bse", \.standardError), ("statistic", \.statistic), ("pvalues", \.pValue),
            ("ci_low", \.ciLow), ("ci_high", \.ciHigh)
        ]
        for (key, value) in columns {
            assertClose(rows.map(value), doubles(block, key), relative: tolerance, scale: 1, "\(label) \(key)")
        }
    }

    func testLinearModelResultsMatchStatsmodels() throws {
        let ols = reference["ols"] as! [String: Any]
        let x = doubles(ols, "x")
        let y = doubles(ols, "y")
        let n = x.count
        let m = MomentMatrix(rows: (0..<n).flatMap { [1, x[$0], y[$0]] }, count: n, dimension: 3)
        let solution = try LinearModel.solve(m, names: ["Intercept", "x"])
        let beta = solution.estimates
        // The HC0 meat from the rows, written out: Σ eᵢ² xᵢ xᵢᵀ.
        var meat = [Double](repeating: 0, count: 4)
        var rss = 0.0
        for i in 0..<n {
            let xi = [1, x[i]]
            let e = y[i] - beta[0] - beta[1] * x[i]
            rss += e * e
            for a in 0..<2 { for b in 0..<2 { meat[a * 2 + b] += e * e * xi[a] * xi[b] } }
        }
        let results = LinearModelResults(
            names: ["Intercept", "x"], estimates: beta, count: Double(n), residualSumOfSquares: rss,
            xtxInverse: solution.xtxInverse,
            hc0: LinearAlgebra.sandwich(bread: solution.xtxInverse, meat: meat, n: 2))
        assertClose(results.estimates, doubles(ols, "params"), relative: 1e-12, scale: 1, "params")
        assertRelative(results.residualSumOfSquares, (ols["ssr"] as! NSNumber).doubleValue, 1e-12, "ssr")
        assertRelative(results.logLikelihood, (ols["llf"] as! NSNumber).doubleValue, 1e-12, "llf")
        assertRelative(results.sigma2, (ols["scale"] as! NSNumber).doubleValue, 1e-12, "scale")
        XCTAssertEqual(results.dfResid, 4)
        for type in CovarianceType.allCases {
            let block = ols[type == .classical ? "classical" : type.rawValue] as! [String: Any]
            check(results.table(type), block, "OLS \(type)")
            assertClose(results.covariance(type), doubles(block, "cov"), relative: 1e-10, scale: 1, "OLS \(type) cov")
        }
    }

    func testLogitResultsMatchStatsmodels() throws {
        let logit = reference["logit"] as! [String: Any]
        let x = doubles(logit, "x")
        let z = doubles(logit, "z")
        let y = doubles(logit, "y")
        let n = y.count
        let design: [Double] = (0..<n).flatMap { [1.0, x[$0], z[$0]] }
        let names = ["Intercept", "x", "z"]
        var beta = [0.0, 0, 0]
        var previous = -Double.infinity
        var iterations = 0
        var stat = LogitStatistic(x: design, y: y, beta: beta, train: { _ in true }, test: { _ in false })
        while iterations < 100 {
            iterations += 1
            beta = try LogisticModel.step(beta: beta, statistic: stat, names: names).beta
            stat = LogitStatistic(x: design, y: y, beta: beta, train: { _ in true }, test: { _ in false })
            if LogisticModel.converged(previous: previous, current: stat.logLikelihood) { break }
            previous = stat.logLikelihood
        }
        let inverse = try LinearAlgebra.solveSPD(stat.information, [0, 0, 0], n: 3).inverse
        let results = LogitResults(
            names: names, estimates: beta, count: Double(n), logLikelihood: stat.logLikelihood, covariance: inverse,
            hc0: LinearAlgebra.sandwich(bread: inverse, meat: stat.meat, n: 3), iterations: iterations, converged: true)
        assertClose(results.estimates, doubles(logit, "params"), relative: 1e-8, scale: 1, "params")
        assertRelative(results.logLikelihood, (logit["llf"] as! NSNumber).doubleValue, 1e-12, "llf")
        check(results.table(.classical), logit["classical"] as! [String: Any], "logit classical", tolerance: 1e-7)
        check(results.table(.hc0), logit["hc0"] as! [String: Any], "logit HC0", tolerance: 1e-7)
        assertClose(results.standardErrors(.hc1), doubles(logit, "hc1_bse"), relative: 1e-7, scale: 1, "logit HC1 se")
        assertClose(results.covariance(.hc1), doubles(logit, "hc1_cov"), relative: 1e-7, scale: 1, "logit HC1 cov")
    }
}
