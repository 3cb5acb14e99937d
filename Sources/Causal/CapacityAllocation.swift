/// Assigning one item per user under item capacities (a transportation problem), by Lagrangian item prices found in
/// rounds and an exact, deterministic repair: the arithmetic the coordinator does between the rounds of the greedy
/// learner. Per-user choices are made on the workers; only counts per item cross the wire.
///
/// The problem: maximise Σ_u S[u, a(u)] subject to |{u : a(u) = a}| ≤ cap[a]. Its Lagrangian dual
/// L(λ) = Σ_u max_a (S[u, a] − λ_a) + Σ_a λ_a cap[a], λ ≥ 0, bounds the LP optimum from above for every λ, so the
/// smallest L seen bounds how far the assignment found is from optimal (`gap`).
///
/// Source: Bertsekas, "Nonlinear Programming" (1999), §6.3 (subgradient methods for the dual); Everett (1963),
/// "Generalized Lagrange multiplier method for solving problems of optimum allocation of resources".
public enum CapacityAllocation {
    /// The largest number of users an item may take as their position-1 choice: ⌊(c − ε/|A|) · U / (1 − ε)⌋, so that
    /// its expected share of position-1 impressions, ((1 − ε)·n + U·ε/|A|) / U, is at most c.
    /// - Parameters:
    ///   - share: c, the capacity as a share of users, in (0, 1].
    ///   - users: U.
    ///   - epsilon: ε in [0, 1).
    ///   - catalogue: |A|, the items ε is spread over.
    /// - Returns: the count, ≥ 0 (0 when ε alone exceeds c).
    public static func itemLimit(share: Double, users: Int, epsilon: Double, catalogue: Int) -> Int {
        let room = share - epsilon / Double(catalogue)
        guard room > 0 else { return 0 }
        // A hair of slack absorbs the rounding of c·U when c·U is a whole number (0.05 × 4000 = 200).
        let n = room * Double(users) / (1 - epsilon)
        return Int((n * (1 + 1e-12)).rounded(.down))
    }

    /// One subgradient step on the prices: λ_a ← max(0, λ_a + step · (demand_a − cap_a) / U).
    /// - Parameters:
    ///   - prices: [C] λ.
    ///   - demand: [C] users choosing each item at λ.
    ///   - limits: [C] cap.
    ///   - users: U.
    ///   - step: the step size (the caller's schedule).
    public static func step(prices: [Double], demand: [Double], limits: [Int], users: Int, step: Double) -> [Double] {
        precondition(prices.count == demand.count && demand.count == limits.count, "step: sizes differ")
        return prices.indices.map { a in max(0, prices[a] + step * (demand[a] - Double(limits[a])) / Double(users)) }
    }

    /// The dual bound L(λ) from the merged Σ_u max_a (S[u, a] − λ_a) and the prices.
    public static func dualBound(maximaSum: Double, prices: [Double], limits: [Int]) -> Double {
        var total = maximaSum
        for a in prices.indices { total += prices[a] * Double(limits[a]) }
        return total
    }

    /// Per-shard quotas that sum to each shard's users and never exceed an item's limit: first each shard's demand at
    /// the final prices, in shard order, as far as the item's limit allows; then each shard still short takes spare
    /// room item by item (candidate order), in shard order. Deterministic: the same inputs give the same quotas.
    /// - Parameters:
    ///   - demand: [S][C] users of shard s choosing item a at the final prices (Σ_a demand[s][a] = users[s]).
    ///   - users: [S] users per shard.
    ///   - limits: [C] cap.
    /// - Returns: [S][C] quotas, or nil when Σ cap < Σ users (no feasible assignment).
    public static func quotas(demand: [[Int]], users: [Int], limits: [Int]) -> [[Int]]? {
        guard limits.reduce(0, +) >= users.reduce(0, +) else { return nil }
        var room = limits
        var out = demand.map { [Int](repeating: 0, count: $0.count) }
        for s in demand.indices {
            for a in limits.indices {
                let take = min(demand[s][a], room[a])
                out[s][a] = take
                room[a] -= take
            }
        }
        for s in demand.indices {
            var short = users[s] - out[s].reduce(0, +)
            var a = 0
            while short > 0, a < limits.count {
                let take = min(short, room[a])
                out[s][a] += take
                room[a] -= take
                short -= take
                a += 1
            }
        }
        return out
    }
}
