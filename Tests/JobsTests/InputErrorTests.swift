import Foundation
import Jobs
import XCTest

/// Every kind of bad input is an `InputError` that names the file and, where there is one, the line and column.
final class InputErrorTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-input-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    /// A 40-row cut of the OBD fixture with at least one click, edited by `edit` (row 0 is the header).
    func data(_ name: String, edit: (inout [[String]]) -> Void = { _ in }) throws -> String {
        let text = try String(contentsOfFile: Fixtures.path("obd/random_10k.csv"), encoding: .utf8)
        var rows = text.split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        let clicked = rows.dropFirst().filter { $0[3] == "1" }.prefix(3)
        rows = [rows[0]] + Array(rows[1..<38]) + clicked
        edit(&rows)
        let path = dir.appendingPathComponent(name).path
        try (rows.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n").write(
            toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func failure(
        data: String, kind: String = "ols", formula: String = "click ~ C(position)", file: StaticString = #filePath,
        line: UInt = #line
    ) throws -> InputError {
        let job = try Fixtures.writeJob(data: data, kind: kind, formula: formula, folds: 2, shards: 4)
        do {
            _ = try Fixtures.run(jobPath: job, workers: 2)
        } catch let e as InputError {
            return e
        }
        XCTFail("no input error", file: file, line: line)
        return InputError(file: "", "none")
    }

    func testMissingFile() throws {
        let e = try failure(data: dir.appendingPathComponent("nothere.csv").path)
        // Points at data.path in the job file (line 2, after `path = `) and names the missing file.
        XCTAssertTrue(e.file.hasSuffix("job.toml"))
        XCTAssertEqual([e.line, e.column], [2, 8])
        XCTAssertTrue(e.message.contains("nothere.csv") && e.message.contains("no such file"), e.message)
    }

    func testEmptyFileAndHeaderOnly() throws {
        let empty = dir.appendingPathComponent("empty.csv").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        let e1 = try failure(data: empty)
        XCTAssertEqual(e1.line, 1)
        XCTAssertTrue(e1.message.contains("empty"), e1.message)
        let header = try data("header.csv") { $0 = [$0[0]] }
        let e2 = try failure(data: header)
        XCTAssertEqual(e2.line, 2)
        XCTAssertTrue(e2.message.contains("no data rows"), e2.message)
    }

    func testMissingUserKeyColumn() throws {
        let path = try data("nokey.csv") { rows in for i in rows.indices { rows[i].remove(at: 6) } }  // drop user_feature_1
        let e = try failure(data: path)
        XCTAssertEqual(e.line, 1)
        XCTAssertTrue(e.message.contains("'user_feature_1'"), e.message)
    }

    func testTextInANumericTermNamesTheCell() throws {
        let path = try data("text.csv") { $0[4][2] = "abc" }  // line 5, column 3 (position)
        let e = try failure(data: path, formula: "click ~ position")
        XCTAssertEqual([e.line, e.column], [5, 3])
        XCTAssertTrue(e.message.contains("'abc'") && e.message.contains("position"), e.message)
    }

    func testMissingOutcomeNamesTheCell() throws {
        let path = try data("nan.csv") { $0[7][3] = "NaN" }  // line 8, column 4 (click)
        let e = try failure(data: path)
        XCTAssertEqual([e.line, e.column], [8, 4])
        XCTAssertTrue(e.message.contains("missing value"), e.message)
        let empty = try data("emptycell.csv") { $0[9][3] = "" }
        XCTAssertEqual(try failure(data: empty).line, 10)
    }

    func testLogitOutcomeMustBeBinary() throws {
        let path = try data("two.csv") { $0[3][3] = "2" }
        let e = try failure(data: path, kind: "logit")
        XCTAssertEqual([e.line, e.column], [4, 4])
        XCTAssertTrue(e.message.contains("0 or 1"), e.message)
    }

    func testFormulaSyntaxErrorPointsIntoTheJobFile() throws {
        let path = try data("ok.csv")
        let e = try failure(data: path, formula: "click ~ C(position) + (item_id")
        XCTAssertTrue(e.file.hasSuffix("job.toml"))
        // formula = "click ~ ..." is on line 8; the string starts at column 12; the error is at its end (char 31).
        XCTAssertEqual([e.line, e.column], [8, 12 + 31 - 1])
        XCTAssertTrue(e.message.contains("expected ')'"), e.message)
    }

    func testUnknownColumnInFormula() throws {
        let e = try failure(data: try data("ok.csv"), formula: "click ~ C(position) + foo")
        XCTAssertEqual([e.line, e.column], [8, 12 + 23 - 1])
        XCTAssertTrue(e.message.contains("unknown column 'foo'"), e.message)
    }

    func testCollinearTermsAreNamed() throws {
        // propensity_score is 0.0125 in every row of the uniform-random log: a copy of the intercept.
        let e = try failure(data: try data("ok.csv"), formula: "click ~ C(position) + propensity_score")
        XCTAssertTrue(
            e.message.contains("Intercept") && e.message.contains("propensity_score")
                && e.message.contains("collinear"), e.message)
        let e2 = try failure(data: try data("ok.csv"), formula: "click ~ item_id + I(2 * item_id)")
        XCTAssertTrue(e2.message.contains("item_id, I(2 * item_id)"), e2.message)
    }

    func testSeparationNamesTheLevel() throws {
        let reference = try Fixtures.writeJob(
            data: Fixtures.path("obd/random_10k.csv"), kind: "logit",
            formula: "click ~ C(position) + C(user_feature_0)", folds: 0)
        XCTAssertThrowsError(try Fixtures.run(jobPath: reference)) { error in
            let message = (error as? InputError)?.message ?? "\(error)"
            XCTAssertTrue(
                message.contains("separation") && message.contains("4ae385d792f81dde128124a925a830de")
                    && message.contains("79 rows"), message)
        }
    }

    func testNumericSeparationIsCaughtByDivergence() throws {
        // user-item_affinity_69 is positive in 48 rows, none clicked: statsmodels does not converge (see
        // obd_models.json).
        let job = try Fixtures.writeJob(
            data: Fixtures.path("obd/random_10k.csv"), kind: "logit",
            formula: "click ~ position + item_id + Q(\"user-item_affinity_69\")", folds: 0)
        XCTAssertThrowsError(try Fixtures.run(jobPath: job)) { error in
            let message = (error as? InputError)?.message ?? "\(error)"
            XCTAssertTrue(message.contains("separation") && message.contains("Q(\"user-item_affinity_69\")"), message)
        }
    }

    func testTooManyFoldsAndDuplicateHeaderAndOverflow() throws {
        let path = try data("few.csv") { $0 = Array($0.prefix(4)) }  // 3 data rows
        let job = try Fixtures.writeJob(data: path, kind: "ols", formula: "click ~ item_id", folds: 5, shards: 2)
        XCTAssertThrowsError(try Fixtures.run(jobPath: job)) { error in
            let e = error as! InputError
            XCTAssertTrue(e.message.contains("fold 3") && e.message.contains("too few rows"), e.message)
        }
        let dup = try data("dup.csv") { rows in rows[0][1] = "position" }  // item_id renamed: two 'position' columns
        let e = try failure(data: dup, formula: "click ~ position")
        XCTAssertEqual([e.line, e.column], [1, 3])
        XCTAssertTrue(e.message.contains("more than once"), e.message)
        let huge = try data("huge.csv") { $0[5][1] = "1e300" }
        let e2 = try failure(data: huge, formula: "click ~ item_id")
        XCTAssertTrue(e2.message.contains("overflow in item_id"), e2.message)
        let e3 = try failure(data: try data("ok.csv"), formula: "click ~ 0")
        XCTAssertTrue(e3.message.contains("no terms"), e3.message)
    }

    func testJobFileErrorsNameLineAndColumn() throws {
        let path = dir.appendingPathComponent("bad.toml").path
        try "[data]\npath = \"x.csv\"\nuser_key = [\"a\"]\n[model\nkind = \"ols\"\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JobSpec.load(path: path)) { error in
            let e = error as! InputError
            XCTAssertEqual(e.line, 4)
            XCTAssertTrue(e.message.contains("TOML"), e.message)
        }
        try "[data]\npath = \"x.csv\"\nuser_key = [\"a\"]\n[model]\nkind = \"probit\"\nformula = \"y ~ x\"\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JobSpec.load(path: path)) { error in
            let e = error as! InputError
            XCTAssertEqual([e.line, e.column], [5, 8])
            XCTAssertTrue(e.message.contains("probit"), e.message)
        }
        try
            "[data]\npath = \"x.csv\"\nuser_key = [\"a\"]\n[model]\nkind = \"ols\"\nformula = \"y ~ x\"\n[cv]\nfolds = 1\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JobSpec.load(path: path)) { error in
            XCTAssertEqual((error as! InputError).line, 8)
        }
    }
}
