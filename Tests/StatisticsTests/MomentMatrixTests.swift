import XCTest

@testable import Statistics

final class MomentMatrixTests: XCTestCase {
    /// Random rows with column-dependent location and scale, so means and co-moments are all different.
    private func randomRows(n: Int, d: Int, rng: inout SplitMix64) -> [Double] {
        (0..<(n * d)).map { k in Double(k % d + 1) * 3 + Double(k % d + 1) * Double.random(in: -1...1, using: &rng) }
    }

    /// Means and centred co-moments computed directly in the test (two passes, plain loops).
    private func direct(_ rows: [Double], n: Int, d: Int) -> (mean: [Double], comoment: [Double]) {
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += rows[i * d + j] } }
        if n > 0 { for j in 0..<d { mean[j] /= Double(n) } }
        var c = [Double](repeating: 0, count: d * d)
        for i in 0..<n {
            for a in 0..<d {
                for b in 0..<d {
                    c[a * d + b] += (rows[i * d + a] - mean[a]) * (rows[i * d + b] - mean[b])
                }
            }
        }
        return (mean, c)
    }

    private func slice(_ rows: [Double], _ r: Range<Int>, d: Int) -> MomentMatrix {
        MomentMatrix(rows: Array(rows[(r.lowerBound * d)..<(r.upperBound * d)]), count: r.count, dimension: d)
    }

    func testBlockMomentsMatchDirectComputation() {
        var rng = SplitMix64(seed: 1)
        for d in [1, 2, 5] {
            for n in [1, 2, 3, 10] {
                let rows = randomRows(n: n, d: d, rng: &rng)
                let m = MomentMatrix(rows: rows, count: n, dimension: d)
                let (mean, c) = direct(rows, n: n, d: d)
                XCTAssertEqual(m.count, Double(n), "d=\(d) n=\(n)")
                let scale = c.map(abs).max()!
                assertClose(m.mean, mean, relative: 1e-14, scale: mean.map(abs).max()!, "mean d=\(d) n=\(n)")
                assertClose(m.comoment, c, relative: 1e-13, scale: scale, "comoment d=\(d) n=\(n)")
                for a in 0..<d {
                    for b in 0..<d {
                        XCTAssertEqual(
                            m.comoment[a * d + b], m.comoment[b * d + a], "symmetry d=\(d) n=\(n) (\(a),\(b))")
                    }
                }
            }
        }
    }

    func testMergeOfContiguousPartsEqualsWhole() {
        var rng = SplitMix64(seed: 42)
        var cases = 0
        for d in [1, 2, 5] {
            for n in [0, 1, 2, 3, 4, 7] {
                let rows = randomRows(n: n, d: d, rng: &rng)
                let whole = MomentMatrix(rows: rows, count: n, dimension: d)
                let scale = max(whole.comoment.map(abs).max() ?? 0, whole.mean.map(abs).max() ?? 0)
                for parts in 1...4 {
                    for cuts in contiguousSplits(n, parts: parts) {
                        let label = "d=\(d) n=\(n) cuts=\(cuts)"
                        let pieces = ranges(n, cuts: cuts).map { slice(rows, $0, d: d) }
                        let merged = MomentMatrix.merged(pieces, into: MomentMatrix(dimension: d))
                        XCTAssertEqual(merged.count, Double(n), label)
                        assertClose(merged.mean, whole.mean, relative: 1e-12, scale: scale, "mean \(label)")
                        assertClose(merged.comoment, whole.comoment, relative: 1e-12, scale: scale, "comoment \(label)")
                        cases += 1
                    }
                }
            }
        }
        // 3 dimensions × Σ_n Σ_k C(n + k − 1, k − 1) splits; guards against the loops silently not running.
        XCTAssertEqual(
            cases,
            3
                * [0, 1, 2, 3, 4, 7].map { n in (1...4).map { k in contiguousSplits(n, parts: k).count }.reduce(0, +) }
                .reduce(0, +))
        XCTAssertGreaterThan(cases, 300)
    }

    func testEmptyStatisticIsTheIdentityOfMerge() {
        var rng = SplitMix64(seed: 7)
        for d in [0, 1, 2, 5] {
            let rows = randomRows(n: 4, d: d, rng: &rng)
            let m = MomentMatrix(rows: rows, count: 4, dimension: d)
            var left = MomentMatrix(dimension: d)
            left.merge(m)
            XCTAssertEqual(left, m, "empty ⊕ m, d=\(d)")
            var right = m
            right.merge(MomentMatrix(dimension: d))
            XCTAssertEqual(right, m, "m ⊕ empty, d=\(d)")
            var empties = MomentMatrix(dimension: d)
            empties.merge(MomentMatrix(rows: [], count: 0, dimension: d))
            XCTAssertEqual(empties, MomentMatrix(dimension: d), "empty ⊕ empty, d=\(d)")
            XCTAssertEqual(empties.count, 0)
        }
    }

    /// Columns 1e9 + e and −1e9 + 2e with e = (−300, −100, 100, 300, 200, −200, 0, 0): Σe = 0 and
    /// Σe² = 9e4 + 1e4 + 1e4 + 9e4 + 4e4 + 4e4 = 280 000, so the co-moments are exactly
    /// [[280 000, 560 000], [560 000, 1 120 000]] and the sample variances 40 000 and 160 000 (n − 1 = 7).
    /// Raw sums Σx² ≈ 8e18 carry an ulp of 1024, so Σx² − n x̄² loses most of these digits.
    func testLargeOffsetKeepsVarianceThroughMerges() {
        let noise: [Double] = [-300, -100, 100, 300, 200, -200, 0, 0]
        let n = noise.count
        let d = 2
        let rows = noise.flatMap { [1e9 + $0, -1e9 + 2 * $0] }
        let expected: [Double] = [280_000, 560_000, 560_000, 1_120_000]

        // The case is hard: the raw-sum formula is visibly wrong here.
        let rawSumOfSquares = rows.enumerated().filter { $0.offset % 2 == 0 }.map { $0.element * $0.element }.reduce(
            0, +)
        let rawMean = rows.enumerated().filter { $0.offset % 2 == 0 }.map(\.element).reduce(0, +) / Double(n)
        let naive = rawSumOfSquares - Double(n) * rawMean * rawMean
        XCTAssertGreaterThan(abs(naive - 280_000) / 280_000, 1e-6, "raw sums should lose precision here (got \(naive))")

        for parts in 1...4 {
            for cuts in contiguousSplits(n, parts: parts) {
                let pieces = ranges(n, cuts: cuts).map { slice(rows, $0, d: d) }
                let merged = MomentMatrix.merged(pieces, into: MomentMatrix(dimension: d))
                for k in 0..<4 { assertRelative(merged.comoment[k], expected[k], 1e-9, "comoment[\(k)] cuts=\(cuts)") }
                assertRelative(merged.comoment[0] / Double(n - 1), 40_000, 1e-9, "variance of column 0, cuts=\(cuts)")
                assertRelative(merged.comoment[3] / Double(n - 1), 160_000, 1e-9, "variance of column 1, cuts=\(cuts)")
                assertRelative(merged.mean[0], 1e9, 1e-15, "mean 0, cuts=\(cuts)")
                assertRelative(merged.mean[1], -1e9, 1e-15, "mean 1, cuts=\(cuts)")
            }
        }
    }

    func testCrossProductsAndSumsEqualDirectSums() {
        var rng = SplitMix64(seed: 3)
        for d in [1, 2, 5] {
            for n in [1, 6] {
                let rows = randomRows(n: n, d: d, rng: &rng)
                // Built by merging two halves so crossProducts is read from a merged value, not only a block.
                var m = slice(rows, 0..<(n / 2), d: d)
                m.merge(slice(rows, (n / 2)..<n, d: d))
                var xx = [Double](repeating: 0, count: d * d)
                var sums = [Double](repeating: 0, count: d)
                for i in 0..<n {
                    for a in 0..<d {
                        sums[a] += rows[i * d + a]
                        for b in 0..<d { xx[a * d + b] += rows[i * d + a] * rows[i * d + b] }
                    }
                }
                assertClose(m.crossProducts, xx, relative: 1e-13, scale: xx.map(abs).max()!, "Σxxᵀ d=\(d) n=\(n)")
                assertClose(m.sums, sums, relative: 1e-13, scale: sums.map(abs).max()!, "Σx d=\(d) n=\(n)")
            }
        }
    }

    func testHandComputedSmallCase() {
        // Rows (1, 2), (3, 6), (5, 7): means (3, 5); deviations (−2, −3), (0, 1), (2, 2);
        // C = [[4 + 0 + 4, 6 + 0 + 4], [·, 9 + 1 + 4]] = [[8, 10], [10, 14]].
        let m = MomentMatrix(rows: [1, 2, 3, 6, 5, 7], count: 3, dimension: 2)
        XCTAssertEqual(m.mean, [3, 5])
        XCTAssertEqual(m.comoment, [8, 10, 10, 14])
        // Σxxᵀ = [[1 + 9 + 25, 2 + 18 + 35], [·, 4 + 36 + 49]] = [[35, 55], [55, 89]].
        XCTAssertEqual(m.crossProducts, [35, 55, 55, 89])
        XCTAssertEqual(m.sums, [9, 15])
    }
}

final class CompensatedSumTests: XCTestCase {
    /// 1e16 + 1 − 1e16 is 0 in plain Float64 and 1 here; a sum split anywhere and merged equals the whole; the empty
    /// sum is the identity bit for bit.
    func testCompensationSplitsAndIdentity() {
        XCTAssertEqual([1e16, 1, -1e16].reduce(0, +), 0)
        XCTAssertEqual(CompensatedSum([1e16, 1, -1e16]).value, 1)
        var rng = SplitMix64(seed: 5)
        let xs = (0..<1000).map { _ in (Double(rng.next() >> 11) * 0x1.0p-53 - 0.5) * pow(10, Double(rng.next() % 12)) }
        let whole = CompensatedSum(xs)
        var merged = CompensatedSum()
        for cut in stride(from: 0, to: 1000, by: 137) { merged.merge(CompensatedSum(xs[cut..<min(cut + 137, 1000)])) }
        XCTAssertEqual(merged.value, whole.value)
        var left = CompensatedSum()
        left.merge(whole)
        XCTAssertEqual(left, whole)
        var right = whole
        right.merge(CompensatedSum())
        XCTAssertEqual(right, whole)
    }
}
