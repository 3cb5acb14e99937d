import XCTest

@testable import Statistics

/// Formulas nested past `FormulaParser.maximumNesting` are refused at the first level too deep, instead of recursing
/// until the stack overflows (20,000 nested parentheses killed the coordinator with SIGSEGV).
final class FormulaNestingTests: XCTestCase {
    func nested(_ k: Int, _ inner: String = "x") -> String {
        String(repeating: "(", count: k) + inner + String(repeating: ")", count: k)
    }

    func testDeepParenthesesAreRefusedAtTheirPlace() throws {
        XCTAssertEqual(try Formula("y ~ " + nested(60)).terms.map(\.name), ["Intercept", "x"])
        for k in [64, 200, 20_000] {
            XCTAssertThrowsError(try Formula("y ~ " + nested(k))) { error in
                let e = error as! FormulaError
                XCTAssertEqual(e.message, "the formula is nested more than 64 levels deep")
                XCTAssertEqual(e.offset, 4 + 65, "where level 65 starts")
            }
        }
    }

    func testDeepExpressionsInsideCallsAreRefused() throws {
        XCTAssertEqual(try Formula("y ~ I(" + nested(50, "x + 1") + ")").terms.count, 2)
        for inner in [
            "I(" + nested(5_000) + ")", "I(" + String(repeating: "-", count: 5_000) + "x)",
            "np.log(" + nested(100) + ")"
        ] {
            XCTAssertThrowsError(try Formula("y ~ " + inner), inner.prefix(12).description) { error in
                XCTAssertEqual((error as? FormulaError)?.message, "the expression is nested more than 64 levels deep")
            }
        }
    }
}
