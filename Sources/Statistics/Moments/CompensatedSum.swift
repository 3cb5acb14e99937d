/// A sum of Float64 values kept to about twice Float64 precision, as an unevaluated pair hi + lo: each addition is
/// Knuth's TwoSum, so the rounding error of every step is carried instead of lost. Merging two sums is double-double
/// addition, so the merged total does not depend (beyond ~2⁻¹⁰⁴ relative) on how rows were split into shards — the
/// property ratios of sums such as SNIPS need, where centred means merged by Chan's update agree only to ~1e-14.
///
/// Source: Knuth, TAOCP vol. 2, §4.2.2 (TwoSum); Ogita, Rump & Oishi (2005), "Accurate sum and dot product", SIAM
/// J. Sci. Comput. 26(6) (Sum2).
public struct CompensatedSum: SufficientStatistic, Equatable, Codable {
    /// The rounded sum.
    public private(set) var high: Double = 0
    /// The accumulated rounding error: the sum is `high` + `low`.
    public private(set) var low: Double = 0

    /// An empty sum (the identity of `merge`).
    public init() {}

    /// A sum from its two parts, as `high` and `low` gave them (a decoded sum).
    public init(high: Double, low: Double) {
        self.high = high
        self.low = low
    }

    /// The sum of `values`, in order.
    public init<S: Sequence>(_ values: S) where S.Element == Double {
        for v in values { add(v) }
    }

    /// a + b as the rounded sum and its exact rounding error (TwoSum; no branch, any magnitudes).
    @inline(__always)
    static func twoSum(_ a: Double, _ b: Double) -> (sum: Double, error: Double) {
        let s = a + b
        let bb = s - a
        return (s, (a - (s - bb)) + (b - bb))
    }

    /// Adds one value.
    @inline(__always)
    public mutating func add(_ x: Double) {
        let (s, e) = Self.twoSum(high, x)
        high = s
        low += e
    }

    /// The empty sum (the identity of `merge`, bit for bit).
    public static func empty(like other: CompensatedSum) -> CompensatedSum { CompensatedSum() }

    /// Adds another sum (double-double addition, renormalised).
    public mutating func merge(_ other: CompensatedSum) {
        guard other.high != 0 || other.low != 0 else { return }  // the identity leaves a sum as it is, bit for bit
        guard high != 0 || low != 0 else {
            self = other
            return
        }
        let (s, e) = Self.twoSum(high, other.high)
        let (h, l) = Self.twoSum(s, e + low + other.low)
        high = h
        low = l
    }

    /// The sum, rounded once to Float64.
    public var value: Double { high + low }
}
