@_exported import StableRandom

/// The causal layer: off-policy estimators, policy learning, constraints and seeded randomness, as pure functions of
/// merged per-shard statistics. It depends on Statistics and knows nothing of sockets or job files (the Jobs layer
/// plans its rounds; the Cluster layer carries them).
///
/// Its seeded randomness and stable hashes (`Xoshiro256`, `SplitMix64`, `FNV1a64`) live in the small `StableRandom`
/// target below every layer, so that Statistics (generic-rank checks), Encoders (the hashing encoder), Jobs (user
/// shards and folds), Cluster (rendezvous hashing) and Simulation use one definition; `import Causal` re-exports it.
public enum Causal {}
