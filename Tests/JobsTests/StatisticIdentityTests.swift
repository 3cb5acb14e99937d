import Statistics
import XCTest

@testable import Jobs

/// Every leaf of a value, Float64s as their bit patterns (so −0.0 and +0.0 differ).
func bitFingerprint(_ value: Any) -> [String] {
    if let x = value as? Double { return [String(x.bitPattern, radix: 16)] }
    if let x = value as? Float { return [String(x.bitPattern, radix: 16)] }
    let mirror = Mirror(reflecting: value)
    if mirror.children.isEmpty { return ["\(value)"] }
    return mirror.children.flatMap { child in bitFingerprint(child.value).map { "\(child.label ?? "")=\($0)" } }
}

/// `merge(empty, x)` and `merge(x, empty)` give x bit for bit (`SufficientStatistic`'s identity contract).
func assertIdentity<T: SufficientStatistic>(_ x: T, _ label: String, file: StaticString = #filePath, line: UInt = #line)
{
    var left = T.empty(like: x)
    left.merge(x)
    XCTAssertEqual(bitFingerprint(left), bitFingerprint(x), "\(label): merge(empty, x)", file: file, line: line)
    var right = x
    right.merge(T.empty(like: x))
    XCTAssertEqual(bitFingerprint(right), bitFingerprint(x), "\(label): merge(x, empty)", file: file, line: line)
}

/// The statistics of the rounds: each has an empty value that is the identity of its merge, bit for bit.
final class StatisticIdentityTests: XCTestCase {
    static func column() -> ColumnSummary {
        var c = ColumnSummary(name: "item")
        c.numericCount = 3
        c.nonNumericCount = 2
        c.allIntegral = false
        c.firstMissing = CellReference(rowIndex: 4, line: 6, value: "NA")
        c.firstNonNumeric = CellReference(rowIndex: 1, line: 3, value: "b")
        c.firstNonBinary = CellReference(rowIndex: 2, line: 4, value: "7")
        c.levels = ["B", "a", "b"]  // bytewise order
        return c
    }

    func testColumnSummaryEmptyIsIdentity() {
        assertIdentity(Self.column(), "column summary")
        var truncated = Self.column()
        truncated.levelsTruncated = true
        assertIdentity(truncated, "truncated levels")
        assertIdentity(ColumnSummary(name: "x"), "empty column")
    }

    func testShardSummaryEmptyIsIdentity() {
        var s = ShardSummary(columns: [Self.column(), ColumnSummary(name: "y")])
        s.rows = 5
        s.users = 2
        s.itemKeys = [
            KeyOccurrence(key: "i1", first: CellReference(rowIndex: 0, line: 2, value: "i1")),
            KeyOccurrence(key: "i2", first: CellReference(rowIndex: 3, line: 5, value: "i2")),
        ]
        assertIdentity(s, "shard summary")
        XCTAssertEqual(ShardSummary.empty(like: s).columns.map(\.name), ["item", "y"])
    }

    func testResidualStatisticEmptyIsIdentity() {
        assertIdentity(ResidualStatistic(count: 3, sumOfSquares: 0.75, meat: [0.5, -0.0, -0.0, 2]), "residuals")
        assertIdentity(ResidualStatistic(dimension: 2), "empty residuals")
    }

    func testStatisticListAndRowCountEmptyAreIdentities() {
        let fold = MomentMatrix(rows: [1, 2, -0.0, 3], count: 2, dimension: 2)
        assertIdentity(StatisticList([fold, MomentMatrix(dimension: 2)]), "moments per fold")
        let fit = LogitStatistic(
            x: [1, 0.5, 1, -1], y: [1, 0], beta: [0.2, -0.0], train: { _ in true }, test: { _ in false })
        assertIdentity(StatisticList([fit, LogitStatistic(dimension: 2)]), "logit per fit")
        XCTAssertEqual(StatisticList.empty(like: StatisticList([fit, fit])).items.count, 2)
        assertIdentity(RowCount(rows: 7), "row count")
    }
}
