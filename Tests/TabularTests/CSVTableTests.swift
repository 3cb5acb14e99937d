import Foundation
import XCTest

@testable import Tabular

final class CSVTableTests: XCTestCase {
    private var paths: [String] = []

    /// Writes bytes to a fresh file under the temporary directory; removed in tearDown.
    private func file(_ bytes: [UInt8], name: String = "t.csv") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "CausaTabularTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        paths.append(dir.path)
        return url.path
    }

    private func file(_ text: String) throws -> String { try file(Array(text.utf8)) }

    override func tearDown() {
        for p in paths { try? FileManager.default.removeItem(atPath: p) }
        paths = []
    }

    private func readAll(_ table: CSVTable) throws -> [CSVRecord] {
        var out: [CSVRecord] = []
        while let r = try table.next() { out.append(r) }
        return out
    }

    /// (index, line, fields) of each record.
    private func summary(_ records: [CSVRecord]) -> [String] {
        records.map { "\($0.index)@\($0.line):\($0.fields.joined(separator: "|"))" }
    }

    func testHeaderAndRows() throws {
        let table = try CSVTable(path: try file("a,b,c\n1,2,3\n4,5,6\n"))
        XCTAssertEqual(table.header, ["a", "b", "c"])
        XCTAssertEqual(summary(try readAll(table)), ["0@2:1|2|3", "1@3:4|5|6"])
        XCTAssertNil(try table.next(), "stays at the end")
        XCTAssertEqual(try table.columnIndex("c"), 2)
    }

    /// Other delimiters: quoted fields may hold the delimiter (and commas are ordinary text); errors keep positions.
    func testOtherDelimiters() throws {
        for d in CSVDelimiter.allCases where d != .comma {
            let sep = d.rawValue
            let text = "a\(sep)b\(sep)c\n1,5\(sep)\"x\(sep)y\"\(sep)3\n\n4\(sep)\"q\"\"\"\(sep)6\n7\(sep)8\n"
            let table = try CSVTable(path: try file(text), delimiter: d)
            XCTAssertEqual(table.header, ["a", "b", "c"], d.rawValue)
            XCTAssertEqual(try table.next()?.fields, ["1,5", "x\(sep)y", "3"], d.rawValue)
            XCTAssertEqual(try table.next()?.fields, ["4", "q\"", "6"], d.rawValue)
            XCTAssertThrowsError(try table.next(), d.rawValue) { error in
                let e = error as! TabularError
                XCTAssertEqual([e.line, e.column], [5, 3], "\(e)")
            }
            // Read as comma-separated, the header is one column, and the hint says which delimiter it holds.
            let wrong = try CSVTable(path: try file(text))
            XCTAssertEqual(wrong.header, ["a\(sep)b\(sep)c"])
            XCTAssertTrue(wrong.delimiterHint.contains("set data.delimiter = \(d.toml)"), wrong.delimiterHint)
            XCTAssertThrowsError(try wrong.columnIndex("b")) { error in
                XCTAssertTrue("\(error)".contains("which contains \(d.spoken)"), "\(error)")
            }
        }
        // A comma file read as ';'-separated: the hint points back to ",".
        XCTAssertTrue(
            try CSVTable(path: try file("a,b\n1,2\n"), delimiter: .semicolon).delimiterHint.contains(
                "data.delimiter = \",\""))
        XCTAssertEqual(try CSVTable(path: try file("a;b,c\n1;2,3\n")).delimiterHint, "", "several columns: no hint")
        XCTAssertEqual(try CSVTable(path: try file("abc\n1\n")).delimiterHint, "", "one plain column: no hint")
    }

    func testNoTrailingNewline() throws {
        let table = try CSVTable(path: try file("a,b\n1,2\n3,4"))
        XCTAssertEqual(summary(try readAll(table)), ["0@2:1|2", "1@3:3|4"])
    }

    func testQuotedNewlineMovesTheNextLineNumber() throws {
        // Row 0 spans lines 2–3, so row 1 starts on line 4; a field with two newlines spans three lines.
        let text = "a,b\n1,\"x\ny\"\n2,z\n3,\"p\nq\nr\"\n4,w\n"
        let records = try readAll(try CSVTable(path: try file(text)))
        XCTAssertEqual(summary(records), ["0@2:1|x\ny", "1@4:2|z", "2@5:3|p\nq\nr", "3@8:4|w"])
    }

    func testCRLFLineEndings() throws {
        let records = try readAll(try CSVTable(path: try file("a,b\r\n1,2\r\n3,4\r\n")))
        XCTAssertEqual(summary(records), ["0@2:1|2", "1@3:3|4"])
        let quoted = try readAll(try CSVTable(path: try file("a,b\r\n1,\"x\r\ny\"\r\n3,4\r\n")))
        XCTAssertEqual(quoted.map(\.line), [2, 4])
        XCTAssertEqual(quoted.map(\.index), [0, 1])
    }

    func testQuotedNewlineInHeader() throws {
        for eol in ["\n", "\r\n"] {
            let table = try CSVTable(path: try file("a,\"b\(eol)c\"\(eol)1,2\(eol)"))
            XCTAssertEqual(table.header.count, 2)
            XCTAssertEqual(try readAll(table).map(\.line), [3], "end of line \(eol.debugDescription)")
        }
    }

    func testBlankLinesAreSkippedButCounted() throws {
        let records = try readAll(try CSVTable(path: try file("a,b\n1,2\n\n3,4\n\n\n5,6\n")))
        XCTAssertEqual(summary(records), ["0@2:1|2", "1@4:3|4", "2@7:5|6"])
    }

    func testTooManyFields() throws {
        let table = try CSVTable(path: try file("a,b\n1,2\n3,4,5\n"))
        XCTAssertEqual(try table.next()?.line, 2)
        XCTAssertThrowsError(try table.next()) { error in
            let e = error as? TabularError
            XCTAssertEqual(e?.code, .fieldCount)
            XCTAssertEqual(e?.line, 3)
            XCTAssertEqual(e?.message, "3 fields, but the header has 2")
        }
    }

    func testTooFewFieldsAfterAQuotedNewline() throws {
        let table = try CSVTable(path: try file("a,b\n\"x\ny\",2\n3\n"))
        XCTAssertEqual(try table.next()?.line, 2)
        XCTAssertThrowsError(try table.next()) { error in
            XCTAssertEqual((error as? TabularError)?.code, .fieldCount)
            XCTAssertEqual((error as? TabularError)?.line, 4)
        }
    }

    func testMissingFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "CausaTabularTests-missing-\(UUID().uuidString).csv"
        ).path
        XCTAssertThrowsError(try CSVTable(path: path)) { error in
            XCTAssertEqual(error as? TabularError, TabularError(.unreadable, "no such file", file: path))
        }
        // A directory is not a readable file either.
        let dir = URL(fileURLWithPath: try file("x")).deletingLastPathComponent().path
        XCTAssertThrowsError(try CSVTable(path: dir)) { error in
            XCTAssertEqual((error as? TabularError)?.code, .unreadable)
        }
    }

    func testEmptyFile() throws {
        let path = try file([])
        XCTAssertThrowsError(try CSVTable(path: path)) { error in
            let e = error as? TabularError
            XCTAssertEqual(e?.code, .empty)
            XCTAssertEqual(e?.line, 1)
            XCTAssertEqual(e?.file, path)
        }
    }

    func testHeaderOnly() throws {
        let table = try CSVTable(path: try file("a,b\n"))
        XCTAssertEqual(table.header, ["a", "b"])
        XCTAssertNil(try table.next())
    }

    func testInvalidUTF8OnLineThree() throws {
        let bytes = Array("a,b\n1,2\n3,".utf8) + [0xFF, 0xFE] + Array("\n4,5\n".utf8)
        let path = try file(bytes)
        XCTAssertThrowsError(try CSVTable(path: path)) { error in
            let e = error as? TabularError
            XCTAssertEqual(e?.code, .malformed)
            XCTAssertEqual(e?.line, 3)
        }
        // On the last line, without a trailing newline.
        XCTAssertThrowsError(try CSVTable(path: try file(Array("a,b\n1,2\n".utf8) + [0x33, 0x2C, 0xC3]))) { error in
            XCTAssertEqual((error as? TabularError)?.line, 3)
        }
    }

    func testColumnIndexOfAMissingColumn() throws {
        let path = try file("click,position\n1,2\n")
        let table = try CSVTable(path: path)
        XCTAssertThrowsError(try table.columnIndex("item", wantedBy: "formula")) { error in
            let e = error as? TabularError
            XCTAssertEqual(e?.code, .missingColumn)
            XCTAssertEqual(e?.line, 1)
            XCTAssertEqual(
                e?.message, "no column 'item' in the header, needed by formula (the header has: 'click', 'position')")
        }
        XCTAssertThrowsError(try table.columnIndex("Click")) { error in
            XCTAssertEqual((error as? TabularError)?.message, "no column 'Click' in the header (did you mean 'click'?)")
        }
    }

    func testDescriptionFormat() {
        XCTAssertEqual(
            TabularError(.badValue, "not a number", file: "data.csv", line: 12, column: 3).description,
            "data.csv:12:3: not a number")
        XCTAssertEqual(TabularError(.fieldCount, "3 fields", file: "d.csv", line: 4).description, "d.csv:4: 3 fields")
        XCTAssertEqual(TabularError(.unreadable, "no such file", file: "d.csv").description, "d.csv: no such file")
        XCTAssertEqual(TabularError.Code.fieldCount.description, "fieldCount")
    }
}

final class CSVLeniencyTests: XCTestCase {
    /// Text after a closing quote is kept without the quote, as Python's csv module reads it.
    func testTextAfterClosingQuote() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lenient-\(UUID().uuidString).csv")
            .path
        try "a,b\n\"1\" ,2\n\"ab\"cd,\"x\"\"y\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let table = try CSVTable(path: path)
        XCTAssertEqual(try table.next()?.fields, ["1 ", "2"])
        XCTAssertEqual(try table.next()?.fields, ["abcd", "x\"y"])
        XCTAssertNil(try table.next())
    }
}
