/// OLS residual sums at one β, per shard: the row count n, Σ eᵢ² (the exact RSS) and the HC0 meat Σ eᵢ² xᵢ xᵢᵀ
/// ([p, p] row-major), in the design's coordinates (centred when the fit is; see `DesignCentring`). Merged in shard
/// order it gives `LinearModelResults` its RSS and, through `LinearAlgebra.sandwich`, its HC0 covariance.
///
/// Source: White (1980) for the meat; statsmodels `RegressionResults.ssr` and `cov_HC0`.
public struct ResidualStatistic: SufficientStatistic, Equatable {
    public var count: Double = 0
    public var sumOfSquares: Double = 0
    /// [p, p] row-major.
    public var meat: [Double]
    public init(dimension p: Int) { meat = [Double](repeating: 0, count: p * p) }
    public init(count: Double, sumOfSquares: Double, meat: [Double]) {
        self.count = count
        self.sumOfSquares = sumOfSquares
        self.meat = meat
    }
    /// The sums of no rows for `other`'s dimension (the identity of `merge`, bit for bit).
    public static func empty(like other: ResidualStatistic) -> ResidualStatistic {
        ResidualStatistic(count: 0, sumOfSquares: 0, meat: [Double](repeating: 0, count: other.meat.count))
    }
    /// Whether these are the sums of no rows (every field +0, bit for bit).
    public var isEmpty: Bool {
        count.bitPattern == 0 && sumOfSquares.bitPattern == 0 && meat.allSatisfy { $0.bitPattern == 0 }
    }
    public mutating func merge(_ other: ResidualStatistic) {
        precondition(other.meat.count == meat.count, "merge: meat sizes differ")
        // The empty statistic is the identity bit for bit (adding +0 would turn a −0 into +0).
        guard !other.isEmpty else { return }
        guard !isEmpty else {
            self = other
            return
        }
        count += other.count
        sumOfSquares += other.sumOfSquares
        for i in meat.indices { meat[i] += other.meat[i] }
    }
}
