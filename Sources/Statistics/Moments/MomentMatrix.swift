/// Count, means and centred co-moments of d columns over the rows seen so far.
///
/// A value type: copies are independent. Memory O(d²) for any number of rows. Second moments are kept
/// centred (Σ (x − x̄)(x − x̄)ᵀ), never as raw power sums, and two statistics merge with the pairwise update
/// of Chan, Golub & LeVeque, which stays accurate where raw sums cancel:
///
///     n = n_a + n_b,  δ = x̄_b − x̄_a,
///     x̄ = x̄_a + δ · n_b / n,
///     C = C_a + C_b + δ δᵀ · n_a n_b / n.
///
/// It also carries exact facts for decisions that must not depend on rounding, the shard count or the row order
/// (docs/DECISIONS.md, "Numerical decisions"): each column's minimum and maximum (a column is constant exactly when
/// they are equal; its centred co-moments are then exactly 0), and, for the overflow message, the earliest row whose
/// value reaches each power of two from 2^`largeExponentFloor` up.
///
/// Source: Chan, Golub & LeVeque (1983), "Algorithms for computing the sample variance: analysis and
/// recommendations", The American Statistician 37(3); Spark MLlib `MultivariateOnlineSummarizer`.
public struct MomentMatrix: SufficientStatistic, Equatable, Codable {
    /// A data row: 0-based index in the data and 1-based line in its file.
    public struct RowMark: Sendable, Equatable, Codable {
        public var rowIndex: Int
        public var line: Int
        public init(rowIndex: Int, line: Int) {
            self.rowIndex = rowIndex
            self.line = line
        }
    }

    /// The smallest binary exponent e for which `firstLarge` records the earliest row with |x| ≥ 2^e. 2^448 ≈ 7.3e134
    /// is below √(DBL_MAX / n) / 4 for every n < 2^120, so every overflow of these sums has a recorded row.
    public static let largeExponentFloor = 448

    /// Number of columns d.
    public let dimension: Int
    /// Number of rows merged (a count, kept as Float64 like the sums).
    public private(set) var count: Double
    /// Column means, [d] (rounded: the mean is `mean` + `meanLow`).
    public private(set) var mean: [Double]
    /// The rounding error of `mean`, [d]: the mean to about twice Float64 precision is `mean` + `meanLow`
    /// (|meanLow| ≤ ulp(mean)/2). Kept so that merging shards whose values sit at a large offset (10⁹ + 1, …) loses
    /// no precision in the difference of their means, the δ of the update.
    public private(set) var meanLow: [Double]
    /// Centred co-moments Σ (x − x̄)(x − x̄)ᵀ, [d, d] row-major, symmetric.
    public private(set) var comoment: [Double]
    /// Column minima, [d] (+∞ with no rows).
    public private(set) var minimum: [Double]
    /// Column maxima, [d] (−∞ with no rows).
    public private(set) var maximum: [Double]
    /// Per column, [d] lists: element k is the earliest row (by data-row index) with
    /// |x| ≥ 2^(`largeExponentFloor` + k).
    /// Empty for a column without such values, and when the rows were given without their marks.
    public private(set) var firstLarge: [[RowMark]]

    /// An empty statistic (the identity of `merge`).
    /// - Parameter dimension: number of columns d ≥ 0.
    public init(dimension: Int) {
        precondition(dimension >= 0, "MomentMatrix: negative dimension \(dimension)")
        self.dimension = dimension
        self.count = 0
        self.mean = [Double](repeating: 0, count: dimension)
        self.meanLow = [Double](repeating: 0, count: dimension)
        self.comoment = [Double](repeating: 0, count: dimension * dimension)
        self.minimum = [Double](repeating: .infinity, count: dimension)
        self.maximum = [Double](repeating: -.infinity, count: dimension)
        self.firstLarge = [[RowMark]](repeating: [], count: dimension)
    }

    /// Rebuilds a statistic from its parts, e.g. after decoding a wire message.
    /// - Parameters:
    ///   - minimum, maximum: [d] column extremes; nil when unknown (then ±∞ with no rows, else the extremes are taken
    ///     as unknown: −∞ and +∞, so no column counts as constant).
    ///   - firstLarge: [d] lists as in `firstLarge`; nil for none.
    /// - Precondition: `mean.count == dimension`, `comoment.count == dimension²`, extremes of `dimension` values
    ///   (the wire layer checks decoded sizes before calling this).
    public init(
        dimension: Int, count: Double, mean: [Double], comoment: [Double], meanLow: [Double]? = nil,
        minimum: [Double]? = nil, maximum: [Double]? = nil, firstLarge: [[RowMark]]? = nil
    ) {
        precondition(
            mean.count == dimension && comoment.count == dimension * dimension,
            "MomentMatrix: sizes \(mean.count), \(comoment.count) do not fit dimension \(dimension)")
        let sizes = [meanLow?.count, minimum?.count, maximum?.count, firstLarge?.count].map { $0 ?? dimension }
        precondition(sizes.allSatisfy { $0 == dimension }, "MomentMatrix: extremes do not fit dimension \(dimension)")
        self.dimension = dimension
        self.count = count
        self.mean = mean
        self.meanLow = meanLow ?? [Double](repeating: 0, count: dimension)
        self.comoment = comoment
        self.minimum = minimum ?? [Double](repeating: count > 0 ? -.infinity : .infinity, count: dimension)
        self.maximum = maximum ?? [Double](repeating: count > 0 ? .infinity : -.infinity, count: dimension)
        self.firstLarge = firstLarge ?? [[RowMark]](repeating: [], count: dimension)
    }

    /// The moments of a block of rows, by the two-pass algorithm (means first, then centred products via BLAS).
    /// - Parameters:
    ///   - rows: [n, d] row-major Float64.
    ///   - count: n.
    ///   - dimension: d.
    ///   - marks: [n] the rows' data-row indices and lines, in data order, for `firstLarge`; nil to skip it.
    /// - Complexity: O(n d²).
    public init(rows: [Double], count n: Int, dimension d: Int, marks: [RowMark]? = nil) {
        precondition(rows.count == n * d, "MomentMatrix: \(rows.count) values for \(n)×\(d) rows")
        precondition(marks == nil || marks!.count == n, "MomentMatrix: \(marks?.count ?? 0) row marks for \(n) rows")
        self.init(dimension: d)
        guard n > 0 else { return }
        var m = [Double](repeating: 0, count: d)
        var low = [Double](repeating: .infinity, count: d)
        var high = [Double](repeating: -.infinity, count: d)
        for i in 0..<n {
            for j in 0..<d {
                let v = rows[i * d + j]
                m[j] += v
                low[j] = Swift.min(low[j], v)
                high[j] = Swift.max(high[j], v)
            }
        }
        // A constant column's mean is its value, exactly.
        for j in 0..<d { m[j] = low[j] == high[j] ? low[j] : m[j] / Double(n) }
        if let marks {
            let floor = Double(sign: .plus, exponent: Self.largeExponentFloor, significand: 1)
            for j in 0..<d where Swift.max(abs(low[j]), abs(high[j])) >= floor {
                var list: [RowMark] = []
                for i in 0..<n where abs(rows[i * d + j]) >= floor && rows[i * d + j].isFinite {
                    let e = Int(abs(rows[i * d + j]).exponent)  // |x| ≥ 2^e exactly for the exponents up to this one
                    while Self.largeExponentFloor + list.count <= e { list.append(marks[i]) }
                }
                firstLarge[j] = list
            }
        }
        minimum = low
        maximum = high
        // The corrected two-pass mean (Chan, Golub & LeVeque): m + Σ(x − m)/n, kept as an unevaluated sum.
        var correction = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d where low[j] != high[j] { correction[j] += rows[i * d + j] - m[j] } }
        var ml = [Double](repeating: 0, count: d)
        for j in 0..<d where low[j] != high[j] { (m[j], ml[j]) = Self.twoSum(m[j], correction[j] / Double(n)) }
        var centred = rows
        for i in 0..<n { for j in 0..<d { centred[i * d + j] = (centred[i * d + j] - m[j]) - ml[j] } }
        var c = [Double](repeating: 0, count: d * d)
        centred.withUnsafeBufferPointer { LinearAlgebra.addGram($0.baseAddress!, rows: n, n: d, into: &c) }
        self.count = Double(n)
        self.mean = m
        self.meanLow = ml
        self.comoment = c
    }

    /// a + b as the rounded sum and its exact rounding error (Knuth's TwoSum).
    static func twoSum(_ a: Double, _ b: Double) -> (Double, Double) {
        let s = a + b
        let bb = s - a
        return (s, (a - (s - bb)) + (b - bb))
    }

    /// The empty statistic of `other`'s dimension (the identity of `merge`, bit for bit).
    public static func empty(like other: MomentMatrix) -> MomentMatrix { MomentMatrix(dimension: other.dimension) }

    /// Adds another part's moments to these (Chan, Golub & LeVeque pairwise update).
    /// - Precondition: `other.dimension == dimension`.
    /// - Complexity: O(d²).
    public mutating func merge(_ other: MomentMatrix) {
        precondition(other.dimension == dimension, "merge: dimension \(other.dimension), expected \(dimension)")
        guard other.count > 0 else { return }
        guard count > 0 else {
            self = other
            return
        }
        for j in 0..<dimension {
            minimum[j] = Swift.min(minimum[j], other.minimum[j])
            maximum[j] = Swift.max(maximum[j], other.maximum[j])
            firstLarge[j] = Self.earliest(firstLarge[j], other.firstLarge[j])
        }
        let n = count + other.count
        let w = count * other.count / n
        let delta = (0..<dimension).map { (other.mean[$0] - mean[$0]) + (other.meanLow[$0] - meanLow[$0]) }
        let d = dimension
        comoment.withUnsafeMutableBufferPointer { c in
            other.comoment.withUnsafeBufferPointer { o in
                delta.withUnsafeBufferPointer { delta in
                    for i in 0..<d {
                        let wi = w * delta[i]
                        for j in 0..<d { c[i * d + j] += o[i * d + j] + wi * delta[j] }
                    }
                }
            }
        }
        for i in 0..<dimension {
            if minimum[i] == maximum[i] {
                (mean[i], meanLow[i]) = (minimum[i], 0)
            } else {
                (mean[i], meanLow[i]) = Self.twoSum(mean[i], meanLow[i] + delta[i] * other.count / n)
            }
        }
        count = n
    }

    /// Elementwise the earlier row of two `firstLarge` lists (the longer list's tail as it is). Order-independent.
    static func earliest(_ a: [RowMark], _ b: [RowMark]) -> [RowMark] {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        var out = a.count >= b.count ? a : b
        for k in 0..<Swift.min(a.count, b.count) { out[k] = b[k].rowIndex < a[k].rowIndex ? b[k] : a[k] }
        return out
    }

    /// Whether column j takes one value in every row (exact: its minimum equals its maximum). False with no rows.
    public func isConstant(_ j: Int) -> Bool { count > 0 && minimum[j] == maximum[j] }

    /// The earliest row with |x_j| ≥ 2^e for some column j of `columns` (by data-row index), with that column, or nil
    /// when no such row was recorded (e < `largeExponentFloor` is treated as `largeExponentFloor`).
    public func firstRow(atLeastPowerOfTwo e: Int, columns: [Int]) -> (column: Int, row: RowMark)? {
        let k = Swift.max(0, e - Self.largeExponentFloor)
        var best: (column: Int, row: RowMark)? = nil
        for j in columns where k < firstLarge[j].count {
            let r = firstLarge[j][k]
            if best == nil || r.rowIndex < best!.row.rowIndex { best = (j, r) }
        }
        return best
    }

    /// Raw cross-products Σ x xᵀ = C + n x̄ x̄ᵀ, [d, d] row-major.
    /// - Complexity: O(d²).
    public var crossProducts: [Double] {
        var out = comoment
        for i in 0..<dimension { for j in 0..<dimension { out[i * dimension + j] += count * mean[i] * mean[j] } }
        return out
    }

    /// Raw sums Σ x, [d].
    public var sums: [Double] { mean.map { $0 * count } }
}
