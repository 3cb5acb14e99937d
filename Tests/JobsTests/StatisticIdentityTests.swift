import Statistics
import XCTest

@testable import Jobs

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
            KeyOccurrence(key: "i2", first: CellReference(rowIndex: 3, line: 5, value: "i2"))
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
