import Foundation
import XCTest

@testable import Jobs

/// Issue 9, part 1: job-file text cannot abort a process. Malformed table headers (field case C22) are refused by
/// the pre-scan with their position; the child-process parser turns a crash, a hang or nonsense into errors.
final class JobTextGuardTests: XCTestCase {
    /// C22's variants: verdicts and positions of Python's tomllib (Tests/Fixtures/cases/C22_header_variants.txt).
    func testMalformedTableHeadersAreInputErrorsAtTheirPosition() throws {
        let path = "/tmp/job.toml"
        let cases: [(String, Int, String)] = [
            ("[[[model]]", 3, "needs a table name"), ("[[[1]]]", 3, "needs a table name"),
            ("[[[a]]]", 3, "needs a table name"),
            ("[[[]]", 3, "needs a table name"), ("[[=", 3, "found '='"),
            ("[model]]", 8, "unexpected ']' after the table header"),
            ("[[model]", 8, "must end with ']]'"), ("[ [model]]", 3, "found '['"), ("[.a]", 2, "found '.'"),
            ("[a.]", 4, "found ']'"),
            ("[a b]", 4, "must end with ']'"), ("[a] x", 5, "only a comment may follow"),
            ("[\"a]", 2, "not closed on its line"),
            ("[", 2, "needs a table name"), ("[[a]]]", 6, "unexpected ']'")
        ]
        for (header, column, message) in cases {
            for text in [header + "\n", header, "name = 1\n\n" + header + "\n"] {
                let line = text.hasPrefix("name") ? 3 : 1
                assertInputError(
                    try JobTextGuard.prescan(text: text, path: path), file: path, line: line, column: column,
                    contains: message)
                assertInputError(
                    try JobTextGuard.parseInProcess(text: text, path: path), file: path, line: line, column: column,
                    contains: message)
            }
        }
        // A date, a space and one digit (found by the fuzz test: toml++ fails an assertion looking for a time).
        for text in [
            "a = 1979-05-27 5\n", "a = 1979-05-27 5", "a = [1979-05-27 5]", "a = 1979-05-2_7 5,",
            "x = 1\na =1979-05-27 5 # c\n"
        ] {
            let line = text.hasPrefix("x") ? 2 : 1
            let column = text.contains("[") ? 6 : (text.contains("=1979") ? 4 : 5)
            assertInputError(
                try JobTextGuard.prescan(text: text, path: path), file: path, line: line, column: column,
                contains: "neither a date nor a date-time")
        }
        for text in [
            "a = 1979-05-27 07:32:00\n", "a = 1979-05-27\n", "a = \"1979-05-27 5\"\n", "# 1979-05-27 5\n",
            "a = 1979-05-27T07:32:00 \n"
        ] {
            XCTAssertNoThrow(try JobTextGuard.prescan(text: text, path: path), text)
        }
        // '}' where an array value must start, and Unicode line separators outside strings (found by the fuzz test).
        for (text, column, message) in [
            ("a = [}]", 6, "found '}'"), ("a = [1, }]", 9, "found '}'"), ("a = [\n # c\n }", 2, "found '}'"),
            ("a = [\u{2028}1]", 6, "U+2028"), ("a = 1\u{85}", 6, "U+0085"), ("a\u{2028} = 1", 2, "U+2028")
        ] {
            assertInputError(
                try JobTextGuard.prescan(text: text, path: path), file: path, line: text.contains("# c") ? 3 : 1,
                column: column, contains: message)
        }
        // Bare values are checked against TOML's grammar (the fuzz test found toml++ asserting on '1979-05-27T𝔘').
        for (text, column) in [
            ("a = 1979-05-27T\u{1D518}-07:32:00Z", 5), ("a = [1, 0x]", 9), ("a = { b = 1e }", 11), ("a = tru", 5),
            ("a = 1979-05-27T-07:32:00Z", 5), ("a = 07:32", 5), ("a = 1__0", 5), ("a = 1\u{85}", 6)
        ] {
            assertInputError(
                try JobTextGuard.prescan(text: text, path: path), file: path, line: 1, column: column,
                contains: text.contains("\u{85}") ? "U+0085" : "is not a TOML value")
        }
        for text in [
            "a = [{}, {b = [1]}]\n", "a = \"\u{2028}\"\n", "# \u{2028}\n", "a = [[], [1,], ]\n",
            "a = [true, false, -0, +1_000, 0xdead_BEEF, 0o17, 0b1_0, 3.14e-2, 1E+3, "
                + "-inf, nan, 1979-05-27T07:32:00.5+01:00]\n",
            "a = 1979-05-27 07:32:00Z\nb = 07:32:00\nc = 1979-05-27t07:32:00z # c\nd = {e = 1,f = 2}\n"
        ] {
            XCTAssertNoThrow(try JobTextGuard.prescan(text: text, path: path), text)
        }
        // The field file: line 4 is `[[[model]]`.
        let file = Fixtures.path("cases/C22_bad_table_header.toml")
        assertInputError(
            try JobTextGuard.parseInProcess(text: String(contentsOfFile: file, encoding: .utf8), path: file),
            file: file, line: 4,
            column: 3, contains: "TOML syntax error")
    }

    /// The pre-scan leaves valid TOML alone: brackets inside strings, multi-line strings and (nested, multi-line)
    /// arrays, quoted and dotted header names, comments, CRLF line ends. C22's controls: two `[[model]]` make an array
    /// of tables (a job needs a table, so JobSpec says so), and `[model]` twice is refused at line 3.
    func testValidTOMLPassesThePrescan() throws {
        let texts = [
            "a = \"[[[x]]\"\n[b]\n",
            "a = '''\n[[[x]]\n'''\n[ b . \"c d\" . 'e' ]  # comment\n",
            "a = \"\"\"\\\n[[[x]]\\\"\"\"\"\n[[b]]\n",
            "a = [\n  [1, 2],\n  [3],\n]\n[b]\r\nc = { d = [1] }\r\n",
            "# [[[x]]\n[b-_9]\n",
            "[model]\nformula = \"y ~ x\"\n[model2]\n"
        ]
        for text in texts { XCTAssertNoThrow(try JobTextGuard.prescan(text: text, path: "x.toml"), text) }
        let arrayOfTables = "[[model]]\nformula = \"y ~ x\"\n[[model]]\nformula = \"y ~ x + z\"\n"
        XCTAssertNoThrow(try JobTextGuard.prescan(text: arrayOfTables, path: "x.toml"))
        assertInputError(
            try JobTextGuard.parseInProcess(text: "[data]\npath = \"d.csv\"\n" + arrayOfTables, path: "x.toml"),
            file: "x.toml", line: 3, column: 1, contains: "'model' must be a table")
        let twice = "[model]\nformula = \"y ~ x\"\n[model]\nfamily = \"ols\"\n"
        XCTAssertNoThrow(try JobTextGuard.prescan(text: twice, path: "x.toml"))
        assertInputError(
            try JobTextGuard.parseInProcess(text: twice, path: "x.toml"), file: "x.toml", line: 3, column: 1,
            contains: "TOML syntax error")
    }

    /// A stand-in for `causa` that behaves as a crashing, hanging or confused parser would.
    func fakeParser(_ body: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fake-causa-\(UUID().uuidString)").path
        try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    /// The safety net: an abort (SIGABRT, exit 134 in a shell) in the child is an input error naming the job file;
    /// a child that hangs is killed at the time limit; an answer that is not JSON is a run error.
    func testChildProcessFailuresBecomeErrors() throws {
        let text = "[data]\npath = \"d.csv\"\n"
        assertInputError(
            try JobTextGuard.parseIsolated(
                text: text, path: "j.toml", executable: try fakeParser("cat >/dev/null; kill -ABRT $$")),
            file: "j.toml", line: nil, column: nil, contains: "the TOML parser crashed on this job file (signal 6)")
        var limits = JobTextGuard.Limits()
        limits.seconds = 1
        let started = Date()
        assertInputError(
            try JobTextGuard.parseIsolated(
                text: text, path: "j.toml", executable: try fakeParser("sleep 30"), limits: limits),
            file: "j.toml", line: nil, column: nil, contains: "did not finish within 1 s")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertThrowsError(
            try JobTextGuard.parseIsolated(
                text: text, path: "j.toml", executable: try fakeParser("cat >/dev/null; echo nonsense"))
        ) {
            XCTAssertTrue("\($0)".contains("no readable answer"), "\($0)")
        }
        XCTAssertThrowsError(
            try JobTextGuard.parseIsolated(
                text: text, path: "j.toml", executable: try fakeParser("echo broken >&2; exit 3"))
        ) {
            XCTAssertTrue("\($0)".contains("exited with status 3: broken"), "\($0)")
        }
        // An answer carrying an input error becomes that error, position included.
        let answer = #"{"error":{"file":"j.toml","line":4,"column":3,"message":"m"}}"#
        assertInputError(
            try JobTextGuard.parseIsolated(
                text: text, path: "j.toml", executable: try fakeParser("cat >/dev/null; echo '\(answer)'")),
            file: "j.toml", line: 4, column: 3, contains: "m")
    }

    /// What the child writes round-trips: the job parsed out of process equals the job parsed here.
    func testChildAnswerRoundTripsTheJob() throws {
        let text =
            "[data]\npath = \"d.csv\"\nuser_key = [\"u\"]\n"
            + "[model]\nkind = \"bayes_linear\"\nformula = \"y ~ x\"\nprior_precision = 0.1\n"
            + "[cv]\nfolds = 3\nfold_by = \"user\"\n[cluster]\nshards = 7\n"
            + "[text]\nencoder = \"hashing\"\nuser_text = \"t\"\ncomponents = 2\n"
        let answer = JobTextGuard.childAnswer(input: Data(text.utf8), path: "/tmp/x/job.toml")
        XCTAssertEqual(
            try JobTextGuard.decodeAnswer(answer, path: "/tmp/x/job.toml"),
            try JobSpec.parse(text: text, path: "/tmp/x/job.toml"))
        let bad = JobTextGuard.childAnswer(input: Data("[[[model]]\n".utf8), path: "j.toml")
        assertInputError(
            try JobTextGuard.decodeAnswer(bad, path: "j.toml"), file: "j.toml", line: 1, column: 3,
            contains: "needs a table name")
    }
}
