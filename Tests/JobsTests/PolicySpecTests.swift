import CausaTestSupport
import Foundation
import XCTest

@testable import Jobs

/// The `[policy]` table: defaults, and every wrong key or value an input error at its line and column.
final class PolicySpecTests: XCTestCase {
    func job(_ policy: String, formula: String = "click ~ x") -> String {
        """
        [data]
        path = "d.csv"
        [model]
        kind = "ols"
        formula = "\(formula)"
        [policy]
        \(policy)
        """
    }

    func testDefaults() throws {
        let spec = try JobSpec.parse(text: job("action = \"item\"\npropensity = \"p\""), path: "/j/job.toml")
        let p = try XCTUnwrap(spec.policy)
        XCTAssertEqual(p.reward, "click")  // the model's outcome
        XCTAssertEqual(p.evaluate, [.logging, .uniform])
        XCTAssertNil(p.estimators)
        XCTAssertNil(p.rule.clip)
        XCTAssertEqual(p.switchTau, 1)
        XCTAssertEqual(p.confidence, 0.95)
        XCTAssertEqual(p.mipsClusters, 10)
        XCTAssertEqual(p.missing, .error)
        let files = try JobSpec.parse(
            text: job("action = \"item\"\npropensity = \"p\"\nevaluate = [\"pol/a.csv\", \"uniform\"]"),
            path: "/j/job.toml")
        XCTAssertEqual(files.policy?.evaluate, [.file(written: "pol/a.csv", resolved: "/j/pol/a.csv"), .uniform])
    }

    func testWrongKeysAndValuesArePositioned() throws {
        let base = "action = \"item\"\npropensity = \"p\"\n"
        let cases: [(String, Int, Int, String)] = [
            ("propensity = \"p\"", 6, 1, "missing key 'action'"),
            ("action = \"item\"", 6, 1, "missing key 'propensity'"),
            (base + "clip = 0", 9, 8, "'policy.clip' must be positive"),
            (base + "clip = \"big\"", 9, 8, "'policy.clip' must be a number"),
            (base + "estimators = [\"ips\"]", 9, 14, "unknown estimator 'ips'"),
            (base + "estimators = [\"ipw\", \"ipw\"]", 9, 14, "names 'ipw' twice"),
            (base + "positions = [1]", 9, 13, "needs 'policy.position'"),
            (base + "position = \"pos\"\npositions = [-1]", 10, 13, "whole numbers ≥ 0"),
            (base + "evaluate = []", 9, 12, "non-empty array"),
            (base + "evaluate = [\"uniform\", \"uniform\"]", 9, 12, "names \"uniform\" twice"),
            (base + "confidence = 1", 9, 14, "between 0 and 1"),
            (base + "missing = \"skip\"", 9, 11, "unknown policy.missing 'skip'"),
            (base + "logging_policy = \"logging\"", 9, 18, "\"uniform\" or a policy file"),
            (base + "mips_clusters = 0", 9, 17, "1...10000"),
            (base + "switch_tau = -1", 9, 14, "≥ 0"),
            (base + "colour = 1", 9, 10, "unknown key 'colour' in [policy]"),
            ("action = \"p\"\npropensity = \"p\"", 6, 1, "names column 'p' for two roles")
        ]
        for (text, line, column, words) in cases {
            do {
                _ = try JobSpec.parse(text: job(text), path: "job.toml")
                XCTFail("no error for \(text)")
            } catch let e as InputError {
                XCTAssertEqual([e.line, e.column], [line, column], "\(text): \(e)")
                XCTAssertTrue(e.message.contains(words), "\(text): \(e.message)")
            }
        }
        // An outcome that is an expression needs policy.reward.
        XCTAssertThrowsError(try JobSpec.parse(text: job(base, formula: "np.log(click) ~ x"), path: "job.toml")) {
            XCTAssertTrue(($0 as! InputError).message.contains("needs 'reward'"), "\($0)")
        }
    }

    /// Columns of `[policy]` are checked against the data header before any row moves.
    func testPolicyColumnsMustBeInTheHeader() throws {
        let dir = try Fixtures.folder()
        _ = try Fixtures.write("click,x,item,p\n1,2,a,0.5\n0,1,b,0.5\n", "d.csv", in: dir)
        let path = try Fixtures.write(job("action = \"item\"\npropensity = \"prop\""), "job.toml", in: dir)
        XCTAssertThrowsError(try PreparedJob(job: try JobSpec.load(path: path), jobID: "t")) {
            let e = $0 as! InputError
            XCTAssertEqual([e.file, "\(e.line ?? 0)", "\(e.column ?? 0)"], [path, "8", "14"], "\(e)")
            XCTAssertTrue(e.message.contains("no column 'prop'"), e.message)
        }
        let missingFile = try Fixtures.write(
            job("action = \"item\"\npropensity = \"p\"\nevaluate = [\"nope.csv\"]"), "job2.toml", in: dir)
        XCTAssertThrowsError(try PreparedJob(job: try JobSpec.load(path: missingFile), jobID: "t")) {
            let e = $0 as! InputError
            XCTAssertEqual(e.line, 9, "\(e)")
            XCTAssertTrue(e.message.contains("no such policy file: nope.csv"), e.message)
        }
    }
}
