import XCTest

@testable import Tabular

final class CellTests: XCTestCase {
    func testMissingMarkers() {
        for text in ["", "NA", "NaN", "nan", "null", " NA ", "None", "#N/A"] {
            XCTAssertTrue(Cell.isMissing(text), "'\(text)' is missing")
        }
        for text in ["0", "na", "x", "NAN", "nil"] {
            XCTAssertFalse(Cell.isMissing(text), "'\(text)' is a value")
        }
    }

    func testNumbers() {
        let numbers: [(String, Double)] = [
            ("1", 1), ("-2.5", -2.5), ("1e-3", 0.001), (" 7 ", 7), ("+4", 4), (".5", 0.5),
            ("2.", 2), ("1E3", 1000), ("-0", 0)
        ]
        for (text, value) in numbers {
            XCTAssertEqual(Cell.number(text), value, "'\(text)'")
        }
        for text in [
            "abc", "inf", "-inf", "Infinity", "nan", "NaN", "0x10", "1,5", "", " ", "1e", "e3", "1e400", "--1", "1.2.3",
            "1 2", "½"
        ] {
            XCTAssertNil(Cell.number(text), "'\(text)' is not a number")
        }
    }

    func testIntegerSyntax() {
        for text in ["3", "-3", "+3", "0", " 12 ", "007"] {
            XCTAssertTrue(Cell.isIntegerSyntax(text), "'\(text)'")
        }
        for text in ["3.0", "1e3", "", "+", "-", "3a", "1 000", "٣"] {
            XCTAssertFalse(Cell.isIntegerSyntax(text), "'\(text)'")
        }
    }
}
