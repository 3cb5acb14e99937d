import Jobs

/// Shard ownership by rendezvous (highest-random-weight) hashing.
///
/// Shard s belongs to the worker w that maximises score(w, s) = splitmix64(FNV-1a(name_w) ⊕ splitmix64(s)).
/// When a worker joins or leaves, only the shards it wins or held move (about S/N of them); every process computes
/// the same owners from the same names with no coordination.
/// Source: Thaler & Ravishankar (1998), "Using name-based mappings to increase hit rates", IEEE/ACM ToN 6(1).
public enum Rendezvous {
    /// The owner of each shard 0..<shards among `workers` (names), ties broken by name.
    /// - Precondition: `workers` is not empty.
    /// - Complexity: O(shards × workers).
    public static func owners(shards: Int, workers: [String]) -> [String] {
        precondition(!workers.isEmpty, "owners: no workers")
        let seeds = workers.map { ($0, UserKey.hash([$0])) }
        return (0..<shards).map { s in
            let salt = UserKey.splitmix64(UInt64(s))
            var best = seeds[0].0, bestScore: UInt64 = 0, first = true
            for (name, seed) in seeds {
                let score = UserKey.splitmix64(seed ^ salt)
                if first || score > bestScore || (score == bestScore && name < best) {
                    best = name; bestScore = score; first = false
                }
            }
            return best
        }
    }
}
