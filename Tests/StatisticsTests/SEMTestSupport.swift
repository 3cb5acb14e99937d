import Foundation
import XCTest

@testable import Statistics

/// Fixture access for the SEM tests: Tests/Fixtures/reference/sem (see Tests/Fixtures/README.md).
enum SEMFixtures {
    static let root = Fixtures.root.appendingPathComponent("reference/sem")

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent(name))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A numeric CSV with a header: column names and rows (row-major values).
    static func csv(_ name: String) throws -> (names: [String], rows: [[Double]]) {
        let text = try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        let names = lines.removeFirst().split(separator: ",").map(String.init)
        let rows = try lines.map { line in
            try line.split(separator: ",").map { try XCTUnwrap(Double($0), "not a number: \($0)") }
        }
        return (names, rows)
    }

    /// The moment matrix of rows[range].
    static func moments(_ rows: [[Double]], _ range: Range<Int>, dimension d: Int) -> MomentMatrix {
        MomentMatrix(rows: rows[range].flatMap { $0 }, count: range.count, dimension: d)
    }
}

/// Tracks the largest relative deviation from a reference while asserting each value.
struct DeviationTracker {
    var maxRelative = 0.0
    var worst = ""

    /// Asserts |actual − expected| ≤ tolerance·|expected| + absolute and records the relative deviation.
    mutating func check(
        _ actual: Double?, _ expected: Double?, _ tolerance: Double, absolute: Double = 1e-12,
        _ label: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        guard let expected else {
            XCTAssertNil(
                actual, "\(label): expected null (NA), got \(String(describing: actual))", file: file, line: line)
            return
        }
        guard let actual else {
            XCTFail("\(label): nil, expected \(expected)", file: file, line: line)
            return
        }
        let diff = abs(actual - expected)
        if diff > absolute {
            let rel = diff / max(abs(expected), 1e-300)
            if rel > maxRelative {
                maxRelative = rel
                worst = "\(label): \(actual) vs \(expected)"
            }
        }
        if !(diff <= tolerance * abs(expected) + absolute) {
            XCTFail(
                "\(label): \(actual) vs lavaan \(expected) (relative \(diff / abs(expected)))", file: file, line: line)
        }
    }
}

/// Compares a fit with a lavaan parameter list and fit measures (JSON as written by lavaan_fit.R / sem_lavaan.R).
func compareWithLavaan(
    _ result: SEMResult, parameters: [[String: Any]], fitMeasures: [String: Any],
    tolerance: Double, label: String, tracker: inout DeviationTracker,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(
        result.parameters.map(\.name),
        parameters.map { p in
            let op = p["op"] as! String
            return op == "~1" ? "\(p["lhs"] as! String) ~1" : "\(p["lhs"] as! String) \(op) \(p["rhs"] as! String)"
        }, "\(label): parameter table order", file: file, line: line)
    func number(_ any: Any?) -> Double? { (any as? NSNumber)?.doubleValue }
    for (ours, ref) in zip(result.parameters, parameters) {
        let name = "\(label) \(ours.name)"
        XCTAssertEqual(ours.free, ref["free"] as? Bool, "\(name): free", file: file, line: line)
        tracker.check(ours.estimate, number(ref["est"]), tolerance, "\(name) est", file: file, line: line)
        tracker.check(ours.standardError, number(ref["se"]), tolerance, "\(name) se", file: file, line: line)
        tracker.check(ours.z, number(ref["z"]), tolerance, "\(name) z", file: file, line: line)
        tracker.check(
            ours.pValue, number(ref["pvalue"]), tolerance, absolute: 1e-12, "\(name) pvalue", file: file, line: line)
        tracker.check(ours.ciLower, number(ref["ci.lower"]), tolerance, "\(name) ci.lower", file: file, line: line)
        tracker.check(ours.ciUpper, number(ref["ci.upper"]), tolerance, "\(name) ci.upper", file: file, line: line)
        if ref.keys.contains("std.all") {
            tracker.check(
                ours.standardizedAll, number(ref["std.all"]), tolerance, "\(name) std.all", file: file, line: line)
        }
    }
    guard let fit = result.fit else {
        XCTFail("\(label): no fit measures", file: file, line: line)
        return
    }
    let ours: [String: Double?] = [
        "npar": Double(fit.parameterCount), "fmin": fit.fmin, "chisq": fit.chiSquare,
        "df": Double(fit.degreesOfFreedom),
        "pvalue": fit.pValue, "baseline.chisq": fit.baselineChiSquare,
        "baseline.df": Double(fit.baselineDegreesOfFreedom), "baseline.pvalue": fit.baselinePValue,
        "cfi": fit.cfi, "tli": fit.tli, "nnfi": fit.tli, "rmsea": fit.rmsea, "rmsea.ci.lower": fit.rmseaCILower,
        "rmsea.ci.upper": fit.rmseaCIUpper, "rmsea.pvalue": fit.rmseaPValue, "srmr": fit.srmr,
        "logl": fit.logLikelihood, "unrestricted.logl": fit.unrestrictedLogLikelihood, "aic": fit.aic, "bic": fit.bic,
        "ntotal": fit.observationCount
    ]
    for (key, value) in fitMeasures.sorted(by: { $0.key < $1.key }) {
        guard let mine = ours[key] else {
            XCTFail("\(label): fit measure \(key) not computed", file: file, line: line)
            continue
        }
        tracker.check(mine, number(value), tolerance, "\(label) \(key)", file: file, line: line)
    }
}
