/// A statistic computed on one shard that merges with the same statistic of other shards.
///
/// Causa's workers return values of conforming types; the coordinator merges them **in shard-id order**, so
/// that floating-point results do not depend on how shards were spread over workers.
///
/// ### The contract
/// - **Identity, bit for bit.** `empty(like: x)` is the statistic of no rows with `x`'s shape (dimension, column name,
///   number of fits); merging it into `x`, or `x` into it, gives `x` bit for bit (every Float64 field equal in its
///   bit pattern, −0.0 included). A merge may therefore start from the empty statistic without changing a number.
/// - **A fixed order, equal to rounding.** Floating-point merges are not associative: (a + b) + c and a + (b + c) may
///   differ in the last bits. Callers fix the order (shard 0, 1, …, S − 1; folds in order), so a result is
///   bit-identical for any number of workers at a fixed shard count. For any split of rows into parts P₁ … Pₖ,
///   merging the statistics of the parts in order equals the statistic of all rows **to rounding**:
/// ```swift
/// var merged = T.empty(like: whole)
/// for part in parts { merged.merge(part) }
/// XCTAssertEqual(merged.value, whole.value, accuracy: 1e-12 * scale)
/// ```
/// - **Shapes.** Both sides of a merge have the same shape; a mismatch is a bug (`precondition`). Shapes that come
///   from the network are checked before they reach a merge (each round's `accepts`, the wire codecs).
public protocol SufficientStatistic: Sendable {
    /// The statistic of no rows, shaped like `other`: the identity of `merge`, bit for bit.
    static func empty(like other: Self) -> Self
    /// Adds `other`'s rows to these.
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
