import Foundation

/// Effect decomposition and stability of the structural part of a model.
public enum SEMEffects {
    /// Direct, indirect and total effects from a matrix of regression coefficients.
    ///
    ///     direct = B,  total = (I − B)⁻¹ − I,  indirect = total − direct.
    ///
    /// - Parameters:
    ///   - b: [m, m] row-major, B[to, from] = coefficient of `from` in the equation of `to` (zero diagonal).
    ///   - names: the m variable names.
    /// - Returns: every pair (to, from) with a non-zero direct or total effect, by outcome then cause, in `names`
    ///   order.
    /// - Throws: `LinearAlgebraError` when I − B is singular (a loop with gain exactly 1).
    /// - Complexity: O(m³).
    /// Source: Bollen (1989) ch. 8, pp. 376–389.
    public static func decompose(b: [Double], names: [String]) throws -> [SEMEffect] {
        let m = names.count
        precondition(b.count == m * m, "SEMEffects.decompose: \(b.count) values for \(m) variables")
        var iMinusB = b.map { -$0 }
        for i in 0..<m { iMinusB[i * m + i] += 1 }
        let inverse = try LinearAlgebra.luInverse(iMinusB, n: m).inverse
        var out: [SEMEffect] = []
        for to in 0..<m {
            for from in 0..<m {
                let total = inverse[to * m + from] - (to == from ? 1 : 0)
                let direct = b[to * m + from]
                guard total != 0 || direct != 0 else { continue }
                out.append(
                    SEMEffect(
                        from: names[from], to: names[to], direct: direct, indirect: total - direct,
                        total: total))
            }
        }
        return out
    }

    /// The spectral radius max |eigenvalue| of B (LAPACK `dgeev`); the loops are stable when it is below 1, i.e. the
    /// series I + B + B² + … converges to (I − B)⁻¹.
    /// - Parameters:
    ///   - b: [m, m] row-major.
    ///   - m: order.
    /// - Throws: `LinearAlgebraError` when the eigenvalue iteration fails.
    /// - Complexity: O(m³).
    /// Source: Bentler & Freeman (1983), "Tests for stability in linear structural equation systems", Psychometrika 48.
    public static func spectralRadius(b: [Double], m: Int) throws -> Double {
        let (re, im) = try LinearAlgebra.eigenvalues(b, n: m)
        return zip(re, im).map { ($0 * $0 + $1 * $1).squareRoot() }.max() ?? 0
    }
}
