import Foundation

/// A conjugate normal–inverse-gamma prior for the linear model y = Xβ + ε, ε ~ N(0, σ² I):
///
///     β | σ² ~ N(m₀, σ² V₀),   σ² ~ Inv-Gamma(a₀, b₀)   (density ∝ (σ²)^−(a₀+1) e^(−b₀/σ²)).
///
/// The prior is stored by its precision Λ₀ = V₀⁻¹ so that a flat prior (Λ₀ = 0) can be written down. The β prior is
/// relative to σ²: a precision scale λ means a prior sd of σ/√λ for each coefficient, in the units of y per unit of
/// that design column.
///
/// ### Defaults
/// - `weak(coefficients:)` (the job default): m₀ = 0, Λ₀ = 10⁻⁶ I (prior sd 1000σ per coefficient),
///   a₀ = b₀ = 10⁻³. Proper, so the log marginal likelihood exists; with more than a handful of rows the posterior is
///   indistinguishable from the flat one unless a coefficient is thousands of σ from zero (then use `flat` or a larger
///   variance).
/// - `flat(coefficients:)`: p(β, log σ) ∝ 1, i.e. Λ₀ = 0, a₀ = −p/2, b₀ = 0 (an improper limit of the family). The
///   posterior mean is the OLS estimate, β is t_{n−p}(β̂, s²(XᵀX)⁻¹) and σ² ~ Inv-χ²(n − p, s²) (BDA3 §14.2).
///
/// Source: Gelman et al. (2013), Bayesian Data Analysis, 3rd ed., §14.2; Murphy (2007), "Conjugate Bayesian analysis
/// of the Gaussian distribution", section on Bayesian linear regression (NIG prior).
public struct NormalInverseGammaPrior: Sendable, Codable, Equatable {
    /// Prior mean m₀ of β, [p].
    public let mean: [Double]
    /// Prior precision Λ₀ = V₀⁻¹ in units of 1/σ², [p, p] row-major, symmetric positive semi-definite (0 = flat).
    public let precision: [Double]
    /// Inverse-gamma shape a₀ of σ². May be ≤ 0 for an improper prior (a₀ = −p/2 with the flat β prior).
    public let shape: Double
    /// Inverse-gamma scale b₀ ≥ 0 of σ², in units of y².
    public let scale: Double

    /// Precision scale of `weak`: Λ₀ = 10⁻⁶ I, a prior sd of 1000σ for each coefficient.
    public static let weakPrecisionScale = 1e-6
    /// Shape and scale a₀ = b₀ of `weak`'s σ² prior.
    public static let weakVarianceShapeScale = 1e-3

    /// A prior from its hyperparameters.
    /// - Parameters:
    ///   - mean: m₀, [p].
    ///   - precision: Λ₀ = V₀⁻¹, [p, p] row-major, symmetric positive semi-definite.
    ///   - shape: a₀ (finite).
    ///   - scale: b₀ ≥ 0.
    /// - Precondition: sizes agree and the values are finite with b₀ ≥ 0 (the job layer checks user settings before
    ///   building a prior).
    public init(mean: [Double], precision: [Double], shape: Double, scale: Double) {
        precondition(
            precision.count == mean.count * mean.count,
            "NormalInverseGammaPrior: precision has \(precision.count) values for \(mean.count) coefficients")
        precondition(
            mean.allSatisfy(\.isFinite) && precision.allSatisfy(\.isFinite),
            "NormalInverseGammaPrior: non-finite mean or precision")
        precondition(
            shape.isFinite && scale.isFinite && scale >= 0,
            "NormalInverseGammaPrior: shape \(shape), scale \(scale) (need finite values, scale ≥ 0)")
        self.mean = mean
        self.precision = precision
        self.shape = shape
        self.scale = scale
    }

    /// Number of coefficients p.
    public var coefficientCount: Int { mean.count }

    /// The uniform prior p(β, log σ) ∝ 1: Λ₀ = 0, m₀ = 0, a₀ = −p/2, b₀ = 0. The posterior reproduces OLS (see the
    /// type).
    /// - Parameter p: number of coefficients.
    public static func flat(coefficients p: Int) -> NormalInverseGammaPrior {
        NormalInverseGammaPrior(
            mean: [Double](repeating: 0, count: p), precision: [Double](repeating: 0, count: p * p),
            shape: -Double(p) / 2, scale: 0)
    }

    /// An isotropic prior: β | σ² ~ N(m₀, σ²/λ · I), σ² ~ Inv-Gamma(a₀, b₀).
    /// - Parameters:
    ///   - mean: m₀, [p] (a job's scalar `prior_mean` is repeated p times).
    ///   - precisionScale: λ ≥ 0 (the job's `prior_scale`); 0 makes the β prior flat.
    ///   - shape: a₀.
    ///   - scale: b₀ ≥ 0.
    public static func isotropic(
        mean: [Double], precisionScale: Double, shape: Double = weakVarianceShapeScale,
        scale: Double = weakVarianceShapeScale
    ) -> NormalInverseGammaPrior {
        precondition(precisionScale >= 0 && precisionScale.isFinite, "isotropic: precision scale \(precisionScale)")
        let p = mean.count
        var precision = [Double](repeating: 0, count: p * p)
        for j in 0..<p { precision[j * p + j] = precisionScale }
        return NormalInverseGammaPrior(mean: mean, precision: precision, shape: shape, scale: scale)
    }

    /// The default weakly informative prior: m₀ = 0, Λ₀ = 10⁻⁶ I, a₀ = b₀ = 10⁻³ (see the type).
    /// - Parameters:
    ///   - p: number of coefficients.
    ///   - mean: m₀, [p]; zeros when nil.
    public static func weak(coefficients p: Int, mean: [Double]? = nil) -> NormalInverseGammaPrior {
        isotropic(mean: mean ?? [Double](repeating: 0, count: p), precisionScale: weakPrecisionScale)
    }
}

/// The posterior of a conjugate Bayesian linear model: hyperparameters, coefficient and σ² summaries.
///
/// The posterior is NIG(mₙ, Λₙ, aₙ, bₙ); β's marginal is the multivariate Student t with ν = 2aₙ degrees of freedom,
/// location mₙ and scale matrix (bₙ/aₙ) Λₙ⁻¹; σ²'s is Inv-Gamma(aₙ, bₙ). Summaries are exact functions of these:
/// no sampling. Moments that do not exist (a t's sd for ν ≤ 2, σ²'s mean for aₙ ≤ 1, its sd for aₙ ≤ 2) are nil, so
/// the value encodes to JSON.
public struct BayesianLinearResults: Sendable, Codable, Equatable {
    /// The marginal posterior of one coefficient βⱼ: Student t_ν(mₙⱼ, sⱼ²) with sⱼ² = (bₙ/aₙ)(Λₙ⁻¹)ⱼⱼ.
    public struct Coefficient: Sendable, Codable, Equatable {
        /// Design column name.
        public let name: String
        /// Posterior mean (and median and mode) mₙⱼ.
        public let mean: Double
        /// Posterior sd sⱼ √(ν/(ν − 2)); nil when ν ≤ 2.
        public let sd: Double?
        /// Scale sⱼ of the t marginal (equals the OLS standard error under the flat prior).
        public let scale: Double
        /// Lower end of the equal-tailed credible interval, mₙⱼ − t_{ν,(1+level)/2} sⱼ.
        public let lower: Double
        /// Upper end of the equal-tailed credible interval, mₙⱼ + t_{ν,(1+level)/2} sⱼ.
        public let upper: Double
    }

    /// The marginal posterior of σ², Inv-Gamma(aₙ, bₙ), in units of y².
    public struct Variance: Sendable, Codable, Equatable {
        /// bₙ/(aₙ − 1); nil when aₙ ≤ 1.
        public let mean: Double?
        /// bₙ/((aₙ − 1)√(aₙ − 2)); nil when aₙ ≤ 2.
        public let sd: Double?
        /// Mode bₙ/(aₙ + 1).
        public let mode: Double
        /// Lower end of the equal-tailed credible interval: bₙ / G⁻¹((1+level)/2), G the Gamma(aₙ, 1) CDF.
        public let lower: Double
        /// Upper end: bₙ / G⁻¹((1−level)/2); +∞ only when aₙ is so small that the quantile underflows (no data).
        public let upper: Double
    }

    /// Design column names, [p].
    public let names: [String]
    /// Per-coefficient marginal summaries, [p], in design order.
    public let coefficients: [Coefficient]
    /// Summary of σ².
    public let variance: Variance
    /// Posterior mean mₙ of β, [p].
    public let posteriorMean: [Double]
    /// Posterior precision Λₙ = Λ₀ + XᵀX (in units of 1/σ²), [p, p] row-major.
    public let posteriorPrecision: [Double]
    /// Vₙ = Λₙ⁻¹, [p, p] row-major: β | σ², y ~ N(mₙ, σ² Vₙ).
    public let posteriorPrecisionInverse: [Double]
    /// aₙ = a₀ + n/2.
    public let posteriorShape: Double
    /// bₙ = b₀ + ½[Σ(y − Xmₙ)² + (mₙ − m₀)ᵀΛ₀(mₙ − m₀)].
    public let posteriorScale: Double
    /// ν = 2aₙ, degrees of freedom of the t marginals (n − p under the flat prior).
    public let degreesOfFreedom: Double
    /// Rows n.
    public let count: Double
    /// Probability content of the credible intervals (0.95 by default).
    public let credibleLevel: Double
    /// log p(y) under the prior; nil for an improper prior (Λ₀ not positive definite, a₀ ≤ 0 or b₀ ≤ 0).
    public let logMarginalLikelihood: Double?
    /// The prior the posterior came from.
    public let prior: NormalInverseGammaPrior

    /// The posterior covariance of β, bₙ/(aₙ − 1) · Vₙ, [p, p] row-major; nil when aₙ ≤ 1.
    public var covariance: [Double]? {
        guard posteriorShape > 1 else { return nil }
        let factor = posteriorScale / (posteriorShape - 1)
        return posteriorPrecisionInverse.map { $0 * factor }
    }
}

/// Conjugate Bayesian linear regression from merged moments, with a normal–inverse-gamma prior.
///
/// ### Model and posterior
/// y | β, σ² ~ N(Xβ, σ² I) with the prior of `NormalInverseGammaPrior`. From the sufficient statistics XᵀX, Xᵀy and
/// n (rebuilt from the `MomentMatrix` of [X, y] exactly as `LinearModel.solve` does):
///
///     Λₙ = Λ₀ + XᵀX,        mₙ = Λₙ⁻¹ (Λ₀ m₀ + Xᵀy),
///     aₙ = a₀ + n/2,        bₙ = b₀ + ½ [SSR(mₙ) + (mₙ − m₀)ᵀ Λ₀ (mₙ − m₀)],
///
/// where SSR(mₙ) = Σ(y − Xmₙ)² comes from the centred moments (`LinearModel.sumOfSquaredResiduals`); this equals the
/// textbook b₀ + ½(yᵀy + m₀ᵀΛ₀m₀ − mₙᵀΛₙmₙ) without its cancellation. Λₙ is factored by LAPACK (`dpotrf`, `dpotrs`,
/// `dpotri`). Marginals: βⱼ ~ t_{2aₙ}(mₙⱼ, (bₙ/aₙ)(Λₙ⁻¹)ⱼⱼ), σ² ~ Inv-Gamma(aₙ, bₙ). Credible intervals are
/// equal-tailed: t quantiles from `Distributions.studentTwoSidedQuantile`, inverse-gamma ones from
/// `Gamma.inverseRegularizedLower/Upper`.
///
/// For a proper prior the log marginal likelihood is
///
///     log p(y) = −(n/2) log 2π + ½ (log|Λ₀| − log|Λₙ|) + a₀ log b₀ − aₙ log bₙ + log Γ(aₙ) − log Γ(a₀).
///
/// ### Flat prior
/// With `NormalInverseGammaPrior.flat`, mₙ = β̂ (OLS), ν = n − p, bₙ/aₙ = s² = SSR/(n − p): the t marginal's scale is
/// the classical OLS standard error, its sd is that times √((n − p)/(n − p − 2)), the credible interval is the OLS 95%
/// confidence interval, and E[σ² | y] = SSR/(n − p − 2).
///
/// ### Sharding
/// The input is a merged `MomentMatrix`, so the posterior of all rows equals the posterior from the merge of any
/// partition of them (up to rounding); the fit is a pure, deterministic function of the moments and the prior.
///
/// Source: Gelman et al. (2013), Bayesian Data Analysis, 3rd ed., §14.2 (flat prior); Murphy (2007), "Conjugate
/// Bayesian analysis of the Gaussian distribution", section on Bayesian linear regression (posterior, marginals,
/// marginal likelihood).
public enum BayesianLinearModel {
    /// The posterior for moments of [X, y] under a NIG prior.
    /// - Parameters:
    ///   - moments: a `MomentMatrix` of dimension p + 1 over the design columns and the outcome, the outcome last (the
    ///     input of `LinearModel.solve`; an intercept is a design column of ones).
    ///   - names: the p design column names, for the results and error messages.
    ///   - prior: a prior with p coefficients.
    ///   - credibleLevel: probability content of the equal-tailed credible intervals, in (0, 1); 0.95 by default.
    /// - Returns: the posterior hyperparameters and marginal summaries.
    /// - Throws: `StatisticsError.emptyDesign` when p = 0; `StatisticsError.tooFewRows(rows:coefficients:)` when
    ///   aₙ ≤ 0 (with the flat prior: n ≤ p); `StatisticsError.overflow(columns:)` for non-finite cross-products;
    ///   `StatisticsError.singularDesign(columns:)` when Λₙ is singular (with a flat or otherwise improper β prior,
    ///   the columns of the collinearity in XᵀX + Λ₀, found as in `LinearModel.checkRank`).
    /// - Precondition: `names.count == prior.coefficientCount == moments.dimension − 1`.
    /// - Complexity: O(p³).
    public static func fit(
        _ moments: MomentMatrix, names: [String], prior: NormalInverseGammaPrior,
        credibleLevel: Double = 0.95
    ) throws -> BayesianLinearResults {
        let p = moments.dimension - 1
        precondition(names.count == p, "BayesianLinearModel.fit: \(names.count) names for \(p) columns")
        precondition(
            prior.coefficientCount == p,
            "BayesianLinearModel.fit: prior has \(prior.coefficientCount) coefficients, design \(p)")
        precondition(credibleLevel > 0 && credibleLevel < 1, "BayesianLinearModel.fit: credible level \(credibleLevel)")
        guard p > 0 else { throw StatisticsError.emptyDesign }
        let n = moments.count
        let shapeN = prior.shape + n / 2
        guard shapeN > 0 else { throw StatisticsError.tooFewRows(rows: Int(n), coefficients: p) }

        let raw = moments.crossProducts
        var precisionN = prior.precision
        for i in 0..<p { for j in 0..<p { precisionN[i * p + j] += raw[i * (p + 1) + j] } }
        let overflowing = (0..<p).filter { j in (0...p).contains { !raw[j * (p + 1) + $0].isFinite } }
        if !overflowing.isEmpty { throw StatisticsError.overflow(columns: overflowing.map { names[$0] }) }

        // A proper β prior (Λ₀ positive definite) makes Λₙ positive definite whatever the data; otherwise the data must
        // identify the directions the prior leaves flat, and a failure is reported by column.
        let priorFactor = try? LinearAlgebra.cholesky(prior.precision, n: p)
        if priorFactor == nil {
            if prior.precision.allSatisfy({ $0 == 0 }) {
                try LinearModel.checkRank(moments, names: names)
            } else {
                try LinearModel.checkRank(precisionN, names: names)
            }
        }
        // Solved in centred coordinates (β = Tγ, `DesignCentring`): Λₙ = T⁻ᵀ(ZᵀZ + TᵀΛ₀T)T⁻¹, det T = 1.
        let centring = DesignCentring(moments: moments, width: p)
        let t = centring.transform
        let tPrior = LinearAlgebra.product(t, prior.precision, m: p, k: p, n: p, transposeA: true)
        let priorT = LinearAlgebra.product(tPrior, t, m: p, k: p, n: p)
        var precisionC = centring.gram(moments)
        for i in 0..<p * p { precisionC[i] += priorT[i] }
        let priorRHS = (0..<p).map { i in (0..<p).reduce(0.0) { $0 + prior.precision[i * p + $1] * prior.mean[$1] } }
        let crossC = centring.crossWithOutcome(moments)
        let rhsC = (0..<p).map { j in crossC[j] + (0..<p).reduce(0.0) { $0 + t[$1 * p + j] * priorRHS[$1] } }
        guard precisionC.allSatisfy(\.isFinite), rhsC.allSatisfy(\.isFinite) else {
            throw StatisticsError.priorOverflow
        }
        let gammaN: [Double]
        let inverseC: [Double]
        let factorN: [Double]
        do {
            (gammaN, inverseC) = try LinearAlgebra.solveSPD(precisionC, rhsC, n: p)
            factorN = try LinearAlgebra.cholesky(precisionC, n: p)
        } catch {
            throw StatisticsError.singularDesign(columns: names)
        }
        let meanN = centring.raw(gammaN)
        let inverseN = centring.rawCovariance(inverseC)

        let ssr = LinearModel.sumOfSquaredResiduals(moments, estimates: gammaN, centring: centring)
        var quadratic = 0.0
        for i in 0..<p {
            var row = 0.0
            for j in 0..<p { row += prior.precision[i * p + j] * (meanN[j] - prior.mean[j]) }
            quadratic += (meanN[i] - prior.mean[i]) * row
        }
        let scaleN = prior.scale + 0.5 * (ssr + max(0, quadratic))
        let nu = 2 * shapeN

        let alpha = 1 - credibleLevel
        let tQuantile = Distributions.studentTwoSidedQuantile(alpha, df: nu)
        let coefficients = (0..<p).map { j -> BayesianLinearResults.Coefficient in
            let s = (scaleN / shapeN * inverseN[j * p + j]).squareRoot()
            return .init(
                name: names[j], mean: meanN[j], sd: nu > 2 ? s * (nu / (nu - 2)).squareRoot() : nil, scale: s,
                lower: meanN[j] - tQuantile * s, upper: meanN[j] + tQuantile * s)
        }
        let variance = BayesianLinearResults.Variance(
            mean: shapeN > 1 ? scaleN / (shapeN - 1) : nil,
            sd: shapeN > 2 ? scaleN / ((shapeN - 1) * (shapeN - 2).squareRoot()) : nil,
            mode: scaleN / (shapeN + 1),
            lower: scaleN / Gamma.inverseRegularizedUpper(a: shapeN, q: alpha / 2),
            upper: scaleN / Gamma.inverseRegularizedLower(a: shapeN, p: alpha / 2))

        var logMarginal: Double?
        if let priorFactor, prior.shape > 0, prior.scale > 0 {
            let logDet = { (u: [Double]) in (0..<p).reduce(0.0) { $0 + 2 * log(u[$1 * p + $1]) } }
            logMarginal =
                -n / 2 * log(2 * Double.pi) + 0.5 * (logDet(priorFactor) - logDet(factorN))
                + prior.shape * log(prior.scale) - shapeN * log(scaleN) + lgamma(shapeN) - lgamma(prior.shape)
        }
        return BayesianLinearResults(
            names: names, coefficients: coefficients, variance: variance, posteriorMean: meanN,
            posteriorPrecision: precisionN, posteriorPrecisionInverse: inverseN, posteriorShape: shapeN,
            posteriorScale: scaleN, degreesOfFreedom: nu, count: n, credibleLevel: credibleLevel,
            logMarginalLikelihood: logMarginal, prior: prior)
    }
}
