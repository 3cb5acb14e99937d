/// Ordinary least squares from merged moment matrices.
///
/// The moments are of the columns [x₁ … x_p, y] (design columns, then the outcome). With a constant column (the
/// intercept) the normal equations are solved in centred coordinates (`DesignCentring`: the centred co-moments of the
/// other columns, by Cholesky through LAPACK) and the intercept is recovered as (ȳ − x̄ᵀβ)/c, so an offset of the
/// predictors costs no accuracy; without one, from the raw second moments X'X = C + n x̄x̄ᵀ. Before solving, the
/// design is checked for collinearity on the same matrix scaled to unit diagonal (`checkRank(_:names:)`), so a
/// singular design is reported by column names instead of producing NaN.
///
/// Source: statsmodels `OLS` (`RegressionResults`: `ssr`, `scale = ssr / df_resid`, `llf`, `HC0_se`, `HC1_se`).
public enum LinearModel {
    /// The relative eigenvalue below which a design is singular: λ_min ≤ `rankTolerance` · λ_max of the correlation
    /// matrix of the centred columns (docs/DECISIONS.md, "Numerical decisions").
    public static let rankTolerance = 1e-11
    /// A fit is exact when its residual sum of squares is at most this times the outcome's (centred, with an intercept)
    /// sum of squares: a residual norm within 1000 ε of the outcome's (docs/DECISIONS.md, "Numerical decisions").
    public static let exactFitTolerance = (1000 * Double.ulpOfOne) * (1000 * Double.ulpOfOne)

    /// The OLS solution from moments.
    public struct Solution: Sendable, Equatable {
        /// β̂, [p].
        public let estimates: [Double]
        /// (X'X)⁻¹, [p, p] row-major.
        public let xtxInverse: [Double]
        /// Rows n.
        public let count: Double
        /// The coordinates the solve ran in.
        public let centring: DesignCentring
        /// γ̂ = T⁻¹β̂, the estimates in centred coordinates, [p].
        public let centredEstimates: [Double]
        /// (ZᵀZ)⁻¹, [p, p] row-major: the inverse Gram matrix in centred coordinates.
        public let centredInverse: [Double]
    }

    /// Solves the normal equations for moments of [X, y].
    /// - Parameters:
    ///   - moments: a `MomentMatrix` of dimension p + 1, the outcome last.
    ///   - names: the p design column names, for error messages.
    /// - Throws: `StatisticsError.singularDesign(columns:)`, `StatisticsError.tooFewRows`, `StatisticsError.overflow`.
    /// - Complexity: O(p³).
    public static func solve(_ moments: MomentMatrix, names: [String]) throws -> Solution {
        let p = moments.dimension - 1
        precondition(names.count == p, "solve: \(names.count) names for \(p) columns")
        guard p > 0 else { throw StatisticsError.emptyDesign }
        guard moments.count >= Double(max(p, 1)) else {
            throw StatisticsError.tooFewRows(rows: Int(moments.count), coefficients: p)
        }
        let centring = try checkRank(moments, names: names)
        do {
            let gram = centring.gram(moments)
            let cross = centring.crossWithOutcome(moments)
            let (gamma, inverse) = try LinearAlgebra.solveSPD(gram, cross, n: p)
            return Solution(
                estimates: centring.raw(gamma), xtxInverse: centring.rawCovariance(inverse),
                count: moments.count,
                centring: centring, centredEstimates: gamma, centredInverse: inverse)
        } catch {
            throw StatisticsError.singularDesign(columns: names)
        }
    }

    /// Σ (y − xᵀβ)² over the rows of a moment block, computed from centred moments:
    /// n (ȳ − x̄ᵀβ)² + C_yy − 2βᵀC_xy + βᵀC_xxβ. With `centring`, `beta` is γ (centred coordinates) and the mean
    /// residual is ȳ − (x̄ − m)ᵀγ, which avoids the cancellation of a large intercept against large x̄ᵀβ.
    /// - Complexity: O(p²).
    public static func sumOfSquaredResiduals(
        _ moments: MomentMatrix, estimates beta: [Double],
        centring: DesignCentring? = nil
    ) -> Double {
        let d = moments.dimension
        let p = d - 1
        precondition(beta.count == p, "sumOfSquaredResiduals: \(beta.count) estimates for \(p) columns")
        guard moments.count > 0 else { return 0 }
        let c = moments.comoment
        let m = moments.mean
        var meanResidual = m[p]
        for j in 0..<p { meanResidual -= (m[j] - (centring?.centre[j] ?? 0)) * beta[j] }
        var s = c[p * d + p]
        for i in 0..<p {
            s -= 2 * beta[i] * c[i * d + p]
            var row = 0.0
            for j in 0..<p { row += c[i * d + j] * beta[j] }
            s += beta[i] * row
        }
        return max(0, moments.count * meanResidual * meanResidual + s)
    }

    /// Checks that the design whose moments are given (the first p = `names.count` columns) has full column rank, with
    /// decisions that do not depend on an offset or a scale of the columns, the row order or the shard count:
    ///
    /// - a column that is 0 in every row is named alone; two columns that are constant and nonzero are collinear
    ///   (both exact, from the extremes of `MomentMatrix`);
    /// - with one constant column (the intercept), the centred co-moments of the other columns decide, scaled to unit
    ///   diagonal (their correlation matrix); without one, the raw second moments scaled to unit diagonal;
    /// - the design is singular when that matrix has λ_min ≤ `rankTolerance` · λ_max (LAPACK `dsyevd`); the columns
    ///   named are those with weight ≥ 0.05 in the eigenvectors of the small eigenvalues, with the constant column
    ///   weighted by the dependency's mean (so the intercept is named when the dependency needs it).
    /// - Returns: the centring the rank was decided in (and the solve uses).
    /// - Throws: `StatisticsError.overflow(columns:)` when the second moments are not finite;
    ///   `StatisticsError.singularDesign(columns:)`; `StatisticsError.emptyDesign` for p = 0.
    /// - Complexity: O(p³).
    @discardableResult
    public static func checkRank(_ moments: MomentMatrix, names: [String]) throws -> DesignCentring {
        let p = names.count
        let d = moments.dimension
        precondition(p <= d, "checkRank: \(p) names for \(d) columns")
        guard p > 0 else { throw StatisticsError.emptyDesign }
        let raw = moments.crossProducts
        let overflowing = (0..<p).filter { j in
            (0..<p).contains { !raw[j * d + $0].isFinite } || !moments.comoment[j * d + j].isFinite
        }
        if !overflowing.isEmpty { throw StatisticsError.overflow(columns: overflowing.map { names[$0] }) }
        let isZero = { (j: Int) in raw[j * d + j] <= 0 || (moments.isConstant(j) && moments.minimum[j] == 0) }
        if let zero = (0..<p).first(where: isZero) {
            throw StatisticsError.singularDesign(columns: [names[zero]])
        }
        let constants = (0..<p).filter { DesignCentring.isNonzeroConstant(moments, $0) }
        if constants.count > 1 { throw StatisticsError.singularDesign(columns: constants.map { names[$0] }) }
        let centring = DesignCentring(moments: moments, width: p)
        let others = (0..<p).filter { $0 != centring.constantColumn }
        guard !others.isEmpty else { return centring }
        let q = others.count
        var r = [Double](repeating: 0, count: q * q)
        for (a, i) in others.enumerated() {
            for (b, j) in others.enumerated() {
                r[a * q + b] = centring.constantColumn == nil ? raw[i * d + j] : moments.comoment[i * d + j]
            }
        }
        if let zero = (0..<q).first(where: { r[$0 * q + $0] <= 0 }) {
            throw StatisticsError.singularDesign(columns: [names[others[zero]]])
        }
        let scale = (0..<q).map { 1 / r[$0 * q + $0].squareRoot() }
        for a in 0..<q { for b in 0..<q { r[a * q + b] *= scale[a] * scale[b] } }
        let (values, vectors) = try LinearAlgebra.symmetricEigen(r, n: q)
        guard let largest = values.last, largest > 0 else { throw StatisticsError.singularDesign(columns: names) }
        var involved = Set<Int>()
        for e in 0..<q where values[e] <= rankTolerance * largest {
            // The dependency Σ v_j z_j ≈ 0 on the scaled columns (centred when there is a constant column) is, on
            // the raw columns, Σ v_j x_j / s_j = c · 1 with c = Σ v_j x̄_j / s_j; the constant column's weight is
            // that of the unit-norm constant column, c √n.
            var weights = [Double](repeating: 0, count: p)
            var constantPart = 0.0
            for (a, j) in others.enumerated() {
                weights[j] = vectors[a * q + e]
                if centring.constantColumn != nil { constantPart += vectors[a * q + e] * scale[a] * moments.mean[j] }
            }
            if let k = centring.constantColumn { weights[k] = constantPart * moments.count.squareRoot() }
            // v has unit norm: each weight is compared with it (the constant one can exceed 1 at an offset).
            for j in 0..<p where abs(weights[j]) >= 0.05 { involved.insert(j) }
        }
        if !involved.isEmpty { throw StatisticsError.singularDesign(columns: involved.sorted().map { names[$0] }) }
        return centring
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
