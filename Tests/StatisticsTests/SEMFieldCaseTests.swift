import XCTest

@testable import Statistics

/// Field cases C09, C23 and C37 (shared/cases/README.md; inputs copied to Tests/Fixtures/reference/sem/cases/) with
/// the right values the cases give (lavaan's convention: S × (N − 1)/N, χ² = N·F), singular feedback loops, and
/// chi-squares that are negative by rounding.
final class SEMFieldCaseTests: XCTestCase {
    /// The numeric rows of a case file (lines that are not comments).
    static func matrix(_ file: String) throws -> [[Double]] {
        let text = try String(contentsOf: SEMFixtures.root.appendingPathComponent("cases/\(file)"), encoding: .utf8)
        return try text.split(separator: "\n").filter {
            !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty
        }
        .map { line in try line.split(separator: " ").map { try XCTUnwrap(Double($0)) } }
    }

    /// Moments with zero means from a covariance matrix with the given divisor (N − 1 for the unbiased matrices of
    /// C23 and C37, N for C09's population matrix).
    static func moments(_ s: [[Double]], n: Double, divisor: Double) -> MomentMatrix {
        MomentMatrix(
            dimension: s.count, count: n, mean: [Double](repeating: 0, count: s.count),
            comoment: s.flatMap { $0 }.map { $0 * divisor })
    }

    func fitC37(_ model: String, stdLV: Bool = false) throws -> SEMResult {
        let s = try Self.matrix("C37_labels_constraints.txt")
        return try SEM.fit(
            syntax: model, moments: Self.moments(s, n: 250, divisor: 249), names: ["x1", "x2", "x3", "x4"],
            options: SEMOptions(stdLV: stdLV))
    }

    func loadings(_ r: SEMResult, _ order: [String] = ["x1", "x2", "x3", "x4"]) -> [Double] {
        order.map { v in r.parameter("f", "=~", v)!.estimate }
    }

    /// C09: ML recovers every value of the feedback model from its population covariance matrix (N = 500, df 1).
    func testC09FeedbackLoopRecoversTheGeneratingValues() throws {
        let s = try Self.matrix("C09_nonrecursive.txt")
        let r = try SEM.fit(
            syntax: "y1 ~ y2 + x1\ny2 ~ y1 + x2\ny1 ~~ y1 ; y2 ~~ y2 ; y1 ~~ 0*y2",
            moments: Self.moments(s, n: 500, divisor: 500), names: ["y1", "y2", "x1", "x2"])
        XCTAssertTrue(r.converged)
        let expected: [(String, String, String, Double)] = [
            ("y1", "~", "y2", 0.4), ("y2", "~", "y1", 0.3), ("y1", "~", "x1", 0.5), ("y2", "~", "x2", 0.6),
            ("y1", "~~", "y1", 0.5), ("y2", "~~", "y2", 0.6), ("x1", "~~", "x1", 1), ("x2", "~~", "x2", 1),
            ("x1", "~~", "x2", 0.3)
        ]
        for (l, op, rhs, v) in expected {
            XCTAssertEqual(try XCTUnwrap(r.parameter(l, op, rhs)).estimate, v, accuracy: 1e-7, "\(l) \(op) \(rhs)")
        }
        XCTAssertEqual(r.impliedCovariance[0], 1.2598140496, accuracy: 1e-9)
        let fit = try XCTUnwrap(r.fit)
        XCTAssertEqual(fit.degreesOfFreedom, 1)
        // N·F_ML comes out at −2.2e-13 here (rounding; issue 9 saw −4.4e-13 printed as -0.0000): reported as 0, p = 1.
        XCTAssertEqual(fit.chiSquare, 0)
        XCTAssertEqual(fit.chiSquare.sign, .plus)
        XCTAssertEqual(fit.pValue, 1)
        XCTAssertEqual(fit.fmin, 0)
        XCTAssertEqual(fit.logLikelihood, fit.unrestrictedLogLikelihood)
    }

    /// C09's variant and a three-variable cycle: fixed gains whose product is 1 make I − B singular for every value
    /// of the free paths, which is named (loop, paths, position) instead of a non-positive-definite Σ.
    func testSingularLoopsAreNamed() throws {
        let s = try Self.matrix("C09_nonrecursive.txt")
        let moments = Self.moments(s, n: 500, divisor: 500)
        XCTAssertThrowsError(
            try SEM.fit(
                syntax: "y1 ~ 1*y2 + x1\ny2 ~ 1*y1 + x2\ny1 ~~ 0*y2", moments: moments,
                names: ["y1", "y2", "x1", "x2"])
        ) { error in
            XCTAssertEqual(
                "\(error)",
                "I − B is singular for the loop y1 ↔ y2 (line 1, column 8): its fixed paths (y1 ~ 1*y2, y2 ~ 1*y1) make det(I − B) = 0 whatever values its free paths take (in a two-variable loop: the gains multiply to 1), so (I − B)⁻¹ and the implied covariance matrix do not exist and the model has no solution; free or change one of these paths"
            )
        }
        // y1 → y2 → y3 → y1 with gains 2, 0.5 and 1.
        let names = ["y1", "y2", "y3", "x1", "x2", "x3"]
        var identity = [Double](repeating: 0, count: 36)
        for i in 0..<6 { identity[i * 6 + i] = 100 }
        let six = MomentMatrix(dimension: 6, count: 100, mean: [Double](repeating: 0, count: 6), comoment: identity)
        XCTAssertThrowsError(
            try SEM.fit(syntax: "y2 ~ 2*y1 + x2\ny3 ~ 0.5*y2 + x3\ny1 ~ 1*y3 + x1", moments: six, names: names)
        ) { error in
            guard case .singularLoop(let message) = error as? SEMError else { return XCTFail("\(error)") }
            XCTAssertTrue(
                message.hasPrefix(
                    "I − B is singular for the loop y2 → y3 → y1 → y2 (line 1, column 8): its fixed paths (y2 ~ 2*y1, y3 ~ 0.5*y2, y1 ~ 1*y3)"
                ), message)
        }
        // A free gain in the loop: det(I − B) = 1 − 0.5·b is not identically 0 and the start b = 0 is fine.
        XCTAssertNoThrow(
            try SEMIdentification.check(
                SEMParameterTable(
                    model: SEMModel(parsing: "y2 ~ 2*y1 + x2\ny3 ~ 0.5*y2 + x3\ny1 ~ y3 + x1"), dataNames: names)))
        // Singular only at the starting values: say so and point at start().
        XCTAssertThrowsError(
            try SEM.fit(
                syntax: "y1 ~ start(1)*y2 + x1\ny2 ~ 1*y1 + x2", moments: moments,
                names: ["y1", "y2", "x1", "x2"])
        ) { error in
            XCTAssertEqual(
                "\(error)",
                "I − B is singular for the loop y1 ↔ y2 (line 1, column 15) at the starting values (y1 ~ y2, y2 ~ 1*y1; free paths start at their start() value, else regressions at 0 and loadings at 1); give one of its free paths another start(), e.g. start(0.5)*x"
            )
        }
    }

    /// A χ² below 0 by rounding (F_ML ≥ 0 exactly) is reported as 0 with p = 1; a larger negative value is not hidden.
    func testNegativeChiSquareWithinRoundingIsZero() throws {
        let floor = SEMFitMeasures.roundingFloor(baseline: 456.347)
        XCTAssertEqual(floor, 4.56347e-8, accuracy: 1e-20)
        XCTAssertEqual(SEMFitMeasures.roundingFloor(baseline: 0.5), 1e-10)
        XCTAssertEqual(SEMFitMeasures.clampRounding(-4.4e-13, floor: floor), 0)
        XCTAssertEqual(SEMFitMeasures.clampRounding(-4.4e-13, floor: floor).sign, .plus)
        XCTAssertEqual(SEMFitMeasures.clampRounding(-1e-3, floor: floor), -1e-3)
        XCTAssertEqual(SEMFitMeasures.clampRounding(2e-13, floor: floor), 2e-13)
        // An exact fit (C23 model D on its own implied matrix): χ² = 0, p = 1, RMSEA 0, CFI 1.
        let s = try Self.matrix("C23_fixed_and_labelled.txt")
        let first = try SEM.fit(
            syntax: "f =~ 1*x1 + x2 + x3 + x4", moments: Self.moments(s, n: 300, divisor: 299),
            names: ["x1", "x2", "x3", "x4"])
        let implied = MomentMatrix(
            dimension: 4, count: 300, mean: [0, 0, 0, 0], comoment: first.impliedCovariance.map { $0 * 300 })
        for model in ["f =~ 1*x1 + x2 + x3 + x4", "f =~ NA*x1 + x2 + x3 + x4\nf ~~ 1*f"] {
            let fit = try XCTUnwrap(try SEM.fit(syntax: model, moments: implied, names: ["x1", "x2", "x3", "x4"]).fit)
            // N·F_ML is −2.7e-13 before the rounding rule.
            XCTAssertEqual(fit.chiSquare, 0, model)
            XCTAssertEqual(fit.pValue, 1, model)
            XCTAssertEqual(fit.rmsea, 0, model)
            XCTAssertEqual(fit.cfi, 1, model)
            XCTAssertGreaterThanOrEqual(fit.rmseaCILower, 0, model)
            XCTAssertLessThanOrEqual(try XCTUnwrap(fit.rmseaPValue), 1, model)
        }
    }

    /// C23: x2 fixed at 0.6 and labelled lam2 is fixed (df 3), with or without the label, chained or not.
    func testC23FixedAndLabelledLoadingIsFixed() throws {
        let s = try Self.matrix("C23_fixed_and_labelled.txt")
        let moments = Self.moments(s, n: 300, divisor: 299)
        for model in [
            "f =~ 1*x1 + 0.6*x2 + lam2*x2 + x3 + x4", "f =~ 1*x1 + 0.6*x2 + x3 + x4",
            "f =~ 1*x1 + 0.6*lam2*x2 + x3 + x4", "f =~ x1 + lam2*x2 + 0.6*x2 + x3 + x4"
        ] {
            let r = try SEM.fit(syntax: model, moments: moments, names: ["x1", "x2", "x3", "x4"])
            let fit = try XCTUnwrap(r.fit)
            XCTAssertEqual(fit.degreesOfFreedom, 3, model)
            XCTAssertEqual(2 * fit.fmin, 0.084148, accuracy: 5e-7, model)
            XCTAssertEqual(fit.chiSquare, 25.244, accuracy: 5e-4, model)
            XCTAssertEqual(fit.rmsea, 0.157213, accuracy: 5e-7, model)
            XCTAssertEqual(fit.cfi, 0.950773, accuracy: 5e-7, model)
            XCTAssertEqual(fit.tli, 0.901547, accuracy: 5e-7, model)
            XCTAssertEqual(fit.baselineChiSquare * 299 / 300, 456.347, accuracy: 5e-4, model)  // (N − 1)·F_b
            let l = loadings(r)
            for (a, e) in zip(l, [1, 0.6, 0.616217, 0.530771]) { XCTAssertEqual(a, e, accuracy: 5e-7, model) }
            // Variances under lavaan's convention: the case's values × (N − 1)/N.
            XCTAssertEqual(
                try XCTUnwrap(r.parameter("f", "~~", "f")).estimate * 300 / 299, 1.469217, accuracy: 5e-7, model)
            for (v, e) in zip(["x1", "x2", "x3", "x4"], [0.357079, 0.770545, 0.530104, 0.718095]) {
                XCTAssertEqual(try XCTUnwrap(r.parameter(v, "~~", v)).estimate * 300 / 299, e, accuracy: 5e-7, model)
            }
        }
        // Control D (x2 free): df 2, exact fit.
        let d = try SEM.fit(syntax: "f =~ 1*x1 + x2 + x3 + x4", moments: moments, names: ["x1", "x2", "x3", "x4"])
        XCTAssertEqual(d.fit?.degreesOfFreedom, 2)
        for (a, e) in zip(loadings(d), [1, 0.9, 0.7, 0.6]) { XCTAssertEqual(a, e, accuracy: 1e-9) }
        // Without 1* the first loading is still the marker (lavaan), df 3.
        XCTAssertEqual(
            try SEM.fit(syntax: "f =~ x1 + 0.6*x2 + x3 + x4", moments: moments, names: ["x1", "x2", "x3", "x4"]).fit?
                .degreesOfFreedom, 3)
    }

    /// C37: one parameter per label; a label shared with a fixed loading fixes it; `==`, `NA*`, std.lv.
    func testC37LabelsConstraintsAndFreedMarkers() throws {
        let a = [
            "f =~ NA*x1 + x2 + x3 + x4\nf ~~ 1*f", "f =~ NA*x1 + a*x1 + x2 + x3 + x4\nf ~~ 1*f",
            "f =~ NA*a*x1 + x2 + x3 + x4\nf ~~ 1*f"
        ]
        var fits = try a.map { try fitC37($0) } + [try fitC37("f =~ x1 + x2 + x3 + x4", stdLV: true)]
        for r in fits {
            XCTAssertEqual(r.fit?.degreesOfFreedom, 2)
            XCTAssertEqual(try XCTUnwrap(r.fit?.chiSquare), 0.806058, accuracy: 5e-7)
            let l = loadings(r)
            let sign = l[0] > 0 ? 1.0 : -1.0  // the mirror image is the same solution
            for (x, e) in zip(l, [0.684037, -0.788655, -0.752995, -0.594641]) {
                XCTAssertEqual(sign * x, e, accuracy: 5e-7)
            }
            for (v, e) in zip(["x1", "x2", "x3", "x4"], [0.528094, 0.374023, 0.428998, 0.642402]) {
                XCTAssertEqual(try XCTUnwrap(r.parameter(v, "~~", v)).estimate, e, accuracy: 5e-7)
            }
        }
        fits = [
            try fitC37("f =~ NA*x1 + a*x2 + a*x3 + x4\nf ~~ 1*f"),
            try fitC37("f =~ NA*x1 + l2*x2 + l3*x3 + x4\nf ~~ 1*f\nl2 == l3"),
            try fitC37("f =~ x1 + l2*x2 + l3*x3 + x4\nl2 == l3", stdLV: true)
        ]
        for r in fits {
            XCTAssertEqual(r.fit?.degreesOfFreedom, 3)
            XCTAssertEqual(try XCTUnwrap(r.fit?.chiSquare), 1.041874, accuracy: 5e-7)
            let l = loadings(r)
            let sign = l[0] > 0 ? 1.0 : -1.0
            for (x, e) in zip(l, [0.685051, -0.771076, -0.771076, -0.594036]) {
                XCTAssertEqual(sign * x, e, accuracy: 5e-7)
            }
            for (v, e) in zip(["x1", "x2", "x3", "x4"], [0.526705, 0.385709, 0.418512, 0.643121]) {
                XCTAssertEqual(try XCTUnwrap(r.parameter(v, "~~", v)).estimate, e, accuracy: 5e-7)
            }
        }
        // C′: the marker x2 shares its label with x3, so x3 is fixed at 1 too: the fit equals B.
        let cPrime = try fitC37("f =~ a*x2 + a*x3 + x4 + x1")
        XCTAssertEqual(cPrime.fit?.degreesOfFreedom, 3)
        XCTAssertEqual(try XCTUnwrap(cPrime.fit?.chiSquare), 1.041874, accuracy: 5e-7)
        for (x, e) in zip(loadings(cPrime, ["x2", "x3", "x4", "x1"]), [1, 1, 0.770398, -0.888435]) {
            XCTAssertEqual(x, e, accuracy: 5e-7)
        }
        XCTAssertEqual(try XCTUnwrap(cPrime.parameter("f", "~~", "f")).estimate, 0.594559, accuracy: 5e-7)
        // C: both the reverse-keyed marker x1 and x2 fixed at +1: no admissible solution, never "converged".
        let c = try fitC37("f =~ a*x1 + a*x2 + x3 + x4")
        XCTAssertFalse(c.converged)
        XCTAssertTrue(c.warnings.contains(.notConverged(iterations: c.iterations)))
    }
}
