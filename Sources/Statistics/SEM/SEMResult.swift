/// One row of the fitted parameter table, as lavaan's `parameterEstimates()` plus `standardizedSolution()` print it.
public struct SEMEstimate: Sendable, Equatable, Codable {
    /// Left-hand side.
    public var lhs: String
    /// Operator: "=~", "~", "~~", "~1", or ":=" for a defined parameter (then `lhs` is its name, `rhs` its
    /// expression, `label` its name, `free` false, and the SE is the delta method's).
    public var op: String
    /// Right-hand side ("" for intercepts).
    public var rhs: String
    /// The user's label or "".
    public var label: String
    /// Estimated (true) or fixed (false: a fixed value, a default such as the first loading, or a fixed.x moment).
    public var free: Bool
    /// A moment of an exogenous observed variable, fixed at its sample value (fixed.x).
    public var exogenous: Bool
    /// Estimate, or the fixed value.
    public var estimate: Double
    /// Standard error from the expected information (lavaan's default); 0 for fixed rows; nil when the information
    /// matrix is singular.
    public var standardError: Double?
    /// estimate / standardError; nil for fixed rows.
    public var z: Double?
    /// Two-sided normal p-value of z; nil for fixed rows.
    public var pValue: Double?
    /// 95% Wald interval estimate ± 1.959964·SE (equal to the estimate for fixed rows).
    public var ciLower: Double?
    /// Upper end of the 95% Wald interval.
    public var ciUpper: Double?
    /// lavaan's std.all: the estimate with all variables (observed and latent) standardised by their model-implied
    /// variances; residual covariances become residual correlations (lavaan `cov.std = TRUE`). Nil when undefined
    /// (a zero or negative variance).
    public var standardizedAll: Double?
    /// Where the user wrote it; nil for defaults.
    public var position: SEMSourcePosition?

    /// "lhs op rhs" ("y ~1" for intercepts).
    public var name: String { op == "~1" ? "\(lhs) ~1" : "\(lhs) \(op) \(rhs)" }
}

/// Global fit of the model, lavaan's `fitMeasures()` names in the comments. Needs a positive-definite S.
///
/// Conventions (lavaan 0.6, `likelihood = "normal"`): N is the number of rows (not N − 1); the statistic is
/// T = N·F_ML = 2·N·fmin; with fixed.x the log-likelihoods are those of the non-exogenous variables given the
/// exogenous ones (the joint log-likelihood minus that of the exogenous block at its sample moments), and neither the
/// moments nor the parameters of the exogenous block are counted.
///
/// Source: lavaan `lav_fit_measures.R`, `lav_fit_cfi.R`, `lav_fit_rmsea.R`, `lav_fit_srmr.R`, `lav_fit_aic.R`;
/// Bentler (1990) CFI; Tucker & Lewis (1973); Steiger (1990) and Browne & Cudeck (1993) RMSEA.
public struct SEMFitMeasures: Sendable, Equatable, Codable {
    /// Free parameters (npar).
    public var parameterCount: Int
    /// fmin = F_ML / 2 at the estimate.
    public var fmin: Double
    /// chisq: T = N·F_ML.
    public var chiSquare: Double
    /// df: sample moments − free parameters.
    public var degreesOfFreedom: Int
    /// pvalue: P(χ²_df > T); nil when df = 0 (lavaan reports NA there).
    public var pValue: Double?
    /// baseline.chisq: T of the independence model (non-exogenous variables uncorrelated with each other and with
    /// the exogenous block; means and variances free; exogenous block at its sample moments).
    public var baselineChiSquare: Double
    /// baseline.df.
    public var baselineDegreesOfFreedom: Int
    /// baseline.pvalue.
    public var baselinePValue: Double?
    /// cfi: 1 − max(T − df, 0) / max(T − df, T_b − df_b, 0).
    public var cfi: Double
    /// tli (= nnfi): (T_b/df_b − T/df) / (T_b/df_b − 1).
    public var tli: Double
    /// rmsea: √max(T/(N·df) − 1/N, 0).
    public var rmsea: Double
    /// rmsea.ci.lower: √(λ_L/(N·df)), λ_L solving P(χ²_df(λ) ≤ T) = 0.95 (0 when none).
    public var rmseaCILower: Double
    /// rmsea.ci.upper: √(λ_U/(N·df)), λ_U solving P(χ²_df(λ) ≤ T) = 0.05.
    public var rmseaCIUpper: Double
    /// rmsea.pvalue: test of close fit, 1 − P(χ²_df(N·df·0.05²) ≤ T); nil when df = 0.
    public var rmseaPValue: Double?
    /// srmr (Bentler, with means): √(mean over the p(p+1)/2 + p residual moments, each scaled by sample SDs).
    public var srmr: Double
    /// logl: log-likelihood of the model (H0).
    public var logLikelihood: Double
    /// unrestricted.logl: log-likelihood of the saturated model (H1).
    public var unrestrictedLogLikelihood: Double
    /// aic: −2 logl + 2 npar.
    public var aic: Double
    /// bic: −2 logl + npar log N.
    public var bic: Double
    /// ntotal: N.
    public var observationCount: Double
}

/// Direct, indirect and total effect of `from` on `to` in the structural part (regressions only).
///
/// With B the [m, m] matrix of regression coefficients (B[to, from]): direct = B, total = (I − B)⁻¹ − I,
/// indirect = total − direct. For a feedback loop, total effects are the limits of the loop's infinite sums and
/// are meaningful only when the loop is stable (spectral radius of B below 1). A variable's effect on itself through
/// a loop is reported with `from == to`.
/// Source: Bollen (1989) ch. 8 (pp. 376–389); Sobel (1982).
public struct SEMEffect: Sendable, Equatable, Codable {
    /// Cause.
    public var from: String
    /// Outcome.
    public var to: String
    /// B[to, from].
    public var direct: Double
    /// total − direct.
    public var indirect: Double
    /// ((I − B)⁻¹ − I)[to, from].
    public var total: Double
}

/// Something the caller should know about a fit that did not stop it.
public enum SEMWarning: Sendable, Equatable, Codable, CustomStringConvertible {
    /// A variance was estimated negative (Heywood case): the model is misspecified or the sample too small.
    case negativeVariance(parameter: String, estimate: Double)
    /// S is not positive definite (smallest eigenvalue given): fit measures that need log|S| are not computed.
    case sampleCovarianceNotPositiveDefinite(smallestEigenvalue: Double)
    /// A feedback loop is not stable: the spectral radius of B is ≥ 1, so total effects do not converge.
    case unstableFeedback(spectralRadius: Double)
    /// The information matrix is not invertible: standard errors are not computed (empirical under-identification).
    case singularInformation
    /// The optimizer stopped before convergence.
    case notConverged(iterations: Int)
    /// A `:=` defined parameter is not finite at the estimates (e.g. the log of a negative value).
    case definedParameterNotFinite(name: String, expression: String, value: Double)

    public var description: String {
        switch self {
        case .negativeVariance(let parameter, let estimate):
            return
                "variance \(parameter) is estimated negative (\(estimate)): a Heywood case; the model may be misspecified or the sample too small"
        case .sampleCovarianceNotPositiveDefinite(let value):
            return
                "the sample covariance matrix is not positive definite (smallest eigenvalue \(value)); chi-square and fit indices are not computed"
        case .unstableFeedback(let radius):
            return
                "the feedback loops are not stable (spectral radius of B = \(radius) ≥ 1): total and indirect effects are not meaningful"
        case .singularInformation:
            return
                "the information matrix is singular: standard errors cannot be computed; the model may not be identified"
        case .notConverged(let iterations):
            return "the optimizer did not converge in \(iterations) iterations; estimates are not reliable"
        case .definedParameterNotFinite(let name, let expression, let value):
            let what = value.isNaN ? "undefined" : value > 0 ? "infinite" : "minus infinity"
            return "the defined parameter \(name) := \(expression) is \(what) at the estimates; it has no estimate"
        }
    }
}

/// Options of `SEM.fit`.
public struct SEMOptions: Sendable, Equatable, Codable {
    /// Maximum Fisher-scoring steps (default 500).
    public var maxIterations: Int
    /// Convergence: every component of the scoring step ≤ tolerance·max(1, |θ_k|) (default 1e-10).
    public var tolerance: Double
    /// lavaan's std.lv: every latent (residual) variance fixed at 1 and every loading free (default false: the first
    /// loading of each latent fixed at 1).
    public var stdLV: Bool

    /// Defaults: 500 steps, tolerance 1e-10, std.lv off.
    public init(maxIterations: Int = 500, tolerance: Double = 1e-10, stdLV: Bool = false) {
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.stdLV = stdLV
    }
}

/// The result of `SEM.fit`: a value (statsmodels-like results object; Codable, Equatable).
public struct SEMResult: Sendable, Equatable, Codable {
    /// The parameter table with estimates, in lavaan's order; `:=` defined parameters last.
    public var parameters: [SEMEstimate]
    /// Observed variables in lavaan's order (the order of `impliedCovariance` and `impliedMean`).
    public var observed: [String]
    /// Latent variables.
    public var latent: [String]
    /// Exogenous observed variables whose moments were fixed at their sample values (fixed.x).
    public var exogenousObserved: [String]
    /// Global fit; nil when S is not positive definite (see `warnings`).
    public var fit: SEMFitMeasures?
    /// Σ(θ̂), [p, p] row-major, over `observed`.
    public var impliedCovariance: [Double]
    /// μ(θ̂), [p].
    public var impliedMean: [Double]
    /// Sample covariance (divisor N), [p, p] row-major, over `observed`.
    public var sampleCovariance: [Double]
    /// Sample means, [p].
    public var sampleMean: [Double]
    /// Covariance of the free parameters' estimates (inverse expected information / N), [t, t]; nil when singular.
    /// With `==` constraints: K (KᵀIK)⁻¹ Kᵀ / N (`SEMReparameterization`).
    public var parameterCovariance: [Double]?
    /// Effects between variables connected by regressions (pairs with a non-zero total or direct effect), in the order
    /// of the variables (observed, then latent) by outcome, then cause.
    public var effects: [SEMEffect]
    /// Largest |eigenvalue| of the regression matrix B (0 for recursive models); < 1 means the loops are stable.
    public var spectralRadius: Double
    /// Fisher-scoring steps taken.
    public var iterations: Int
    /// Whether the optimizer met its convergence criterion.
    public var converged: Bool
    /// Warnings (Heywood cases, non-PD S, unstable loops, singular information, non-convergence).
    public var warnings: [SEMWarning]

    /// The estimate row `lhs op rhs` (op "~1" with rhs "" for intercepts), if any.
    public func parameter(_ lhs: String, _ op: String, _ rhs: String = "") -> SEMEstimate? {
        parameters.first { $0.lhs == lhs && $0.op == op && $0.rhs == rhs }
    }

    /// Whether the loops of the structural part are stable (spectral radius < 1).
    public var isStable: Bool { spectralRadius < 1 }
}
