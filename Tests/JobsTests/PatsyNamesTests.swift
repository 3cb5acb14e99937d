import Foundation
import Jobs
import Logging
import Statistics
import Tabular
import XCTest

/// Column names and design rows against patsy 1.0.3 on the toy data (Tests/Fixtures/reference/patsy_names.json).
final class PatsyNamesTests: XCTestCase {
    func design(_ formula: String) throws -> DesignMatrixSpec {
        let job = try Fixtures.writeJob(
            data: Fixtures.path("toy/toy.csv"), kind: "ols", formula: formula, folds: 0, shards: 4, userKey: #"["g"]"#)
        let prepared = try PreparedJob(job: try JobSpec.load(path: job), jobID: "names")
        let executor = try InProcessExecutor(prepared: prepared, workers: 2)
        return try FitDriver(prepared: prepared, logger: Logger(label: "test")).design(on: executor).0
    }

    func testColumnNamesMatchPatsy() throws {
        let reference = try Fixtures.json("reference/patsy_names.json")
        let cases = reference["cases"] as! [[String: Any]]
        XCTAssertGreaterThan(cases.count, 40)
        for c in cases {
            let formula = c["formula"] as! String
            let spec: DesignMatrixSpec
            do { spec = try design(formula) } catch {
                XCTFail("\(formula): \(error)")
                continue
            }
            XCTAssertEqual(spec.columnNames, c["names"] as! [String], formula)
        }
    }

    func testDesignRowsMatchPatsy() throws {
        let reference = try Fixtures.json("reference/patsy_names.json")
        let cases = (reference["cases"] as! [[String: Any]]).filter { $0["rows"] != nil }
        XCTAssertGreaterThanOrEqual(cases.count, 3)
        // The toy file's first five rows, read back as the design builder sees them.
        let table = try CSVTable(path: Fixtures.path("toy/toy.csv"))
        var rows: [[String]] = []
        while let r = try table.next() { rows.append(r.fields) }
        for c in cases {
            let formula = c["formula"] as! String
            let spec = try design(formula)
            let expected = c["rows"] as! [[Double]]
            for (i, row) in expected.enumerated() {
                let values = try spec.dataColumns.map { name -> FactorValue in
                    let text = rows[i][table.header.firstIndex(of: name)!]
                    if let x = Double(text) { return .number(x) }
                    return .string(text)
                }
                var out = [Double](repeating: .nan, count: spec.width)
                _ = try spec.fill(values: values, row: &out)
                for j in row.indices {
                    assertClose(out[j], row[j], rtol: 1e-12, "\(formula) row \(i) column \(spec.columnNames[j])")
                }
            }
        }
    }
}
