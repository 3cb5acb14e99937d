import Foundation

/// Which coefficient covariance a results object reports.
///
/// Source: statsmodels `RegressionResults.get_robustcov_results` (`cov_type`); White (1980) for HC0; MacKinnon & White
/// (1985) for HC1 = HC0 · n / (n − p).
public enum CovarianceType: String, CaseIterable, Sendable, Codable {
    /// Model-based: σ̂² (X'X)⁻¹ for OLS, the inverse Fisher information for a logit.
    case classical
    /// Heteroskedasticity-robust sandwich A⁻¹ B A⁻¹ with B = Σ sᵢ sᵢᵀ (sᵢ the row's score).
    case hc0
    /// HC0 scaled by n / (n − p), statsmodels' and Stata's default small-sample correction.
    case hc1
}

/// One row of a coefficient table.
public struct CoefficientRow: Sendable, Equatable {
    /// The design column's patsy name.
    public var name: String
    /// β̂_j, in the outcome's units per unit of the column.
    public var estimate: Double
    /// Standard error under the covariance asked for.
    public var standardError: Double
    /// estimate / standardError: t for OLS, z for a logit.
    public var statistic: Double
    /// Two-sided p-value of `statistic` (Student t with df_resid for OLS, normal for a logit).
    public var pValue: Double
    /// The (1 − α) interval's lower end, estimate − q·se.
    public var ciLow: Double
    /// Its upper end, estimate + q·se.
    public var ciHigh: Double
}

/// The inference shared by linear and logit results: estimates, a classical covariance and the HC0 sandwich, and
/// the reference distribution of the tests.
public protocol RegressionResults: Sendable {
    /// Column names, [p].
    var names: [String] { get }
    /// β̂, [p].
    var estimates: [Double] { get }
    /// Rows n.
    var count: Double { get }
    /// The model-based covariance, [p, p] row-major.
    var classicalCovariance: [Double] { get }
    /// The HC0 sandwich covariance, [p, p] row-major.
    var hc0Covariance: [Double] { get }
    /// Two-sided p-value of a statistic.
    func pValue(_ statistic: Double) -> Double
    /// The quantile q with P(|T| > q) = α.
    func criticalValue(_ alpha: Double) -> Double
}

extension RegressionResults {
    /// Number of coefficients p.
    public var parameterCount: Int { estimates.count }
    /// Residual degrees of freedom n − p.
    public var dfResid: Double { count - Double(parameterCount) }

    /// The coefficient covariance, [p, p] row-major.
    public func covariance(_ type: CovarianceType) -> [Double] {
        switch type {
        case .classical: return classicalCovariance
        case .hc0: return hc0Covariance
        case .hc1: return hc0Covariance.map { $0 * count / dfResid }
        }
    }

    /// Standard errors, [p]: square roots of the covariance's diagonal. A diagonal entry that rounding made slightly
    /// negative (a direction with no variance, e.g. a sandwich whose residuals are all 0 for one level) gives 0, not
    /// NaN.
    public func standardErrors(_ type: CovarianceType = .classical) -> [Double] {
        let c = covariance(type)
        let p = parameterCount
        return (0..<p).map { max(0, c[$0 * p + $0]).squareRoot() }
    }

    /// The coefficient table under `type` with (1 − α) intervals.
    /// - Parameters:
    ///   - type: the covariance for standard errors, statistics, p-values and intervals.
    ///   - alpha: 1 − the interval's level (0.05 for 95%).
    public func table(_ type: CovarianceType = .classical, alpha: Double = 0.05) -> [CoefficientRow] {
        let se = standardErrors(type)
        let q = criticalValue(alpha)
        return (0..<parameterCount).map { j in
            let b = estimates[j]
            let s = b / se[j]
            return CoefficientRow(
                name: names[j], estimate: b, standardError: se[j], statistic: s, pValue: pValue(s),
                ciLow: b - q * se[j], ciHigh: b + q * se[j])
        }
    }
}

/// OLS results from merged statistics, as statsmodels' `RegressionResults`: σ̂² = RSS / (n − p), classical and HC
/// covariances, t tests with n − p degrees of freedom, the Gaussian log-likelihood.
public struct LinearModelResults: RegressionResults, Equatable {
    public let names: [String]
    public let estimates: [Double]
    public let count: Double
    /// Residual sum of squares Σ eᵢ².
    public let residualSumOfSquares: Double
    /// (X'X)⁻¹, [p, p] row-major.
    public let xtxInverse: [Double]
    public let hc0Covariance: [Double]

    /// - Parameters:
    ///   - names: [p] column names.
    ///   - estimates: [p] β̂.
    ///   - count: n > p.
    ///   - residualSumOfSquares: Σ eᵢ² at β̂.
    ///   - xtxInverse: (X'X)⁻¹, [p, p].
    ///   - hc0: (X'X)⁻¹ (Σ eᵢ² xᵢ xᵢᵀ) (X'X)⁻¹, [p, p].
    public init(
        names: [String], estimates: [Double], count: Double, residualSumOfSquares: Double, xtxInverse: [Double],
        hc0: [Double]
    ) {
        self.names = names
        self.estimates = estimates
        self.count = count
        self.residualSumOfSquares = residualSumOfSquares
        self.xtxInverse = xtxInverse
        self.hc0Covariance = hc0
    }

    /// σ̂² = RSS / (n − p).
    public var sigma2: Double { residualSumOfSquares / dfResid }
    /// The maximum-likelihood σ² = RSS / n.
    public var sigma2MLE: Double { residualSumOfSquares / count }
    /// Gaussian log-likelihood at the MLE: −n/2 (log(2π RSS / n) + 1).
    public var logLikelihood: Double { -count / 2 * (log(2 * Double.pi * residualSumOfSquares / count) + 1) }
    public var classicalCovariance: [Double] { xtxInverse.map { $0 * sigma2 } }
    public func pValue(_ statistic: Double) -> Double { Distributions.studentTwoSidedP(statistic, df: dfResid) }
    public func criticalValue(_ alpha: Double) -> Double { Distributions.studentTwoSidedQuantile(alpha, df: dfResid) }
}

/// Logit results from the merged Newton statistic at the MLE, as statsmodels' `LogitResults`: the inverse Fisher
/// information, the HC0 sandwich, z tests.
public struct LogitResults: RegressionResults, Equatable {
    public let names: [String]
    public let estimates: [Double]
    public let count: Double
    /// ℓ(β̂).
    public let logLikelihood: Double
    /// (X'WX)⁻¹, [p, p].
    public let classicalCovariance: [Double]
    public let hc0Covariance: [Double]
    /// Newton steps taken and whether the stopping rule was met.
    public let iterations: Int
    public let converged: Bool

    public init(
        names: [String], estimates: [Double], count: Double, logLikelihood: Double, covariance: [Double], hc0: [Double],
        iterations: Int, converged: Bool
    ) {
        self.names = names
        self.estimates = estimates
        self.count = count
        self.logLikelihood = logLikelihood
        self.classicalCovariance = covariance
        self.hc0Covariance = hc0
        self.iterations = iterations
        self.converged = converged
    }

    public func pValue(_ statistic: Double) -> Double { Distributions.normalTwoSidedP(statistic) }
    public func criticalValue(_ alpha: Double) -> Double { Distributions.normalQuantile(1 - alpha / 2) }
}
