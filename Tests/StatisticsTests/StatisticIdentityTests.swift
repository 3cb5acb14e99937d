import XCTest

@testable import Statistics

final class StatisticIdentityTests: XCTestCase {
    /// The fingerprint tells −0.0 from +0.0, so the identity tests below can fail on a sign of zero.
    func testFingerprintSeesTheSignOfZero() {
        XCTAssertNotEqual(bitFingerprint([0.0, 1.0]), bitFingerprint([-0.0, 1.0]))
        XCTAssertEqual(bitFingerprint([0.5, 1.0]), bitFingerprint([0.5, 1.0]))
    }

    func testMomentMatrixEmptyIsIdentity() {
        let m = MomentMatrix(
            rows: [1, 2e9 + 0.1, -3, 0.25, 2e9 + 0.3, -0.0, 7, 2e9, 1e-300], count: 3, dimension: 3,
            marks: (0..<3).map { MomentMatrix.RowMark(rowIndex: $0, line: $0 + 2) })
        assertIdentity(m, "moments")
        assertIdentity(MomentMatrix(dimension: 4), "empty moments")
    }

    func testLogitStatisticEmptyIsIdentity() {
        let x: [Double] = [1, 0.5, 1, -1.5, 1, 2, 1, 0]
        let s = LogitStatistic(x: x, y: [1, 0, 1, 0], beta: [0.1, -0.2], train: { $0 < 3 }, test: { $0 == 3 })
        assertIdentity(s, "logit")
        // A statistic with −0.0 sums (a zero β on a row of zeros): adding +0 would turn them into +0.
        let negativeZero = LogitStatistic(
            dimension: 2, count: 1, logLikelihood: -0.5, gradient: [-0.0, 0.25],
            information: [0.25, -0.0, -0.0, 0.5], meat: [-0.0, 0, 0, 1e-3],
            testCount: 0, testSquaredError: 0, minimumMargin: -0.0)
        assertIdentity(negativeZero, "logit with −0.0")
        // Held-out rows only (a shard whose rows are all in the held-out fold): not empty, kept.
        let testOnly = LogitStatistic(
            x: x, y: [1, 0, 1, 0], beta: [0.1, -0.2], train: { _ in false }, test: { _ in true })
        XCTAssertEqual(testOnly.testCount, 4)
        assertIdentity(testOnly, "logit, held-out rows only")
    }

    func testCompensatedSumEmptyIsIdentity() {
        assertIdentity(CompensatedSum([1e16, 1, -1e16, 0.5]), "compensated sum")
        assertIdentity(CompensatedSum([-2.5]), "negative compensated sum")
        assertIdentity(CompensatedSum(), "empty compensated sum")
    }
}
