import Foundation
import Statistics
import XCTest

@testable import Jobs

/// Issue 5 through the job path: `kind = "sem"` and `kind = "bayes_linear"` jobs, statistics merged over shards.
final class SEMJobTests: XCTestCase {
    /// Writes a job file in a fresh folder; `model` is the body of [model] after `kind`.
    func writeJob(data: String, kind: String, model: String, extra: String = "", shards: Int = 8) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-sem-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let text =
            "[data]\npath = \"\(data)\"\n[model]\nkind = \"\(kind)\"\n\(model)\n[cluster]\nshards = \(shards)\n\(extra)"
        let path = dir.appendingPathComponent("job.toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Compares every parameter (est, se, z, p, CI) and every fit measure with lavaan's, relative tolerance `rtol`.
    func assertMatchesLavaan(
        _ sem: FitReport.SEMSection, _ reference: [String: Any], rtol: Double, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        let parameters = reference["parameters"] as! [[String: Any]]
        XCTAssertEqual(sem.parameters.count, parameters.count, file: file, line: line)
        for ref in parameters {
            let (lhs, op, rhs) = (ref["lhs"] as! String, ref["op"] as! String, ref["rhs"] as! String)
            let key = op == "~1" ? "\(lhs) ~1" : "\(lhs) \(op) \(rhs)"
            guard
                let p = sem.parameters.first(where: {
                    $0.lhs == lhs && $0.op == op && $0.rhs == (op == "~1" ? "" : rhs)
                })
            else {
                XCTFail("no parameter \(key)", file: file, line: line)
                continue
            }
            for (name, got) in [
                ("est", p.est), ("se", p.se ?? 0), ("ci.lower", p.ci_lower ?? p.est), ("ci.upper", p.ci_upper ?? p.est)
            ] {
                if let want = ref[name] as? Double {
                    assertClose(got, want, rtol: rtol, atol: 1e-10, "\(key) \(name)", file: file, line: line)
                }
            }
            if let z = ref["z"] as? Double {
                assertClose(p.z ?? .nan, z, rtol: rtol, atol: 1e-10, "\(key) z", file: file, line: line)
            }
            if let pv = ref["pvalue"] as? Double {
                assertClose(p.pvalue ?? .nan, pv, rtol: rtol, atol: 1e-12, "\(key) pvalue", file: file, line: line)
            }
        }
        let f = sem.fit!
        let measures = reference["fit_measures"] as! [String: Any]
        let ours: [String: Double?] = [
            "npar": Double(f.npar), "fmin": f.fmin, "chisq": f.chisq, "df": Double(f.df), "pvalue": f.pvalue,
            "baseline.chisq": f.baseline_chisq, "baseline.df": Double(f.baseline_df),
            "baseline.pvalue": f.baseline_pvalue,
            "cfi": f.cfi, "tli": f.tli, "rmsea": f.rmsea, "rmsea.ci.lower": f.rmsea_ci_lower,
            "rmsea.ci.upper": f.rmsea_ci_upper, "rmsea.pvalue": f.rmsea_pvalue, "srmr": f.srmr, "logl": f.logl,
            "unrestricted.logl": f.unrestricted_logl, "aic": f.aic, "bic": f.bic, "ntotal": Double(f.ntotal)
        ]
        for (name, value) in ours {
            guard let want = measures[name] as? Double else {
                XCTFail("lavaan has no \(name)", file: file, line: line)
                continue
            }
            assertClose(value ?? .nan, want, rtol: rtol, atol: 1e-9, "fit \(name)", file: file, line: line)
        }
    }

    /// Acceptance 1 and 2: the shared feedback model through `kind = "sem"` matches lavaan within 1e-4 relative
    /// (observed ≤ 1e-6), and the result is the same to the bit with 1 and 3 workers.
    func testFeedbackModelMatchesLavaanAndIsIdenticalForOneAndThreeWorkers() throws {
        let reference = try Fixtures.json("reference/sem/sem_feedback_n5000_lavaan.json")["lavaan"] as! [String: Any]
        let job = try writeJob(
            data: Fixtures.path("reference/sem/sem_feedback_n5000.csv"), kind: "sem",
            model: "syntax = \"\"\"\nY ~ X1 + X2 + Z3\nX1 ~ Y + Z1\nX2 ~ Y + Z2\n\"\"\"")
        let one = try Fixtures.run(jobPath: job, workers: 1)
        let three = try Fixtures.run(jobPath: job, workers: 3)
        XCTAssertEqual(one.sem, three.sem)
        XCTAssertEqual(one.model, three.model)
        assertMatchesLavaan(one.sem!, reference, rtol: 1e-6)
        XCTAssertEqual(one.sem!.stable, true)
        XCTAssertEqual(one.model.kind, "sem")
        // Total effect of Z1 on Y through X1: the (Y, Z1) entry of (I − B)⁻¹Γ = b_YX1 γ_X1Z1 / (1 − b_YX1 b_X1Y − b_YX2
        // b_X2Y).
        let est = { (l: String, r: String) in
            one.sem!.parameters.first { $0.lhs == l && $0.op == "~" && $0.rhs == r }!.est
        }
        let total =
            est("Y", "X1") * est("X1", "Z1") / (1 - est("Y", "X1") * est("X1", "Y") - est("Y", "X2") * est("X2", "Y"))
        assertClose(
            one.sem!.effects.first { $0.from == "Z1" && $0.to == "Y" }!.total, total, rtol: 1e-10,
            "total effect Z1 -> Y")
    }

    /// Acceptance 1, second fixture: a recursive model with a latent variable (made with lavaan 0.6.14, see
    /// Fixtures/README.md).
    func testLatentModelMatchesLavaan() throws {
        let fits = try Fixtures.json("reference/sem/sem_lavaan_fits.json")["fits"] as! [String: Any]
        let reference = fits["latent"] as! [String: Any]
        let job = try writeJob(
            data: Fixtures.path("reference/sem/sem_latent_n2000.csv"), kind: "sem",
            model: "syntax = '''\n\(reference["model"] as! String)\n'''", shards: 5)
        let outcome = try Fixtures.run(jobPath: job, workers: 2)
        assertMatchesLavaan(outcome.sem!, reference, rtol: 1e-6)
        XCTAssertEqual(outcome.sem!.latent, ["sat"])
    }

    /// Acceptance 3: the under-identified feedback model, an unknown variable, a syntax error and more free parameters
    /// than moments are input errors pointing into the job file.
    func testBadModelsAreInputErrorsAtTheirPlaceInTheJobFile() throws {
        let data = Fixtures.path("reference/sem/sem_feedback_n5000.csv")
        // Line 6 of the job file is the model's first line (the text starts after `syntax = """` on line 5); every
        // equation is under-identified, and the error points at the first one the message names (Y, line 1).
        var job = try writeJob(data: data, kind: "sem", model: "syntax = \"\"\"\nY ~ X1 + X2\nX1 ~ Y\nX2 ~ Y\n\"\"\"")
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: job), jobID: "t"), file: job, line: 6, column: 1,
            contains:
                "equation X1 (line 2, column 1) is not identified: it excludes no exogenous variable that appears elsewhere"
        )
        job = try writeJob(data: data, kind: "sem", model: "syntax = \"\"\"\nY ~ X1 + X2\n  X1 ~ Y + Z9\n\"\"\"")
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: job), jobID: "t"), file: job, line: 7, column: 12,
            contains: "unknown variable 'Z9'")
        job = try writeJob(data: data, kind: "sem", model: "syntax = \"Y ~ X1 +* X2\"")
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: job), jobID: "t"), file: job, line: 5, column: 19,
            contains: "expected a variable name, found '*'")
        // 3 observed variables give 9 moments (6 covariances + 3 means); this model has 12 free parameters.
        job = try writeJob(
            data: data, kind: "sem", model: "syntax = \"\"\"\nf =~ Y + X1 + X2\nY ~~ X1\nX1 ~~ X2\nY ~~ X2\n\"\"\"")
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: job), jobID: "t"), file: job, line: 6, column: 1,
            contains: "12 free parameters but the data give only 9 sample moments (t-rule")
        job = try writeJob(data: data, kind: "sem", model: "syntax = \"Y ~ X1\"", extra: "[cv]\nfolds = 5\n")
        assertInputError(try JobSpec.load(path: job), file: job, line: 8, column: 1, contains: "[cv] is not available")
    }

    /// SEM variables may be text features: a single regression with exogenous regressors is OLS under ML (fixed.x), so
    /// `click ~ affinity + user_pc1 + price` as a SEM gives the OLS job's slopes and intercept.
    func testSEMUsesTextFeaturesAndOneRegressionEqualsOLS() throws {
        let dir = try TextFeaturesTests.simulate(users: 80, items: 25, seed: 9)
        let text = TextFeaturesTests.profilesAndDescriptions(components: 2)
        let ols = try Fixtures.run(
            jobPath: try TextFeaturesTests.job(
                dir, name: "ols", formula: "click ~ affinity + user_pc1 + price", text: text, folds: 0))
        let semJob = try TextFeaturesTests.job(dir, name: "sem", kind: "sem", formula: "", text: text, folds: 0)
        let body = try String(contentsOfFile: semJob, encoding: .utf8)
            .replacingOccurrences(of: "formula = \"\"", with: "syntax = \"click ~ 1 + affinity + user_pc1 + price\"")
        try body.write(toFile: semJob, atomically: true, encoding: .utf8)
        let sem = try Fixtures.run(jobPath: semJob, workers: 3).sem!
        for c in ols.model.coefficients {
            let p =
                c.name == "Intercept"
                ? sem.parameters.first { $0.lhs == "click" && $0.op == "~1" }!
                : sem.parameters.first { $0.lhs == "click" && $0.op == "~" && $0.rhs == c.name }!
            assertClose(p.est, c.estimate, rtol: 1e-7, atol: 1e-10, c.name)
        }
    }

    /// Acceptance (Bayesian linear): with the flat prior the posterior means equal the OLS estimates of the same job,
    /// the credible intervals equal OLS's confidence intervals, and E σ² = RSS/(n − p − 2); CV scores the posterior
    /// mean.
    func testBayesLinearFlatPriorReproducesOLS() throws {
        let data = Fixtures.path("obd/random_10k.csv")
        let formula = "click ~ C(position) + I(item_id == 49)"
        let userKey = "user_key = [\"user_feature_0\", \"user_feature_1\", \"user_feature_2\", \"user_feature_3\"]\n"
        let ols = try Fixtures.run(
            jobPath: try Fixtures.writeJob(data: data, kind: "ols", formula: formula, folds: 5), workers: 2)
        var job = try writeJob(
            data: data, kind: "bayes_linear", model: "formula = \"\(formula)\"\nprior = \"flat\"",
            extra: "[cv]\nfolds = 5\n")
        var text = try String(contentsOfFile: job, encoding: .utf8)
        text = text.replacingOccurrences(of: "[model]", with: userKey + "[model]")
        try text.write(toFile: job, atomically: true, encoding: .utf8)
        let bayes = try Fixtures.run(jobPath: job, workers: 3)
        let b = bayes.bayes!
        XCTAssertEqual(b.coefficients.map(\.name), ols.model.coefficients.map(\.name))
        for (post, c) in zip(b.coefficients, ols.model.coefficients) {
            assertClose(post.mean, c.estimate, rtol: 1e-10, atol: 1e-14, "\(c.name) mean")
            assertClose(post.ci_low, c.ci_low, rtol: 1e-8, atol: 1e-12, "\(c.name) ci_low")
            assertClose(post.ci_high, c.ci_high, rtol: 1e-8, atol: 1e-12, "\(c.name) ci_high")
        }
        let n = Double(ols.model.n)
        let p = Double(ols.model.coefficients.count)
        assertClose(b.sigma2_mean!, ols.model.rss! / (n - p - 2), rtol: 1e-10, "E sigma2")
        assertClose(bayes.cv!.mse, ols.cv!.mse, rtol: 1e-10, "CV MSE of the posterior mean")
        XCTAssertNil(b.log_marginal_likelihood)
        // The weak default prior is proper: a log marginal likelihood, and means within 1e-6 of OLS on 10,000 rows.
        job = try writeJob(data: data, kind: "bayes_linear", model: "formula = \"\(formula)\"")
        text = try String(contentsOfFile: job, encoding: .utf8).replacingOccurrences(
            of: "[model]", with: userKey + "[model]")
        try text.write(toFile: job, atomically: true, encoding: .utf8)
        let weak = try Fixtures.run(jobPath: job).bayes!
        XCTAssertNotNil(weak.log_marginal_likelihood)
        for (post, c) in zip(weak.coefficients, ols.model.coefficients) {
            assertClose(post.mean, c.estimate, rtol: 1e-4, atol: 1e-6, c.name)
        }
        // A prior mean of the wrong length is an input error at model.prior_mean.
        job = try writeJob(data: data, kind: "bayes_linear", model: "formula = \"\(formula)\"\nprior_mean = [1, 2]")
        text = try String(contentsOfFile: job, encoding: .utf8).replacingOccurrences(
            of: "[model]", with: userKey + "[model]")
        try text.write(toFile: job, atomically: true, encoding: .utf8)
        assertInputError(
            try Fixtures.run(jobPath: job), file: job, line: 7, column: 14,
            contains: "has 2 values, but the design has 4 columns")
    }

    /// Issue 9: `:=` rows and `std_lv = true` through the job path agree with lavaan 0.6.14
    /// (reference/sem/sem_lavaan_syntax.json), are identical for 1 and 3 workers, and print; a bad `std_lv` is an
    /// input error at its place; a singular loop is an input error naming the loop.
    func testDefinedParametersAndStdLVThroughTheJob() throws {
        let fits = try Fixtures.json("reference/sem/sem_lavaan_syntax.json")["fits"] as! [String: Any]
        let data = Fixtures.path("reference/sem/sem_latent_n2000.csv")
        var printer: FitReport?
        for (name, stdLV) in [("mediation", false), ("std_lv_structural", true)] {
            let ref = fits[name] as! [String: Any]
            let syntax = (ref["model"] as! String)
            let job = try writeJob(
                data: data, kind: "sem", model: "syntax = \"\"\"\n\(syntax)\n\"\"\"\(stdLV ? "\nstd_lv = true" : "")")
            let one = try Fixtures.run(jobPath: job, workers: 1)
            let three = try Fixtures.run(jobPath: job, workers: 3)
            XCTAssertEqual(one.sem, three.sem)
            XCTAssertEqual(one.sem?.std_lv, stdLV)
            assertMatchesLavaan(one.sem!, ref, rtol: 1e-6)
            let report = FitReport(
                job: .init(try JobSpec.load(path: job)), cluster: .init(workers: 1, shards: 8), data: one.data,
                model: one.model, cv: nil, network: .init(bytes_sent: 0, bytes_received: 0), timings_s: [:])
            var withSEM = report
            withSEM.sem = one.sem
            let json = try withSEM.jsonData()
            XCTAssertEqual(try JSONDecoder().decode(FitReport.self, from: json), withSEM)
            printer = withSEM
            let table = withSEM.table()
            XCTAssertFalse(table.contains("-0.0000"), table)
            XCTAssertTrue(table.contains("  converged\n"), table)
            if name == "mediation" {
                let ind = try XCTUnwrap(one.sem?.parameters.first { $0.op == ":=" && $0.lhs == "ind" })
                XCTAssertEqual(ind.rhs, "a*b")
                XCTAssertEqual(ind.label, "ind")
                XCTAssertTrue(table.contains("ind := a*b"), table)
            }
        }
        // C09 (N·F = −2.2e-13 by rounding) prints χ² 0.0000 with p 1.0000; C37 C (no admissible solution) prints that
        // it did not converge.
        func matrix(_ file: String) throws -> [Double] {
            try String(contentsOfFile: Fixtures.path("reference/sem/cases/\(file)"), encoding: .utf8).split(
                separator: "\n"
            )
            .filter { !$0.hasPrefix("#") }.flatMap { $0.split(separator: " ").map { Double($0)! } }
        }
        let c09 = try SEM.fit(
            syntax: "y1 ~ y2 + x1\ny2 ~ y1 + x2\ny1 ~~ 0*y2",
            moments: MomentMatrix(
                dimension: 4, count: 500, mean: [0, 0, 0, 0],
                comoment: try matrix("C09_nonrecursive.txt").map { $0 * 500 }),
            names: ["y1", "y2", "x1", "x2"])
        let c09Table = try XCTUnwrap(printer).semTable(FitReport.SEMSection(c09, syntax: ""))
        XCTAssertTrue(c09Table.contains("chisq 0.0000  df 1  p 1.0000"), c09Table)
        XCTAssertFalse(c09Table.contains("-0.0000"), c09Table)
        let c37c = try SEM.fit(
            syntax: "f =~ a*x1 + a*x2 + x3 + x4",
            moments: MomentMatrix(
                dimension: 4, count: 250, mean: [0, 0, 0, 0],
                comoment: try matrix("C37_labels_constraints.txt").map { $0 * 249 }),
            names: ["x1", "x2", "x3", "x4"])
        let c37Table = try XCTUnwrap(printer).semTable(FitReport.SEMSection(c37c, syntax: ""))
        XCTAssertTrue(c37Table.contains("did NOT converge: not a solution"), c37Table)
        XCTAssertFalse(c37Table.contains("  converged"), c37Table)

        var job = try writeJob(data: data, kind: "sem", model: "syntax = \"sat =~ s1 + s2 + s3\"\nstd_lv = 1")
        assertInputError(
            try JobSpec.load(path: job), file: job, line: 6, column: 10,
            contains: "'model.std_lv' must be true or false")
        job = try writeJob(data: data, kind: "ols", model: "formula = \"click ~ price\"\nstd_lv = true")
        assertInputError(try JobSpec.load(path: job), file: job, line: 6, column: 10, contains: "unknown key 'std_lv'")
        job = try writeJob(
            data: data, kind: "sem",
            model: "syntax = \"\"\"\ns1 ~ 1*s2 + quality\ns2 ~ 1*s1 + price\ns1 ~~ 0*s2\n\"\"\"")
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: job), jobID: "t"), file: job, line: 6, column: 8,
            contains: "I − B is singular for the loop s1 ↔ s2")
        job = try writeJob(data: data, kind: "sem", model: "syntax = \"\"\"\nsat =~ s1 + s2 + s3\nind := a*b\n\"\"\"")
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: job), jobID: "t"), file: job, line: 7, column: 8,
            contains: "unknown label 'a' in the definition of 'ind'")
    }
}
