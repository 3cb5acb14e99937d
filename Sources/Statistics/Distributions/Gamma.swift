import Foundation

/// The regularised incomplete gamma functions and their inverses.
///
///     P(a, x) = γ(a, x) / Γ(a) = (1/Γ(a)) ∫₀ˣ tᵃ⁻¹ e⁻ᵗ dt,   Q(a, x) = 1 − P(a, x),
///
/// the CDF and survival function of a Gamma(shape a, scale 1) variable at x.
///
/// ### Method
/// Series for P when x < a + 1, Lentz continued fraction for Q otherwise (Numerical Recipes 3rd ed. §6.2, `gser` and
/// `gcf`; Cephes `igam`/`igamc` use the same split). The common factor xᵃe⁻ˣ/Γ(a + 1) is computed as
/// exp(−stirlerr(a) − bd0(a, x)) / √(2πa) for a ≥ 10 (Loader 2000, as R's `dpois_raw`), which keeps full relative
/// precision when a and x are both large (e.g. a = 10⁶, x ≈ a) where a·log x − x − log Γ(a+1) cancels. The other
/// tail is 1 minus the computed one, so the smaller of P and Q is always the accurate one. Relative accuracy is about
/// 1e-14 for a in [1e-3, 1e7]; the number of terms grows like √a.
///
/// Inverses solve P(a, x) = p (or Q(a, x) = q) by Halley's method from the starting values of Numerical Recipes
/// `invgammp` (Wilson–Hilferty for a > 1), inside a bracket that falls back to bisection, on whichever tail is
/// smaller, to full double precision.
///
/// Source: Press et al., Numerical Recipes, 3rd ed. (2007), §6.2 (`gser`, `gcf`, `invgammp`); Moshier, Cephes
/// `igam.c`/`igami.c`; Loader (2000), "Fast and accurate computation of binomial probabilities" (`stirlerr`, `bd0`).
public enum Gamma {
    /// P(a, x), the regularised lower incomplete gamma function: the Gamma(a, 1) CDF at x.
    /// - Parameters:
    ///   - a: shape, > 0.
    ///   - x: ≥ 0 (∞ allowed, giving 1).
    /// - Returns: a value in [0, 1]; NaN when an argument is NaN.
    /// - Precondition: a > 0 and x ≥ 0.
    /// - Complexity: O(√a + 1) terms.
    public static func regularizedLower(a: Double, x: Double) -> Double {
        if a.isNaN || x.isNaN { return .nan }
        return both(a: a, x: x).lower
    }

    /// Q(a, x) = 1 − P(a, x), the regularised upper incomplete gamma function: the Gamma(a, 1) survival function,
    /// accurate in the far upper tail.
    /// - Parameters:
    ///   - a: shape, > 0.
    ///   - x: ≥ 0 (∞ allowed, giving 0).
    /// - Returns: a value in [0, 1]; NaN when an argument is NaN.
    /// - Precondition: a > 0 and x ≥ 0.
    /// - Complexity: O(√a + 1) terms.
    public static func regularizedUpper(a: Double, x: Double) -> Double {
        if a.isNaN || x.isNaN { return .nan }
        return both(a: a, x: x).upper
    }

    /// The x with P(a, x) = p: the Gamma(a, 1) quantile at probability p.
    /// - Parameters:
    ///   - a: shape, > 0.
    ///   - p: probability in [0, 1]; 0 gives 0 and 1 gives ∞.
    /// - Precondition: a > 0 and 0 ≤ p ≤ 1.
    public static func inverseRegularizedLower(a: Double, p: Double) -> Double {
        if a.isNaN || p.isNaN { return .nan }
        precondition(a > 0 && p >= 0 && p <= 1, "Gamma.inverseRegularizedLower: bad arguments a=\(a) p=\(p)")
        if p == 0 { return 0 }
        if p == 1 { return .infinity }
        return invert(a: a, lower: p, upper: 1 - p, useLower: p <= 0.5)
    }

    /// The x with Q(a, x) = q: the Gamma(a, 1) quantile at probability 1 − q, accurate for tiny q.
    /// - Parameters:
    ///   - a: shape, > 0.
    ///   - q: upper-tail probability in [0, 1]; 1 gives 0 and 0 gives ∞.
    /// - Precondition: a > 0 and 0 ≤ q ≤ 1.
    public static func inverseRegularizedUpper(a: Double, q: Double) -> Double {
        if a.isNaN || q.isNaN { return .nan }
        precondition(a > 0 && q >= 0 && q <= 1, "Gamma.inverseRegularizedUpper: bad arguments a=\(a) q=\(q)")
        if q == 1 { return 0 }
        if q == 0 { return .infinity }
        return invert(a: a, lower: 1 - q, upper: q, useLower: q > 0.5)
    }

    // MARK: - Evaluation

    /// 50√a more iterations for large shapes, at most 10⁶ (a shape of 10³⁰⁸ or ∞ must not trap in `Int(_:)`).
    static func extraIterations(_ a: Double) -> Int {
        let extra = 50 * a.squareRoot()
        return extra.isFinite ? Int(Swift.min(extra, 1e6)) : 1_000_000
    }

    /// P and Q together; the smaller is computed directly and the other is 1 minus it.
    static func both(a: Double, x: Double) -> (lower: Double, upper: Double) {
        if a.isNaN || x.isNaN { return (.nan, .nan) }
        precondition(a > 0 && x >= 0, "Gamma: bad arguments a=\(a) x=\(x)")
        if x == 0 { return (0, 1) }
        if x.isInfinite { return (1, 0) }
        let front = logFront(a: a, x: x)  // log(xᵃ e⁻ˣ / Γ(a + 1))
        if x < a + 1 {
            let p = exp(front) * lowerSeries(a: a, x: x)
            return (min(p, 1), max(0, 1 - p))
        }
        let q = exp(front) * a * upperFraction(a: a, x: x)
        return (max(0, 1 - q), min(q, 1))
    }

    /// Σ_{n≥0} xⁿ / ((a+1)(a+2)…(a+n)), so that P(a, x) = xᵃe⁻ˣ/Γ(a+1) · Σ (Numerical Recipes `gser`).
    private static func lowerSeries(a: Double, x: Double) -> Double {
        var term = 1.0
        var sum = 1.0
        var ap = a
        let limit = 1000 + Self.extraIterations(a)
        for _ in 0..<limit {
            ap += 1
            term *= x / ap
            sum += term
            if abs(term) < abs(sum) * 1e-17 { break }
        }
        return sum
    }

    /// The continued fraction 1/(x + 1 − a − 1·(1 − a)/(x + 3 − a − …)) by Lentz's method, so that
    /// Q(a, x) = xᵃe⁻ˣ/Γ(a) · fraction (Numerical Recipes `gcf`).
    private static func upperFraction(a: Double, x: Double) -> Double {
        let tiny = Double.leastNormalMagnitude / Double.ulpOfOne
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        let limit = 1000 + Self.extraIterations(a)
        for i in 1...limit {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) <= 1e-16 { break }
        }
        return h
    }

    /// log(xᵃ e⁻ˣ / Γ(a + 1)) without cancellation for large a (Loader 2000).
    static func logFront(a: Double, x: Double) -> Double {
        if a < 10 { return a * log(x) - x - lgamma(a + 1) }
        return -stirlingError(a) - deviance(a, x) - 0.5 * log(2 * Double.pi * a)
    }

    /// log Γ(a + 1) − [(a + ½) log a − a + ½ log 2π], the error of Stirling's formula (Loader's `stirlerr`).
    static func stirlingError(_ a: Double) -> Double {
        if a <= 15 { return lgamma(a + 1) - (a + 0.5) * log(a) + a - 0.5 * log(2 * Double.pi) }
        let s0 = 1.0 / 12
        let s1 = 1.0 / 360
        let s2 = 1.0 / 1260
        let s3 = 1.0 / 1680
        let s4 = 1.0 / 1188
        let aa = a * a
        if a > 500 { return (s0 - s1 / aa) / a }
        if a > 80 { return (s0 - (s1 - s2 / aa) / aa) / a }
        if a > 35 { return (s0 - (s1 - (s2 - s3 / aa) / aa) / aa) / a }
        return (s0 - (s1 - (s2 - (s3 - s4 / aa) / aa) / aa) / aa) / a
    }

    /// a log(a/x) + x − a ≥ 0, computed without cancellation when a ≈ x (Loader's `bd0`).
    static func deviance(_ a: Double, _ x: Double) -> Double {
        if abs(a - x) < 0.1 * (a + x) {
            var v = (a - x) / (a + x)
            var s = (a - x) * v
            if abs(s) < Double.leastNormalMagnitude { return s }
            var ej = 2 * a * v
            v *= v
            for j in 1..<1000 {
                ej *= v
                let s1 = s + ej / Double(2 * j + 1)
                if s1 == s { return s1 }
                s = s1
            }
            return s
        }
        return a * log(a / x) + x - a
    }

    // MARK: - Inversion

    /// Solves P(a, x) = lower (equivalently Q(a, x) = upper) working on the smaller tail.
    private static func invert(a: Double, lower p: Double, upper q: Double, useLower: Bool) -> Double {
        // f(x) increases in x and is zero at the root.
        func f(_ x: Double) -> Double {
            let t = both(a: a, x: x)
            return useLower ? t.lower - p : q - t.upper
        }
        var x = startingValue(a: a, p: p, q: q)
        var lo = 0.0
        var hi = Double.infinity
        for _ in 0..<200 {
            let fx = f(x)
            if fx == 0 { return x }
            if fx < 0 { lo = x } else { hi = x }
            // Density g(x) = xᵃ⁻¹e⁻ˣ/Γ(a) = a/x · exp(logFront); Halley's correction uses g'/g = (a − 1)/x − 1.
            let g = exp(logFront(a: a, x: x)) * a / x
            var next: Double
            if g > 0 && g.isFinite {
                let u = fx / g
                next = x - u / (1 - 0.5 * min(1, max(-1, u * ((a - 1) / x - 1))))
            } else {
                next = .nan
            }
            if !(next > lo && next < hi) || !next.isFinite {
                next = hi.isFinite ? 0.5 * (lo + hi) : max(2 * x, 1)
            }
            if abs(next - x) <= 2 * Double.ulpOfOne * x { return next }
            if hi.isFinite && hi - lo <= 2 * Double.ulpOfOne * hi { return 0.5 * (lo + hi) }
            x = next
        }
        return x
    }

    /// Numerical Recipes `invgammp`'s first guess: Wilson–Hilferty for a > 1, a power/exponential form otherwise.
    private static func startingValue(a: Double, p: Double, q: Double) -> Double {
        if a > 1 {
            let tail = min(p, q)
            let t = (-2 * log(tail)).squareRoot()
            var z = (2.30753 + t * 0.27061) / (1 + t * (0.99229 + t * 0.04481)) - t
            if p >= 0.5 { z = -z }
            // z is now the normal quantile of p (Abramowitz & Stegun 26.2.22, |error| < 3e-3).
            let w = 1 - 1 / (9 * a) + z / (3 * a.squareRoot())
            return max(1e-3, a * w * w * w)
        }
        let t = 1 - a * (0.253 + a * 0.12)
        if p < t { return max(pow(p / t, 1 / a), Double.leastNormalMagnitude) }
        return 1 - log(max(q, Double.leastNormalMagnitude) / (1 - t))
    }
}

/// The chi-square distribution with k degrees of freedom: Gamma(k/2, scale 2).
///
/// Source: Abramowitz & Stegun 26.4.19 (χ²_k CDF = P(k/2, x/2)); functions in `Gamma`.
public enum ChiSquared {
    /// P(χ²_k ≤ x).
    /// - Parameters:
    ///   - x: ≥ 0.
    ///   - degreesOfFreedom: k > 0 (need not be an integer).
    public static func cdf(_ x: Double, degreesOfFreedom k: Double) -> Double {
        Gamma.regularizedLower(a: k / 2, x: max(0, x) / 2)
    }

    /// P(χ²_k > x), accurate for tiny p-values (a likelihood-ratio or χ² test's p-value).
    /// - Parameters:
    ///   - x: ≥ 0.
    ///   - degreesOfFreedom: k > 0.
    public static func sf(_ x: Double, degreesOfFreedom k: Double) -> Double {
        Gamma.regularizedUpper(a: k / 2, x: max(0, x) / 2)
    }

    /// The x with P(χ²_k ≤ x) = p, e.g. p = 0.95 for a 5% critical value.
    /// - Parameters:
    ///   - p: probability in [0, 1].
    ///   - degreesOfFreedom: k > 0.
    /// - Precondition: 0 ≤ p ≤ 1, k > 0.
    public static func quantile(_ p: Double, degreesOfFreedom k: Double) -> Double {
        2 * Gamma.inverseRegularizedLower(a: k / 2, p: p)
    }

    /// The x with P(χ²_k > x) = q, accurate for tiny q.
    /// - Parameters:
    ///   - q: upper-tail probability in [0, 1].
    ///   - degreesOfFreedom: k > 0.
    /// - Precondition: 0 ≤ q ≤ 1, k > 0.
    public static func upperQuantile(_ q: Double, degreesOfFreedom k: Double) -> Double {
        2 * Gamma.inverseRegularizedUpper(a: k / 2, q: q)
    }
}
