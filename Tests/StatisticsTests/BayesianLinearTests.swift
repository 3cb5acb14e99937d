import Foundation
import XCTest

@testable import Statistics

/// The conjugate NIG linear model and the incomplete gamma functions it uses.
///
/// References: Tests/Fixtures/reference/bayes/{nig,gamma}.json, made by Tests/Fixtures/scripts/make_bayes_reference.py
/// (numpy 2.4.6, scipy 1.17.1, mpmath 1.4.1): posteriors computed from the rows of X with the textbook b_n and scipy's
/// t and invgamma distributions; gamma values from mpmath at 50 digits.
final class BayesianLinearTests: XCTestCase {
    private static let fixtures = Fixtures.root.appendingPathComponent("reference/bayes")

    private func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(name))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private func doubles(_ value: Any?) -> [Double] { (value as? [Any] ?? []).map { ($0 as! NSNumber).doubleValue } }
    private func double(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

    /// The fixture's rows as design rows [1, x1, x2, y].
    private func fixtureRows() throws -> (rows: [[Double]], names: [String], cases: [[String: Any]]) {
        let reference = try json("nig.json")
        let rows = (reference["rows"] as! [Any]).map { [1] + doubles($0) }
        return (rows, reference["names"] as! [String], reference["cases"] as! [[String: Any]])
    }

    private func moments(_ rows: ArraySlice<[Double]>) -> MomentMatrix {
        MomentMatrix(rows: rows.flatMap { $0 }, count: rows.count, dimension: rows.first?.count ?? 4)
    }

    private func prior(_ object: Any?) -> NormalInverseGammaPrior {
        let p = object as! [String: Any]
        return NormalInverseGammaPrior(
            mean: doubles(p["mean"]), precision: doubles(p["precision"]),
            shape: double(p["shape"])!, scale: double(p["scale"])!)
    }

    private func assertAllRelative(
        _ actual: [Double], _ expected: [Double], _ tolerance: Double, _ label: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(actual.count, expected.count, "\(label): sizes", file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            assertRelative(a, e, tolerance, "\(label)[\(i)]", file: file, line: line)
        }
    }

    // MARK: - Posterior against the scipy reference

    func testPosteriorsMatchScipyReference() throws {
        let (rows, names, cases) = try fixtureRows()
        let m = moments(rows[...])
        XCTAssertEqual(cases.map { $0["name"] as! String }, ["informative", "strong_isotropic_90", "flat"])
        for c in cases {
            let label = c["name"] as! String
            let expected = c["posterior"] as! [String: Any]
            let fit = try BayesianLinearModel.fit(
                m, names: names, prior: prior(c["prior"]),
                credibleLevel: double(c["level"])!)
            assertAllRelative(fit.posteriorMean, doubles(expected["posterior_mean"]), 1e-9, "\(label) mₙ")
            assertAllRelative(fit.posteriorPrecision, doubles(expected["posterior_precision"]), 1e-9, "\(label) Λₙ")
            assertAllRelative(
                fit.posteriorPrecisionInverse, doubles(expected["posterior_precision_inverse"]), 1e-9,
                "\(label) Λₙ⁻¹")
            assertRelative(fit.posteriorShape, double(expected["shape"])!, 1e-12, "\(label) aₙ")
            assertRelative(fit.posteriorScale, double(expected["scale"])!, 1e-9, "\(label) bₙ")
            assertRelative(fit.degreesOfFreedom, double(expected["df"])!, 1e-12, "\(label) ν")
            XCTAssertEqual(fit.count, 40)
            XCTAssertEqual(fit.names, names)
            let coefficients = expected["coefficients"] as! [[String: Any]]
            XCTAssertEqual(fit.coefficients.map(\.name), names)
            for (j, e) in coefficients.enumerated() {
                let got = fit.coefficients[j]
                assertRelative(got.mean, double(e["mean"])!, 1e-9, "\(label) \(got.name) mean")
                assertRelative(try XCTUnwrap(got.sd), double(e["sd"])!, 1e-9, "\(label) \(got.name) sd")
                assertRelative(got.scale, double(e["scale"])!, 1e-9, "\(label) \(got.name) scale")
                assertRelative(got.lower, double(e["lower"])!, 1e-9, "\(label) \(got.name) lower")
                assertRelative(got.upper, double(e["upper"])!, 1e-9, "\(label) \(got.name) upper")
            }
            let v = expected["variance"] as! [String: Any]
            assertRelative(try XCTUnwrap(fit.variance.mean), double(v["mean"])!, 1e-9, "\(label) E σ²")
            assertRelative(try XCTUnwrap(fit.variance.sd), double(v["sd"])!, 1e-9, "\(label) sd σ²")
            assertRelative(fit.variance.mode, double(v["mode"])!, 1e-9, "\(label) mode σ²")
            assertRelative(fit.variance.lower, double(v["lower"])!, 1e-9, "\(label) σ² lower")
            assertRelative(fit.variance.upper, double(v["upper"])!, 1e-9, "\(label) σ² upper")
            if let logML = double(expected["log_marginal_likelihood"]) {
                assertRelative(try XCTUnwrap(fit.logMarginalLikelihood), logML, 1e-9, "\(label) log p(y)")
            } else {
                XCTAssertNil(fit.logMarginalLikelihood, "\(label): an improper prior has no marginal likelihood")
            }
            // Posterior covariance of β is bₙ/(aₙ − 1)·Λₙ⁻¹; its diagonal is the squared sd.
            let cov = try XCTUnwrap(fit.covariance)
            for j in 0..<3 {
                assertRelative(cov[j * 3 + j].squareRoot(), fit.coefficients[j].sd!, 1e-12, "\(label) cov")
            }
        }
    }

    // MARK: - Flat prior = classical OLS (BDA3 §14.2)

    /// With p(β, log σ) ∝ 1: β | y ~ t_{n−p}(β̂, s²(XᵀX)⁻¹), σ² | y ~ Inv-χ²(n − p, s²) = Inv-Gamma((n−p)/2, SSR/2).
    /// So the t scale is the OLS SE s√((XᵀX)⁻¹ⱼⱼ), the sd is SE·√(ν/(ν−2)) with ν = n − p (variance of t_ν is ν/(ν−2)),
    /// the interval is β̂ ± t_{n−p,0.975}·SE, and E σ² = (SSR/2)/((n−p)/2 − 1) = SSR/(n − p − 2).
    func testFlatPriorReproducesOLS() throws {
        let (rows, names, cases) = try fixtureRows()
        let m = moments(rows[...])
        let fit = try BayesianLinearModel.fit(m, names: names, prior: .flat(coefficients: 3))
        let ols = try LinearModel.solve(m, names: names)
        let ssr = LinearModel.sumOfSquaredResiduals(m, estimates: ols.estimates)
        let n = 40.0
        let p = 3.0
        let df = n - p
        let s2 = ssr / df
        let t = Distributions.studentTwoSidedQuantile(0.05, df: df)
        assertAllRelative(fit.posteriorMean, ols.estimates, 1e-12, "flat mₙ = β̂")
        XCTAssertEqual(fit.degreesOfFreedom, df)
        for j in 0..<3 {
            let se = (s2 * ols.xtxInverse[j * 3 + j]).squareRoot()
            let c = fit.coefficients[j]
            assertRelative(c.scale, se, 1e-12, "flat scale = OLS SE, \(names[j])")
            assertRelative(try XCTUnwrap(c.sd), se * (df / (df - 2)).squareRoot(), 1e-12, "flat sd, \(names[j])")
            assertRelative(c.lower, ols.estimates[j] - t * se, 1e-12, "flat lower, \(names[j])")
            assertRelative(c.upper, ols.estimates[j] + t * se, 1e-12, "flat upper, \(names[j])")
        }
        assertRelative(try XCTUnwrap(fit.variance.mean), ssr / (df - 2), 1e-12, "E σ² = SSR/(n − p − 2)")
        assertRelative(fit.posteriorScale, ssr / 2, 1e-12, "bₙ = SSR/2")
        assertRelative(fit.posteriorShape, df / 2, 1e-15, "aₙ = (n − p)/2")
        // σ² interval: SSR / χ²_{n−p} quantiles (scaled inverse-χ²).
        assertRelative(
            fit.variance.lower, ssr / ChiSquared.upperQuantile(0.025, degreesOfFreedom: df), 1e-12,
            "σ² lower")
        assertRelative(
            fit.variance.upper, ssr / ChiSquared.quantile(0.025, degreesOfFreedom: df), 1e-12,
            "σ² upper")
        XCTAssertNil(fit.logMarginalLikelihood)
        // And against numpy's lstsq (stored with the flat case).
        let reference = try XCTUnwrap(cases.first { $0["name"] as? String == "flat" }?["ols"] as? [String: Any])
        assertAllRelative(fit.posteriorMean, doubles(reference["estimates"]), 1e-9, "β̂ vs numpy")
        assertAllRelative(fit.coefficients.map(\.scale), doubles(reference["se"]), 1e-9, "SE vs numpy")
    }

    /// The default prior is weak: with 40 rows it moves nothing by more than ~1e-6 relative, and it is proper.
    func testWeakPriorIsCloseToFlatAndProper() throws {
        let (rows, names, _) = try fixtureRows()
        let m = moments(rows[...])
        let weak = NormalInverseGammaPrior.weak(coefficients: 3)
        XCTAssertEqual(weak.mean, [0, 0, 0])
        XCTAssertEqual(weak.precision, [1e-6, 0, 0, 0, 1e-6, 0, 0, 0, 1e-6])
        XCTAssertEqual(weak.shape, 1e-3)
        XCTAssertEqual(weak.scale, 1e-3)
        let a = try BayesianLinearModel.fit(m, names: names, prior: weak)
        let b = try BayesianLinearModel.fit(m, names: names, prior: .flat(coefficients: 3))
        assertAllRelative(a.posteriorMean, b.posteriorMean, 1e-5, "weak ≈ flat mean")
        XCTAssertNotEqual(a.posteriorMean, b.posteriorMean)
        XCTAssertEqual(a.posteriorShape, 20.001, accuracy: 1e-12)
        XCTAssertNotNil(a.logMarginalLikelihood)
    }

    // MARK: - Sharding

    func testMergedShardsGiveTheSamePosterior() throws {
        let (rows, names, cases) = try fixtureRows()
        let whole = moments(rows[...])
        let priors = cases.map { prior($0["prior"]) } + [.weak(coefficients: 3)]
        for (k, prior) in priors.enumerated() {
            let reference = try BayesianLinearModel.fit(whole, names: names, prior: prior)
            for cuts in contiguousSplits(rows.count, parts: 2) + [[3, 17], [0, 40], [10, 10], [1, 39]] {
                var merged = MomentMatrix(dimension: 4)
                for r in ranges(rows.count, cuts: cuts) { merged.merge(moments(rows[r])) }
                let fit = try BayesianLinearModel.fit(merged, names: names, prior: prior)
                let label = "prior \(k), cuts \(cuts)"
                assertAllRelative(fit.posteriorMean, reference.posteriorMean, 1e-12, "\(label) mₙ")
                assertAllRelative(
                    fit.posteriorPrecisionInverse, reference.posteriorPrecisionInverse, 1e-12,
                    "\(label) Vₙ")
                assertRelative(fit.posteriorScale, reference.posteriorScale, 1e-12, "\(label) bₙ")
                assertAllRelative(
                    fit.coefficients.map(\.upper), reference.coefficients.map(\.upper), 1e-12,
                    "\(label) upper")
                assertRelative(fit.variance.upper, reference.variance.upper, 1e-12, "\(label) σ² upper")
            }
        }
    }

    // MARK: - Edge cases and errors

    func testErrors() throws {
        let (rows, names, _) = try fixtureRows()
        // Flat prior: n ≤ p leaves no degrees of freedom.
        for n in 0...3 {
            let m = moments(rows[0..<n])
            XCTAssertThrowsError(try BayesianLinearModel.fit(m, names: names, prior: .flat(coefficients: 3))) {
                XCTAssertEqual($0 as? StatisticsError, .tooFewRows(rows: n, coefficients: 3))
            }
        }
        // Flat prior and collinear columns: x3 = x1 + x2 is named with the others.
        let collinear = rows.map { [$0[0], $0[1], $0[2], $0[1] + 2 * $0[2], $0[3]] }
        let names4 = names + ["x3"]
        let m = moments(collinear[...])
        XCTAssertThrowsError(try BayesianLinearModel.fit(m, names: names4, prior: .flat(coefficients: 4))) {
            XCTAssertEqual($0 as? StatisticsError, .singularDesign(columns: ["x1", "x2", "x3"]))
        }
        // A proper prior identifies the collinear direction: the fit exists, every sd finite and positive.
        let ridge = NormalInverseGammaPrior.isotropic(mean: [0, 0, 0, 0], precisionScale: 1)
        let proper = try BayesianLinearModel.fit(m, names: names4, prior: ridge)
        XCTAssertTrue(proper.coefficients.allSatisfy { $0.sd!.isFinite && $0.sd! > 0 })
        // With no rows a proper prior's posterior is the prior.
        let prior = NormalInverseGammaPrior.isotropic(mean: [1, 2, 3], precisionScale: 4, shape: 3, scale: 2)
        let empty = try BayesianLinearModel.fit(MomentMatrix(dimension: 4), names: names, prior: prior)
        XCTAssertEqual(empty.posteriorMean, [1, 2, 3])
        XCTAssertEqual(empty.posteriorShape, 3)
        XCTAssertEqual(empty.posteriorScale, 2)
        XCTAssertEqual(empty.logMarginalLikelihood, 0, "p(∅) = 1")
        // y ~ 0: no columns.
        let none = MomentMatrix(dimension: 1)
        XCTAssertThrowsError(try BayesianLinearModel.fit(none, names: [], prior: .flat(coefficients: 0))) {
            XCTAssertEqual($0 as? StatisticsError, .emptyDesign)
        }
    }

    /// n = p + 2 with the flat prior: ν = 2 and aₙ = 1, so the t sd and σ²'s mean and sd do not exist (nil), and the
    /// value still round-trips through JSON.
    func testMissingMomentsAreNilAndTheResultsEncode() throws {
        let (rows, names, _) = try fixtureRows()
        let fit = try BayesianLinearModel.fit(moments(rows[0..<5]), names: names, prior: .flat(coefficients: 3))
        XCTAssertEqual(fit.degreesOfFreedom, 2)
        XCTAssertTrue(fit.coefficients.allSatisfy { $0.sd == nil })
        XCTAssertNil(fit.variance.mean)
        XCTAssertNil(fit.variance.sd)
        XCTAssertNil(fit.covariance)
        XCTAssertTrue(fit.variance.lower < fit.variance.mode && fit.variance.mode < fit.variance.upper)
        let decoded = try JSONDecoder().decode(BayesianLinearResults.self, from: JSONEncoder().encode(fit))
        XCTAssertEqual(decoded, fit)
    }

    // MARK: - Gamma and chi-square

    func testIncompleteGammaAgainstMpmath() throws {
        let reference = try json("gamma.json")
        let values = reference["incomplete_gamma"] as! [[String: Any]]
        XCTAssertGreaterThan(values.count, 20)
        for v in values {
            let a = double(v["a"])!
            let x = double(v["x"])!
            assertRelative(Gamma.regularizedLower(a: a, x: x), double(v["P"])!, 1e-13, "P(\(a), \(x))")
            assertRelative(Gamma.regularizedUpper(a: a, x: x), double(v["Q"])!, 1e-13, "Q(\(a), \(x))")
        }
        XCTAssertEqual(Gamma.regularizedLower(a: 2, x: 0), 0)
        XCTAssertEqual(Gamma.regularizedUpper(a: 2, x: .infinity), 0)
        XCTAssertTrue(Gamma.regularizedLower(a: .nan, x: 1).isNaN)
        // P(1, x) = 1 − e⁻ˣ exactly, by hand.
        assertRelative(Gamma.regularizedLower(a: 1, x: 0.3), -expm1(-0.3), 1e-15, "P(1, 0.3)")
    }

    /// Inverses against mpmath bisection. The tolerance allows for the conditioning |d log x / d log P| = P/(x g(x)),
    /// which is 1/a for tiny x (P ≈ xᵃ/Γ(a+1)): an input rounding of 1e-16 becomes 1e-14 at a = 0.01.
    func testInverseIncompleteGammaAgainstMpmath() throws {
        let reference = try json("gamma.json")
        let inverses = reference["inverses"] as! [[String: Any]]
        XCTAssertGreaterThan(inverses.count, 30)
        for v in inverses {
            let a = double(v["a"])!
            let prob = double(v["prob"])!
            let tolerance = 1e-14 * max(1, 1 / a) * 4
            assertRelative(
                Gamma.inverseRegularizedLower(a: a, p: prob), double(v["inverse_lower"])!, tolerance,
                "P⁻¹(\(a), \(prob))")
            assertRelative(
                Gamma.inverseRegularizedUpper(a: a, q: prob), double(v["inverse_upper"])!, tolerance,
                "Q⁻¹(\(a), \(prob))")
        }
        XCTAssertEqual(Gamma.inverseRegularizedLower(a: 3, p: 0), 0)
        XCTAssertEqual(Gamma.inverseRegularizedLower(a: 3, p: 1), .infinity)
        XCTAssertEqual(Gamma.inverseRegularizedUpper(a: 3, q: 1), 0)
        // Exponential by hand: P(1, x) = p ⇔ x = −log(1 − p).
        assertRelative(Gamma.inverseRegularizedLower(a: 1, p: 0.3), -log1p(-0.3), 1e-15, "P⁻¹(1, 0.3)")
    }

    func testChiSquaredAgainstMpmath() throws {
        let reference = try json("gamma.json")
        let rows = reference["chi_squared"] as! [[String: Any]]
        for v in rows {
            let k = double(v["df"])!
            let p = double(v["p"])!
            let q = double(v["quantile"])!
            assertRelative(ChiSquared.quantile(p, degreesOfFreedom: k), q, 1e-13, "χ²_\(k) quantile \(p)")
            assertRelative(ChiSquared.upperQuantile(1 - p, degreesOfFreedom: k), q, 1e-12, "χ²_\(k) upper quantile")
            assertRelative(ChiSquared.cdf(q, degreesOfFreedom: k), p, 1e-13, "χ²_\(k) cdf")
            assertRelative(ChiSquared.cdf(3, degreesOfFreedom: k), double(v["cdf_at_3"])!, 1e-13, "χ²_\(k) cdf(3)")
            assertRelative(ChiSquared.sf(3, degreesOfFreedom: k), double(v["sf_at_3"])!, 1e-13, "χ²_\(k) sf(3)")
        }
        // Textbook 5% critical values (e.g. 3.841 for 1 df, 18.307 for 10 df) to their printed digits.
        XCTAssertEqual(ChiSquared.quantile(0.95, degreesOfFreedom: 1), 3.841, accuracy: 5e-4)
        XCTAssertEqual(ChiSquared.quantile(0.95, degreesOfFreedom: 10), 18.307, accuracy: 5e-4)
        // χ²₂ is exponential with mean 2: sf(x) = e^(−x/2).
        assertRelative(ChiSquared.sf(50, degreesOfFreedom: 2), exp(-25), 1e-14, "χ²₂ sf(50)")
    }
}
