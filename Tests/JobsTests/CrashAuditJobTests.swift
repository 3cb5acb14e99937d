import Foundation
import Logging
import Statistics
import XCTest

@testable import Jobs

/// Issue 9, part 1: job-file values and wire-shaped requests that used to trap (or could) are errors.
final class CrashAuditJobTests: XCTestCase {
    func write(_ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("job.toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let head =
        "[data]\npath = \"\(Fixtures.path("toy/toy.csv"))\"\n[model]\nkind = \"ols\"\nformula = \"y ~ x\"\n"

    /// Integers at and beyond Int64's edge, and non-finite numbers, in every numeric key.
    func testExtremeNumbersInTheJobFileAreInputErrors() throws {
        let cases: [(String, Int, Int, String)] = [
            (
                "[cluster]\nshards = 9223372036854775807\n", 7, 10,
                "'cluster.shards' must be in 1...65536, got 9223372036854775807"
            ),
            ("[cluster]\nshards = -9223372036854775808\n", 7, 10, "must be in 1...65536"),
            ("[cluster]\nshards = 9223372036854775808\n", 7, 29, "not representable in 64 bits"),
            ("[cluster]\nshards = inf\n", 7, 10, "'cluster.shards' must be an integer"),
            ("[cluster]\nshards = nan\n", 7, 10, "'cluster.shards' must be an integer"),
            ("[cluster]\nshards = 1e400\n", 7, 15, "'1e400' could not be interpreted as a value"),
            ("[cv]\nfolds = 9223372036854775807\n", 7, 9, "'cv.folds' must be in 2...1000"),
            ("[cv]\nfolds = 0\n", 7, 9, "'cv.folds' must be in 2...1000"),
            (
                "[text]\nencoder = \"hashing\"\nuser_text = \"a\"\ncomponents = 9223372036854775807\n", 9, 14,
                "'text.components' must be in 1..."
            )
        ]
        for (tail, line, column, message) in cases {
            let path = try write(Self.head + tail)
            assertInputError(try JobSpec.load(path: path), file: path, line: line, column: column, contains: message)
        }
        let bayes =
            "[data]\npath = \"\(Fixtures.path("toy/toy.csv"))\"\n"
            + "[model]\nkind = \"bayes_linear\"\nformula = \"y ~ x\"\n"
        for (key, value, message) in [
            ("prior_precision", "inf", "must be a number"), ("prior_shape", "nan", "must be a number"),
            ("prior_scale", "-inf", "must be a number"), ("credible_level", "5e-324", "must be between 0 and 1"),
            ("prior_mean", "[1, nan]", "must be a number or an array of numbers")
        ] {
            let path = try write(bayes + "\(key) = \(value)\n")
            assertInputError(
                try JobSpec.load(path: path), file: path, line: 6, column: key.count + 4, contains: message)
        }
    }

    /// Prior values that overflow the conjugate update (10³⁰⁸) are refused at the key, not written as NaN.
    func testPriorValuesThatOverflowThePosteriorAreInputErrors() throws {
        let bayes =
            "[data]\npath = \"\(Fixtures.path("toy/toy.csv"))\"\n"
            + "[model]\nkind = \"bayes_linear\"\nformula = \"y ~ x\"\n"
        for (tail, key, line, column) in [
            ("prior_mean = [1e308, 1e308]\nprior_precision = 1e308\n", "prior_mean", 6, 14),
            ("prior_shape = 1e308\n", "prior_shape", 6, 15)
        ] {
            let path = try write(bayes + tail)
            assertInputError(
                try Fixtures.run(jobPath: path), file: path, line: line, column: column,
                contains: "model.\(key): the posterior is not finite")
        }
    }

    /// A request whose β does not fit the shard's design (only a faulty peer sends one) is a shard failure.
    func testWorkspaceRefusesRequestsOfTheWrongWidth() throws {
        let path = try write(Self.head)
        let prepared = try PreparedJob(job: try JobSpec.load(path: path), jobID: "audit")
        let ws = try ShardWorkspace(plan: prepared.plan)
        _ = try prepared.streamRows(batchRows: 256) { if $0.shard == 0 { ws.add($0) } }
        guard case .success = ws.answer(SummarizeRound.self, .init(), shard: 0) else { return XCTFail("no summary") }
        let schema = [
            ColumnSchema(name: "y", info: ColumnInfo(isNumeric: true, isIntegral: false, levels: [])),
            ColumnSchema(name: "x", info: ColumnInfo(isNumeric: true, isIntegral: false, levels: []))
        ]
        guard case .success = ws.answer(MomentsRound.self, .init(schema: schema), shard: 0) else {
            return XCTFail("no moments")
        }
        let zero3 = DesignCentre(high: [0, 0, 0], low: [0, 0, 0])
        let zero1 = DesignCentre(high: [0], low: [0])
        let residuals = ws.answer(ResidualsRound.self, .init(beta: [1, 2, 3], centre: zero3), shard: 0)
        let newton = ws.answer(NewtonRound.self, .init(fits: [NewtonFit(fit: -1, beta: [1])], centre: zero1), shard: 0)
        for (name, failure) in [("residuals", residuals.failure), ("newton", newton.failure)] {
            guard let f = failure else { return XCTFail("\(name): not a failure") }
            XCTAssertTrue(f.isInternal && f.message.contains("does not fit") || f.message.contains("β of"), f.message)
        }
        // A schema without a formula column.
        guard case .failure(let f) = ws.answer(MomentsRound.self, .init(schema: [schema[0]]), shard: 0) else {
            return XCTFail("not a failure")
        }
        XCTAssertTrue(f.message.contains("column 'x' is not in the job's plan or schema"), f.message)
    }
}

extension Result {
    /// The failure, or nil.
    var failure: Failure? {
        if case .failure(let f) = self { return f }
        return nil
    }
}
