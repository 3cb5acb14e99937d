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
/// Source: Chan, Golub & LeVeque (1983), "Algorithms for computing the sample variance: analysis and
/// recommendations", The American Statistician 37(3); Spark MLlib `MultivariateOnlineSummarizer`.
public struct MomentMatrix: SufficientStatistic, Equatable, Codable {
    /// Number of columns d.
    public let dimension: Int
    /// Number of rows merged (a count, kept as Float64 like the sums).
    public private(set) var count: Double
    /// Column means, [d].
    public private(set) var mean: [Double]
    /// Centred co-moments Σ (x − x̄)(x − x̄)ᵀ, [d, d] row-major, symmetric.
    public private(set) var comoment: [Double]

    /// An empty statistic (the identity of `merge`).
    /// - Parameter dimension: number of columns d ≥ 0.
    public init(dimension: Int) {
        precondition(dimension >= 0, "MomentMatrix: negative dimension \(dimension)")
        self.dimension = dimension
        self.count = 0
        self.mean = [Double](repeating: 0, count: dimension)
        self.comoment = [Double](repeating: 0, count: dimension * dimension)
    }

    /// Rebuilds a statistic from its parts, e.g. after decoding a wire message.
    /// - Precondition: `mean.count == dimension`, `comoment.count == dimension²` (the wire layer checks
    ///   decoded sizes before calling this).
    public init(dimension: Int, count: Double, mean: [Double], comoment: [Double]) {
        precondition(mean.count == dimension && comoment.count == dimension * dimension,
                     "MomentMatrix: sizes \(mean.count), \(comoment.count) do not fit dimension \(dimension)")
        self.dimension = dimension
        self.count = count
        self.mean = mean
        self.comoment = comoment
    }

    /// The moments of a block of rows, by the two-pass algorithm (means first, then centred products via BLAS).
    /// - Parameters:
    ///   - rows: [n, d] row-major Float64.
    ///   - count: n.
    ///   - dimension: d.
    /// - Complexity: O(n d²).
    public init(rows: [Double], count n: Int, dimension d: Int) {
        precondition(rows.count == n * d, "MomentMatrix: \(rows.count) values for \(n)×\(d) rows")
        self.init(dimension: d)
        guard n > 0 else { return }
        var m = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { m[j] += rows[i * d + j] } }
        for j in 0..<d { m[j] /= Double(n) }
        var centred = rows
        for i in 0..<n { for j in 0..<d { centred[i * d + j] -= m[j] } }
        var c = [Double](repeating: 0, count: d * d)
        centred.withUnsafeBufferPointer { LinearAlgebra.addGram($0.baseAddress!, rows: n, n: d, into: &c) }
        self.count = Double(n)
        self.mean = m
        self.comoment = c
    }

    /// Adds another part's moments to these (Chan, Golub & LeVeque pairwise update).
    /// - Precondition: `other.dimension == dimension`.
    /// - Complexity: O(d²).
    public mutating func merge(_ other: MomentMatrix) {
        precondition(other.dimension == dimension, "merge: dimension \(other.dimension), expected \(dimension)")
        guard other.count > 0 else { return }
        guard count > 0 else { self = other; return }
        let n = count + other.count
        let w = count * other.count / n
        let delta = (0..<dimension).map { other.mean[$0] - mean[$0] }
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
        for i in 0..<dimension { mean[i] += delta[i] * other.count / n }
        count = n
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
