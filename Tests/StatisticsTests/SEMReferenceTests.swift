import XCTest

@testable import Statistics

/// SEM fits against lavaan 0.6.14 (Tests/Fixtures/reference/sem; provenance in Tests/Fixtures/README.md).
/// Every estimate, SE, z, p-value, CI bound, std.all and fit measure must agree to `tolerance` relative.
final class SEMReferenceTests: XCTestCase {
    /// Relative tolerance against lavaan (the issue asks for 1e-4 and aims at 1e-6).
    let tolerance = 1e-6

    func fitFixture(_ csv: String, model: String) throws -> SEMResult {
        let data = try SEMFixtures.csv(csv)
        let moments = SEMFixtures.moments(data.rows, 0..<data.rows.count, dimension: data.names.count)
        return try SEM.fit(syntax: model, moments: moments, names: data.names)
    }

    /// Shared reference 1: non-recursive model with instruments (Y ⇄ X1, Y ⇄ X2), n = 5000.
    func testFeedbackModelMatchesLavaan() throws {
        let reference = try SEMFixtures.json("sem_feedback_n5000_lavaan.json")
        let lavaan = try XCTUnwrap(reference["lavaan"] as? [String: Any])
        let model = try XCTUnwrap(reference["model_lavaan_syntax"] as? String)
        let result = try fitFixture("sem_feedback_n5000.csv", model: model)
        XCTAssertTrue(result.converged)
        XCTAssertEqual(result.observed, lavaan["variable_order"] as? [String])
        XCTAssertEqual(result.warnings, [])
        var tracker = DeviationTracker()
        // std.all for this model comes from our own lavaan run (sem_lavaan_fits.json, fit "feedback").
        let extra = try XCTUnwrap(
            (try SEMFixtures.json("sem_lavaan_fits.json")["fits"] as? [String: Any])?["feedback"] as? [String: Any])
        var parameters = try XCTUnwrap(lavaan["parameters"] as? [[String: Any]])
        let std = try XCTUnwrap(extra["parameters"] as? [[String: Any]])
        XCTAssertEqual(std.count, parameters.count)
        for k in parameters.indices { parameters[k]["std.all"] = std[k]["std.all"] }
        compareWithLavaan(
            result, parameters: parameters, fitMeasures: try XCTUnwrap(lavaan["fit_measures"] as? [String: Any]),
            tolerance: tolerance, label: "feedback", tracker: &tracker)
        // Implied moments.
        let implied = try XCTUnwrap(lavaan["implied_cov"] as? [[Double]]).flatMap { $0 }
        for (k, (a, e)) in zip(result.impliedCovariance, implied).enumerated() {
            tracker.check(a, e, tolerance, "feedback implied cov [\(k)]")
        }
        print(
            "SEM feedback: max relative deviation from lavaan \(tracker.maxRelative) (\(tracker.worst)); \(result.iterations) scoring steps"
        )
        // Stable loop: |eigenvalues of B| < 1 (true det(I − B) = 0.805).
        XCTAssertLessThan(result.spectralRadius, 1)
        XCTAssertTrue(result.isStable)
    }

    /// Reference 2: recursive model with a latent variable, n = 2000 (our lavaan run).
    func testLatentModelMatchesLavaan() throws {
        try checkFit("latent", tolerance: tolerance)
    }

    /// Reference 3: two correlated factors, two outcomes (auto.cov.lv.x, auto.cov.y), a label, a fixed loading,
    /// a user residual covariance, multi-line and `;` syntax with comments.
    /// lavaan's own optimum is only ~1e-6 relative here: nlminb stops at rel.tol 1e-10, and rerunning it with
    /// rel.tol 1e-14 moves `b2 ~1` by 1e-5 relative; the CI bounds near 0 (`y2 ~1` upper, −0.0017) magnify that.
    /// So this fixture is held to the 1e-4, and our discrepancy must not exceed lavaan's.
    func testTwoFactorModelMatchesLavaan() throws {
        try checkFit("two_factor", tolerance: 1e-4)
    }

    func checkFit(_ name: String, tolerance: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        let fits = try XCTUnwrap(try SEMFixtures.json("sem_lavaan_fits.json")["fits"] as? [String: Any])
        let ref = try XCTUnwrap(fits[name] as? [String: Any])
        let csv = URL(fileURLWithPath: try XCTUnwrap(ref["data_file"] as? String)).lastPathComponent
        let result = try fitFixture(csv, model: try XCTUnwrap(ref["model"] as? String))
        XCTAssertTrue(result.converged, file: file, line: line)
        XCTAssertEqual(result.observed, ref["variable_order"] as? [String], file: file, line: line)
        XCTAssertEqual(result.warnings, [], file: file, line: line)
        var tracker = DeviationTracker()
        compareWithLavaan(
            result, parameters: try XCTUnwrap(ref["parameters"] as? [[String: Any]]),
            fitMeasures: try XCTUnwrap(ref["fit_measures"] as? [String: Any]),
            tolerance: tolerance, label: name, tracker: &tracker, file: file, line: line)
        print(
            "SEM \(name): max relative deviation from lavaan \(tracker.maxRelative) (\(tracker.worst)); \(result.iterations) scoring steps"
        )
        // At least as good an optimum as lavaan's (its fmin, up to rounding).
        let lavaanFmin = try XCTUnwrap((ref["fit_measures"] as? [String: Any])?["fmin"] as? Double)
        XCTAssertLessThanOrEqual(try XCTUnwrap(result.fit?.fmin), lavaanFmin * (1 + 1e-12), file: file, line: line)
    }
}
