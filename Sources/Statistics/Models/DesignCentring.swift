/// The affine change of coefficients under which linear and logit models with an intercept are fitted: every design
/// column except the constant one is centred at its mean, so a predictor at an offset (x = 10⁹ + 1, 10⁹ + 2, …) is
/// as well conditioned as the same predictor near 0.
///
/// With the constant column k (value c in every row) and centre m (the column means, m_k = 0), the centred design is
/// Z = X − 1mᵀ and Xβ = Zγ for
///
///     β_j = γ_j (j ≠ k),   β_k = γ_k − Σ_{j≠k} γ_j m_j / c,   i.e. β = Tγ.
///
/// Zᵀ Z is block diagonal: n c² for the constant column, the centred co-moments C for the others (their sums over
/// the rows are 0). Without a constant column the centre is 0 and T = I (the raw second moments decide and solve).
///
/// Source: centring the regressors before forming the normal equations (their condition number no longer grows with
/// the offset); the centred moments are Chan, Golub & LeVeque's (1983). statsmodels fits the same model by QR/pinv of
/// the raw design; the coefficients agree wherever that is accurate.
public struct DesignCentring: Sendable, Equatable {
    /// Design columns p.
    public let width: Int
    /// The design column that takes one nonzero value in every row (patsy's Intercept), or nil.
    public let constantColumn: Int?
    /// Its value c (1 for the Intercept; 1 without a constant column).
    public let constantValue: Double
    /// [p] subtracted from each design column before fitting: column means, 0 at the constant column; all 0 without
    /// one.
    public let centre: [Double]
    /// [p] the rounding error of `centre` (`MomentMatrix.meanLow`): the centre is `centre` + `centreLow`.
    public let centreLow: [Double]

    /// The centring for the first p columns of `moments` (the design; an outcome column after them is ignored).
    /// The constant column is the first column whose minimum equals its maximum and is not 0 (exact; see
    /// `MomentMatrix.isConstant`); without extremes, one whose centred variance is exactly 0.
    public init(moments: MomentMatrix, width p: Int) {
        precondition(p <= moments.dimension, "DesignCentring: \(p) columns of \(moments.dimension)")
        width = p
        let k = (0..<p).first { Self.isNonzeroConstant(moments, $0) }
        constantColumn = k
        constantValue = k.map { moments.mean[$0] } ?? 1
        centre = (0..<p).map { k == nil || $0 == k ? 0 : moments.mean[$0] }
        centreLow = (0..<p).map { k == nil || $0 == k ? 0 : moments.meanLow[$0] }
    }

    /// No centring (T = I) for p columns.
    public init(identity p: Int) {
        width = p
        constantColumn = nil
        constantValue = 1
        centre = [Double](repeating: 0, count: p)
        centreLow = centre
    }

    /// Column j is constant and nonzero in every row: exactly, from the extremes when known, else from a centred
    /// variance of exactly 0.
    static func isNonzeroConstant(_ m: MomentMatrix, _ j: Int) -> Bool {
        guard m.count > 0, m.mean[j] != 0, m.mean[j].isFinite else { return false }
        if m.minimum[j].isFinite && m.maximum[j].isFinite { return m.minimum[j] == m.maximum[j] }
        return m.comoment[j * m.dimension + j] == 0
    }

    /// T, [p, p] row-major (the identity but for row k).
    public var transform: [Double] {
        let p = width
        var t = [Double](repeating: 0, count: p * p)
        for i in 0..<p { t[i * p + i] = 1 }
        if let k = constantColumn { for j in 0..<p where j != k { t[k * p + j] = -centre[j] / constantValue } }
        return t
    }

    /// β = Tγ, [p].
    public func raw(_ gamma: [Double]) -> [Double] {
        guard let k = constantColumn else { return gamma }
        var beta = gamma
        var shift = 0.0
        for j in 0..<width where j != k { shift += gamma[j] * (centre[j] + centreLow[j]) }
        beta[k] = gamma[k] - shift / constantValue
        return beta
    }

    /// γ = T⁻¹β, [p].
    public func centred(_ beta: [Double]) -> [Double] {
        guard let k = constantColumn else { return beta }
        var gamma = beta
        var shift = 0.0
        for j in 0..<width where j != k { shift += beta[j] * (centre[j] + centreLow[j]) }
        gamma[k] = beta[k] + shift / constantValue
        return gamma
    }

    /// T V Tᵀ for a symmetric [p, p] row-major V (a covariance of γ becomes one of β).
    public func rawCovariance(_ v: [Double]) -> [Double] {
        guard let k = constantColumn else { return v }
        let p = width
        let t = (0..<p).map { $0 == k ? 0 : -centre[$0] / constantValue }  // row k of T − I
        // Row k of T V: v[k, ·] + Σ_j t_j v[j, ·].
        var rowK = (0..<p).map { v[k * p + $0] }
        for j in 0..<p where t[j] != 0 { for i in 0..<p { rowK[i] += t[j] * v[j * p + i] } }
        var out = v
        for i in 0..<p where i != k {
            out[k * p + i] = rowK[i]
            out[i * p + k] = rowK[i]
        }
        var kk = rowK[k]
        for j in 0..<p where t[j] != 0 { kk += rowK[j] * t[j] }
        out[k * p + k] = kk
        return out
    }

    /// Zᵀ Z, [p, p] row-major, from moments whose first p columns are the design.
    public func gram(_ m: MomentMatrix) -> [Double] {
        let p = width
        let d = m.dimension
        guard let k = constantColumn else {
            let raw = m.crossProducts
            return (0..<p).flatMap { i in (0..<p).map { raw[i * d + $0] } }
        }
        var g = [Double](repeating: 0, count: p * p)
        for i in 0..<p where i != k { for j in 0..<p where j != k { g[i * p + j] = m.comoment[i * d + j] } }
        g[k * p + k] = m.count * constantValue * constantValue
        return g
    }

    /// Zᵀ y, [p], from moments of [X, y] (the outcome last).
    public func crossWithOutcome(_ m: MomentMatrix) -> [Double] {
        let p = width
        let d = m.dimension
        precondition(d == p + 1, "crossWithOutcome: moments of dimension \(d) for \(p) columns and an outcome")
        guard let k = constantColumn else {
            let raw = m.crossProducts
            return (0..<p).map { raw[$0 * d + p] }
        }
        return (0..<p).map { $0 == k ? constantValue * m.count * m.mean[p] : m.comoment[$0 * d + p] }
    }
}
