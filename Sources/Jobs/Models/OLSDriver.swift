import Foundation
import Logging
import Statistics
import Tabular

/// The coordinator's side of an `ols` job: β from the merged moments, then the residuals round (exact SSE, HC
/// meat); the moment-based K-fold CV it shares with `bayes_linear`.
extension FitDriver {
    func fitOLS(total: MomentMatrix, folds: [MomentMatrix], names: [String], executor: ShardExecutor) throws
        -> (FitReport.ModelResult, FitReport.CrossValidation?, RewardModel)
    {
        let p = names.count
        let solution: LinearModel.Solution
        do { solution = try LinearModel.solve(total, names: names) } catch let e as StatisticsError {
            throw modelError(e)
        }
        let n = total.count
        guard n > Double(p) else { throw modelError(.tooFewRows(rows: Int(n), coefficients: p)) }
        // Round 3: residuals at β̂ (exact SSE and the HC meat).
        // In centred coordinates (γ̂ and the centre), so residuals at an offset keep their accuracy.
        let centre = DesignCentre(high: solution.centring.centre, low: solution.centring.centreLow)
        let residual = try executor.merge(
            ResidualsRound(beta: solution.centredEstimates, centre: centre), job: prepared)
        let rss = residual.sumOfSquares
        let dy = p + 1
        let tss = solution.centring.constantColumn == nil ? total.crossProducts[p * dy + p] : total.comoment[p * dy + p]
        guard rss > LinearModel.exactFitTolerance * tss else {
            throw InputError(
                file: job.jobFile, line: job.formulaPosition?.line, column: job.formulaPosition?.column,
                "model.formula: the model fits the outcome exactly (residual sum of squares "
                    + "\(String(format: "%.3g", rss)), at most (1000 ε)² times the outcome's "
                    + "\(solution.centring.constantColumn == nil ? "" : "centred ")sum of squares "
                    + "\(String(format: "%.6g", tss))), so standard errors and tests are undefined")
        }
        let centredHC0 = LinearAlgebra.sandwich(bread: solution.centredInverse, meat: residual.meat, n: p)
        let results = LinearModelResults(
            names: names, estimates: solution.estimates, count: n, residualSumOfSquares: rss,
            xtxInverse: solution.xtxInverse, hc0: solution.centring.rawCovariance(centredHC0))
        let model = FitReport.ModelResult(
            kind: job.kind.rawValue, formula: job.formula, n: Int(n), df_resid: Int(results.dfResid), statistic: "t",
            coefficients: FitReport.Coefficient.table(results), log_likelihood: results.logLikelihood, iterations: 0,
            converged: true, sigma2_mle: results.sigma2MLE, sigma2: results.sigma2, rss: rss, warnings: [])
        var reward = RewardModel(link: .identity, full: solution.estimates, folds: [])
        guard job.folds > 0 else { return (model, nil, reward) }
        let (cv, betas) = try linearCrossValidation(folds: folds, dimension: p + 1) {
            try LinearModel.solve($0, names: names).estimates
        }
        reward.folds = betas
        return (model, cv, reward)
    }

    /// K-fold CV of a linear predictor from per-fold moments: for each fold k, β fitted on the merge of the other
    /// folds (`fit`), and the held-out SSE of fold k from its moments (`LinearModel.sumOfSquaredResiduals`).
    /// - Returns: the CV section and β of each fold's training fit.
    /// - Throws: `InputError` when a training set cannot be fitted (e.g. singular without fold k).
    func linearCrossValidation(folds: [MomentMatrix], dimension: Int, fit: (MomentMatrix) throws -> [Double]) throws
        -> (FitReport.CrossValidation, [[Double]])
    {
        var betas: [[Double]] = []
        var sse = [Double]()
        var rows = [Int]()
        var foldMSE = [Double?]()
        for k in 0..<job.folds {
            let train = MomentMatrix.merged(
                folds.enumerated().filter { $0.offset != k }.map(\.element), into: MomentMatrix(dimension: dimension))
            let beta: [Double]
            do { beta = try fit(train) } catch let e as StatisticsError {
                throw modelError(e, context: "without CV fold \(k): ")
            }
            betas.append(beta)
            let e = LinearModel.sumOfSquaredResiduals(folds[k], estimates: beta)
            sse.append(e)
            rows.append(Int(folds[k].count))
            foldMSE.append(folds[k].count > 0 ? e / folds[k].count : nil)
        }
        let cv = FitReport.CrossValidation(
            folds: job.folds, fold_by: job.foldBy.rawValue, mse: sse.reduce(0, +) / Double(rows.reduce(0, +)),
            fold_mse: foldMSE, fold_rows: rows, fold_converged: nil)
        return (cv, betas)
    }
}
