/// Stable hashing of user keys to shards and folds.
///
/// The hash must be the same in every process, on every machine and in every release, so it is spelled out
/// here and not taken from `Hasher` (which is seeded per process):
///
///     h = FNV-1a 64 over the UTF-8 bytes of the key values joined by the byte 0x1F
///     shard = h mod S
///     user fold = splitmix64(h) mod K
///
/// Sources: Fowler–Noll–Vo hash (FNV-1a, 64-bit offset basis 0xcbf29ce484222325, prime 0x100000001b3);
/// Steele, Lea & Flood (2014), SplitMix64 finaliser.
public enum UserKey {
    /// FNV-1a 64 of the values joined by 0x1F.
    /// - Complexity: O(total bytes).
    public static func hash<S: Sequence>(_ values: S) -> UInt64 where S.Element: StringProtocol {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var first = true
        for v in values {
            if !first { h = (h ^ 0x1F) &* 0x0000_0100_0000_01b3 }
            first = false
            for b in v.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        }
        return h
    }

    /// The SplitMix64 finaliser, used to decorrelate folds from shards.
    public static func splitmix64(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The hash that places a data row: of its user-key fields, or, for a job without `data.user_key` (each row
    /// its own unit), of its 0-based data-row index.
    public static func rowHash<S: Sequence>(keyFields: S, rowIndex: Int, hasKey: Bool) -> UInt64 where S.Element: StringProtocol {
        hasKey ? hash(keyFields) : splitmix64(UInt64(rowIndex))
    }

    /// The virtual shard of a user: h mod S.
    public static func shard(hash: UInt64, shards: Int) -> Int { Int(hash % UInt64(shards)) }

    /// The fold of a row: its data-row index mod K, or the user's splitmix64(h) mod K.
    public static func fold(rowIndex: Int, hash: UInt64, folds: Int, by: JobSpec.FoldBy) -> Int {
        switch by {
        case .row: return rowIndex % folds
        case .user: return Int(splitmix64(hash) % UInt64(folds))
        }
    }
}
