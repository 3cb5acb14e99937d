import Foundation

/// SplitMix64 (Steele, Lea & Flood 2014): used to expand a seed into generator states. Its output for a given
/// state is fixed by its definition, so the simulator is reproducible across toolchains (unlike the standard
/// library's `random(in:using:)`, whose algorithms are not part of any contract).
public struct SplitMix64: Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman & Vigna 2018), seeded from SplitMix64. Every draw the simulator makes goes through one
/// of these, with the helpers below; none of Swift's system or standard-library randomness is used.
public struct Xoshiro256: Sendable {
    var s: (UInt64, UInt64, UInt64, UInt64)

    /// A generator for `stream` of `seed`: independent streams for users, items, logging noise and impressions, so
    /// that, e.g., changing the number of impressions does not change the users or items.
    public init(seed: UInt64, stream: UInt64) {
        var sm = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        s = (sm.next(), sm.next(), sm.next(), sm.next())
        if s.0 | s.1 | s.2 | s.3 == 0 { s.0 = 1 }
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

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

    /// Uniform integer in 0..<n (multiply-high; the bias is below 2⁻⁶⁴·n, irrelevant here).
    public mutating func index(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// Standard normal by Box–Muller (one value per call; two uniforms consumed).
    public mutating func normal() -> Double {
        let u1 = 1.0 - uniform()  // (0, 1]
        let u2 = uniform()
        return (-2.0 * Foundation.log(u1)).squareRoot() * Foundation.cos(2.0 * Double.pi * u2)
    }

    /// An element of a non-empty array, uniformly.
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
