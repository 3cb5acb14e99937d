import XCTest

@testable import Statistics

/// Identification checks before fitting: order and rank conditions of feedback loops, latent rules, t-rule.
final class SEMIdentificationTests: XCTestCase {
    func check(_ text: String, names: [String]) throws {
        try SEMIdentification.check(SEMParameterTable(model: SEMModel(parsing: text), dataNames: names))
    }

    func assertNotIdentified(
        _ text: String, names: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try check(text, names: names), file: file, line: line) { error in
            XCTAssertEqual(error as? SEMError, .notIdentified(message: message), file: file, line: line)
        }
    }

    /// The feedback model without instruments (lavaan fits it with df = −1 and arbitrary estimates, see
    /// sem_feedback_n5000_lavaan.json "underidentified_model"): every equation lacks an excluded exogenous variable.
    func testFeedbackWithoutInstrumentsIsRefusedNamingTheEquations() throws {
        let data = try SEMFixtures.csv("sem_feedback_n5000.csv")
        let moments = SEMFixtures.moments(data.rows, 0..<data.rows.count, dimension: data.names.count)
        XCTAssertThrowsError(try SEM.fit(syntax: "Y ~ X1 + X2; X1 ~ Y; X2 ~ Y", moments: moments, names: data.names)) {
            error in
            XCTAssertEqual(
                "\(error)",
                [
                    "equation Y (line 1, column 1) is not identified: it excludes no exogenous variable that appears elsewhere but has 2 endogenous regressors (X1, X2) (order condition); add 2 instruments",
                    "equation X1 (line 1, column 14) is not identified: it excludes no exogenous variable that appears elsewhere but has 1 endogenous regressor (Y) (order condition); add an instrument",
                    "equation X2 (line 1, column 22) is not identified: it excludes no exogenous variable that appears elsewhere but has 1 endogenous regressor (Y) (order condition); add an instrument"
                ].joined(separator: "; "))
        }
        // The reference model: each equation excludes enough instruments (Y: Z1, Z2; X1: Z3, Z2; X2: Z3, Z1).
        XCTAssertNoThrow(try check("Y ~ X1 + X2 + Z3\nX1 ~ Y + Z1\nX2 ~ Y + Z2", names: data.names))
    }

    func testOrderConditionCountsExcludedInstruments() {
        assertNotIdentified(
            "Y ~ X1 + X2 + Z1\nX1 ~ Y + Z1\nX2 ~ Y + Z2", names: ["Y", "X1", "X2", "Z1", "Z2"],
            "equation Y (line 1, column 1) is not identified: it excludes only 1 exogenous variable that appears elsewhere (Z2) but has 2 endogenous regressors (X1, X2) (order condition); add another instrument"
        )
    }

    /// y1 excludes x3 and x4, which both enter only y3's equation: the order condition holds (2 ≥ 2) but the
    /// exclusions move the other two equations in one way only (rank 1 < 2).
    func testRankCondition() {
        assertNotIdentified(
            "y1 ~ y2 + y3 + x1\ny2 ~ y1 + x1\ny3 ~ y1 + x3 + x4",
            names: ["y1", "y2", "y3", "x1", "x3", "x4"],
            "equation y1 (line 1, column 1) is not identified: the variables it excludes (x3, x4) do not enter the other equations of its feedback loop (y2, y3) in 2 independent ways (rank condition: rank 1 < 2); add an instrument that predicts another equation of the loop but not y1"
        )
        // With x4 moved to y2's equation the exclusions are independent.
        XCTAssertNoThrow(
            try check("y1 ~ y2 + y3 + x1\ny2 ~ y1 + x1 + x4\ny3 ~ y1 + x3", names: ["y1", "y2", "y3", "x1", "x3", "x4"])
        )
    }

    func testLatentRules() {
        assertNotIdentified(
            "f =~ a + b\ny ~ x", names: ["a", "b", "x", "y"],
            "latent variable f (line 1, column 1) is not identified: it has only 2 indicators (a, b) and no relation to another variable (two-indicator rule); add a third indicator or let it covary with another latent variable"
        )
        assertNotIdentified(
            "y ~ x\n  f =~ 0*a + b + c", names: ["a", "b", "c", "x", "y"],
            "latent variable f (line 2, column 3) is not identified: it has no loading fixed at a non-zero value and no fixed variance to set its scale (scaling rule); fix one loading, e.g. 1*a, or its variance, e.g. f ~~ 1*f (std_lv = true fixes every latent variance)"
        )
        // NA* frees the marker: the scale must then come from the variance (f ~~ 1*f or std.lv).
        assertNotIdentified(
            "f =~ NA*a + b + c", names: ["a", "b", "c"],
            "latent variable f (line 1, column 1) is not identified: it has no loading fixed at a non-zero value and no fixed variance to set its scale (scaling rule); fix one loading, e.g. 1*a, or its variance, e.g. f ~~ 1*f (std_lv = true fixes every latent variance)"
        )
        XCTAssertNoThrow(try check("f =~ NA*a + b + c\nf ~~ 1*f", names: ["a", "b", "c"]))
        // Two indicators are enough for correlated factors, one indicator with its residual variance fixed at 0.
        XCTAssertNoThrow(try check("f =~ a + b\ng =~ c + d", names: ["a", "b", "c", "d"]))
        XCTAssertNoThrow(try check("f =~ a + b\nf ~ x", names: ["a", "b", "x"]))
        XCTAssertNoThrow(try check("f =~ a\ny ~ f", names: ["a", "y"]))
    }

    /// y ~ x with y ~~ x: x is no longer fixed.x (lavaan), so 6 free parameters (y ~ x, y ~~ x, two variances, two
    /// means) for 2·3/2 + 2 = 5 moments.
    func testTRule() {
        XCTAssertThrowsError(try check("y ~ x\ny ~~ x", names: ["x", "y"])) { error in
            XCTAssertEqual(error as? SEMError, .tooManyParameters(free: 6, moments: 5))
            XCTAssertEqual(
                "\(error)",
                "the model is not identified: it has 6 free parameters but the data give only 5 sample moments (t-rule: free parameters ≤ moments); fix or drop 1 parameter"
            )
        }
    }
}

final class SEMFixedPathIdentificationTests: XCTestCase {
    func check(_ text: String, names: [String]) throws {
        try SEMIdentification.check(SEMParameterTable(model: SEMModel(parsing: text), dataNames: names))
    }

    /// A loop path fixed at a value needs no instrument (y1 − 0.5·y2 is observed): `y1 ~ 0.5*y2 + x1 + x2` excludes no
    /// exogenous variable yet is identified, where the same equation with y2 free is not.
    func testFixedLoopPathsNeedNoInstrument() throws {
        let names = ["y1", "y2", "x1", "x2"]
        XCTAssertNoThrow(try check("y1 ~ 0.5*y2 + x1 + x2\ny2 ~ y1 + x2", names: names))
        XCTAssertThrowsError(try check("y1 ~ y2 + x1 + x2\ny2 ~ y1 + x2", names: names)) { error in
            XCTAssertTrue("\(error)".contains("equation y1 (line 1, column 1) is not identified"), "\(error)")
        }
    }

    /// Gains that make I − B singular are named as such before any instrument is asked for.
    func testSingularLoopIsNamedBeforeTheOrderCondition() throws {
        XCTAssertThrowsError(try check("m ~ 1*y + z\ny ~ 1*m", names: ["m", "y", "z"])) { error in
            guard case .singularLoop = error as? SEMError else { return XCTFail("\(error)") }
        }
    }
}
