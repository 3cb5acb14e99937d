import Foundation
import Jobs
import XCTest

/// Every model in Tests/Fixtures/reference/obd_models.json (statsmodels 0.15 on the OBD random sample) is fitted
/// through the whole driver (summaries, moments, residual and Newton rounds over 16 shards) and compared to 1e-6.
final class StatsmodelsParityTests: XCTestCase {
    func testEveryReferenceModelMatchesStatsmodels() throws {
        let reference = try Fixtures.json("reference/obd_models.json")
        let models = reference["models"] as! [[String: Any]]
        XCTAssertGreaterThanOrEqual(models.count, 8)
        for model in models {
            let id = model["id"] as! String
            for cv in model["cv"] as! [[String: Any]] {
                let foldBy = cv["fold_by"] as! String
                let job = try Fixtures.writeJob(
                    data: Fixtures.path("obd/random_10k.csv"), kind: model["kind"] as! String,
                    formula: model["formula"] as! String, folds: cv["folds"] as! Int, foldBy: foldBy)
                let outcome = try Fixtures.run(jobPath: job)
                let m = outcome.model
                let names = model["names"] as! [String]
                XCTAssertEqual(m.coefficients.map(\.name), names, id)
                XCTAssertEqual(m.n, model["n"] as! Int, id)
                let columns: [(String, KeyPath<FitReportCoefficient, Double>)] = [
                    ("coef", \.estimate), ("se", \.std_error), ("se_hc1", \.robust_std_error),
                    ("statistic", \.statistic),
                    ("ci_low", \.ci_low), ("ci_high", \.ci_high)
                ]
                for (key, path) in columns {
                    let expected = model[key] as! [Double]
                    for (j, c) in m.coefficients.enumerated() {
                        assertClose(c[keyPath: path], expected[j], "\(id) \(key) \(c.name)")
                    }
                }
                let p = model["p_value"] as! [Double]
                for (j, c) in m.coefficients.enumerated() {
                    assertClose(c.p_value, p[j], rtol: 1e-6, atol: 1e-14, "\(id) p \(c.name)")
                }
                assertClose(m.log_likelihood, model["loglik"] as! Double, "\(id) loglik")
                if m.kind == "ols" {
                    assertClose(m.rss!, model["rss"] as! Double, "\(id) rss")
                    assertClose(m.sigma2!, model["sigma2"] as! Double, "\(id) sigma2")
                    assertClose(m.sigma2_mle!, model["sigma2_mle"] as! Double, "\(id) sigma2_mle")
                } else {
                    XCTAssertTrue(m.converged, id)
                }
                let reported = try XCTUnwrap(outcome.cv)
                XCTAssertEqual(reported.fold_rows, cv["fold_sizes"] as! [Int], "\(id) \(foldBy) fold sizes")
                let foldMSE = cv["fold_mse"] as! [Double]
                let converged = (cv["fold_converged"] as? [Bool]) ?? Array(repeating: true, count: foldMSE.count)
                for k in foldMSE.indices where converged[k] {
                    assertClose(reported.fold_mse[k]!, foldMSE[k], "\(id) \(foldBy) fold \(k) mse")
                }
                if !converged.contains(false) {
                    assertClose(reported.mse, cv["mse"] as! Double, "\(id) \(foldBy) cv mse")
                }
                if let fc = reported.fold_converged {
                    XCTAssertEqual(fc, converged, "\(id) \(foldBy) fold convergence")
                }
            }
        }
    }

    func testSharedReferenceDesignBAgreesWithTheCommittedCopy() throws {
        // The values in ../shared/reference/stats for design B, copied here: OLS coefficient of C(position)[T.2].
        let reference = try Fixtures.json("reference/obd_models.json")
        let olsB = (reference["models"] as! [[String: Any]]).first { $0["id"] as? String == "ols_B" }!
        assertClose(
            (olsB["coef"] as! [Double])[1], 0.00017279744582649788, rtol: 1e-12, "ols_B pos2 vs shared reference")
    }
}

typealias FitReportCoefficient = FitReport.Coefficient

/// The shared reference (../shared/reference/stats/obd_random_ols_logit.json, statsmodels 0.15 cross-checked with R),
/// copied to Tests/Fixtures/reference/shared_obd_random_ols_logit.json, against the full OBD random log.
/// Its designs are written as formulas: design A uses C(user_feature_0); design B pools its first two levels.
final class SharedReferenceTests: XCTestCase {
    static let items =
        "I(item_id == 6) + I(item_id == 18) + I(item_id == 36) + I(item_id == 44) + I(item_id == 49) + I(item_id == 53) + I(item_id == 57) + I(item_id == 58)"
    static let designs = [
        "A": "click ~ C(position) + C(user_feature_0) + \(items)",
        "B": "click ~ C(position) + I(user_feature_0 == \"cef3390ed299c09874189c387777674a\") + \(items)"
    ]

    func check(kind: String, design: String, reference: [String: Any]) throws {
        let job = try Fixtures.writeJob(
            data: Fixtures.path("obd/random_10k.csv"), kind: kind, formula: Self.designs[design]!, folds: 5,
            foldBy: "row", shards: 64)
        let outcome = try Fixtures.run(jobPath: job, workers: 3)
        let c = outcome.model.coefficients
        for (key, path) in [
            ("coef", \FitReportCoefficient.estimate), ("se_classical", \.std_error), ("se_HC1", \.robust_std_error)
        ] {
            let expected = reference[key] as! [Double]
            XCTAssertEqual(expected.count, c.count)
            for j in c.indices {
                assertClose(c[j][keyPath: path], expected[j], "\(kind) \(design) \(key) \(c[j].name)")
            }
        }
        if kind == "ols" {
            assertClose(
                outcome.model.log_likelihood, reference["loglik_gaussian_at_sigma2_mle"] as! Double, "\(design) loglik")
            assertClose(outcome.model.rss!, reference["rss"] as! Double, "\(design) rss")
            assertClose(outcome.model.sigma2!, reference["sigma2_unbiased"] as! Double, "\(design) sigma2")
            let cv = reference["cv5"] as! [String: Any]
            assertClose(outcome.cv!.mse, cv["cv_mse_pooled"] as! Double, "\(design) cv mse")
            for (k, m) in (cv["fold_mse"] as! [Double]).enumerated() {
                assertClose(outcome.cv!.fold_mse[k]!, m, "\(design) fold \(k)")
            }
        } else {
            assertClose(outcome.model.log_likelihood, reference["loglik"] as! Double, "\(design) loglik")
            XCTAssertTrue(outcome.model.converged)
        }
    }

    func testOLSDesignsAAndBAndLogitDesignB() throws {
        let shared = try Fixtures.json("reference/shared_obd_random_ols_logit.json")
        let ols = shared["ols"] as! [String: Any]
        let logit = shared["logit"] as! [String: Any]
        try check(kind: "ols", design: "A", reference: ols["A"] as! [String: Any])
        try check(kind: "ols", design: "B", reference: ols["B"] as! [String: Any])
        try check(kind: "logit", design: "B", reference: logit["B"] as! [String: Any])
    }
}
