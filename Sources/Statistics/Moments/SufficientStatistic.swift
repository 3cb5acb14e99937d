/// A statistic computed on one shard that merges with the same statistic of other shards.
///
/// Causa's workers return values of conforming types; the coordinator merges them **in shard-id order**, so
/// that floating-point results do not depend on how shards were spread over workers.
///
/// ### The contract, as a test conformers can copy
/// For any split of rows into parts P₁ … Pₖ, merging the statistics of the parts in order equals the statistic
/// of all rows, to rounding:
/// ```swift
/// var merged = T.empty(like: whole)
/// for part in parts { merged.merge(part) }
/// XCTAssertEqual(merged.value, whole.value, accuracy: 1e-12 * scale)
/// ```
/// An empty statistic is the identity of `merge`.
public protocol SufficientStatistic: Sendable {
    /// Adds `other`'s rows to these. Must be associative; callers fix the order (shard order) for reproducibility.
    mutating func merge(_ other: Self)
}

extension SufficientStatistic {
    /// Merges `parts` in the order given into `initial`.
    /// - Complexity: O(parts × cost of one merge).
    public static func merged(_ parts: [Self], into initial: Self) -> Self {
        var total = initial
        for part in parts { total.merge(part) }
        return total
    }
}
