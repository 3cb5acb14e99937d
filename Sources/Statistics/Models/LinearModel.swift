/// Ordinary least squares from merged moment matrices.
///
/// The moments are of the columns [x₁ … x_p, y] (design columns, then the outcome). The normal equations
/// use the raw cross-products X'X = C + n x̄x̄ᵀ rebuilt from the centred co-moments, solved by Cholesky
/// (LAPACK). Before solving, the design is checked for collinearity (eigenvalues of the correlation-scaled X'X),
/// so a singular design is reported by column names instead of producing NaN.
///
/// Source: statsmodels `OLS` (`RegressionResults`: `ssr`, `scale = ssr / df_resid`, `llf`, `HC0_se`, `HC1_se`).
public enum LinearModel {
    /// The OLS solution from moments.
    public struct Solution: Sendable, Equatable {
        /// β̂, [p].
        public let estimates: [Double]
        /// (X'X)⁻¹, [p, p] row-major.
        public let xtxInverse: [Double]
        /// Rows n.
        public let count: Double
    }

    /// Solves the normal equations for moments of [X, y].
    /// - Parameters:
    ///   - moments: a `MomentMatrix` of dimension p + 1, the outcome last.
    ///   - names: the p design column names, for error messages.
    /// - Throws: `StatisticsError.singularDesign(columns:)`, `StatisticsError.tooFewRows`.
    /// - Complexity: O(p³).
    public static func solve(_ moments: MomentMatrix, names: [String]) throws -> Solution {
        let p = moments.dimension - 1
        precondition(names.count == p, "solve: \(names.count) names for \(p) columns")
        guard p > 0 else { throw StatisticsError.emptyDesign }
        guard moments.count >= Double(max(p, 1)) else { throw StatisticsError.tooFewRows(rows: Int(moments.count), coefficients: p) }
        let raw = moments.crossProducts
        var xtx = [Double](repeating: 0, count: p * p)
        var xty = [Double](repeating: 0, count: p)
        for i in 0..<p {
            for j in 0..<p { xtx[i * p + j] = raw[i * (p + 1) + j] }
            xty[i] = raw[i * (p + 1) + p]
        }
        try checkRank(xtx, names: names)
        do {
            let (beta, inverse) = try LinearAlgebra.solveSPD(xtx, xty, n: p)
            return Solution(estimates: beta, xtxInverse: inverse, count: moments.count)
        } catch {
            throw StatisticsError.singularDesign(columns: names)
        }
    }

    /// Σ (y − xᵀβ)² over the rows of a moment block, computed from centred moments:
    /// n (ȳ − x̄ᵀβ)² + C_yy − 2βᵀC_xy + βᵀC_xxβ.
    /// - Complexity: O(p²).
    public static func sumOfSquaredResiduals(_ moments: MomentMatrix, estimates beta: [Double]) -> Double {
        let d = moments.dimension, p = d - 1
        precondition(beta.count == p, "sumOfSquaredResiduals: \(beta.count) estimates for \(p) columns")
        guard moments.count > 0 else { return 0 }
        let c = moments.comoment, m = moments.mean
        var meanResidual = m[p]
        for j in 0..<p { meanResidual -= m[j] * beta[j] }
        var s = c[p * d + p]
        for i in 0..<p {
            s -= 2 * beta[i] * c[i * d + p]
            var row = 0.0
            for j in 0..<p { row += c[i * d + j] * beta[j] }
            s += beta[i] * row
        }
        return max(0, moments.count * meanResidual * meanResidual + s)
    }

    /// Checks that a Gram matrix X'X has full rank; names the columns of a near-linear dependency if not.
    ///
    /// Scales X'X to unit diagonal (so units do not matter), takes its eigen-decomposition (LAPACK `dsyevd`) and
    /// calls the design singular when λ_min ≤ 1e-11 · λ_max; the columns named are those with weight ≥ 0.05 in the
    /// eigenvectors of the small eigenvalues. A column that is zero in every row is named alone.
    /// - Parameters:
    ///   - xtx: [p, p] row-major Float64.
    ///   - names: p column names.
    /// - Throws: `StatisticsError.singularDesign(columns:)`.
    public static func checkRank(_ xtx: [Double], names: [String]) throws {
        let p = names.count
        guard p > 0 else { throw StatisticsError.emptyDesign }
        let overflowing = (0..<p).filter { j in (0..<p).contains { !xtx[j * p + $0].isFinite } }
        if !overflowing.isEmpty { throw StatisticsError.overflow(columns: overflowing.map { names[$0] }) }
        if let zero = (0..<p).first(where: { xtx[$0 * p + $0] <= 0 }) {
            throw StatisticsError.singularDesign(columns: [names[zero]])
        }
        let scale = (0..<p).map { 1 / xtx[$0 * p + $0].squareRoot() }
        var r = xtx
        for i in 0..<p { for j in 0..<p { r[i * p + j] *= scale[i] * scale[j] } }
        let (values, vectors) = try LinearAlgebra.symmetricEigen(r, n: p)
        guard let largest = values.last, largest > 0 else { throw StatisticsError.singularDesign(columns: names) }
        var involved = Set<Int>()
        for k in 0..<p where values[k] <= 1e-11 * largest {
            for j in 0..<p where abs(vectors[j * p + k]) >= 0.05 { involved.insert(j) }
        }
        if !involved.isEmpty { throw StatisticsError.singularDesign(columns: involved.sorted().map { names[$0] }) }
    }
}
