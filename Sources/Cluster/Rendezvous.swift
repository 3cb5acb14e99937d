import Jobs
import StableRandom

/// Shard ownership by rendezvous (highest-random-weight) hashing with bounded loads.
///
/// Worker w's score for shard s is splitmix64(FNV-1a(name_w) ⊕ splitmix64(s)). Shards are placed in order 0..<S, each
/// on its highest-scoring worker that holds fewer than ⌈S/N⌉ shards, so every worker holds ⌊S/N⌋ or ⌈S/N⌉ shards
/// (plain rendezvous hashing leaves binomial imbalance: 21 vs 43 of 64 shards for two workers in one measured case,
/// which caps a 2-worker speed-up at 1.5×). Every process computes the same owners from the same names with no
/// coordination; when a worker joins or leaves, most shards stay where they were (the bound moves a few more than
/// plain rendezvous hashing would).
/// Sources: Thaler & Ravishankar (1998), "Using name-based mappings to increase hit rates", IEEE/ACM ToN 6(1);
/// Mirrokni, Thorup & Zadimoghaddam (2018), "Consistent hashing with bounded loads", SODA.
public enum Rendezvous {
    /// The owner of each shard 0..<shards among `workers` (names), ties broken by name.
    /// - Precondition: `workers` is not empty.
    /// - Complexity: O(shards × workers log workers).
    public static func owners(shards: Int, workers: [String]) -> [String] {
        precondition(!workers.isEmpty, "owners: no workers")
        let names = workers.sorted()
        let seeds = names.map { FNV1a64.hash($0) }
        // Every worker takes ⌊S/N⌋ shards; the first S mod N workers to need one more take ⌈S/N⌉.
        let floor = shards / names.count
        var extra = shards % names.count
        var load = [Int](repeating: 0, count: names.count)
        return (0..<shards).map { s in
            let salt = SplitMix64.mix(UInt64(s))
            let ranked = names.indices.sorted {
                let a = SplitMix64.mix(seeds[$0] ^ salt)
                let b = SplitMix64.mix(seeds[$1] ^ salt)
                return a != b ? a > b : names[$0] < names[$1]
            }
            let chosen = ranked.first { load[$0] < floor || (load[$0] == floor && extra > 0) }!
            if load[chosen] == floor { extra -= 1 }
            load[chosen] += 1
            return names[chosen]
        }
    }
}
