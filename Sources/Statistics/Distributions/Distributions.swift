import Foundation

/// Distribution functions used for p-values and confidence intervals.
///
/// The regularised incomplete beta function uses the continued fraction of Numerical Recipes (Lentz's method),
/// accurate to about 1e-15 relative; quantiles are found by bisection to full precision.
/// Source: Press et al., Numerical Recipes, 3rd ed., §6.4; Abramowitz & Stegun 26.5.8.
public enum Distributions {
    /// Standard normal CDF Φ(z), via `erfc`.
    public static func normalCDF(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    /// Two-sided normal p-value 2·(1 − Φ(|z|)).
    public static func normalTwoSidedP(_ z: Double) -> Double { erfc(abs(z) / 2.0.squareRoot()) }

    /// Normal quantile Φ⁻¹(p) for p in (0, 1), by bisection on `normalCDF`.
    public static func normalQuantile(_ p: Double) -> Double {
        if p.isNaN { return .nan }
        precondition(p > 0 && p < 1, "normalQuantile: p = \(p) is outside (0, 1)")
        var lo = -40.0
        var hi = 40.0
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if normalCDF(mid) < p { lo = mid } else { hi = mid }
            if hi - lo <= 4 * Double.ulpOfOne * max(1, abs(mid)) { break }
        }
        return (lo + hi) / 2
    }

    /// Regularised incomplete beta function I_x(a, b).
    /// - Precondition: a > 0, b > 0, 0 ≤ x ≤ 1.
    public static func incompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x.isNaN || a.isNaN || b.isNaN { return .nan }  // from a statistic that is not finite: no trap
        precondition(a > 0 && b > 0 && x >= 0 && x <= 1, "incompleteBeta: bad arguments x=\(x) a=\(a) b=\(b)")
        if x == 0 || x == 1 { return x }
        let lnFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        if x < (a + 1) / (a + b + 2) {
            return exp(lnFront) * continuedFraction(x, a, b) / a
        }
        return 1 - exp(lnFront) * continuedFraction(1 - x, b, a) / b
    }

    private static func continuedFraction(_ x: Double, _ a: Double, _ b: Double) -> Double {
        let tiny = 1e-300
        let qab = a + b
        let qap = a + 1
        let qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...10_000 {
            let m = Double(m)
            let m2 = 2 * m
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return h
    }

    /// Two-sided Student-t p-value P(|T| > |t|) with `df` degrees of freedom: I_{df/(df+t²)}(df/2, 1/2).
    public static func studentTwoSidedP(_ t: Double, df: Double) -> Double {
        if t.isInfinite { return 0 }
        return incompleteBeta(df / (df + t * t), df / 2, 0.5)
    }

    /// The t value with two-sided tail probability `alpha`: P(|T| > q) = alpha, e.g. alpha 0.05 for a 95% CI.
    public static func studentTwoSidedQuantile(_ alpha: Double, df: Double) -> Double {
        if alpha.isNaN || df.isNaN { return .nan }
        precondition(alpha > 0 && alpha < 1, "studentTwoSidedQuantile: alpha = \(alpha) is outside (0, 1)")
        // Find x in (0, 1) with I_x(df/2, 1/2) = alpha; then t = sqrt(df (1 − x) / x). I_x increases with x.
        var lo = 0.0
        var hi = 1.0
        for _ in 0..<2000 {
            let mid = (lo + hi) / 2
            if mid == lo || mid == hi { break }
            if incompleteBeta(mid, df / 2, 0.5) < alpha { lo = mid } else { hi = mid }
        }
        let x = (lo + hi) / 2
        return (df * (1 - x) / x).squareRoot()
    }
}
