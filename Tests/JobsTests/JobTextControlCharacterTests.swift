import Foundation
import XCTest

@testable import Jobs

/// TOMLKit hands strings over as C strings: a NUL (raw, or the escape \u0000) silently cut a formula or a data path,
/// or dropped the rest of the file, and the wrong model was fitted with exit 0. TOML allows no raw control character
/// but tab, so both are refused at their place.
final class JobTextControlCharacterTests: XCTestCase {
    func testNulEscapesAndRawControlCharactersAreRefusedAtTheirPlace() throws {
        let dir = try Fixtures.folder()
        let head = "[data]\npath = \"d.csv\"\n[model]\nkind = \"ols\"\n"
        let cases: [(String, Int, Int, String)] = [
            ("formula = \"y ~ 1\\u0000 + x\"\n", 5, 17, "a NUL character (\\u0000) cannot be in a job file"),
            ("formula = \"y ~ x\"\n[cv]\nfolds = 2 # \\U00000000\n", 7, 13, "a NUL character (\\U00000000)"),
            ("formula = \"y ~ x\"\u{0}garbage\n", 5, 18, "a control character (U+0000) is not allowed"),
            ("formula = \"y ~ x\"\n\u{1B}[[[[\n", 6, 1, "a control character (U+001B) is not allowed"),
            ("formula = \"y ~ x\u{7F}\"\n", 5, 17, "a control character (U+007F) is not allowed")
        ]
        for (tail, line, column, message) in cases {
            let path = try Fixtures.write(head + tail, "job.toml", in: dir)
            assertInputError(try JobSpec.load(path: path), file: path, line: line, column: column, contains: message)
        }
        // Tabs and CRLF line ends are fine.
        let ok = try Fixtures.write(head + "formula = \"y ~\tx\"\r\n", "ok.toml", in: dir)
        XCTAssertEqual(try JobSpec.load(path: ok).formula, "y ~\tx")
    }
}
