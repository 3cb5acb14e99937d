/// FNV-1a, 64-bit: the stable hash of user keys (shards, folds), worker names (rendezvous) and hashing-encoder
/// tokens. Unlike `Hasher`, which is seeded per process, it gives the same value in every process, on every machine
/// and in every release.
///
/// Source: Fowler, Noll & Vo, "The FNV non-cryptographic hash algorithm" (IETF draft-eastlake-fnv): offset basis
/// 0xcbf29ce484222325, prime 0x100000001b3; a byte is XORed in, then the state is multiplied.
public struct FNV1a64: Sendable, Equatable {
    /// The offset basis, the hash of no bytes.
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    /// The 64-bit FNV prime.
    public static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// The hash of the bytes fed so far.
    public private(set) var value: UInt64 = offsetBasis

    /// A hash of no bytes.
    public init() {}

    /// Feeds one byte.
    @inline(__always)
    public mutating func combine(_ byte: UInt8) { value = (value ^ UInt64(byte)) &* Self.prime }

    /// Feeds the UTF-8 bytes of a string.
    /// - Complexity: O(bytes).
    public mutating func combine<S: StringProtocol>(utf8 text: S) {
        for b in text.utf8 { combine(b) }
    }

    /// FNV-1a 64 of the UTF-8 bytes of a string.
    public static func hash<S: StringProtocol>(_ text: S) -> UInt64 {
        var h = FNV1a64()
        h.combine(utf8: text)
        return h.value
    }

    /// FNV-1a 64 of the UTF-8 bytes of `fields` joined by the byte `separator` (0x1F, the ASCII unit separator, for
    /// composite user keys: ("x, y", "z") and ("x", "y, z") hash apart).
    /// - Complexity: O(total bytes).
    public static func hash<S: Sequence>(fields: S, separator: UInt8 = 0x1F) -> UInt64 where S.Element: StringProtocol {
        var h = FNV1a64()
        var first = true
        for field in fields {
            if !first { h.combine(separator) }
            first = false
            h.combine(utf8: field)
        }
        return h.value
    }
}
