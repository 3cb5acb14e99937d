import Foundation
import Logging
import Statistics
import Tabular

/// The coordinator's side of a `bayes_linear` job: the posterior from the merged moments (no further round).
extension FitDriver {
    /// The job's prior for p design columns.
    /// - Throws: `InputError` at model.prior_mean when it has neither 1 nor p values.
    func prior(coefficients names: [String]) throws -> NormalInverseGammaPrior {
        let p = names.count
        let spec = job.prior
        if spec.kind == .flat { return .flat(coefficients: p) }
        var mean = [Double](repeating: 0, count: p)
        if let m = spec.mean {
            guard m.count == 1 || m.count == p else {
                throw job.modelError(
                    "prior_mean",
                    "has \(m.count) values, but the design has \(p) columns (\(names.joined(separator: ", "))); give one value or \(p)"
                )
            }
            mean = m.count == 1 ? [Double](repeating: m[0], count: p) : m
        }
        return .isotropic(
            mean: mean, precisionScale: spec.precision ?? NormalInverseGammaPrior.weakPrecisionScale,
            shape: spec.shape ?? NormalInverseGammaPrior.weakVarianceShapeScale,
            scale: spec.scale ?? NormalInverseGammaPrior.weakVarianceShapeScale)
    }

    /// The posterior from the merged moments; CV scores the posterior mean of the training folds on each held-out fold.
    func fitBayes(total: MomentMatrix, folds: [MomentMatrix], names: [String]) throws
        -> (FitReport.ModelResult, FitReport.CrossValidation?, FitReport.BayesSection, RewardModel)
    {
        let p = names.count
        let prior = try prior(coefficients: names)
        let result: BayesianLinearResults
        // Extreme prior values (1e308) overflow the update: refuse them at the prior's key rather than write NaN.
        func priorOverflow() -> InputError {
            let keys = ["prior_mean", "prior_precision", "prior_shape", "prior_scale"]
            let key = keys.first { job.modelPositions[$0] != nil } ?? "prior"
            return job.modelError(key, StatisticsError.priorOverflow.description)
        }
        do {
            result = try BayesianLinearModel.fit(
                total, names: names, prior: prior, credibleLevel: job.prior.credibleLevel)
        } catch let e as StatisticsError {
            throw e == .priorOverflow ? priorOverflow() : modelError(e)
        }
        var section = FitReport.BayesSection(result, prior: job.prior)
        let reported =
            section.coefficients.flatMap { [$0.mean, $0.ci_low, $0.ci_high] }
            + [section.posterior_shape, section.posterior_scale]
        guard result.posteriorMean.allSatisfy(\.isFinite), reported.allSatisfy(\.isFinite) else {
            throw priorOverflow()
        }
        if job.prior.kind != .flat {
            // The proper prior fits a singular design; say which directions only the prior determines.
            do { try LinearModel.checkRank(total, names: names) } catch StatisticsError.singularDesign(let columns) {
                section.warnings.append(
                    "the design is singular (\(columns.joined(separator: ", ")) \(columns.count == 1 ? "is zero or a copy of others" : "are collinear")): along that direction the posterior is the prior's, not the data's"
                )
            }
        }
        let rss = LinearModel.sumOfSquaredResiduals(total, estimates: result.posteriorMean)
        let model = FitReport.ModelResult(
            kind: job.kind.rawValue, formula: job.formula, n: Int(total.count), df_resid: Int(total.count) - p,
            statistic: "t", coefficients: [], log_likelihood: finite(result.logMarginalLikelihood) ?? 0,
            iterations: 0, converged: true, sigma2_mle: nil, sigma2: finite(result.variance.mean), rss: rss,
            warnings: section.warnings)
        var reward = RewardModel(link: .identity, full: result.posteriorMean, folds: [])
        guard job.folds > 0 else { return (model, nil, section, reward) }
        let (cv, betas) = try linearCrossValidation(folds: folds, dimension: p + 1) { train in
            try BayesianLinearModel.fit(train, names: names, prior: prior, credibleLevel: job.prior.credibleLevel)
                .posteriorMean
        }
        reward.folds = betas
        return (model, cv, section, reward)
    }
}
