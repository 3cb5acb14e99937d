import Foundation

extension SEMFitMeasures {
    /// Computes lavaan's fit measures for a fitted model (see the type's documentation for the formulas).
    /// - Parameters:
    ///   - structure: the model and its sample moments (S must be positive definite: `logDetS` non-nil).
    ///   - evaluation: the discrepancy at the estimate.
    /// - Complexity: O(p³) plus O(√(N·df)) incomplete gamma evaluations per RMSEA bound (60 bisection steps each).
    static func compute(structure: SEMStructure, evaluation ev: SEMStructure.Evaluation) -> SEMFitMeasures? {
        guard let logDetS = structure.logDetS else { return nil }
        let n = structure.n
        let p = structure.p
        let table = structure.table
        let x = table.exogenousObserved.map { table.observed.firstIndex(of: $0)! }
        let s = structure.s
        let nx = x.count
        var sxx = [Double](repeating: 0, count: nx * nx)
        for a in 0..<nx { for b in 0..<nx { sxx[a * nx + b] = s[x[a] * p + x[b]] } }
        var logDetSxx = 0.0
        if nx > 0 {
            guard let u = try? LinearAlgebra.cholesky(sxx, n: nx) else { return nil }
            for i in 0..<nx { logDetSxx += 2 * log(u[i * nx + i]) }
        }
        let npar = table.parameterCount
        // Baseline (independence) model: closed form, means and variances of the non-exogenous variables free.
        let xSet = Set(x)
        var logDiag = 0.0
        for i in 0..<p where !xSet.contains(i) { logDiag += log(s[i * p + i]) }
        let rawBaseline = n * (logDiag + logDetSxx - logDetS)
        // F_ML and the baseline statistic are Kullback–Leibler divergences, never negative; a negative value within
        // rounding is 0 (see `roundingFloor`).
        let floor = roundingFloor(baseline: rawBaseline)
        let baseline = clampRounding(rawBaseline, floor: floor)
        let chisq = clampRounding(n * ev.f, floor: floor)
        let f = chisq == 0 ? 0 : ev.f
        let df = table.momentCount - npar
        let pvalue: Double? = df > 0 ? min(1, max(0, ChiSquared.sf(chisq, degreesOfFreedom: Double(df)))) : nil
        let baselineDf = table.momentCount - 2 * (p - nx)
        let baselineP: Double? = baselineDf > 0 ? ChiSquared.sf(baseline, degreesOfFreedom: Double(baselineDf)) : nil

        let t1 = max(chisq - Double(df), 0)
        let t2 = max(chisq - Double(df), baseline - Double(baselineDf), 0)
        let cfi = t2 == 0 ? 1 : 1 - t1 / t2
        let tli: Double
        if df > 0 && baselineDf > 0 {
            let rb = baseline / Double(baselineDf)
            tli = (rb - chisq / Double(df)) / (rb - 1)
        } else {
            tli = 1
        }
        var rmsea = 0.0
        var lower = 0.0
        var upper = 0.0
        var rmseaP: Double?
        if df > 0 {
            let k = Double(df)
            rmsea = max(chisq / (n * k) - 1 / n, 0).squareRoot()
            func cdf(_ lambda: Double) -> Double {
                NoncentralChiSquared.cdf(chisq, degreesOfFreedom: k, noncentrality: lambda)
            }
            // lavaan lav_fit_rmsea_ci: roots of P(T; df, λ) = 0.95 on [0, T] and = 0.05 on [0, max(N, 4T)].
            if cdf(0) >= 0.95 {
                lower = (root(cdf, target: 0.95, upTo: chisq) / (n * k)).squareRoot()
            }
            let top = max(n, 4 * chisq)
            if cdf(top) <= 0.05 && cdf(0) >= 0.05 {
                upper = (root(cdf, target: 0.05, upTo: top) / (n * k)).squareRoot()
            }
            rmseaP = min(1, max(0, 1 - cdf(n * k * 0.05 * 0.05)))
        }

        // SRMR (Bentler, with means): residuals scaled by the sample standard deviations.
        let sigma = ev.implied.sigma
        let mu = ev.implied.mu
        var sum = 0.0
        for i in 0..<p {
            let si = s[i * p + i].squareRoot()
            for j in i..<p {
                let r = (s[i * p + j] - sigma[i * p + j]) / (si * s[j * p + j].squareRoot())
                sum += r * r
            }
            let r = (structure.xbar[i] - mu[i]) / si
            sum += r * r
        }
        let srmr = (sum / Double(p * (p + 1) / 2 + p)).squareRoot()

        // Log-likelihoods; with fixed.x, less the exogenous block's log-likelihood at its sample moments.
        let log2pi = log(2 * Double.pi)
        let xPart = -n / 2 * (Double(nx) * log2pi + logDetSxx + Double(nx))
        let logl = -n / 2 * (Double(p) * log2pi + f + logDetS + Double(p)) - xPart
        let h1 = -n / 2 * (Double(p) * log2pi + logDetS + Double(p)) - xPart
        return SEMFitMeasures(
            parameterCount: npar, fmin: f / 2, chiSquare: chisq, degreesOfFreedom: df, pValue: pvalue,
            baselineChiSquare: baseline, baselineDegreesOfFreedom: baselineDf, baselinePValue: baselineP,
            cfi: cfi, tli: tli, rmsea: rmsea, rmseaCILower: lower, rmseaCIUpper: upper, rmseaPValue: rmseaP,
            srmr: srmr, logLikelihood: logl, unrestrictedLogLikelihood: h1,
            aic: -2 * logl + 2 * Double(npar), bic: -2 * logl + Double(npar) * log(n), observationCount: n)
    }

    /// The largest |negative| χ² (model or baseline) taken as rounding and reported as 0 (p = 1):
    /// 1e-10·max(1, T_baseline). F_ML is computed as log|Σ| + tr(SΣ⁻¹) − log|S| − p, a sum of O(p) terms whose
    /// rounding is a few ε·p relative to the baseline's scale, far below this bound; a true χ² is never negative.
    static func roundingFloor(baseline: Double) -> Double { 1e-10 * max(1, abs(baseline)) }

    /// 0 for a negative `value` with |value| ≤ `floor` (rounding of a quantity that cannot be negative), else `value`.
    static func clampRounding(_ value: Double, floor: Double) -> Double { value < 0 && -value <= floor ? 0 : value }

    /// The λ in [0, hi] with cdf(λ) = target for a cdf decreasing in λ, by bisection to 1e-13 relative.
    static func root(_ cdf: (Double) -> Double, target: Double, upTo hi: Double) -> Double {
        var lo = 0.0
        var hi = hi
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if cdf(mid) > target { lo = mid } else { hi = mid }
            if hi - lo <= 1e-13 * max(1, hi) { break }
        }
        return 0.5 * (lo + hi)
    }
}
