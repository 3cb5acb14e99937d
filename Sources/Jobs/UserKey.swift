import StableRandom

/// Stable hashing of user keys to shards and folds.
///
/// The hash must be the same in every process, on every machine and in every release, so it is spelled out
/// here and not taken from `Hasher` (which is seeded per process):
///
///     h = FNV-1a 64 over the UTF-8 bytes of the key values joined by the byte 0x1F
///     shard = h mod S
///     user fold = splitmix64(h) mod K
///
/// Sources: Fowler–Noll–Vo hash (`FNV1a64`); Steele, Lea & Flood (2014), SplitMix64 finaliser (`SplitMix64.mix`).
public enum UserKey {
    /// FNV-1a 64 of the values joined by 0x1F.
    /// - Complexity: O(total bytes).
    public static func hash<S: Sequence>(_ values: S) -> UInt64 where S.Element: StringProtocol {
        FNV1a64.hash(fields: values, separator: 0x1F)
    }

    /// The hash that places a data row: of its user-key fields, or, for a job without `data.user_key` (each row
    /// its own unit), of its 0-based data-row index.
    public static func rowHash<S: Sequence>(keyFields: S, rowIndex: Int, hasKey: Bool) -> UInt64
    where S.Element: StringProtocol {
        hasKey ? hash(keyFields) : SplitMix64.mix(UInt64(rowIndex))
    }

    /// The virtual shard of a user: h mod S.
    public static func shard(hash: UInt64, shards: Int) -> Int { Int(hash % UInt64(shards)) }

    /// The fold of a row: its data-row index mod K, or the user's splitmix64(h) mod K.
    public static func fold(rowIndex: Int, hash: UInt64, folds: Int, by: JobSpec.FoldBy) -> Int {
        switch by {
        case .row: return rowIndex % folds
        case .user: return Int(SplitMix64.mix(hash) % UInt64(folds))
        }
    }
}
