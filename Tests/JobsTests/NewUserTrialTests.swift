import Foundation
import XCTest

@testable import Jobs

/// Problems a new user found in the text, SEM and Bayesian jobs (trial of 2026-11-29), each now an input error at its
/// place, a warning, or a correct result.
final class NewUserTrialTests: XCTestCase {
    func folder() throws -> URL { try Fixtures.folder() }

    func write(_ text: String, _ name: String, in dir: URL) throws -> String { try Fixtures.write(text, name, in: dir) }

    func testPriorMeanMustBeFinite() throws {
        let dir = try folder()
        let data = Fixtures.path("obd/random_300.csv")
        for value in ["inf", "nan", "-inf"] {
            let job = try write(
                "[data]\npath = \"\(data)\"\n[model]\nkind = \"bayes_linear\"\nformula = \"click ~ position\"\nprior_mean = \(value)\n",
                "job.toml", in: dir)
            assertInputError(
                try JobSpec.load(path: job), file: job, line: 6, column: 14, contains: "must be a finite number")
        }
    }

    func testUsersFileNeedsAUserKeyAndItsColumnsArePointedAtInTheJobFile() throws {
        let dir = try folder()
        _ = try write("u,q,y\n1,hello,1\n2,world,0\n", "rows.csv", in: dir)
        _ = try write("u,profile\n1,a reader\n2,a runner\n", "users.csv", in: dir)
        var job = try write(
            "[data]\npath = \"rows.csv\"\n[model]\nkind = \"ols\"\nformula = \"y ~ user_pc1\"\n[text]\nencoder = \"hashing\"\nusers_path = \"users.csv\"\nuser_text = [\"profile\"]\n",
            "a.toml", in: dir)
        assertInputError(
            try JobSpec.load(path: job), file: job, line: 8, column: 14,
            contains: "joined on data.user_key, and the job has none")
        job = try write(
            "[data]\npath = \"rows.csv\"\nuser_key = [\"u\"]\n[model]\nkind = \"ols\"\nformula = \"y ~ user_pc1\"\n[text]\nencoder = \"hashing\"\nusers_path = \"users.csv\"\nuser_text = [\"profil\"]\n",
            "b.toml", in: dir)
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: job), jobID: "t"), file: job, line: 10, column: 13,
            contains: "no column 'profil' in the header of")
        _ = try write("uid,profile\n1,a reader\n2,a runner\n", "users2.csv", in: dir)
        job = try write(
            "[data]\npath = \"rows.csv\"\nuser_key = [\"u\"]\n[model]\nkind = \"ols\"\nformula = \"y ~ user_pc1\"\n[text]\nencoder = \"hashing\"\nusers_path = \"users2.csv\"\nuser_text = [\"profile\"]\n",
            "c.toml", in: dir)
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: job), jobID: "t"), file: job, line: 3, column: 12,
            contains: "data.user_key: no column 'u'")
    }

    /// ("x, y", "z") and ("x", "y, z") are two users, not one written twice.
    func testCompositeKeysAreComparedFieldByField() throws {
        let dir = try folder()
        let users = try write("a,b,profile\n\"x, y\",z,one\nx,\"y, z\",two\n", "users.csv", in: dir)
        let catalog = try TextCatalog(path: users, keyColumns: ["a", "b"], textColumns: ["profile"], what: "user")
        XCTAssertEqual(catalog.entries.count, 2)
        XCTAssertNotEqual(catalog.entries[0].keyHash, catalog.entries[1].keyHash)
        let dup = try write("a,b,profile\nx,y,one\nx,y,two\n", "dup.csv", in: dir)
        assertInputError(
            try TextCatalog(path: dup, keyColumns: ["a", "b"], textColumns: ["profile"], what: "user"), file: dup,
            line: 3, column: 1,
            contains: "user key 'x, y' is also on line 2")
    }

    func testSEMRefusesTextVariablesDuplicatesAndSelfRegression() throws {
        let dir = try folder()
        _ = try write("x1,x2,txt\n1,2,a\n2,1,b\n3,5,a\n4,4,b\n", "d.csv", in: dir)
        var job = try write(
            "[data]\npath = \"d.csv\"\n[model]\nkind = \"sem\"\nsyntax = \"x1 ~ txt + x2\"\n", "a.toml", in: dir)
        assertInputError(
            try Fixtures.run(jobPath: job), file: dir.appendingPathComponent("d.csv").path, line: 2, column: 3,
            contains: "the SEM variable 'txt' must be numeric")
        job = try write(
            "[data]\npath = \"d.csv\"\n[model]\nkind = \"sem\"\nsyntax = \"x1 ~ x2 + x2\"\n", "b.toml", in: dir)
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: job), jobID: "t"), file: job, line: 5, column: 21,
            contains: "duplicate model element 'x1 ~ x2' (also at line 1, column 6)")
        job = try write(
            "[data]\npath = \"d.csv\"\n[model]\nkind = \"sem\"\nsyntax = \"x1 ~ x1 + x2\"\n", "c.toml", in: dir)
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: job), jobID: "t"), file: job, line: 5, column: 16,
            contains: "'x1' is regressed on itself")
        // Trailing spaces after the opening triple quote are the text's first line (TOML keeps them).
        job = try write(
            "[data]\npath = \"d.csv\"\n[model]\nkind = \"sem\"\nsyntax = \"\"\"  \nx1 ~ $ x2\n\"\"\"\n", "d.toml",
            in: dir)
        assertInputError(
            try PreparedJob(job: try JobSpec.load(path: job), jobID: "t"), file: job, line: 6, column: 6,
            contains: "model.syntax")
        job = try write("[data]\npath = \"d.csv\"\n[model]\nkind = \"ols\"\nsyntax = \"x1 ~ x2\"\n", "e.toml", in: dir)
        assertInputError(try JobSpec.load(path: job), file: job, line: 5, column: 10, contains: "is for kind = \"sem\"")
    }

    /// Review findings: recency weights measured from the latest row with text (no underflow to 0/0 when the latest
    /// row is blank), and texts whose vectors cancel (punctuation only, hashing encoder) count as no text.
    func testRecencyWithABlankLatestRowAndZeroVectorsAreNoText() throws {
        let dir = try folder()
        var rows = "u,t,q,item,y\n"
        for (i, u) in ["a", "b", "c", "d"].enumerated() {
            let (old, new) = i < 2 ? ("reads history books", "runs trails") : ("runs trails", "reads history books")
            rows += "\(u),0,\(old),i\(i % 2),1\n\(u),5,\(new),i\(i % 2),0\n\(u),10000,,i2,\(i % 2)\n"
        }
        _ = try write(rows, "rows.csv", in: dir)
        _ = try write("item,d\ni0,history books to read\ni1,trails to run\ni2,!!!\n", "items.csv", in: dir)
        let job = try write(
            """
            [data]
            path = "rows.csv"
            user_key = ["u"]
            [model]
            kind = "ols"
            formula = "y ~ affinity + item_pc1 + user_pc1"
            [text]
            encoder = "hashing"
            components = 1
            user_text = ["q"]
            combine = "recency"
            timestamp = "t"
            half_life_days = 0.001
            items_path = "items.csv"
            item_key = "item"
            item_text = ["d"]
            cache = false
            """, "job.toml", in: dir)
        let outcome = try Fixtures.run(jobPath: job, workers: 2)
        XCTAssertEqual(outcome.text?.users_with_text, 4)
        XCTAssertEqual(outcome.text?.items_without_text, 1)
        XCTAssertTrue(outcome.model.coefficients.allSatisfy { $0.estimate.isFinite })
    }

    /// A proper prior fits a singular design, with a warning naming the collinear columns.
    func testWeakPriorOnASingularDesignWarns() throws {
        let dir = try folder()
        var csv = "a,b,y\n"
        for i in 0..<40 { csv += "\(i),\(2 * i),\(Double(i) * 0.5 + Double(i % 3))\n" }
        _ = try write(csv, "d.csv", in: dir)
        let job = try write(
            "[data]\npath = \"d.csv\"\n[model]\nkind = \"bayes_linear\"\nformula = \"y ~ a + b\"\n", "job.toml", in: dir
        )
        let outcome = try Fixtures.run(jobPath: job)
        XCTAssertEqual(outcome.bayes?.warnings.count, 1)
        XCTAssertTrue(outcome.bayes!.warnings[0].contains("a, b are collinear"), outcome.bayes!.warnings[0])
        XCTAssertEqual(outcome.model.warnings, outcome.bayes!.warnings)
    }
}
