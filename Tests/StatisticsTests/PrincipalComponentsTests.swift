import XCTest

@testable import Statistics

final class PrincipalComponentsTests: XCTestCase {
    /// Covariance [[2, 1], [1, 2]]: eigenvalues 3 and 1, directions (1, 1)/√2 and (1, −1)/√2 (derived by hand).
    func testTwoDimensionalCaseByHand() throws {
        // Four points with mean (5, −1) whose centred co-moments over n = 4 are 4·[[2, 1], [1, 2]].
        let a = 3.0.squareRoot()
        let b = 1.0
        let u = [1 / 2.0.squareRoot(), 1 / 2.0.squareRoot()]
        let w = [1 / 2.0.squareRoot(), -1 / 2.0.squareRoot()]
        var rows: [Double] = []
        for (s, t) in [(a, b), (-a, b), (a, -b), (-a, -b)] {
            rows += [5 + s * u[0] + t * w[0], -1 + s * u[1] + t * w[1]]
        }
        let m = MomentMatrix(rows: rows, count: 4, dimension: 2)
        let pca = try PrincipalComponents(moments: m, k: 2)
        XCTAssertEqual(pca.variances[0], 3, accuracy: 1e-12)
        XCTAssertEqual(pca.variances[1], 1, accuracy: 1e-12)
        XCTAssertEqual(pca.components[0], u[0], accuracy: 1e-12)
        XCTAssertEqual(pca.components[1], u[1], accuracy: 1e-12)
        // Sign convention: the largest-magnitude entry (the first, on the tie) is positive.
        XCTAssertEqual(pca.components[2], w[0], accuracy: 1e-12)
        XCTAssertEqual(pca.components[3], w[1], accuracy: 1e-12)
        XCTAssertEqual(pca.mean[0], 5, accuracy: 1e-12)
        XCTAssertEqual(pca.mean[1], -1, accuracy: 1e-12)
        let scores = pca.project([5 + 2 * u[0], -1 + 2 * u[1]])
        XCTAssertEqual(scores[0], 2, accuracy: 1e-12)
        XCTAssertEqual(scores[1], 0, accuracy: 1e-12)
    }

    /// Merging per-shard moments gives the same components as the moments of all vectors at once.
    func testMergedShardsGiveTheWholeDataComponents() throws {
        var state: UInt64 = 42
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        let d = 6
        let n = 300
        let rows = (0..<(n * d)).map { i in next() * Double(1 + i % d) }
        let whole = MomentMatrix(rows: rows, count: n, dimension: d)
        var merged = MomentMatrix(dimension: d)
        for part in stride(from: 0, to: n, by: 70) {
            let end = min(part + 70, n)
            merged.merge(MomentMatrix(rows: Array(rows[(part * d)..<(end * d)]), count: end - part, dimension: d))
        }
        let a = try PrincipalComponents(moments: whole, k: 3)
        let b = try PrincipalComponents(moments: merged, k: 3)
        for (x, y) in zip(a.components, b.components) { XCTAssertEqual(x, y, accuracy: 1e-9) }
        for (x, y) in zip(a.variances, b.variances) { XCTAssertEqual(x, y, accuracy: 1e-12 * max(1, abs(x))) }
        XCTAssertGreaterThanOrEqual(a.variances[0], a.variances[1])
        XCTAssertGreaterThanOrEqual(a.variances[1], a.variances[2])
    }
}
