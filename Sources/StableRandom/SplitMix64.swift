/// SplitMix64: a seedable generator whose outputs are fixed by its definition, so streams repeat across toolchains
/// (unlike the standard library's `random(in:using:)`, whose algorithms are not part of any contract). Its finaliser
/// `mix` is also the stable integer hash that decorrelates folds from shards and salts rendezvous scores.
///
/// Source: Steele, Lea & Flood (2014), "Fast splittable pseudorandom number generators", OOPSLA; constants as in
/// Vigna's reference `splitmix64.c`. Seed 0 gives 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, …
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The golden-ratio increment added before each output.
    public static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The generator's state (the last seed plus k increments).
    public var state: UInt64

    /// A generator starting at `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= Self.increment
        return Self.finalize(state)
    }

    /// The first output of a generator seeded with `x`: a bijective, well-mixed hash of a 64-bit integer.
    @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 { finalize(x &+ increment) }

    @inline(__always)
    static func finalize(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1): the top 53 bits of the next output.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
