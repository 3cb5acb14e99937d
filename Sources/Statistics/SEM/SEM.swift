import Foundation

/// Structural equation models fitted by maximum likelihood from merged moments, compatible with lavaan's
/// `sem(model, data, estimator = "ML", meanstructure = TRUE)` at its defaults (fixed.x = TRUE, expected information).
///
/// ### Usage
/// ```swift
/// let moments: MomentMatrix = …   // merged over shards, columns in `names` order
/// let result = try SEM.fit(syntax: "sat =~ s1 + s2 + s3\nsat ~ quality + price\nclick ~ sat + price",
///                          moments: moments, names: ["quality", "price", "s1", "s2", "s3", "click"])
/// result.parameter("sat", "~", "quality")?.estimate
/// result.fit?.cfi
/// ```
///
/// ### Steps
/// 1. parse (`SEMModel`), build lavaan's parameter table (`SEMParameterTable`: merged modifiers, labels, std.lv,
///    `==` constraints as θ = x₀ + Kψ), check identification (`SEMIdentification`: latent scaling and indicator
///    rules, order and rank conditions of feedback loops, t-rule, loops that make I − B singular);
/// 2. S = comoment / N (divisor N) and x̄ over the model's observed variables; exogenous covariates' moments are fixed
///    at their sample values (fixed.x);
/// 3. minimise F_ML by Fisher scoring (`SEMOptimizer`) from lavaan-like starting values;
/// 4. standard errors from the expected information at θ̂ (K(KᵀIK)⁻¹Kᵀ / N), z, p, 95% Wald intervals; std.all;
///    `:=` defined parameters with delta-method SEs (`SEMDefinitionValues`);
///    fit measures (`SEMFitMeasures`); effects and the stability of feedback loops (`SEMEffects`); warnings.
///
/// The function is pure and deterministic: the same moments give bit-identical results.
public enum SEM {
    /// SE, z, two-sided p and 95% Wald interval of an estimate with the given sampling variance; all nil when the
    /// variance is not positive (a fixed or degenerate value).
    static func wald(_ est: Double, variance v: Double) -> (Double?, Double?, Double?, Double?, Double?) {
        let z975 = 1.959963984540054
        guard v > 0, v.isFinite else { return (nil, nil, nil, nil, nil) }
        let e = v.squareRoot()
        return (e, est / e, Distributions.normalTwoSidedP(est / e), est - z975 * e, est + z975 * e)
    }

    /// Fits a model written in lavaan syntax.
    /// - Parameters:
    ///   - syntax: lavaan model text (see `SEMModel`).
    ///   - moments: count N, means [d] and centred co-moments [d, d] of the data columns (merged over shards).
    ///   - names: the d column names of `moments`, in its column order; the model may use a subset.
    ///   - options: optimizer settings.
    /// - Returns: estimates, standard errors, fit measures, effects and warnings.
    /// - Throws: `SEMError` (syntax, unknown variable, identification, sizes); see `fit(model:moments:names:options:)`.
    /// - Complexity: per iteration O(t²p² + t p³ + m³) for t free parameters, p observed and m total variables.
    public static func fit(
        syntax: String, moments: MomentMatrix, names: [String],
        options: SEMOptions = SEMOptions()
    ) throws -> SEMResult {
        try fit(model: SEMModel(parsing: syntax), moments: moments, names: names, options: options)
    }

    /// Fits a parsed model.
    /// - Parameters:
    ///   - model: parsed model.
    ///   - moments: count N ≥ 2, means [d] and centred co-moments Σ(x − x̄)(x − x̄)ᵀ [d, d] row-major of the data.
    ///   - names: the d column names of `moments`, unique.
    ///   - options: optimizer settings.
    /// - Throws: `SEMError.namesMismatch` (names vs dimension, repeated names), `.tooFewObservations`,
    ///   `.syntax` (modifier, label, `:=` and `==` conflicts, positioned), `.unknownVariable`, `.latentIsObserved`,
    ///   `.notIdentified`, `.singularLoop`, `.tooManyParameters`,
    ///   `.impliedCovarianceNotPositiveDefinite` (starting values unusable).
    public static func fit(
        model: SEMModel, moments: MomentMatrix, names: [String],
        options: SEMOptions = SEMOptions()
    ) throws -> SEMResult {
        guard names.count == moments.dimension else {
            throw SEMError.namesMismatch(
                message: "\(names.count) names for a moment matrix of \(moments.dimension) columns")
        }
        guard Set(names).count == names.count else {
            let repeated = names.filter { n in names.filter { $0 == n }.count > 1 }
            throw SEMError.namesMismatch(message: "column name '\(repeated[0])' appears more than once")
        }
        guard moments.count >= 2 else { throw SEMError.tooFewObservations(count: moments.count) }
        let table = try SEMParameterTable(model: model, dataNames: names, stdLV: options.stdLV)
        try SEMIdentification.check(table)

        // Sample moments over the model's observed variables, in lavaan's order.
        let d = moments.dimension
        let n = moments.count
        let columns = table.observed.map { names.firstIndex(of: $0)! }
        let p = columns.count
        var s = [Double](repeating: 0, count: p * p)
        for i in 0..<p { for j in 0..<p { s[i * p + j] = moments.comoment[columns[i] * d + columns[j]] / n } }
        let xbar = columns.map { moments.mean[$0] }
        var warnings: [SEMWarning] = []
        var logDetS: Double?
        // S is positive definite when its correlation matrix has λ_min > `LinearModel.rankTolerance` · λ_max: the rank
        // rule of the linear models, free of the variables' units (docs/DECISIONS.md, "Numerical decisions").
        let scaleS = (0..<p).map { s[$0 * p + $0] > 0 ? 1 / s[$0 * p + $0].squareRoot() : 0 }
        let correlation = (0..<(p * p)).map { s[$0] * scaleS[$0 / p] * scaleS[$0 % p] }
        let spectrum = (try? LinearAlgebra.symmetricEigen(correlation, n: p))?.values ?? []
        let definite =
            scaleS.allSatisfy { $0 > 0 } && spectrum.count == p
            && spectrum[0] > LinearModel.rankTolerance * (spectrum.last ?? 0)
        if definite, let u = try? LinearAlgebra.cholesky(s, n: p), (0..<p).allSatisfy({ u[$0 * p + $0] > 0 }) {
            logDetS = (0..<p).reduce(0) { $0 + 2 * log(u[$1 * p + $1]) }
        } else {
            let smallest = (try? LinearAlgebra.symmetricEigen(s, n: p))?.values.first ?? .nan
            warnings.append(.sampleCovarianceNotPositiveDefinite(smallestEigenvalue: smallest))
        }

        let structure = SEMStructure(table: table, s: s, xbar: xbar, logDetS: logDetS, n: n)
        let outcome = try SEMOptimizer.minimize(structure, start: structure.startingValues(), options: options)
        if !outcome.converged { warnings.append(.notConverged(iterations: outcome.iterations)) }
        let ev = outcome.evaluation
        let t = table.freeCount

        // Standard errors from the expected information (in the estimated parameters ψ, then θ = x₀ + Kψ).
        var covariance: [Double]?
        let rep = table.reparameterization
        let u = rep.u
        if u > 0 {
            let info = rep.reduce(information: structure.expectedInformation(ev))
            if let inv = try? LinearAlgebra.solveSPD(info, [Double](repeating: 0, count: u), n: u).inverse,
                inv.allSatisfy({ $0.isFinite })
            {
                covariance = rep.expand(covariance: inv.map { $0 / n })
            } else {
                warnings.append(.singularInformation)
            }
        } else {
            covariance = [Double](repeating: 0, count: t * t)
        }

        // Estimates table with std.all.
        let values = structure.rowValues(outcome.theta)
        let imp = ev.implied
        let m = structure.m
        let index = Dictionary(uniqueKeysWithValues: structure.variables.enumerated().map { ($1, $0) })
        func totalVariance(_ v: String) -> Double { imp.sigmaAll[index[v]! * m + index[v]!] }
        func residualVariance(_ v: String) -> Double { imp.psi[index[v]! * m + index[v]!] }
        var estimates: [SEMEstimate] = []
        for (k, r) in table.rows.enumerated() {
            let est = values[k]
            var se: Double?
            var z: Double?
            var pv: Double?
            var lo: Double?
            var hi: Double?
            if r.free > 0 && table.heldValue(r) != nil {
                se = 0
                lo = est
                hi = est  // set to a constant by an == constraint (a == 1)
            } else if r.free > 0 {
                if let c = covariance {
                    (se, z, pv, lo, hi) = wald(est, variance: c[(r.free - 1) * t + (r.free - 1)])
                }
            } else {
                se = 0
                lo = est
                hi = est
            }
            var std: Double
            switch r.op {
            case .measuredBy: std = est * totalVariance(r.lhs).squareRoot() / totalVariance(r.rhs).squareRoot()
            case .regression: std = est * totalVariance(r.rhs).squareRoot() / totalVariance(r.lhs).squareRoot()
            case .covariance:
                std =
                    r.lhs == r.rhs
                    ? est / totalVariance(r.lhs)
                    : est / (residualVariance(r.lhs) * residualVariance(r.rhs)).squareRoot()
            case .intercept: std = est / totalVariance(r.lhs).squareRoot()
            }
            if est == 0 && r.op != .covariance { std = 0 }
            estimates.append(
                SEMEstimate(
                    lhs: r.lhs, op: r.op.rawValue, rhs: r.rhs, label: r.label, free: r.free > 0, exogenous: r.exogenous,
                    estimate: est, standardError: se, z: z, pValue: pv, ciLower: lo, ciUpper: hi,
                    standardizedAll: std.isFinite ? std : nil, position: r.position))
            // Heywood: negative beyond rounding (more than `LinearModel.rankTolerance` of the variable's total
            // variance).
            if r.op == .covariance && r.lhs == r.rhs && est < -LinearModel.rankTolerance * abs(totalVariance(r.lhs)) {
                warnings.append(.negativeVariance(parameter: r.name, estimate: est))
            }
        }

        // Defined parameters (:=): delta method over the full covariance of θ̂; std.all from the standardised
        // estimates of the free labels (lavaan lav_standardize_all).
        if !table.definitions.isEmpty {
            var stdByLabel: [String: Double] = [:]
            for (k, r) in table.rows.enumerated() where !r.label.isEmpty && r.free > 0 && stdByLabel[r.label] == nil {
                stdByLabel[r.label] = estimates[k].standardizedAll ?? .nan
            }
            let values = SEMDefinitionValues.evaluate(table, theta: outcome.theta)
            let std = SEMDefinitionValues.evaluate(table, theta: outcome.theta) { stdByLabel[$0] }
            for (d, (value, s)) in zip(table.definitions, zip(values, std)) {
                var se: Double?
                var z: Double?
                var pv: Double?
                var lo: Double?
                var hi: Double?
                if let c = covariance, value.value.isFinite {
                    let j = value.gradient
                    var variance = 0.0
                    for a in 0..<t where j[a] != 0 {
                        for b in 0..<t where j[b] != 0 { variance += j[a] * c[a * t + b] * j[b] }
                    }
                    (se, z, pv, lo, hi) = wald(value.value, variance: variance)
                    if variance == 0 {
                        se = 0
                        lo = value.value
                        hi = value.value
                    }  // a function of fixed values
                }
                if !value.value.isFinite {
                    warnings.append(.definedParameterNotFinite(name: d.name, expression: d.text, value: value.value))
                }
                estimates.append(
                    SEMEstimate(
                        lhs: d.name, op: ":=", rhs: d.text, label: d.name, free: false, exogenous: false,
                        estimate: value.value, standardError: se, z: z, pValue: pv, ciLower: lo, ciUpper: hi,
                        standardizedAll: s.value.isFinite ? s.value : nil, position: d.position))
            }
        }

        // Structural part: regressions only.
        var b = [Double](repeating: 0, count: m * m)
        for (k, r) in table.rows.enumerated() where r.op == .regression {
            b[index[r.lhs]! * m + index[r.rhs]!] = values[k]
        }
        let radius = try SEMEffects.spectralRadius(b: b, m: m)
        if radius >= 1 { warnings.append(.unstableFeedback(spectralRadius: radius)) }
        let effects = (try? SEMEffects.decompose(b: b, names: structure.variables)) ?? []

        return SEMResult(
            parameters: estimates, observed: table.observed, latent: table.latent,
            exogenousObserved: table.exogenousObserved,
            fit: SEMFitMeasures.compute(structure: structure, evaluation: ev),
            impliedCovariance: imp.sigma, impliedMean: imp.mu, sampleCovariance: s, sampleMean: xbar,
            parameterCovariance: covariance, effects: effects, spectralRadius: radius,
            iterations: outcome.iterations, converged: outcome.converged, warnings: warnings)
    }
}
