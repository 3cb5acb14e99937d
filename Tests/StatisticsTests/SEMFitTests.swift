import XCTest

@testable import Statistics

/// Warnings, effects and merging, against values derived by hand.
final class SEMFitTests: XCTestCase {
    /// Moments with a given covariance (divisor n) and means.
    func moments(covariance s: [Double], mean: [Double], count n: Double) -> MomentMatrix {
        MomentMatrix(dimension: mean.count, count: n, mean: mean, comoment: s.map { $0 * n })
    }

    /// A saturated one-factor model reproduces S exactly. With first loading 1:
    /// φ = s12·s13/s23 = 0.8·0.6/0.3 = 1.6, λ2 = s23/s13 = 0.5, λ3 = s23/s12 = 0.375,
    /// θ1 = 1 − φ = −0.6 (Heywood), θ2 = 1 − 0.25·1.6 = 0.6, θ3 = 1 − 0.140625·1.6 = 0.775.
    func testHeywoodCaseIsReportedNotFatal() throws {
        let s = [1, 0.8, 0.6, 0.8, 1, 0.3, 0.6, 0.3, 1]
        let result = try SEM.fit(
            syntax: "f =~ a1 + a2 + a3", moments: moments(covariance: s, mean: [0, 0, 0], count: 500),
            names: ["a1", "a2", "a3"])
        XCTAssertTrue(result.converged)
        let expected: [(String, String, String, Double)] = [
            ("f", "=~", "a2", 0.5), ("f", "=~", "a3", 0.375), ("f", "~~", "f", 1.6),
            ("a1", "~~", "a1", -0.6), ("a2", "~~", "a2", 0.6), ("a3", "~~", "a3", 0.775)
        ]
        for (lhs, op, rhs, value) in expected {
            XCTAssertEqual(
                try XCTUnwrap(result.parameter(lhs, op, rhs)).estimate, value, accuracy: 1e-9, "\(lhs) \(op) \(rhs)")
        }
        guard case .negativeVariance(let name, let estimate)? = result.warnings.first else {
            return XCTFail("expected a Heywood warning, got \(result.warnings)")
        }
        XCTAssertEqual(name, "a1 ~~ a1")
        XCTAssertEqual(estimate, -0.6, accuracy: 1e-9)
        XCTAssertEqual(result.warnings.count, 1)
        XCTAssertEqual(try XCTUnwrap(result.fit).degreesOfFreedom, 0)
        XCTAssertEqual(try XCTUnwrap(result.fit).chiSquare, 0, accuracy: 1e-9)
    }

    /// An indefinite S (eigenvalues −0.8, 1.9, 1.9): the independence model still fits (Σ̂ = diag S = I), with a
    /// warning and no fit measures.
    func testNonPositiveDefiniteSampleCovarianceIsReported() throws {
        let s = [1, 0.9, 0.9, 0.9, 1, -0.9, 0.9, -0.9, 1]
        let result = try SEM.fit(
            syntax: "a ~~ a; b ~~ b; c ~~ c", moments: moments(covariance: s, mean: [1, 2, 3], count: 100),
            names: ["a", "b", "c"])
        XCTAssertNil(result.fit)
        guard case .sampleCovarianceNotPositiveDefinite(let smallest)? = result.warnings.first else {
            return XCTFail("expected a non-PD warning, got \(result.warnings)")
        }
        XCTAssertEqual(smallest, -0.8, accuracy: 1e-12)
        for v in ["a", "b", "c"] {
            XCTAssertEqual(try XCTUnwrap(result.parameter(v, "~~", v)).estimate, 1, accuracy: 1e-9)
        }
        XCTAssertEqual(try XCTUnwrap(result.parameter("c", "~1")).estimate, 3, accuracy: 1e-9)
    }

    /// x → y1 (a), y1 → y2 (b), x → y2 (c): total x → y2 = c + a·b, indirect a·b.
    /// Loop y1 ⇄ y2 (y1 ← y2: p, y2 ← y1: q): (I − B)⁻¹ = [[1, p], [q, 1]] / (1 − pq), so total y2 → y1 = p/(1 − pq),
    /// indirect = p·pq/(1 − pq), and each variable's effect on itself through the loop pq/(1 − pq).
    func testEffectsDecompositionByHand() throws {
        let (a, b, c) = (0.5, 0.4, 0.3)
        // Variables [x, y1, y2]; B[to, from].
        let chain = try SEMEffects.decompose(b: [0, 0, 0, a, 0, 0, c, b, 0], names: ["x", "y1", "y2"])
        XCTAssertEqual(chain.map { "\($0.from)->\($0.to)" }, ["x->y1", "x->y2", "y1->y2"])
        XCTAssertEqual(chain[1].direct, c)
        XCTAssertEqual(chain[1].indirect, a * b, accuracy: 1e-15)
        XCTAssertEqual(chain[1].total, c + a * b, accuracy: 1e-15)
        XCTAssertEqual(chain[0].indirect, 0, accuracy: 1e-15)
        XCTAssertEqual(try SEMEffects.spectralRadius(b: [0, 0, 0, a, 0, 0, c, b, 0], m: 3), 0, accuracy: 1e-15)

        let (p, q) = (0.6, 0.5)
        let loop = try SEMEffects.decompose(b: [0, p, q, 0], names: ["y1", "y2"])
        let byPair = Dictionary(uniqueKeysWithValues: loop.map { ("\($0.from)->\($0.to)", $0) })
        let y2y1 = try XCTUnwrap(byPair["y2->y1"])
        XCTAssertEqual(y2y1.total, p / (1 - p * q), accuracy: 1e-14)
        XCTAssertEqual(y2y1.indirect, p * p * q / (1 - p * q), accuracy: 1e-14)
        XCTAssertEqual(try XCTUnwrap(byPair["y1->y1"]).total, p * q / (1 - p * q), accuracy: 1e-14)
        XCTAssertEqual(try XCTUnwrap(byPair["y1->y1"]).direct, 0)
        // Spectral radius √(pq); with p = 2, q = 0.8 it is √1.6 > 1 (unstable).
        XCTAssertEqual(try SEMEffects.spectralRadius(b: [0, p, q, 0], m: 2), (p * q).squareRoot(), accuracy: 1e-14)
        XCTAssertEqual(try SEMEffects.spectralRadius(b: [0, 2, 0.8, 0], m: 2), 1.6.squareRoot(), accuracy: 1e-14)
    }

    /// Effects in fitted models, from their own estimates: indirect quality → click = (sat ~ quality)(click ~ sat);
    /// the feedback model's B has eigenvalues 0, ±√(b_Y,X1 b_X1,Y + b_Y,X2 b_X2,Y).
    func testEffectsOfFittedModels() throws {
        let data = try SEMFixtures.csv("sem_latent_n2000.csv")
        let latent = try SEM.fit(
            syntax: "sat =~ s1 + s2 + s3\nsat ~ quality + price\nclick ~ sat + price",
            moments: SEMFixtures.moments(data.rows, 0..<data.rows.count, dimension: data.names.count),
            names: data.names)
        let est = { (l: String, o: String, r: String) in latent.parameter(l, o, r)!.estimate }
        let qc = try XCTUnwrap(latent.effects.first { $0.from == "quality" && $0.to == "click" })
        XCTAssertEqual(qc.direct, 0)
        XCTAssertEqual(qc.indirect, est("sat", "~", "quality") * est("click", "~", "sat"), accuracy: 1e-14)
        let pc = try XCTUnwrap(latent.effects.first { $0.from == "price" && $0.to == "click" })
        XCTAssertEqual(
            pc.total, est("click", "~", "price") + est("sat", "~", "price") * est("click", "~", "sat"), accuracy: 1e-14)
        XCTAssertEqual(latent.spectralRadius, 0)
        // Loadings are measurement, not effects.
        XCTAssertNil(latent.effects.first { $0.to == "s1" })

        let fb = try SEMFixtures.csv("sem_feedback_n5000.csv")
        let feedback = try SEM.fit(
            syntax: "Y ~ X1 + X2 + Z3\nX1 ~ Y + Z1\nX2 ~ Y + Z2",
            moments: SEMFixtures.moments(fb.rows, 0..<fb.rows.count, dimension: fb.names.count),
            names: fb.names)
        let f = { (l: String, r: String) in feedback.parameter(l, "~", r)!.estimate }
        XCTAssertEqual(
            feedback.spectralRadius, (f("Y", "X1") * f("X1", "Y") + f("Y", "X2") * f("X2", "Y")).squareRoot(),
            accuracy: 1e-12)
        XCTAssertFalse(
            feedback.warnings.contains { if case .unstableFeedback = $0 { return true } else { return false } })
    }

    /// The coordinator merges per-shard moments, then fits: the same fit as from the whole data (not bit-identical:
    /// merge order changes rounding).
    func testFitFromMergedShardMomentsEqualsWholeDataFit() throws {
        let data = try SEMFixtures.csv("sem_feedback_n5000.csv")
        let d = data.names.count
        let n = data.rows.count
        let model = "Y ~ X1 + X2 + Z3\nX1 ~ Y + Z1\nX2 ~ Y + Z2"
        let whole = try SEM.fit(
            syntax: model, moments: SEMFixtures.moments(data.rows, 0..<n, dimension: d), names: data.names)
        for cuts in [[1234, 3000], [1, 4999], [2500, 2500]] {
            var merged = MomentMatrix(dimension: d)
            for range in ranges(n, cuts: cuts) { merged.merge(SEMFixtures.moments(data.rows, range, dimension: d)) }
            let parts = try SEM.fit(syntax: model, moments: merged, names: data.names)
            for (a, b) in zip(parts.parameters, whole.parameters) {
                XCTAssertEqual(
                    a.estimate, b.estimate, accuracy: 1e-9 * max(1, abs(b.estimate)), "cuts \(cuts) \(a.name)")
                XCTAssertEqual(
                    a.standardError ?? .nan, b.standardError ?? .nan, accuracy: 1e-9, "cuts \(cuts) \(a.name) se")
            }
            XCTAssertEqual(parts.fit!.chiSquare, whole.fit!.chiSquare, accuracy: 1e-7, "cuts \(cuts)")
        }
    }

    /// Equal labels are one parameter. lavaan 0.6.14, `sem("click ~ b*quality + b*price", data, meanstructure = TRUE)`
    /// on sem_latent_n2000.csv: b = −0.027248097070109 (SE 0.0144255117635338), click ~~ click 1.10962484782678
    /// (SE 0.0350894186745038), npar 3, chisq 555.787971566088 on 1 df.
    func testEqualLabelsShareOneParameter() throws {
        let data = try SEMFixtures.csv("sem_latent_n2000.csv")
        let m = SEMFixtures.moments(data.rows, 0..<data.rows.count, dimension: data.names.count)
        let equal = try SEM.fit(syntax: "click ~ b*quality + b*price", moments: m, names: data.names)
        var tracker = DeviationTracker()
        for rhs in ["quality", "price"] {
            let row = try XCTUnwrap(equal.parameter("click", "~", rhs))
            XCTAssertEqual(row.label, "b")
            tracker.check(row.estimate, -0.027248097070109, 1e-6, "click ~ \(rhs)")
            tracker.check(row.standardError, 0.0144255117635338, 1e-6, "click ~ \(rhs) se")
        }
        tracker.check(equal.parameter("click", "~~", "click")?.estimate, 1.10962484782678, 1e-6, "click ~~ click")
        tracker.check(
            equal.parameter("click", "~~", "click")?.standardError, 0.0350894186745038, 1e-6, "click ~~ click se")
        XCTAssertEqual(equal.fit?.parameterCount, 3)
        XCTAssertEqual(equal.fit?.degreesOfFreedom, 1)
        tracker.check(equal.fit?.chiSquare, 555.787971566088, 1e-6, "chisq")
    }
}
