import XCTest

@testable import Statistics

final class DesignMatrixSpecTests: XCTestCase {
    /// Hand-built column facts: y, x numeric; b integer-valued with levels 1, 2, 3; g text with levels u, v.
    private let info: [String: ColumnInfo] = [
        "y": ColumnInfo(isNumeric: true, isIntegral: false, levels: []),
        "x": ColumnInfo(isNumeric: true, isIntegral: false, levels: []),
        "b": ColumnInfo(isNumeric: true, isIntegral: true, levels: [.number(1), .number(2), .number(3)]),
        "g": ColumnInfo(isNumeric: false, isIntegral: false, levels: [.string("u"), .string("v")])
    ]

    private func spec(_ text: String) throws -> DesignMatrixSpec {
        try DesignMatrixSpec(formula: try Formula(text), columns: info)
    }

    /// Fills one row from a dictionary of column values, in the spec's data-column order.
    private func fill(_ s: DesignMatrixSpec, _ values: [String: FactorValue]) throws -> (row: [Double], y: Double) {
        var row = [Double](repeating: .nan, count: s.width)
        let y = try s.fill(values: s.dataColumns.map { values[$0]! }, row: &row)
        return (row, y)
    }

    func testNamesFollowPatsy() throws {
        // Expected names written by hand from patsy's build.py/redundancy.py rules (and
        // Tests/Fixtures/reference/patsy_names.json).
        let cases: [(String, [String])] = [
            ("y ~ C(b) + x", ["Intercept", "C(b)[T.2]", "C(b)[T.3]", "x"]),
            ("y ~ x + C(b)", ["Intercept", "C(b)[T.2]", "C(b)[T.3]", "x"]),
            ("y ~ I(b == 2) + x", ["Intercept", "I(b == 2)[T.True]", "x"]),
            (
                "y ~ C(b, Treatment(reference=2))",
                ["Intercept", "C(b, Treatment(reference=2))[T.1]", "C(b, Treatment(reference=2))[T.3]"]
            ),
            ("y ~ g", ["Intercept", "g[T.v]"]),
            ("y ~ g - 1", ["g[u]", "g[v]"]),
            ("y ~ g:x", ["Intercept", "g[u]:x", "g[v]:x"]),
            ("y ~ g*C(b)", ["Intercept", "g[T.v]", "C(b)[T.2]", "C(b)[T.3]", "g[T.v]:C(b)[T.2]", "g[T.v]:C(b)[T.3]"]),
            ("y ~ b", ["Intercept", "b"]),
            // patsy Treatment.code_with_intercept is the identity in the sorted level order, whatever the reference.
            (
                "y ~ C(b, Treatment(reference=2)) - 1",
                [
                    "C(b, Treatment(reference=2))[1]", "C(b, Treatment(reference=2))[2]",
                    "C(b, Treatment(reference=2))[3]"
                ]
            ),
            (
                "y ~ C(b, Treatment(reference=3)):x",
                [
                    "Intercept", "C(b, Treatment(reference=3))[1]:x",
                    "C(b, Treatment(reference=3))[2]:x", "C(b, Treatment(reference=3))[3]:x"
                ]
            )
        ]
        for (text, names) in cases {
            XCTAssertEqual(try spec(text).columnNames, names, text)
        }
    }

    func testFillTreatmentCoding() throws {
        let s = try spec("y ~ C(b) + x")
        XCTAssertEqual(s.dataColumns, ["y", "b", "x"])
        let cases: [(b: Double, x: Double, row: [Double])] = [
            (1, 0.5, [1, 0, 0, 0.5]),
            (2, -1, [1, 1, 0, -1]),
            (3, 2.25, [1, 0, 1, 2.25])
        ]
        for c in cases {
            let (row, y) = try fill(s, ["y": .number(7), "b": .number(c.b), "x": .number(c.x)])
            XCTAssertEqual(row, c.row, "b=\(c.b)")
            XCTAssertEqual(y, 7)
        }
    }

    func testFillBooleanTerm() throws {
        let s = try spec("y ~ I(b == 2) + x")
        XCTAssertEqual(try fill(s, ["y": .number(1), "b": .number(2), "x": .number(3)]).row, [1, 1, 3])
        XCTAssertEqual(try fill(s, ["y": .number(1), "b": .number(3), "x": .number(3)]).row, [1, 0, 3])
    }

    func testFillReferenceLevel() throws {
        let s = try spec("y ~ C(b, Treatment(reference=2))")
        for (b, row) in [(1.0, [1.0, 1, 0]), (2, [1, 0, 0]), (3, [1, 0, 1])] {
            XCTAssertEqual(try fill(s, ["y": .number(0), "b": .number(b)]).row, row, "b=\(b)")
        }
        let full = try spec("y ~ C(b, Treatment(reference=2)) - 1")
        for (b, row) in [(1.0, [1.0, 0, 0]), (2, [0, 1, 0]), (3, [0, 0, 1])] {
            XCTAssertEqual(try fill(full, ["y": .number(0), "b": .number(b)]).row, row, "full rank, b=\(b)")
        }
    }

    func testFillInteractionAndText() throws {
        let s = try spec("y ~ g:x + np.log(x)")
        XCTAssertEqual(s.columnNames, ["Intercept", "g[u]:x", "g[v]:x", "np.log(x)"])
        let (row, _) = try fill(s, ["y": .number(0), "g": .string("v"), "x": .number(4)])
        XCTAssertEqual(row[0...2], [1, 0, 4])
        XCTAssertEqual(row[3], log(4.0), accuracy: 1e-15)
    }

    func testFillRejectsAnUnknownLevel() throws {
        let s = try spec("y ~ C(b)")
        XCTAssertThrowsError(try fill(s, ["y": .number(0), "b": .number(4)])) { error in
            XCTAssertEqual(error as? FormulaError, FormulaError("value 4.0 of C(b) is not among its levels"))
        }
    }

    func testErrors() {
        let cases: [(String, FormulaError)] = [
            ("y ~ x + w", FormulaError("unknown column 'w'", at: 9)),
            ("w ~ x", FormulaError("unknown column 'w'", at: 1)),
            (
                "y ~ I(g + 1)",
                FormulaError("column 'g' is text; arithmetic needs numbers (use C(g) or a comparison in I(...))", at: 5)
            ),
            ("y ~ C(b, Treatment(reference=7))", FormulaError("reference level 7 does not occur in column 'b'", at: 5)),
            (
                "y ~ C(g, Treatment(reference='w'))",
                FormulaError("reference level w does not occur in column 'g'", at: 5)
            ),
            ("g ~ x", FormulaError("the outcome column 'g' is not numeric", at: 1)),
            ("C(y) ~ x", FormulaError("the outcome must be numeric, not categorical", at: 1))
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try spec(text), text) { error in
                XCTAssertEqual(error as? FormulaError, expected, text)
            }
        }
    }
}
