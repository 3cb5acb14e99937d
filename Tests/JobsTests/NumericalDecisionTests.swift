import Foundation
import XCTest

@testable import Jobs

/// Decisions from merged statistics do not depend on an offset, a scale, the row order or the shard count
/// (docs/DECISIONS.md, "Numerical decisions"). Every data set here is exactly representable, so a shifted or
/// power-of-two-scaled copy is the same data in other units; the right values are derived by hand.
final class NumericalDecisionTests: XCTestCase {
    /// Writes `header` and `rows` as a CSV and a job over it (no user key: each row is its own unit; no CV).
    func job(_ kind: String, _ formula: String, header: String, rows: [[Double]], shards: Int) throws -> (
        job: String, data: String
    ) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-numerics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let data = dir.appendingPathComponent("d.csv").path
        // Whole numbers as integers.
        let text = { (v: Double) in v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)" }
        try (([header] + rows.map { $0.map(text).joined(separator: ",") }).joined(separator: "\n") + "\n")
            .write(toFile: data, atomically: true, encoding: .utf8)
        let path = dir.appendingPathComponent("job.toml").path
        let text2 = "[data]\npath = \"d.csv\"\n[model]\nkind = \"\(kind)\"\nformula = \"\(formula)\"\n"
        try (text2 + "[cluster]\nshards = \(shards)\n").write(toFile: path, atomically: true, encoding: .utf8)
        return (path, data)
    }

    func semJob(_ syntax: String, header: String, rows: [[Double]], shards: Int) throws -> String {
        let (path, _) = try job("sem", "", header: header, rows: rows, shards: shards)
        try "[data]\npath = \"d.csv\"\n[model]\nkind = \"sem\"\nsyntax = \"\(syntax)\"\n[cluster]\nshards = \(shards)\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func fit(_ kind: String, _ formula: String, header: String, rows: [[Double]], shards: Int) throws
        -> FitDriver.Outcome
    {
        try Fixtures.run(
            jobPath: try job(kind, formula, header: header, rows: rows, shards: shards).job, workers: min(shards, 3))
    }

    func message(_ kind: String, _ formula: String, header: String, rows: [[Double]], shards: Int) -> String? {
        do {
            _ = try fit(kind, formula, header: header, rows: rows, shards: shards)
            return nil
        } catch let e as InputError { return e.message } catch { return "\(error)" }
    }

    func coefficient(_ o: FitDriver.Outcome, _ name: String) -> FitReport.Coefficient {
        o.model.coefficients.first { $0.name == name }!
    }

    // MARK: OLS at an offset (issue inputs and C15 part 3)

    /// y ~ x with x = s + 1..4, y = 2, 4, 6, 8.5: slope 2.15 and intercept −0.25 − 2.15 s by hand (C_xx = 5,
    /// C_xy = 10.75, ȳ = 5.125, x̄ = s + 2.5); residuals 0.1, −0.05, −0.2, 0.15, so RSS = 0.075 and σ² = 0.0375 for
    /// every s.
    func testRegressionAtAnOffsetIsSolvedNotRefused() throws {
        for (s, intercept) in [(0.0, -0.25), (1e5, -215000.25), (1e6, -2150000.25), (1e9, -2150000000.25)] {
            for shards in [1, 2, 3, 4] {
                let o = try fit(
                    "ols", "y ~ x", header: "x,y", rows: [[s + 1, 2], [s + 2, 4], [s + 3, 6], [s + 4, 8.5]],
                    shards: shards)
                assertClose(coefficient(o, "x").estimate, 2.15, rtol: 1e-13, "slope at offset \(s), \(shards) shards")
                assertClose(
                    coefficient(o, "Intercept").estimate, intercept, rtol: 1e-15, atol: 1e-12,
                    "intercept at offset \(s)")
                assertClose(o.model.rss!, 0.075, rtol: 1e-12, "rss at offset \(s)")
                assertClose(o.model.sigma2!, 0.0375, rtol: 1e-12, "sigma2 at offset \(s)")
                // se(slope) = √(σ²/C_xx) = √0.0075, the same at every offset.
                assertClose(coefficient(o, "x").std_error, 0.0075.squareRoot(), rtol: 1e-12, "se(slope) at offset \(s)")
                // se(intercept)² = σ² (1/n + x̄²/C_xx).
                let xbar = s + 2.5
                assertClose(
                    coefficient(o, "Intercept").std_error, (0.0375 * (0.25 + xbar * xbar / 5)).squareRoot(),
                    rtol: 1e-12, "se(intercept)")
            }
        }
    }

    /// The rank decision and the estimates are invariant under shifts of the predictors (1e3, 1e6, 1e9), power-of-two
    /// scalings of every column (2⁻²⁰ ≈ 9.5e-7 to 2²⁰ ≈ 1.0e6), the row order and the shard count (1 to 16).
    func testOLSInvariance() throws {
        // 12 rows; x1, x2 small integers and quarters, y dyadic: every shifted or scaled value is a double exactly.
        let base: [[Double]] = (0..<12).map { i in
            let x1 = Double(i % 5)
            let x2 = Double((i * 7) % 11) / 4
            return [x1, x2, 1.5 * x1 - 0.75 * x2 + Double((i * 5) % 3) / 8]
        }
        let reference = try fit("ols", "y ~ x1 + x2", header: "x1,x2,y", rows: base, shards: 1)
        let b1 = coefficient(reference, "x1").estimate
        let b2 = coefficient(reference, "x2").estimate
        let b0 = coefficient(reference, "Intercept").estimate
        func check(_ o: FitDriver.Outcome, slopeScale: Double, interceptExpected: Double, what: String) {
            assertClose(coefficient(o, "x1").estimate, b1 * slopeScale, rtol: 1e-12, what + " x1")
            assertClose(coefficient(o, "x2").estimate, b2 * slopeScale, rtol: 1e-12, what + " x2")
            assertClose(
                coefficient(o, "x1").std_error, coefficient(reference, "x1").std_error * slopeScale, rtol: 1e-12,
                what + " se x1")
            assertClose(
                coefficient(o, "x1").robust_std_error, coefficient(reference, "x1").robust_std_error * slopeScale,
                rtol: 1e-12, what + " hc1 x1")
            assertClose(
                coefficient(o, "Intercept").estimate, interceptExpected, rtol: 1e-14, atol: 1e-12, what + " intercept")
        }
        for shift in [1e3, 1e6, 1e9] {
            let rows = base.map { [$0[0] + shift, $0[1] + shift, $0[2]] }
            for shards in 1...16 {
                let o = try fit("ols", "y ~ x1 + x2", header: "x1,x2,y", rows: rows, shards: shards)
                check(
                    o, slopeScale: 1, interceptExpected: b0 - (b1 + b2) * shift,
                    what: "shift \(shift), \(shards) shards")
                assertClose(o.model.sigma2!, reference.model.sigma2!, rtol: 1e-12, "sigma2 at shift \(shift)")
            }
        }
        for k in stride(from: -20, through: 20, by: 5) {
            let c = Double(sign: .plus, exponent: k, significand: 1)
            let o = try fit("ols", "y ~ x1 + x2", header: "x1,x2,y", rows: base.map { $0.map { $0 * c } }, shards: 5)
            check(o, slopeScale: 1, interceptExpected: b0 * c, what: "scale 2^\(k)")
            assertClose(o.model.sigma2!, reference.model.sigma2! * c * c, rtol: 1e-12, "sigma2 at scale 2^\(k)")
        }
        for order in [
            Array(base.reversed()),
            base.enumerated().sorted { ($0.offset * 5) % 12 < ($1.offset * 5) % 12 }.map(\.element)
        ] {
            check(
                try fit("ols", "y ~ x1 + x2", header: "x1,x2,y", rows: order, shards: 7), slopeScale: 1,
                interceptExpected: b0, what: "row order")
        }
        // An exact dependency (x3 = x1 + x2) is refused at every shift, scale and shard count, naming the columns.
        for shift in [0, 1e3, 1e6, 1e9] {
            for shards in [1, 4, 16] {
                let rows = base.map { [$0[0] + shift, $0[1] + shift, $0[0] + $0[1] + shift, $0[2]] }
                let m = message("ols", "y ~ x1 + x2 + x3", header: "x1,x2,x3,y", rows: rows, shards: shards) ?? "fitted"
                XCTAssertTrue(
                    m.contains("singular design") && m.contains("x1, x2, x3 are collinear"),
                    "shift \(shift), \(shards) shards: \(m)")
            }
        }
        for k in [-20, 20] {
            let c = Double(sign: .plus, exponent: k, significand: 1)
            let rows = base.map { [$0[0] * c, $0[1] * c, ($0[0] + $0[1]) * c, $0[2] * c] }
            let m = message("ols", "y ~ x1 + x2 + x3", header: "x1,x2,x3,y", rows: rows, shards: 3) ?? "fitted"
            XCTAssertEqual(
                m, "model.formula: singular design: the columns x1, x2, x3 are collinear; drop one of them",
                "scale 2^\(k)")
        }
    }

    // MARK: constant outcome and exact fits

    /// `value ~ 1` with every value 0.1 is refused for 3, 4 and 7 rows, every shard count and either row order, by the
    /// exact test min == max (not from a rounded variance).
    func testConstantOutcomeIsRefusedWhateverTheShardCount() throws {
        for n in [3, 4, 7] {
            let rows = [[Double]](repeating: [0.1], count: n)
            for shards in 1...16 {
                XCTAssertEqual(
                    message("ols", "value ~ 1", header: "value", rows: rows, shards: shards),
                    "model.formula: the outcome is 0.1 in all \(n) rows; a constant outcome leaves nothing to fit "
                        + "(its variance is 0, so standard errors and tests are undefined)",
                    "\(n) rows, \(shards) shards")
            }
            // With a predictor too.
            let withX = (0..<n).map { [Double($0), 0.1] }
            XCTAssertEqual(
                message("ols", "value ~ x", header: "x,value", rows: withX, shards: 5),
                "model.formula: the outcome is 0.1 in all \(n) rows; a constant outcome leaves nothing to fit (its "
                    + "variance is 0, so standard errors and tests are undefined)"
            )
        }
    }

    /// The Bayesian linear model with a flat prior (= OLS) refuses a constant outcome too; without an intercept a
    /// constant outcome is an ordinary fit (y = 0.1 on x = 1..4: slope Σxy/Σx² = 1/30 by hand).
    func testConstantOutcomeInBayesFlatAndWithoutIntercept() throws {
        let (path, _) = try job(
            "bayes_linear", "value ~ x", header: "x,value", rows: (1...5).map { [Double($0), 0.1] },
            shards: 3)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "[cluster]", with: "prior = \"flat\"\n[cluster]")
            .write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Fixtures.run(jobPath: path)) { error in
            XCTAssertEqual(
                (error as? InputError)?.message,
                "model.formula: the outcome is 0.1 in all 5 rows; a constant outcome leaves nothing to fit "
                    + "(its variance is 0, so standard errors and tests are undefined)")
        }
        let o = try fit("ols", "y ~ 0 + x", header: "x,y", rows: (1...4).map { [Double($0), 0.1] }, shards: 2)
        assertClose(coefficient(o, "x").estimate, 1.0 / 30.0, rtol: 1e-14, "no-intercept slope")
    }

    /// An exact linear fit is refused on every shard count (RSS ≤ (1000 ε)² · centred TSS); noise at 1e-8 of the
    /// outcome's scale is fitted on every shard count, with slope 2 and σ² = Σe²/(n − 2) of the known noise.
    func testExactFitIsDecidedFromScaledQuantities() throws {
        // Noise ±2⁻²⁷ ≈ ±7.5e-9 on an outcome spread over 14, signs + − − + + − − +: orthogonal to 1 and to x, so by
        // hand the fit keeps slope 2 and intercept 1 − 2s, and RSS = 8 · 2⁻⁵⁴ = 2⁻⁵¹ exactly.
        let noise = Double(sign: .plus, exponent: -27, significand: 1)
        for s in [0, 1e6, 1e9] {
            let exact = (0..<8).map { i in [Double(i) + s, 2 * Double(i) + 1] }
            let near = (0..<8).map { i in [Double(i) + s, 2 * Double(i) + 1 + [1, -1, -1, 1][i % 4] * noise] }
            for shards in 1...16 {
                let m = message("ols", "y ~ x", header: "x,y", rows: exact, shards: shards) ?? "fitted"
                XCTAssertTrue(
                    m.hasPrefix("model.formula: the model fits the outcome exactly (residual sum of squares "),
                    "offset \(s), \(shards) shards: \(m)")
                let o = try fit("ols", "y ~ x", header: "x,y", rows: near, shards: shards)
                assertClose(
                    coefficient(o, "x").estimate, 2, rtol: 1e-14,
                    "near-exact slope, offset \(s), \(shards) shards")
                assertClose(o.model.rss!, 0x1p-51, rtol: 1e-6, "near-exact RSS, offset \(s), \(shards) shards")
            }
        }
    }

    // MARK: logit

    /// Logit decisions and estimates are invariant under shifts of the predictor (1e3, 1e6, 1e9), power-of-two
    /// scalings of it, the row order and the shard count (1 to 16).
    func testLogitInvariance() throws {
        // Overlapping outcomes: the MLE exists.
        let base: [[Double]] = [
            [0, 0], [1, 0], [1, 1], [2, 0], [2, 1], [3, 1], [3, 0], [4, 1], [5, 1], [0, 1], [4, 0], [5, 1]
        ]
        let reference = try fit("logit", "y ~ x", header: "x,y", rows: base, shards: 1)
        let slope = coefficient(reference, "x").estimate
        let se = coefficient(reference, "x").std_error
        let b0 = coefficient(reference, "Intercept").estimate
        for shift in [1e3, 1e6, 1e9] {
            for shards in 1...16 {
                let o = try fit(
                    "logit", "y ~ x", header: "x,y", rows: base.map { [$0[0] + shift, $0[1]] }, shards: shards)
                assertClose(
                    coefficient(o, "x").estimate, slope, rtol: 1e-8, "logit slope at shift \(shift), \(shards) shards")
                assertClose(coefficient(o, "x").std_error, se, rtol: 1e-8, "logit se at shift \(shift)")
                assertClose(
                    coefficient(o, "Intercept").estimate, b0 - slope * shift, rtol: 1e-8,
                    "logit intercept at shift \(shift)")
                assertClose(
                    o.model.log_likelihood, reference.model.log_likelihood, rtol: 1e-12,
                    "log-likelihood at shift \(shift)")
                XCTAssertEqual(o.model.iterations, reference.model.iterations)
            }
        }
        for k in [-20, -10, 10, 20] {
            let c = Double(sign: .plus, exponent: k, significand: 1)
            let o = try fit("logit", "y ~ x", header: "x,y", rows: base.map { [$0[0] * c, $0[1]] }, shards: 4)
            assertClose(coefficient(o, "x").estimate, slope / c, rtol: 1e-10, "logit slope at scale 2^\(k)")
            assertClose(coefficient(o, "Intercept").estimate, b0, rtol: 1e-10, "logit intercept at scale 2^\(k)")
        }
        let reversed = try fit("logit", "y ~ x", header: "x,y", rows: base.reversed(), shards: 3)
        assertClose(coefficient(reversed, "x").estimate, slope, rtol: 1e-10, "logit slope, rows reversed")
        // Separated data stay separated (the same message) at every shift and scale.
        let separated: [[Double]] = [[0, 1], [0, 1], [1, 0], [2, 0]]
        let expected = message("logit", "y ~ x", header: "x,y", rows: separated, shards: 1)
        XCTAssertNotNil(expected)
        for shift in [1e3, 1e6, 1e9] {
            for shards in [1, 2, 4, 16] {
                let m = message(
                    "logit", "y ~ x", header: "x,y", rows: separated.map { [$0[0] + shift, $0[1]] }, shards: shards)
                XCTAssertEqual(m, expected, "shift \(shift), \(shards) shards")
            }
        }
    }

    /// x = 0, 0, 1, 2 with y = 1, 1, 0, 0 is complete separation on a numeric term, and the advice fits a number.
    func testSeparationSaysCompleteOrQuasiCompleteAndFitsTheTerm() throws {
        let advice =
            "the maximum-likelihood estimate does not exist (drop the term, or use it coarsened into a few levels, "
            + "or fit a penalised (Firth) logit)"
        let separated: [[Double]] = [[0, 1], [0, 1], [1, 0], [2, 0]]
        // x ≤ 0 → 1, x ≥ 2 → 0, x = 1 has both: quasi-complete.
        let tied: [[Double]] = [[0, 1], [0, 1], [1, 1], [1, 0], [2, 0], [2, 0]]
        for shards in 1...16 {
            XCTAssertEqual(
                message("logit", "y ~ x", header: "x,y", rows: separated, shards: shards),
                "model.formula: complete separation in the logit: x: its coefficient diverges: the outcomes are "
                    + "split by the linear predictor, so every row is predicted perfectly; "
                    + advice,
                "\(shards) shards")
            XCTAssertEqual(
                message("logit", "y ~ x", header: "x,y", rows: tied, shards: shards),
                "model.formula: quasi-complete separation in the logit: x: its coefficient diverges: the outcome "
                    + "is predicted perfectly except in rows tied at the boundary; "
                    + advice,
                "\(shards) shards")
        }
        // Levels, decided from counts: level 2's rows all 0 and the others all 1 is complete; with a mixed
        // level, quasi.
        XCTAssertEqual(
            message("logit", "y ~ C(g)", header: "g,y", rows: [[1, 1], [1, 1], [2, 0], [2, 0]], shards: 2),
            "model.formula: complete separation in the logit: C(g)[T.2]: its 2 rows all have outcome 0; the "
                + "maximum-likelihood estimate does not exist (pool that level with another, or drop it)"
        )
        XCTAssertEqual(
            message(
                "logit", "y ~ C(g)", header: "g,y", rows: [[1, 1], [1, 0], [2, 0], [2, 0], [3, 1], [3, 0]], shards: 2),
            "model.formula: quasi-complete separation in the logit: C(g)[T.2]: its 2 rows all have outcome 0; the "
                + "maximum-likelihood estimate does not exist (pool that level with another, or drop it)"
        )
    }

    // MARK: overflow

    /// The overflow error names the first row in data order (whatever the shard count) with |x| ≥ 2^e, the largest
    /// power of two ≤ √(DBL_MAX/n)/4 (2^508 ≈ 8.4e152 for n = 4): line 3 here, although line 5 holds a larger value.
    func testOverflowNamesTheFirstRowAboveTheThreshold() throws {
        let rows: [[Double]] = [[1, 1], [1e300, 2], [5, 3], [2e300, 4]]
        for shards in 1...16 {
            let (path, data) = try job("ols", "y ~ x", header: "x,y", rows: rows, shards: shards)
            assertInputError(
                try Fixtures.run(jobPath: path, workers: 2), file: data, line: 3, column: 1,
                contains:
                    "model.formula: sums of squares overflow in x: values are too large (their sums of squares "
                    + "exceed Float64's 1.8e308); rescale them. This row (data row 2) is the first with |x| ≥ 2^508 "
                    + "≈ 8.38e+152 (the largest power of two ≤ √(DBL_MAX/n)/4 for n = 4 rows)"
            )
        }
        // The boundary: Σx² = 2^1022 is finite and fits; 2^512 overflows Σx² (2^1024) and is named.
        let two = { (e: Int) in Double(sign: .plus, exponent: e, significand: 1) }
        let fine = try fit("ols", "y ~ x", header: "x,y", rows: [[0, 0], [0, 1], [0, 0], [two(511), 1]], shards: 3)
        XCTAssertTrue(fine.model.coefficients.allSatisfy { $0.estimate.isFinite })
        let (path, data) = try job(
            "ols", "y ~ x", header: "x,y", rows: [[0, 0], [0, 1], [0, 0], [two(512), 1]], shards: 3)
        assertInputError(try Fixtures.run(jobPath: path), file: data, line: 5, column: 1, contains: "overflow in x")
    }

    // MARK: SEM

    /// A constant observed variable is refused exactly (min == max) on every shard count; a sample covariance matrix
    /// that is singular (x3 = x1 + x2) gets the same answer at every shift and power-of-two scale: with fixed.x the
    /// exogenous block of Σ is S's, so the model is refused at its starting values.
    func testSEMConstantVariableAndSingularCovariance() throws {
        let rows: [[Double]] = (0..<10).map { (i: Int) -> [Double] in
            let x1 = Double(i % 4)
            let x2 = Double((i * 3) % 7)
            return [x1, x2, 5, x1 + 0.5 * x2 + Double(i % 3)]
        }
        for shards in [1, 3, 16] {
            let path = try semJob("y ~ x1 + c", header: "x1,x2,c,y", rows: rows, shards: shards)
            assertInputError(
                try Fixtures.run(jobPath: path), file: path, line: 5, column: 11,
                contains:
                    "model.syntax: the observed variable 'c' is 5 in all 10 rows: its variance is 0, so the "
                    + "model-implied covariance cannot fit it; drop it from the model"
            )
        }
        let base = rows.map { [$0[0], $0[1], $0[0] + $0[1], $0[3]] }
        for (shift, scale) in [(0.0, 1.0), (1e6, 1.0), (1e9, 1.0), (0, 0x1p-20), (0, 0x1p20)] {
            let data = base.map { r in
                [(r[0] + shift) * scale, (r[1] + shift) * scale, (r[2] + shift) * scale, r[3] * scale]
            }
            let path = try semJob("y ~ x1 + x2 + x3", header: "x1,x2,x3,y", rows: data, shards: 4)
            assertInputError(
                try Fixtures.run(jobPath: path), file: path, line: 5, column: 11,
                contains:
                    "model.syntax: the model-implied covariance matrix is not positive definite at the starting values")
        }
    }
}
