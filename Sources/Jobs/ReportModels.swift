import Foundation
import Statistics

/// `s` padded with spaces on the right to `w` characters (the report tables' columns).
func pad(_ s: String, _ w: Int) -> String {
    let s = printable(s)
    return s.count >= w ? s : s + String(repeating: " ", count: w - s.count)
}

/// `s` padded with spaces on the left to `w` characters.
func lpad(_ s: String, _ w: Int) -> String {
    let s = printable(s)
    return s.count >= w ? s : String(repeating: " ", count: w - s.count) + s
}

/// `x` with `digits` decimals; a value that rounds to zero prints as 0.0000, never -0.0000.
func fixed(_ x: Double, digits: Int) -> String {
    let t = String(format: "%.\(digits)f", x)
    return t.hasPrefix("-") && t.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) ? String(t.dropFirst()) : t
}

/// `s` as it is printed in a table: control characters escaped (`\n`, `\r`, `\t`, others as `\u{7F}`), so a level
/// name with a newline stays on its row. report.json keeps names as patsy makes them.
func printable(_ s: String) -> String {
    func breaks(_ u: Unicode.Scalar) -> Bool {
        [.control, .lineSeparator, .paragraphSeparator].contains(u.properties.generalCategory)
    }
    guard s.unicodeScalars.contains(where: breaks) else { return s }
    var out = ""
    for u in s.unicodeScalars {
        switch u {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where breaks(u): out += "\\u{\(String(u.value, radix: 16, uppercase: true))}"
        default: out.unicodeScalars.append(u)
        }
    }
    return out
}

/// A finite value, or nil (JSON has no NaN or infinity).
func finite(_ x: Double?) -> Double? {
    guard let x, x.isFinite else { return nil }
    return x
}

extension FitReport {
    /// A `sem` job's results, in lavaan's terms (`parameterEstimates()`, `standardizedSolution()`, `fitMeasures()`).
    public struct SEMSection: Codable, Sendable, Equatable {
        /// One row of lavaan's parameter table.
        public struct Parameter: Codable, Sendable, Equatable {
            /// Left-hand side variable.
            public var lhs: String
            /// `=~`, `~`, `~~` or `~1`.
            public var op: String
            /// Right-hand side variable ("" for an intercept).
            public var rhs: String
            /// The label written in the syntax (`a*x`), if any; a defined parameter's name (op `:=`, rhs its
            /// expression, as lavaan's parameterEstimates: se, z, pvalue and ci from the delta method).
            public var label: String?
            /// Estimated (true) or fixed, e.g. a first loading or a fixed.x moment (false).
            public var free: Bool
            /// The estimate, in the variables' units.
            public var est: Double
            /// From the expected information (lavaan's default); absent for fixed parameters.
            public var se: Double?
            public var z: Double?
            public var pvalue: Double?
            public var ci_lower: Double?
            public var ci_upper: Double?
            /// lavaan's std.all.
            public var std_all: Double?
        }

        /// lavaan's `fitMeasures()` under their lavaan names, with "." written "_".
        public struct Fit: Codable, Sendable, Equatable {
            public var npar: Int
            public var fmin: Double?
            public var chisq: Double?
            public var df: Int
            public var pvalue: Double?
            public var baseline_chisq: Double?
            public var baseline_df: Int
            public var baseline_pvalue: Double?
            public var cfi: Double?
            public var tli: Double?
            public var rmsea: Double?
            public var rmsea_ci_lower: Double?
            public var rmsea_ci_upper: Double?
            public var rmsea_pvalue: Double?
            public var srmr: Double?
            public var logl: Double?
            public var unrestricted_logl: Double?
            public var aic: Double?
            public var bic: Double?
            public var ntotal: Int
        }

        /// Direct, indirect and total effect of `from` on `to`, from (I − B)⁻¹.
        public struct Effect: Codable, Sendable, Equatable {
            public var from: String
            public var to: String
            public var direct: Double
            public var indirect: Double
            public var total: Double
        }

        public var syntax: String
        /// `model.std_lv`: every latent variance fixed at 1 instead of the first loading.
        public var std_lv: Bool
        public var observed: [String]
        public var latent: [String]
        public var parameters: [Parameter]
        /// Absent when S is not positive definite.
        public var fit: Fit?
        public var effects: [Effect]
        /// Spectral radius of B; feedback loops are stable when < 1.
        public var spectral_radius: Double?
        public var stable: Bool
        public var iterations: Int
        public var converged: Bool
        public var warnings: [String]

        init(_ r: SEMResult, syntax: String, stdLV: Bool = false) {
            self.syntax = syntax
            std_lv = stdLV
            observed = r.observed
            latent = r.latent
            // A `:=` row that is not finite has no estimate to report (a warning says so).
            parameters = r.parameters.filter(\.estimate.isFinite).map {
                Parameter(
                    lhs: $0.lhs, op: $0.op, rhs: $0.rhs, label: $0.label.isEmpty ? nil : $0.label, free: $0.free,
                    est: $0.estimate,
                    se: finite($0.standardError), z: finite($0.z), pvalue: finite($0.pValue),
                    ci_lower: finite($0.ciLower),
                    ci_upper: finite($0.ciUpper), std_all: finite($0.standardizedAll))
            }
            fit = r.fit.map { f in
                Fit(
                    npar: f.parameterCount, fmin: finite(f.fmin), chisq: finite(f.chiSquare), df: f.degreesOfFreedom,
                    pvalue: finite(f.pValue),
                    baseline_chisq: finite(f.baselineChiSquare), baseline_df: f.baselineDegreesOfFreedom,
                    baseline_pvalue: finite(f.baselinePValue),
                    cfi: finite(f.cfi), tli: finite(f.tli), rmsea: finite(f.rmsea),
                    rmsea_ci_lower: finite(f.rmseaCILower),
                    rmsea_ci_upper: finite(f.rmseaCIUpper), rmsea_pvalue: finite(f.rmseaPValue), srmr: finite(f.srmr),
                    logl: finite(f.logLikelihood), unrestricted_logl: finite(f.unrestrictedLogLikelihood),
                    aic: finite(f.aic), bic: finite(f.bic),
                    ntotal: Int(f.observationCount))
            }
            effects = r.effects.map {
                Effect(from: $0.from, to: $0.to, direct: $0.direct, indirect: $0.indirect, total: $0.total)
            }
            spectral_radius = finite(r.spectralRadius)
            stable = r.isStable
            iterations = r.iterations
            converged = r.converged
            warnings = r.warnings.map(\.description)
        }
    }

    /// A `bayes_linear` job's posterior.
    public struct BayesSection: Codable, Sendable, Equatable {
        /// The marginal posterior of one coefficient (Student t).
        public struct Coefficient: Codable, Sendable, Equatable {
            public var name: String
            /// Posterior mean.
            public var mean: Double
            /// Posterior sd; absent when the t has ≤ 2 degrees of freedom.
            public var sd: Double?
            /// Equal-tailed credible interval at `credible_level`.
            public var ci_low: Double
            public var ci_high: Double
        }
        /// "weak" or "flat".
        public var prior: String
        /// m₀ per coefficient; absent for the flat prior.
        public var prior_mean: [Double]?
        /// λ, a₀, b₀; absent for the flat prior.
        public var prior_precision: Double?
        public var prior_shape: Double?
        public var prior_scale: Double?
        public var credible_level: Double
        public var coefficients: [Coefficient]
        /// The posterior of σ² (Inv-Gamma(aₙ, bₙ)), units of the outcome squared.
        public var sigma2_mean: Double?
        public var sigma2_sd: Double?
        public var sigma2_mode: Double?
        public var sigma2_ci_low: Double?
        public var sigma2_ci_high: Double?
        /// aₙ, bₙ, and ν = 2aₙ, the t marginals' degrees of freedom.
        public var posterior_shape: Double
        public var posterior_scale: Double
        public var degrees_of_freedom: Double
        /// log p(y); absent for the flat (improper) prior.
        public var log_marginal_likelihood: Double?
        /// E.g. a singular design under a proper prior.
        public var warnings: [String] = []

        init(_ r: BayesianLinearResults, prior: JobSpec.BayesPrior) {
            let flat = prior.kind == .flat
            self.prior = prior.kind.rawValue
            prior_mean = flat ? nil : r.prior.mean
            prior_precision = flat ? nil : r.prior.precision.first
            prior_shape = flat ? nil : r.prior.shape
            prior_scale = flat ? nil : r.prior.scale
            credible_level = r.credibleLevel
            coefficients = r.coefficients.map {
                Coefficient(name: $0.name, mean: $0.mean, sd: finite($0.sd), ci_low: $0.lower, ci_high: $0.upper)
            }
            sigma2_mean = finite(r.variance.mean)
            sigma2_sd = finite(r.variance.sd)
            sigma2_mode = finite(r.variance.mode)
            sigma2_ci_low = finite(r.variance.lower)
            sigma2_ci_high = finite(r.variance.upper)
            posterior_shape = r.posteriorShape
            posterior_scale = r.posteriorScale
            degrees_of_freedom = r.degreesOfFreedom
            log_marginal_likelihood = finite(r.logMarginalLikelihood)
        }
    }

    /// The SEM section as text: parameters as lavaan's summary prints them, fit measures, effects.
    func semTable(_ s: SEMSection) -> String {
        var out = ""
        func f(_ x: Double?, _ w: Int = 10) -> String { lpad(x.map { fixed($0, digits: 4) } ?? "", w) }
        let width = max(16, s.parameters.map { printable("\($0.lhs) \($0.op) \($0.rhs)").count }.max() ?? 0) + 2
        out +=
            pad("", width)
            + ["est", "se", "z", "P(>|z|)", "ci.lower", "ci.upper", "std.all"].map { lpad($0, 10) }.joined() + "\n"
        for p in s.parameters {
            out +=
                pad("\(p.lhs) \(p.op) \(p.rhs)".trimmingCharacters(in: .whitespaces), width) + f(p.est) + f(p.se)
                + f(p.z) + f(p.pvalue) + f(p.ci_lower) + f(p.ci_upper) + f(p.std_all) + "\n"
        }
        if let fit = s.fit {
            out +=
                "chisq \(f(fit.chisq, 0))  df \(fit.df)  p \(f(fit.pvalue, 0))  CFI \(f(fit.cfi, 0))  TLI \(f(fit.tli, 0))  RMSEA \(f(fit.rmsea, 0)) [\(f(fit.rmsea_ci_lower, 0)), \(f(fit.rmsea_ci_upper, 0))]  SRMR \(f(fit.srmr, 0))\n"
            out +=
                "logl \(f(fit.logl, 0))  AIC \(f(fit.aic, 0))  BIC \(f(fit.bic, 0))  n \(fit.ntotal)  "
                + "iterations \(s.iterations)  \(s.converged ? "converged" : "did NOT converge: not a solution")\n"
        }
        if !s.effects.isEmpty {
            out +=
                "effects (from (I - B)^-1)"
                + (s.spectral_radius.map {
                    String(format: "; spectral radius of B %.4f (%@)", $0, s.stable ? "stable" : "NOT stable")
                } ?? "") + "\n"
            for e in s.effects {
                out +=
                    "  \(e.from) -> \(e.to): direct \(f(e.direct, 0))  indirect \(f(e.indirect, 0))  total \(f(e.total, 0))\n"
            }
        }
        for w in s.warnings { out += "warning: \(printable(w))\n" }
        return out
    }

    /// The Bayes section as text.
    func bayesTable(_ b: BayesSection) -> String {
        func f(_ x: Double?) -> String { lpad(x.map { fixed($0, digits: 4) } ?? "-", 12) }
        let width = max(12, b.coefficients.map { printable($0.name).count }.max() ?? 0)
        let level = String(format: "%.10g", b.credible_level * 100)
        var out =
            "prior \(b.prior); \(level)% credible intervals; posterior t with \(String(format: "%.1f", b.degrees_of_freedom)) df\n"
        out += pad("", width) + ["mean", "sd", "ci_low", "ci_high"].map { lpad($0, 12) }.joined() + "\n"
        for c in b.coefficients { out += pad(c.name, width) + f(c.mean) + f(c.sd) + f(c.ci_low) + f(c.ci_high) + "\n" }
        out +=
            pad("sigma2", width) + f(b.sigma2_mean) + f(b.sigma2_sd) + f(b.sigma2_ci_low) + f(b.sigma2_ci_high) + "\n"
        if let l = b.log_marginal_likelihood { out += "log marginal likelihood \(String(format: "%.4f", l))\n" }
        for w in b.warnings { out += "warning: \(printable(w))\n" }
        return out
    }
}
