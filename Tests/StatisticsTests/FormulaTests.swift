import XCTest

@testable import Statistics

final class FormulaTests: XCTestCase {
    func testTermAlgebra() throws {
        // Expected term lists follow patsy's rules (desc.py): deduplicated in order of appearance, intercept first.
        let cases: [(String, [String])] = [
            ("y ~ a", ["Intercept", "a"]),
            ("y ~ a*b", ["Intercept", "a", "b", "a:b"]),
            ("y ~ (a+b)**2", ["Intercept", "a", "b", "a:b"]),
            ("y ~ (a+b+c)**2", ["Intercept", "a", "b", "c", "a:b", "a:c", "b:c"]),
            ("y ~ a - 1", ["a"]),
            ("y ~ -1 + a", ["a"]),
            ("y ~ 0 + a", ["a"]),
            ("y ~ a + 0", ["a"]),
            ("y ~ a - 1 + 1", ["Intercept", "a"]),
            ("y ~ a + b - a", ["Intercept", "b"]),
            ("y ~ a/b", ["Intercept", "a", "a:b"]),
            ("y ~ (a + b)/c", ["Intercept", "a", "b", "a:b:c"]),
            ("y ~ a:b + b:a", ["Intercept", "a:b"]),
            ("y ~ a + a", ["Intercept", "a"]),
            ("y ~ 1", ["Intercept"]),
            ("y ~ a*b - a:b", ["Intercept", "a", "b"])
        ]
        for (text, expected) in cases {
            let f = try Formula(text)
            XCTAssertEqual(f.terms.map(\.name), expected, text)
            XCTAssertEqual(f.outcome.name, "y", text)
            XCTAssertEqual(f.hasIntercept, expected.first == "Intercept", text)
        }
    }

    func testColumnsAndFactors() throws {
        let f = try Formula("np.log(y) ~ C(b) + I(x * z) + b:x")
        XCTAssertEqual(f.columns, ["y", "b", "x", "z"])
        XCTAssertEqual(f.factors.map(\.name), ["C(b)", "I(x * z)", "b", "x"])
    }

    func testFactorNamesAreNormalised() throws {
        let cases: [(String, String)] = [
            ("y ~ I(x==6)", "I(x == 6)"),
            ("y ~ np.log( z )", "np.log(z)"),
            ("y ~ C(b,Treatment(reference=2))", "C(b, Treatment(reference=2))"),
            ("y ~ I(-x+2*z)", "I(-x + 2 * z)"),
            ("y ~ I(x**2)", "I(x ** 2)"),
            ("y ~ C(g,Treatment('u'))", "C(g, Treatment('u'))"),
            ("y ~ Q('odd name')", "Q('odd name')")
        ]
        for (text, name) in cases {
            let f = try Formula(text)
            XCTAssertEqual(f.terms.map(\.name), ["Intercept", name], text)
        }
        // Spelling variants are one factor, hence one term.
        XCTAssertEqual(try Formula("y ~ I(x==6) + I(x == 6)").terms.map(\.name), ["Intercept", "I(x == 6)"])
    }

    func testFactorExpressions() throws {
        let t = try Formula("y ~ C(b,Treatment(reference=2))").terms[1].factors[0]
        XCTAssertTrue(t.forcedCategorical)
        XCTAssertEqual(t.reference, .number(2))
        XCTAssertEqual(t.expression, .column("b"))
        XCTAssertEqual(t.offset, 5)
        let g = try Formula("y ~ C(g, Treatment(reference='u'))").terms[1].factors[0]
        XCTAssertEqual(g.reference, .string("u"))
        let q = try Formula("y ~ Q('odd name')").terms[1].factors[0]
        XCTAssertEqual(q.expression, .column("odd name"))
        let i = try Formula("y ~ I(x == 6)").terms[1].factors[0]
        XCTAssertTrue(i.expression.isBoolean)
        XCTAssertEqual(i.expression, .binary("==", .column("x"), .literal(.number(6))))
        // Precedence: 1 + 2 * 3 ** 2 = 19; -2 ** 2 = -4 (Python: ** binds tighter than unary minus).
        let e = try Formula("y ~ I(1 + 2 * 3 ** 2 + -2 ** 2)").terms[1].factors[0].expression
        XCTAssertEqual(try e.evaluate { _ in .number(0) }, .number(15))
    }

    func testErrorsCarryTheirOffset() {
        // Offsets are 1-based character positions in the text.
        let cases: [(String, FormulaError)] = [
            ("y a", FormulaError("missing '~' between the outcome and the terms", at: 1)),
            ("~ a", FormulaError("missing outcome before '~'", at: 1)),
            ("y ~", FormulaError("no terms after '~'", at: 4)),
            ("y ~ a +", FormulaError("formula ends where a term was expected", at: 8)),
            ("y ~ (a", FormulaError("expected ')' before the end of the formula", at: 7)),
            (
                "y ~ 2",
                FormulaError(
                    "numbers in a formula must be 0 or 1 (for the intercept); use I(...) for arithmetic", at: 5)
            ),
            ("y ~ I(x +)", FormulaError("expression ends too early", at: 10)),
            ("y ~ I(x == \"a)", FormulaError("unterminated string literal", at: 12)),
            (
                "y ~ foo(x)",
                FormulaError("unknown function 'foo' (supported: np.log, np.exp, np.sqrt, np.abs, I, C, Q)", at: 5)
            ),
            ("y ~ a $ b", FormulaError("unexpected character '$'", at: 7)),
            ("y ~ a + I(x", FormulaError("unclosed '(' in I(...)", at: 10)),
            ("y ~ C(b, Sum)", FormulaError("only Treatment contrasts are supported in C(...)", at: 10)),
            ("y ~ a ** x", FormulaError("'**' needs a positive whole number on its right", at: 10)),
            ("y ~ a b", FormulaError("unexpected 'b'", at: 7))
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try Formula(text), text) { error in
                XCTAssertEqual(error as? FormulaError, expected, text)
            }
        }
    }

    func testErrorDescription() {
        XCTAssertEqual(
            FormulaError("no terms after '~'", at: 4).description, "formula, character 4: no terms after '~'")
        XCTAssertEqual(FormulaError("bad").description, "formula: bad")
    }
}
