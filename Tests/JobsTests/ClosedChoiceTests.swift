import Foundation
import XCTest

@testable import Jobs

/// Closed choices of a job file are enums with camelCase Swift names and the job file's (and report's) snake_case
/// strings as raw values; a value outside a choice is an input error at its value's line and column.
final class ClosedChoiceTests: XCTestCase {
    /// A bayes_linear job with `[cv]` and `[text]` tables; `replace` swaps one line for a bad one.
    func text(replacing line: String, with bad: String) -> String {
        let lines = [
            "[data]",
            "path = \"d.csv\"",
            "format = \"csv\"",
            "source = \"file\"",
            "delimiter = \",\"",
            "user_key = [\"u\"]",
            "[model]",
            "kind = \"bayes_linear\"",
            "formula = \"y ~ user_pc1\"",
            "prior = \"flat\"",
            "[cv]",
            "folds = 2",
            "fold_by = \"user\"",
            "[text]",
            "encoder = \"hashing\"",
            "user_text = [\"t\"]",
            "combine = \"mean\""
        ]
        XCTAssertTrue(lines.contains(line), line)
        return lines.map { $0 == line ? bad : $0 }.joined(separator: "\n") + "\n"
    }

    func testValidChoicesParseToTheirCases() throws {
        let job = try JobSpec.parse(text: text(replacing: "folds = 2", with: "folds = 2"), path: "/tmp/choices.toml")
        XCTAssertEqual(job.kind, .bayesLinear)
        XCTAssertEqual(job.prior.kind, .flat)
        XCTAssertEqual(job.format, .csv)
        XCTAssertEqual(job.source, .file)
        XCTAssertEqual(job.delimiter, .comma)
        XCTAssertEqual(job.foldBy, .user)
        XCTAssertEqual(job.text?.encoder, .hashing)
        XCTAssertEqual(job.text?.combine, .mean)
        let recencyTable = "combine = \"recency\"\ntimestamp = \"t\"\nhalf_life_days = 3"
        let recency = try JobSpec.parse(
            text: text(replacing: "combine = \"mean\"", with: recencyTable), path: "/tmp/choices.toml")
        XCTAssertEqual(recency.text?.combine, .recency)
        let weak = try JobSpec.parse(text: text(replacing: "prior = \"flat\"", with: ""), path: "/tmp/choices.toml")
        XCTAssertEqual(weak.prior.kind, .weak, "the default prior")
    }

    /// The strings of job files and reports are the raw values, also through Codable.
    func testRawValuesAreTheJobFileStrings() throws {
        XCTAssertEqual(JobSpec.ModelKind.allCases.map(\.rawValue), ["ols", "logit", "sem", "bayes_linear"])
        XCTAssertEqual(JobSpec.BayesPrior.Kind.allCases.map(\.rawValue), ["weak", "flat"])
        XCTAssertEqual(JobSpec.FoldBy.allCases.map(\.rawValue), ["row", "user"])
        XCTAssertEqual(JobSpec.DataFormat.allCases.map(\.rawValue), ["csv"])
        XCTAssertEqual(TextSpec.Combine.allCases.map(\.rawValue), ["mean", "recency"])
        XCTAssertEqual(TextSpec.EncoderKind.allCases.map(\.rawValue), ["minilm", "hashing"])
        let json = try JSONEncoder().encode([JobSpec.ModelKind.bayesLinear])
        XCTAssertEqual(String(decoding: json, as: UTF8.self), #"["bayes_linear"]"#)
        XCTAssertEqual(try JSONDecoder().decode([JobSpec.BayesPrior.Kind].self, from: Data(#"["flat"]"#.utf8)), [.flat])
    }

    /// Each closed key with a value outside its choice: an input error at that line and the value's column (after
    /// "key = "), naming the key and the value.
    func testValuesOutsideAChoiceAreInputErrorsAtTheirKey() {
        let cases: [(line: String, bad: String, row: Int, message: String)] = [
            ("format = \"csv\"", "format = \"parquet\"", 3, "data.format 'parquet' is not supported (supported: csv)"),
            ("source = \"file\"", "source = \"db\"", 4, "unknown data.source 'db'"),
            ("delimiter = \",\"", "delimiter = \"#\"", 5, "unknown data.delimiter"),
            ("kind = \"bayes_linear\"", "kind = \"bayesLinear\"", 8, "unknown model.kind 'bayesLinear'"),
            ("prior = \"flat\"", "prior = \"strong\"", 10, "unknown model.prior 'strong' (expected weak or flat)"),
            ("fold_by = \"user\"", "fold_by = \"item\"", 13, "unknown cv.fold_by 'item'"),
            ("encoder = \"hashing\"", "encoder = \"bert\"", 15, "unknown text.encoder 'bert'"),
            ("combine = \"mean\"", "combine = \"median\"", 17, "unknown text.combine 'median'")
        ]
        for c in cases {
            let column = c.bad.distance(from: c.bad.startIndex, to: c.bad.range(of: "= ")!.upperBound) + 1
            assertInputError(
                try JobSpec.parse(text: text(replacing: c.line, with: c.bad), path: "/tmp/choices.toml"),
                file: "/tmp/choices.toml", line: c.row, column: column, contains: c.message)
        }
    }
}
