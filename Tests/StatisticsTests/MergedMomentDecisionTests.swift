import Foundation
import XCTest

@testable import Statistics

/// Field case C15 (merging partial moments: no negative variance, no lost precision at large offsets) and the exact
/// facts the moments carry for decisions (extremes, the rows of large values). Right values by hand.
final class MergedMomentDecisionTests: XCTestCase {
    /// The parts of `Tests/Fixtures/cases/C15_shards.csv`: per part, its header and rows (shard label, numbers).
    func c15() throws -> [Int: [(shard: String, values: [Double])]] {
        let url = Fixtures.root.appendingPathComponent("cases/C15_shards.csv")
        var parts: [Int: [(shard: String, values: [Double])]] = [:]
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        where !line.hasPrefix("#") && !line.hasPrefix("part,") {
            let f = line.split(separator: ",").map(String.init)
            parts[Int(f[0])!, default: []].append((f[1], f[2...].map { Double($0)! }))
        }
        return parts
    }

    /// Merges one statistic per shard label (rows of a shard in file order), in every order of the shards.
    func mergedInEveryOrder(_ rows: [(shard: String, values: [Double])], columns: (([Double]) -> [Double]))
        -> [MomentMatrix]
    {
        var labels: [String] = []
        for r in rows where !labels.contains(r.shard) { labels.append(r.shard) }
        let parts = labels.map { label -> MomentMatrix in
            let block = rows.filter { $0.shard == label }.map { columns($0.values) }
            return MomentMatrix(rows: block.flatMap { $0 }, count: block.count, dimension: block[0].count)
        }
        func permutations(_ a: [Int]) -> [[Int]] {
            a.count <= 1
                ? [a] : a.indices.flatMap { i in permutations(Array(a[..<i] + a[(i + 1)...])).map { [a[i]] + $0 } }
        }
        return permutations(Array(parts.indices)).map { order in
            MomentMatrix.merged(order.map { parts[$0] }, into: MomentMatrix(dimension: parts[0].dimension))
        }
    }

    /// C15 (1): identical values (0.1, one row per worker) merge to a variance of exactly 0 in every merge order
    /// (Causa has no weights: the unweighted analogue), and the mean is exactly 0.1.
    func testC15IdenticalValuesMergeToVarianceExactlyZero() throws {
        let part = try c15()[1]!
        XCTAssertEqual(part.count, 4)
        for m in mergedInEveryOrder(part, columns: { [$0[0]] }) {
            XCTAssertEqual(m.comoment, [0])
            XCTAssertEqual(m.mean, [0.1])
            XCTAssertTrue(m.isConstant(0))
        }
        // Seven rows of 0.1 in any split: a single block's two-pass mean of 0.1s is not 0.1 in Float64, yet the
        // statistic is exact.
        let rows = [Double](repeating: 0.1, count: 7)
        XCTAssertEqual(MomentMatrix(rows: rows, count: 7, dimension: 1).comoment, [0])
        for cut in 1..<7 {
            var m = MomentMatrix(rows: Array(rows[..<cut]), count: cut, dimension: 1)
            m.merge(MomentMatrix(rows: Array(rows[cut...]), count: 7 - cut, dimension: 1))
            XCTAssertEqual(m.comoment, [0], "cut \(cut)")
            XCTAssertEqual(m.mean, [0.1], "cut \(cut)")
        }
    }

    /// The diagonal of merged co-moments is never negative, whatever the values and the split (every term of the
    /// pairwise update is a square or a sum of squares).
    func testMergedDiagonalIsNeverNegative() {
        var rng = SplitMix64(seed: 15)
        for trial in 0..<200 {
            let n = 2 + trial % 9
            let offset = [0, 1e6, 1e9, 1e15][trial % 4]
            let rows = (0..<n).map { _ in
                offset + (Bool.random(using: &rng) ? 0.1 : 0.1 + 1e-9 * Double.random(in: 0...1, using: &rng))
            }
            var m = MomentMatrix(dimension: 1)
            var i = 0
            while i < n {
                let k = min(n - i, 1 + Int.random(in: 0..<3, using: &rng))
                m.merge(MomentMatrix(rows: Array(rows[i..<(i + k)]), count: k, dimension: 1))
                i += k
            }
            XCTAssertGreaterThanOrEqual(m.comoment[0], 0, "trial \(trial)")
        }
    }

    /// C15 (2): 1e9 + 1, 1e9 + 2, 1e9 + 3 on three workers: sample variance exactly 1.0 in every merge order.
    func testC15LargeOffsetVarianceIsOne() throws {
        let part = try c15()[2]!
        for m in mergedInEveryOrder(part, columns: { [$0[0]] }) {
            XCTAssertEqual(m.comoment[0] / (m.count - 1), 1.0)
            XCTAssertEqual(m.mean[0] + m.meanLow[0], 1_000_000_002)
        }
    }

    /// C15 (3): y ~ x split over two workers: slope 2.15, intercept −2150000000.25, var(x) = 5/3 (by hand: C_xx = 5,
    /// C_xy = 10.75, ȳ = 5.125, x̄ = 10⁹ + 2.5).
    func testC15SplitRegressionAtAnOffset() throws {
        let part = try c15()[3]!
        for m in mergedInEveryOrder(part, columns: { [1, $0[0], $0[1]] }) {
            let s = try LinearModel.solve(m, names: ["Intercept", "x"])
            XCTAssertEqual(s.estimates[1], 2.15, accuracy: 1e-15)
            XCTAssertEqual(s.estimates[0], -2_150_000_000.25, accuracy: 5e-7)  // half an ulp of 2.15e9 is 2.4e-7
            XCTAssertEqual(m.comoment[1 * 3 + 1] / (m.count - 1), 5.0 / 3.0, accuracy: 1e-15)
            XCTAssertEqual(
                LinearModel.sumOfSquaredResiduals(m, estimates: s.centredEstimates, centring: s.centring), 0.075,
                accuracy: 1e-14)
        }
    }

    /// Extremes merge exactly; the earliest row with |x| ≥ 2^e is kept by row index, not by merge order.
    func testExtremesAndLargeValueRowsMergeExactly() {
        let mark = { (i: Int) in MomentMatrix.RowMark(rowIndex: i, line: i + 2) }
        let big = Double(sign: .plus, exponent: 500, significand: 1)
        // Shard a holds rows 5 and 7, shard b rows 2 and 9.
        let a = MomentMatrix(rows: [1, big], count: 2, dimension: 1, marks: [mark(5), mark(7)])
        let b = MomentMatrix(rows: [big * 4, -3], count: 2, dimension: 1, marks: [mark(2), mark(9)])
        for (first, second) in [(a, b), (b, a)] {
            var m = first
            m.merge(second)
            XCTAssertEqual(m.minimum, [-3])
            XCTAssertEqual(m.maximum, [big * 4])
            XCTAssertEqual(m.firstRow(atLeastPowerOfTwo: 500, columns: [0])?.row, mark(2))
            XCTAssertEqual(m.firstRow(atLeastPowerOfTwo: 502, columns: [0])?.row, mark(2))
            XCTAssertNil(m.firstRow(atLeastPowerOfTwo: 503, columns: [0]))
        }
        // Row 7 comes first when only shard a has values ≥ 2^500 up to that row: earlier rows decide.
        let c = MomentMatrix(rows: [big], count: 1, dimension: 1, marks: [mark(3)])
        var m = a
        m.merge(c)
        XCTAssertEqual(m.firstRow(atLeastPowerOfTwo: 500, columns: [0])?.row, mark(3))
        // Below the floor: the floor's row.
        XCTAssertEqual(m.firstRow(atLeastPowerOfTwo: 400, columns: [0])?.row, mark(3))
    }

    /// The rank decision uses the centred moments: x at an offset of 10⁶ or 10⁹ is not collinear with the intercept;
    /// two constant columns are, exactly; a zero column is named alone.
    func testRankDecisionIgnoresOffsets() throws {
        for offset in [0.0, 1e3, 1e6, 1e9, 1e12] {
            let rows: [Double] = (1...4).flatMap { (i: Int) -> [Double] in [1, offset + Double(i), Double(i * i)] }
            let m = MomentMatrix(rows: rows, count: 4, dimension: 3)
            XCTAssertNoThrow(try LinearModel.solve(m, names: ["Intercept", "x"]), "offset \(offset)")
        }
        let constant = MomentMatrix(
            rows: (1...4).flatMap { (i: Int) -> [Double] in [1, 0.0125, Double(i)] }, count: 4, dimension: 3)
        XCTAssertThrowsError(try LinearModel.solve(constant, names: ["Intercept", "p"])) {
            XCTAssertEqual($0 as? StatisticsError, .singularDesign(columns: ["Intercept", "p"]))
        }
        let zero = MomentMatrix(
            rows: (1...4).flatMap { (i: Int) -> [Double] in [1, 0, Double(i)] }, count: 4, dimension: 3)
        XCTAssertThrowsError(try LinearModel.solve(zero, names: ["Intercept", "z"])) {
            XCTAssertEqual($0 as? StatisticsError, .singularDesign(columns: ["z"]))
        }
        // x2 = x1 + 1 at an offset involves the intercept; x2 = 2 x1 does not.
        let shiftedRows: [Double] = (1...5).flatMap { (i: Int) -> [Double] in
            let a = 1e9 + Double(i * i)
            return [1, a, a + 1, Double(i)]
        }
        let shifted = MomentMatrix(rows: shiftedRows, count: 5, dimension: 4)
        XCTAssertThrowsError(try LinearModel.solve(shifted, names: ["Intercept", "a", "b"])) {
            XCTAssertEqual($0 as? StatisticsError, .singularDesign(columns: ["Intercept", "a", "b"]))
        }
        let doubledRows: [Double] = (1...5).flatMap { (i: Int) -> [Double] in
            [1, Double(i * i), 2 * Double(i * i), Double(i)]
        }
        let doubled = MomentMatrix(rows: doubledRows, count: 5, dimension: 4)
        XCTAssertThrowsError(try LinearModel.solve(doubled, names: ["Intercept", "a", "b"])) {
            XCTAssertEqual($0 as? StatisticsError, .singularDesign(columns: ["a", "b"]))
        }
    }

    /// The Bayesian linear model with a flat prior equals OLS at an offset (it solves in the same centred coordinates).
    func testBayesianLinearAtAnOffset() throws {
        let m = MomentMatrix(
            rows: [1, 1e9 + 1, 2, 1, 1e9 + 2, 4, 1, 1e9 + 3, 6, 1, 1e9 + 4, 8.5], count: 4, dimension: 3)
        let flat = try BayesianLinearModel.fit(m, names: ["Intercept", "x"], prior: .flat(coefficients: 2))
        XCTAssertEqual(flat.posteriorMean[1], 2.15, accuracy: 1e-15)
        XCTAssertEqual(flat.posteriorMean[0], -2_150_000_000.25, accuracy: 5e-7)
        // A weak isotropic prior (precision 1e-6 per coefficient) barely moves the slope: finite, close to 2.15.
        let weak = try BayesianLinearModel.fit(
            m, names: ["Intercept", "x"], prior: .isotropic(mean: [0, 0], precisionScale: 1e-6))
        XCTAssertTrue(weak.posteriorMean.allSatisfy(\.isFinite))
    }
}
