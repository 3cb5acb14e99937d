import Foundation

/// xoshiro256** with independent streams of one seed, and the draws built on it (uniform, index, normal, pick,
/// weighted index). Every random draw Causa makes goes through it or `SplitMix64`; none of Swift's system or
/// standard-library randomness is used, so a seed gives the same bits on every machine and toolchain.
///
/// Source: Blackman & Vigna (2021), "Scrambled linear pseudorandom number generators", ACM TOMS 47(4); reference
/// `xoshiro256starstar.c`. State (1, 2, 3, 4) gives 11520, 0, 1509978240, 1215971899390074240, …
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    var s: (UInt64, UInt64, UInt64, UInt64)

    /// A generator for `stream` of `seed`: its state is four outputs of SplitMix64 seeded with
    /// seed ⊕ (stream · 0xD1B54A32D192ED03), so streams (users, items, noise, impressions) are independent and adding
    /// draws to one leaves the others unchanged.
    public init(seed: UInt64, stream: UInt64) {
        var sm = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        s = (sm.next(), sm.next(), sm.next(), sm.next())
        if s.0 | s.1 | s.2 | s.3 == 0 { s.0 = 1 }
    }

    /// A generator with the given state words (not all zero), for reference vectors.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        s = state
        if s.0 | s.1 | s.2 | s.3 == 0 { s.0 = 1 }
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = Self.rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = Self.rotl(s.3, 45)
        return result
    }

    /// Uniform in [0, 1): the top 53 bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform integer in 0..<n by multiply-high (bias below 2⁻⁶⁴·n); 0 when n ≤ 1.
    public mutating func index(_ n: Int) -> Int {
        guard n > 1 else {
            _ = next()
            return 0
        }
        return Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// Standard normal by Box–Muller (one value per call; two uniforms consumed).
    public mutating func normal() -> Double {
        let u1 = 1.0 - uniform()  // (0, 1]
        let u2 = uniform()
        return (-2.0 * Foundation.log(u1)).squareRoot() * Foundation.cos(2.0 * Double.pi * u2)
    }

    /// An element of a non-empty array, uniformly.
    /// - Precondition: `xs` is not empty (callers pass fixed, non-empty tables).
    public mutating func pick<T>(_ xs: [T]) -> T { xs[index(xs.count)] }

    /// An index drawn with probability proportional to `weights` (non-negative, positive sum), scanning in order.
    public mutating func weightedIndex(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        let r = uniform() * total
        var cumulative = 0.0
        for (k, w) in weights.enumerated() {
            cumulative += w
            if r < cumulative { return k }
        }
        return weights.lastIndex { $0 > 0 } ?? (weights.count - 1)
    }
}
