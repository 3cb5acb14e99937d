import XCTest

@testable import Statistics

/// lavaan model syntax: parsing, positions and positioned errors.
final class SEMSyntaxTests: XCTestCase {
    func position(_ line: Int, _ column: Int) -> SEMSourcePosition { SEMSourcePosition(line: line, column: column) }

    func testStatementsCommentsContinuationsAndModifiers() throws {
        let text = """
            # measurement
            f =~ x1 + 0.7*x2 +
                 a*x3 ; y ~ f   ! lavaan also takes '!' comments
            y ~ 1 + -1*x1
            y1 + y2 ~~ y
            """
        let model = try SEMModel(parsing: text)
        let summary = model.relations.map { "\($0.lhs) \($0.op.rawValue) \($0.rhs)" }
        XCTAssertEqual(summary, ["f =~ x1", "f =~ x2", "f =~ x3", "y ~ f", "y ~1 ", "y ~ x1", "y1 ~~ y", "y2 ~~ y"])
        XCTAssertEqual(
            model.relations.map(\.modifiers), [[], [.fixed(0.7)], [.label("a")], [], [], [.fixed(-1)], [], []])
        // Positions of every term: 1-based line and column.
        XCTAssertEqual(
            model.relations.map(\.rhsPosition),
            [
                position(2, 6), position(2, 15), position(3, 8), position(3, 17), position(4, 5),
                position(4, 12), position(5, 12), position(5, 12)
            ])
        XCTAssertEqual(
            model.relations.map(\.lhsPosition),
            [
                position(2, 1), position(2, 1), position(2, 1), position(3, 13), position(4, 1),
                position(4, 1), position(5, 1), position(5, 6)
            ])
    }

    func testSyntaxErrorsNameLineAndColumn() {
        let cases: [(String, SEMError)] = [
            ("y ~ x1 +\n  x2 x3", .syntax(line: 2, column: 6, message: "expected '+', ';' or a new line, found 'x3'")),
            ("y ~~", .syntax(line: 1, column: 5, message: "expected a variable name, found the end of the model")),
            (
                "f =~ x1 + x2\nab : a*b",
                .syntax(line: 2, column: 4, message: "unexpected ':'; did you mean ':=' (a defined parameter)?")
            ),
            ("y = x", .syntax(line: 1, column: 3, message: "unexpected '='; did you mean '=~' or '=='?")),
            (
                "y x",
                .syntax(line: 1, column: 3, message: "expected an operator (=~, ~, ~~, := or ==) after 'y', found 'x'")
            ),
            ("f =~ 2 + x", .syntax(line: 1, column: 6, message: "expected a variable name, found '2'")),
            (
                "y ~ c(1)*x",
                .syntax(
                    line: 1, column: 5,
                    message:
                        "unexpected 'c(': of lavaan's modifier functions only start(…) is supported (c(…), label(…), equal(…) are not)"
                )
            ),
            ("y ~ x\nd := a*(b", .syntax(line: 2, column: 10, message: "expected ')', found the end of the model")),
            (
                "y ~ x\nd := foo(a)",
                .syntax(line: 2, column: 6, message: "unknown function 'foo' (expressions may use abs, exp, log, sqrt)")
            ),
            (
                "y ~ x\na == ",
                .syntax(
                    line: 2, column: 6,
                    message: "expected a number, a label or '(' in an expression, found the end of the model")
            ),
            (
                "y ~ 0.5*0.6*x",
                .syntax(
                    line: 1, column: 9,
                    message:
                        "the fixed value 0.6 and the fixed value 0.5 (column 5) on one term: a parameter has one value")
            ),
            (
                "y ~ a*b*x",
                .syntax(
                    line: 1, column: 7,
                    message: "two labels ('a' at column 5 and 'b') on one term: a parameter has one label")
            ),
            (
                "y ~ NA*0.5*x",
                .syntax(
                    line: 1, column: 8,
                    message: "the fixed value 0.5 and NA (column 5) on one term: a parameter has one value")
            ),
            ("y ~ x < 1", .syntax(line: 1, column: 7, message: "'<' and '<~' are not supported")),
            ("y ~ 1e400*x", .syntax(line: 1, column: 5, message: "number out of range '1e400'")),
            (
                "y ~ x\nd := " + String(repeating: "(", count: 40) + "a" + String(repeating: ")", count: 40),
                .syntax(line: 2, column: 38, message: "expression nested too deeply (more than 32 levels)")
            ),
            (
                "y ~ x\nd := " + Array(repeating: "a", count: 200).joined(separator: "+"),
                .syntax(
                    line: 2, column: 6,
                    message: "expression too long (more than 256 symbols); split it into several definitions")
            ),
            (
                "~ x",
                .syntax(line: 1, column: 1, message: "expected a variable name at the start of a statement, found '~'")
            ),
            ("# only a comment\n", .emptyModel)
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try SEMModel(parsing: text), "model \(text.debugDescription)") { error in
                XCTAssertEqual(error as? SEMError, expected, "model \(text.debugDescription)")
            }
        }
        XCTAssertEqual(SEMError.syntax(line: 2, column: 6, message: "m").description, "2:6: m")
    }

    func testUnknownVariableNamesLineAndColumn() {
        let moments = MomentMatrix(dimension: 2, count: 10, mean: [0, 0], comoment: [10, 1, 1, 10])
        XCTAssertThrowsError(try SEM.fit(syntax: "y ~ x1\n  y ~~ x9", moments: moments, names: ["y", "x1"])) { error in
            XCTAssertEqual(error as? SEMError, .unknownVariable(name: "x9", line: 2, column: 8))
            XCTAssertEqual(
                "\(error)",
                "2:8: unknown variable 'x9': it is not a data column and not a latent variable (define latent variables with =~)"
            )
        }
        XCTAssertThrowsError(try SEM.fit(syntax: "y =~ x1", moments: moments, names: ["y", "x1"])) { error in
            XCTAssertEqual(error as? SEMError, .latentIsObserved(name: "y", line: 1, column: 1))
        }
        XCTAssertThrowsError(try SEM.fit(syntax: "y ~ x1", moments: moments, names: ["y"])) { error in
            XCTAssertEqual(error as? SEMError, .namesMismatch(message: "1 names for a moment matrix of 2 columns"))
        }
    }

    /// lavaan's table for `f =~ a + b + c; y ~ f + x; z ~ y + x`: the user's rows, then residual variances of the
    /// non-exogenous observed variables and the latent, the fixed.x block, intercepts. (Checked with lavaan 0.6.14
    /// `parTable(sem(model, meanstructure = TRUE))`; the reference fits cover the same rules on real data.)
    func testDefaultParameterTable() throws {
        let model = try SEMModel(parsing: "f =~ a + b + c; y ~ f + x; z ~ y + x")
        let table = try SEMParameterTable(model: model, dataNames: ["x", "z", "y", "c", "b", "a"])
        XCTAssertEqual(table.observed, ["a", "b", "c", "y", "z", "x"])
        XCTAssertEqual(table.exogenousObserved, ["x"])
        XCTAssertEqual(
            table.rows.map(\.name),
            [
                "f =~ a", "f =~ b", "f =~ c", "y ~ f", "y ~ x", "z ~ y", "z ~ x",
                "a ~~ a", "b ~~ b", "c ~~ c", "y ~~ y", "z ~~ z", "f ~~ f", "x ~~ x",
                "a ~1", "b ~1", "c ~1", "y ~1", "z ~1", "x ~1", "f ~1"
            ])
        XCTAssertEqual(table.rows.map(\.free), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 13, 14, 15, 16, 17, 0, 0])
        XCTAssertEqual(table.rows.filter(\.exogenous).map(\.name), ["x ~~ x", "x ~1"])
        XCTAssertEqual(table.momentCount, 6 * 7 / 2 + 6 - 2)
    }

    /// Modifiers, definitions and constraints that cannot mean one parameter are refused at their place.
    func testConflictingModifiersLabelsAndConstraintsAreRefused() {
        let names = ["x1", "x2", "x3", "x4", "y"]
        let cases: [(String, SEMError)] = [
            (
                "f =~ x1 + 0.6*x2 + 0.5*x2 + x3",
                .syntax(line: 1, column: 24, message: "'f =~ x2' is fixed at 0.6 and at 0.5: a parameter has one value")
            ),
            (
                "f =~ x1 + a*x2 +\n b*x2 + x3",
                .syntax(line: 2, column: 4, message: "'f =~ x2' has two labels, 'a' and 'b': a parameter has one label")
            ),
            (
                "f =~ NA*x1 + 1*x1 + x2 + x3",
                .syntax(line: 1, column: 16, message: "'f =~ x1' is both free (NA) and fixed at 1")
            ),
            (
                "f =~ x1 + x2 + x3\nx1 ~~ start(1)*x1 + start(2)*x1",
                .syntax(line: 2, column: 30, message: "'x1 ~~ x1' has two starting values, 1 and 2")
            ),
            (
                "f =~ x1 + x2 + x2 + x3",
                .syntax(line: 1, column: 16, message: "duplicate model element 'f =~ x2' (also at line 1, column 11)")
            ),
            (
                "f =~ x1 + 0.5*a*x2 + x3\ny ~ 0.7*a*f",
                .syntax(
                    line: 2, column: 11,
                    message:
                        "label 'a' is fixed at 0.5 (f =~ x2 at line 1, column 17) and at 0.7 (y ~ f): a label names one parameter"
                )
            ),
            (
                "f =~ x1 + a*x2 + x3\nd := a*b",
                .syntax(
                    line: 2, column: 8,
                    message:
                        "unknown label 'b' in the definition of 'd': labels are written as a*x in the model, e.g. y ~ a*x"
                )
            ),
            (
                "f =~ x1 + a*x2 + x3\nd := a*e\ne := 2*a",
                .syntax(
                    line: 2, column: 8,
                    message:
                        "unknown label 'e' in the definition of 'd': it is defined later; define it before it is used")
            ),
            (
                "f =~ x1 + a*x2 + x3\nd := d + a",
                .syntax(
                    line: 2, column: 6,
                    message: "unknown label 'd' in the definition of 'd': a definition cannot use itself")
            ),
            (
                "f =~ x1 + a*x2 + x3\na := 2",
                .syntax(
                    line: 2, column: 1,
                    message: "'a' is already a parameter label; a defined parameter needs a new name")
            ),
            (
                "f =~ x1 + a*x2 + b*x3\na == b^2",
                .syntax(
                    line: 2, column: 3,
                    message:
                        "the constraint 'a==b^2' is not linear in the labels; only linear equality constraints (a == b, a == 2*b, a + b == 1) are supported"
                )
            ),
            (
                "f =~ x1 + a*x2 + b*x3\na == 2\nb == a\nb == 3",
                .syntax(
                    line: 4, column: 3,
                    message: "the constraint 'b==3' contradicts the model's fixed values or the other constraints")
            ),
            (
                "f =~ x1 + a*x2 + b*x3\nc == a",
                .syntax(
                    line: 2, column: 1,
                    message: "unknown label 'c' in a constraint: labels are written as a*x in the model, e.g. y ~ a*x")
            )
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(
                try SEMParameterTable(model: SEMModel(parsing: text), dataNames: names), text.debugDescription
            ) { error in
                XCTAssertEqual(error as? SEMError, expected, text.debugDescription)
            }
        }
    }

    /// Repeated and chained modifiers merge; a label on a fixed marker fixes every row with it; `==` reparameterises.
    func testMergedModifiersAndConstraintsInTheTable() throws {
        let names = ["x1", "x2", "x3", "x4", "y"]
        func table(_ text: String, stdLV: Bool = false) throws -> SEMParameterTable {
            try SEMParameterTable(model: SEMModel(parsing: text), dataNames: names, stdLV: stdLV)
        }
        XCTAssertEqual(
            try SEMModel(parsing: "y ~ .5*x + start(-.25)*z").relations.map(\.modifiers),
            [[.fixed(0.5)], [.start(-0.25)]])
        let merged = try table("f =~ x1 + 0.6*x2 + lam2*x2 + start(0.9)*x3 + NA*x4")
        let loadings = merged.rows.filter { $0.op == .measuredBy }
        XCTAssertEqual(loadings.map(\.free), [0, 0, 1, 2])
        XCTAssertEqual(loadings.map(\.fixedValue), [1, 0.6, nil, nil])
        XCTAssertEqual(loadings.map(\.label), ["", "lam2", "", ""])
        XCTAssertEqual(loadings.map(\.start), [nil, nil, 0.9, nil])
        // start() on the marker sets its fixed value (lavaan's ustart); NA frees it.
        let marker = try table("f =~ start(0.5)*x1 + x2 + x3").rows.filter { $0.op == .measuredBy }
        XCTAssertEqual(marker.map(\.free), [0, 1, 2])
        XCTAssertEqual(marker.first?.fixedValue, 0.5)
        // A free marker whose scale comes from a constraint (a == 1) passes the scaling rule.
        XCTAssertNoThrow(try SEMIdentification.check(try table("f =~ NA*x1 + a*x2 + x3\na == 1")))
        // std.lv: every loading free, the latent variance fixed at 1 (also when the user writes it).
        let std = try table("f =~ x1 + x2 + x3\nf ~~ f", stdLV: true)
        XCTAssertEqual(std.rows.filter { $0.op == .measuredBy }.map(\.free), [1, 2, 3])
        XCTAssertEqual(std.rows.first { $0.name == "f ~~ f" }?.fixedValue, 1)
        // a == 2*b + 1 and b == c: b and c are one parameter, a a function of it.
        let constrained = try table("f =~ x1 + a*x2 + b*x3 + c*x4\na == 2*b + 1\nb == c")
        XCTAssertEqual(constrained.freeCount, 3 + 4 + 1 + 4)  // loadings, residual variances, f ~~ f, intercepts
        XCTAssertEqual(constrained.parameterCount, 12 - 2)
        let rep = constrained.reparameterization
        let theta = rep.expand(rep.restrict([9, 0.5, 0.7] + [Double](repeating: 1, count: 9)))
        XCTAssertEqual(Array(theta[0..<3]), [2.4, 0.7, 0.7])
        XCTAssertEqual(Array(theta[3...]), [Double](repeating: 1, count: 9))
        // A redundant constraint is not counted twice (rank).
        XCTAssertEqual(try table("f =~ x1 + a*x2 + b*x3 + x4\na == b\nb == a").parameterCount, 12 - 1)
    }
}
