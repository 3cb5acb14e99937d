import Foundation

/// The model in RAM form (McArdle & McDonald 1984) over v = [observed; latent] (m = p + q variables):
///
///     v = α + B v + ζ,   Cov(ζ) = Ψ,   A = (I − B)⁻¹,
///     Σ_v = A Ψ Aᵀ,  μ_v = A α,        Σ(θ) = Σ_v[0..<p, 0..<p],  μ(θ) = μ_v[0..<p].
///
/// `f =~ x` is B[x, f], `y ~ x` is B[y, x], `a ~~ b` is Ψ[a, b] = Ψ[b, a], `y ~ 1` is α[y].
///
/// The ML discrepancy (lavaan's 2·fmin) with mean structure, S with divisor n, e = x̄ − μ:
///
///     F = log|Σ| + tr(S Σ⁻¹) − log|S| − p + eᵀ Σ⁻¹ e.
///
/// Gradient: with W = Σ⁻¹ − Σ⁻¹ (S + e eᵀ) Σ⁻¹ embedded in the [m, m] matrix G (zero outside the observed block) and
/// d = Σ⁻¹ e embedded in [m],
///
///     ∂F/∂B_ij = 2 (Aᵀ G Σ_v)_ij − 2 (Aᵀ d)_i (μ_v)_j,
///     ∂F/∂Ψ_ij = 2 (Aᵀ G A)_ij  (i ≠ j),  (Aᵀ G A)_ii  (i = j),
///     ∂F/∂α_i  = −2 (Aᵀ d)_i.
///
/// Expected information per observation (normal theory, structured: at Σ(θ), μ(θ)):
///
///     I_ab = ∂μᵀ/∂θ_a Σ⁻¹ ∂μ/∂θ_b + ½ tr(Σ⁻¹ ∂Σ/∂θ_a Σ⁻¹ ∂Σ/∂θ_b),
///
/// with ∂Σ/∂B_ij = u wᵀ + w uᵀ (u = A[obs, i], w = Σ_v[obs, j]), ∂μ/∂B_ij = u (μ_v)_j; ∂Σ/∂Ψ_ij = u u'ᵀ + u' uᵀ
/// (u' = A[obs, j]; u uᵀ when i = j); ∂μ/∂α_i = u.
///
/// Source: Bollen (1989) ch. 4 (F_ML); McArdle & McDonald (1984) (RAM); lavaan `lav_model_gradient.R`,
/// `lav_model_information.R` (expected information, h1 structured); Magnus & Neudecker (1999) for the differentials.
struct SEMStructure {
    enum Slot {
        case b(Int, Int)
        case psi(Int, Int)
        case alpha(Int)
    }

    let table: SEMParameterTable
    let p: Int
    let m: Int
    let variables: [String]
    let slots: [Slot]
    /// Value of each row when fixed (exogenous rows hold their sample moments).
    let fixedValues: [Double]
    let s: [Double]  // [p, p] sample covariance, divisor n
    let xbar: [Double]  // [p]
    let logDetS: Double?  // nil when S is not positive definite
    let n: Double

    init(table: SEMParameterTable, s: [Double], xbar: [Double], logDetS: Double?, n: Double) {
        self.table = table
        p = table.observed.count
        variables = table.observed + table.latent
        m = variables.count
        let index = Dictionary(uniqueKeysWithValues: variables.enumerated().map { ($1, $0) })
        var slots: [Slot] = []
        var fixed: [Double] = []
        for r in table.rows {
            let l = index[r.lhs]!
            switch r.op {
            case .measuredBy: slots.append(.b(index[r.rhs]!, l))
            case .regression: slots.append(.b(l, index[r.rhs]!))
            case .covariance: slots.append(.psi(l, index[r.rhs]!))
            case .intercept: slots.append(.alpha(l))
            }
            if r.exogenous {
                let o = index[r.lhs]!
                if r.op == .intercept { fixed.append(xbar[o]) } else { fixed.append(s[o * p + index[r.rhs]!]) }
            } else {
                fixed.append(r.fixedValue ?? 0)
            }
        }
        self.slots = slots
        self.fixedValues = fixed
        self.s = s
        self.xbar = xbar
        self.logDetS = logDetS
        self.n = n
    }

    var freeCount: Int { table.freeCount }

    /// Value of every row at θ.
    func rowValues(_ theta: [Double]) -> [Double] {
        table.rows.enumerated().map { k, r in r.free > 0 ? theta[r.free - 1] : fixedValues[k] }
    }

    /// lavaan-like starting values: the user's `start(v)`, else free loadings 1, regressions 0, residual variances of
    /// observed variables half their sample variance, latent variances 0.05, covariances 0, observed intercepts the
    /// sample means, latent 0. A parameter shared by several rows takes the first row's (a `start` first).
    func startingValues() -> [Double] {
        var theta = [Double](repeating: .nan, count: freeCount)
        for r in table.rows where r.free > 0 && theta[r.free - 1].isNaN {
            if let v = r.start { theta[r.free - 1] = v }
        }
        for (k, r) in table.rows.enumerated() where r.free > 0 && theta[r.free - 1].isNaN {
            var v = 0.0
            switch (r.op, slots[k]) {
            case (.measuredBy, _): v = 1
            case (.regression, _): v = 0
            case (.covariance, .psi(let i, let j)) where i == j: v = i < p ? 0.5 * s[i * p + i] : 0.05
            case (.intercept, .alpha(let i)): v = i < p ? xbar[i] : 0
            default: v = 0
            }
            theta[r.free - 1] = v
        }
        return theta
    }

    struct Implied {
        var bMatrix: [Double]  // [m, m]
        var psi: [Double]  // [m, m]
        var a: [Double]  // (I − B)⁻¹, [m, m]
        var sigmaAll: [Double]  // [m, m]
        var muAll: [Double]  // [m]
        var sigma: [Double]  // [p, p]
        var mu: [Double]  // [p]
    }

    /// Σ(θ), μ(θ) and the RAM pieces.
    /// - Throws: `LinearAlgebraError` when I − B is singular.
    func implied(_ theta: [Double]) throws -> Implied {
        var b = [Double](repeating: 0, count: m * m)
        var psi = b
        var alpha = [Double](repeating: 0, count: m)
        for (k, value) in rowValues(theta).enumerated() {
            switch slots[k] {
            case .b(let i, let j): b[i * m + j] = value
            case .psi(let i, let j):
                psi[i * m + j] = value
                psi[j * m + i] = value
            case .alpha(let i): alpha[i] = value
            }
        }
        var iMinusB = b.map { -$0 }
        for i in 0..<m { iMinusB[i * m + i] += 1 }
        let a = try LinearAlgebra.luInverse(iMinusB, n: m).inverse
        let aPsi = LinearAlgebra.product(a, psi, m: m, k: m, n: m)
        let sigmaAll = LinearAlgebra.product(aPsi, a, m: m, k: m, n: m, transposeB: true)
        let muAll = LinearAlgebra.product(a, alpha, m: m, k: m, n: 1)
        var sigma = [Double](repeating: 0, count: p * p)
        for i in 0..<p { for j in 0..<p { sigma[i * p + j] = 0.5 * (sigmaAll[i * m + j] + sigmaAll[j * m + i]) } }
        return Implied(
            bMatrix: b, psi: psi, a: a, sigmaAll: sigmaAll, muAll: muAll, sigma: sigma,
            mu: Array(muAll[0..<p]))
    }

    struct Evaluation {
        var implied: Implied
        var f: Double  // F without the constant −log|S| − p when S is not PD
        var sigmaInverse: [Double]
        var logDetSigma: Double
    }

    /// F at θ; nil when I − B is singular or Σ(θ) is not positive definite.
    func evaluate(_ theta: [Double]) -> Evaluation? {
        guard let imp = try? implied(theta), imp.sigma.allSatisfy({ $0.isFinite }),
            let u = try? LinearAlgebra.cholesky(imp.sigma, n: p),
            let inv = try? LinearAlgebra.solveSPD(imp.sigma, [Double](repeating: 0, count: p), n: p).inverse
        else { return nil }
        var logDet = 0.0
        for i in 0..<p { logDet += 2 * log(u[i * p + i]) }
        var trace = 0.0
        for i in 0..<p { for j in 0..<p { trace += s[i * p + j] * inv[j * p + i] } }
        let e = (0..<p).map { xbar[$0] - imp.mu[$0] }
        var quad = 0.0
        for i in 0..<p { for j in 0..<p { quad += e[i] * inv[i * p + j] * e[j] } }
        var f = logDet + trace + quad
        if let logDetS { f -= logDetS + Double(p) }
        guard f.isFinite else { return nil }
        return Evaluation(implied: imp, f: f, sigmaInverse: inv, logDetSigma: logDet)
    }

    /// ∂F/∂θ, [freeCount].
    func gradient(_ ev: Evaluation) -> [Double] {
        let imp = ev.implied
        let inv = ev.sigmaInverse
        let e = (0..<p).map { xbar[$0] - imp.mu[$0] }
        let d = LinearAlgebra.product(inv, e, m: p, k: p, n: 1)
        var se = s
        for i in 0..<p { for j in 0..<p { se[i * p + j] += e[i] * e[j] } }
        let middle = LinearAlgebra.product(LinearAlgebra.product(inv, se, m: p, k: p, n: p), inv, m: p, k: p, n: p)
        var g = [Double](repeating: 0, count: m * m)
        for i in 0..<p { for j in 0..<p { g[i * m + j] = inv[i * p + j] - middle[i * p + j] } }
        var dAll = [Double](repeating: 0, count: m)
        for i in 0..<p { dAll[i] = d[i] }
        let atG = LinearAlgebra.product(imp.a, g, m: m, k: m, n: m, transposeA: true)
        let atGSigma = LinearAlgebra.product(atG, imp.sigmaAll, m: m, k: m, n: m)
        let atGA = LinearAlgebra.product(atG, imp.a, m: m, k: m, n: m)
        let atD = LinearAlgebra.product(imp.a, dAll, m: m, k: m, n: 1, transposeA: true)
        var grad = [Double](repeating: 0, count: freeCount)
        for (k, r) in table.rows.enumerated() where r.free > 0 {
            let value: Double
            switch slots[k] {
            case .b(let i, let j): value = 2 * atGSigma[i * m + j] - 2 * atD[i] * imp.muAll[j]
            case .psi(let i, let j): value = i == j ? atGA[i * m + i] : 2 * atGA[i * m + j]
            case .alpha(let i): value = -2 * atD[i]
            }
            grad[r.free - 1] += value
        }
        return grad
    }

    /// Expected (Fisher) information per observation, [freeCount, freeCount] row-major.
    func expectedInformation(_ ev: Evaluation) -> [Double] {
        let imp = ev.implied
        let inv = ev.sigmaInverse
        let t = freeCount
        var dSigma = [[Double]](repeating: [Double](repeating: 0, count: p * p), count: t)
        var dMu = [[Double]](repeating: [Double](repeating: 0, count: p), count: t)
        func column(_ matrix: [Double], _ j: Int) -> [Double] { (0..<p).map { matrix[$0 * m + j] } }
        for (k, r) in table.rows.enumerated() where r.free > 0 {
            let a = r.free - 1
            switch slots[k] {
            case .b(let i, let j):
                let u = column(imp.a, i)
                let w = column(imp.sigmaAll, j)
                for x in 0..<p {
                    for y in 0..<p { dSigma[a][x * p + y] += u[x] * w[y] + w[x] * u[y] }
                    dMu[a][x] += u[x] * imp.muAll[j]
                }
            case .psi(let i, let j):
                let u = column(imp.a, i)
                let w = column(imp.a, j)
                for x in 0..<p {
                    for y in 0..<p { dSigma[a][x * p + y] += i == j ? u[x] * u[y] : u[x] * w[y] + w[x] * u[y] }
                }
            case .alpha(let i):
                let u = column(imp.a, i)
                for x in 0..<p { dMu[a][x] += u[x] }
            }
        }
        let products = dSigma.map { LinearAlgebra.product(inv, $0, m: p, k: p, n: p) }  // Σ⁻¹ ∂Σ_a
        let invMu = dMu.map { LinearAlgebra.product(inv, $0, m: p, k: p, n: 1) }
        var info = [Double](repeating: 0, count: t * t)
        for a in 0..<t {
            for b in a..<t {
                var trace = 0.0
                for x in 0..<p { for y in 0..<p { trace += products[a][x * p + y] * products[b][y * p + x] } }
                var mean = 0.0
                for x in 0..<p { mean += dMu[a][x] * invMu[b][x] }
                info[a * t + b] = mean + 0.5 * trace
                info[b * t + a] = info[a * t + b]
            }
        }
        return info
    }
}
