import Foundation
import Logging
import Statistics
import Tabular

/// The coordinator's side of a `logit` job: Newton rounds (`NewtonRound`, `ShardExecutor.iterate`) for the full
/// fit and the CV fits, separation checks, and the coefficient table.
extension FitDriver {
    struct NewtonState {
        var beta: [Double]
        var previous: Double?
        var iterations = 0
        var converged = false
        var last: LogitStatistic?
    }

    func fitLogit(total: MomentMatrix, folds: [MomentMatrix], spec: DesignMatrixSpec, executor: ShardExecutor) throws
        -> (FitReport.ModelResult, FitReport.CrossValidation?, RewardModel)
    {
        let names = spec.columnNames
        let p = names.count
        let centring: DesignCentring
        do {
            try LogisticModel.checkSeparation(total, design: spec)
            centring = try LinearModel.solve(total, names: names).centring
        } catch let e as StatisticsError { throw modelError(e) }
        // Newton runs in centred coordinates (γ, β = Tγ; `DesignCentring`): the same iterates, without the
        // ill-conditioning of predictors at an offset.
        // Fit −1 is the fit on all rows, fit k the fit without fold k; they share rounds, each stops by its own rule.
        let fitIDs = [-1] + Array(0..<job.folds)
        var states = fitIDs.map { _ in NewtonState(beta: [Double](repeating: 0, count: p)) }
        let centre = DesignCentre(high: centring.centre, low: centring.centreLow)
        try executor.iterate(
            &states, job: prepared,
            round: { active in
                NewtonRound(fits: active.map { NewtonFit(fit: fitIDs[$0.index], beta: $0.state.beta) }, centre: centre)
            },
            step: { index, s, stat in
                s.last = stat
                if let prev = s.previous, LogisticModel.converged(previous: prev, current: stat.logLikelihood) {
                    s.converged = true
                    return true
                }
                if s.iterations >= LogisticModel.maximumIterations { return true }
                do {
                    s.beta = try LogisticModel.step(beta: s.beta, statistic: stat, names: names).beta
                } catch let e as StatisticsError {
                    if fitIDs[index] >= 0 { return true }  // a CV fit that cannot go on: reported as not converged
                    let raw = centring.raw(s.beta)
                    let suspect = separationSuspect(beta: raw, total: total, spec: spec, last: stat)
                    throw modelError(suspect ?? e)
                }
                s.previous = stat.logLikelihood
                s.iterations += 1
                return false
            },
            afterRound: { round, active in
                logger.debug("newton round", metadata: ["round": "\(round)", "active": "\(active)"])
            })
        let full = states[0]
        let stat = full.last!
        let n = stat.count
        let beta = centring.raw(full.beta)
        let centredCov: [Double]
        do {
            centredCov = try LinearAlgebra.solveSPD(stat.information, [Double](repeating: 0, count: p), n: p).inverse
        } catch {
            let suspect = separationSuspect(beta: beta, total: total, spec: spec, last: stat)
            throw modelError(suspect ?? .singularDesign(columns: names))
        }
        let results = LogitResults(
            names: names, estimates: beta, count: n, logLikelihood: stat.logLikelihood,
            covariance: centring.rawCovariance(centredCov),
            hc0: centring.rawCovariance(LinearAlgebra.sandwich(bread: centredCov, meat: stat.meat, n: p)),
            iterations: full.iterations, converged: full.converged)
        let coefficients = FitReport.Coefficient.table(results)
        // A coefficient that ran off to a huge value with a huge SE is separation by a numeric term (or a combination).
        // Terms before the intercept: with separation on x at an offset, the intercept (≈ −β x̄) diverges too.
        let candidates = (0..<p).filter { !total.isConstant($0) } + (0..<p).filter { total.isConstant($0) }
        if let j = candidates.first(where: {
            Self.diverges(beta[$0], standardError: coefficients[$0].std_error, spread: Self.spread(total, $0))
        }) {
            throw modelError(
                Self.divergence(
                    term: names[j], complete: stat.minimumMargin > 0,
                    numeric: Self.isNumeric(spec, j)))
        }
        var warnings: [String] = []
        if !full.converged {
            warnings.append("Newton-Raphson did not converge in \(LogisticModel.maximumIterations) iterations")
        }
        let model = FitReport.ModelResult(
            kind: job.kind.rawValue, formula: job.formula, n: Int(n), df_resid: Int(results.dfResid), statistic: "z",
            coefficients: coefficients, log_likelihood: results.logLikelihood, iterations: results.iterations,
            converged: results.converged, sigma2_mle: nil, sigma2: nil, rss: nil, warnings: warnings)
        var reward = RewardModel(link: .logistic, full: beta, folds: [])
        guard job.folds > 0 else { return (model, nil, reward) }
        var sse = 0.0
        var count = 0.0
        var foldMSE: [Double?] = []
        var rows: [Int] = []
        var convergedFolds: [Bool] = []
        for k in 0..<job.folds {
            let s = states[k + 1]
            let last = s.last!
            sse += last.testSquaredError
            count += last.testCount
            foldMSE.append(last.testCount > 0 ? last.testSquaredError / last.testCount : nil)
            rows.append(Int(last.testCount))
            let diverging = Self.divergingCoefficient(
                beta: s.beta, information: last.information, centring: centring,
                total: total)
            convergedFolds.append(s.converged && diverging == nil)
            reward.folds.append(convergedFolds.last! ? centring.raw(s.beta) : [])
        }
        if convergedFolds.contains(false) {
            let bad = convergedFolds.enumerated().filter { !$0.element }.map { "\($0.offset)" }
            warnings.append(
                "CV fold\(bad.count == 1 ? "" : "s") \(bad.joined(separator: ", ")) (0-based, as in cv.fold_mse) did not converge: the training rows without that fold are separated (a level or term has only one outcome there); the fold's MSE is at the last Newton iterate"
            )
        }
        var m = model
        m.warnings = warnings
        let cv = FitReport.CrossValidation(
            folds: job.folds, fold_by: job.foldBy.rawValue, mse: sse / count, fold_mse: foldMSE,
            fold_rows: rows, fold_converged: convergedFolds)
        return (m, cv, reward)
    }

    /// Whether a logit coefficient has run off to infinity: |β| · spread > 10 (a change of more than 10 in the log-odds
    /// across the column's range; `spread`) with |β / se| < 0.01, the sign of separation that a log-likelihood rule
    /// alone calls converged. Scale-free: rescaling or shifting a column does not change it.
    static func diverges(_ beta: Double, standardError: Double, spread: Double) -> Bool {
        abs(beta) * spread > 10 && abs(beta) / standardError < 0.01
    }

    /// The range max − min of design column j (for the constant column, its absolute value): the scale on which
    /// `diverges` judges a coefficient.
    static func spread(_ total: MomentMatrix, _ j: Int) -> Double {
        total.isConstant(j) ? abs(total.minimum[j]) : total.maximum[j] - total.minimum[j]
    }

    /// Whether design column j is a numeric term (not an indicator of a categorical level).
    static func isNumeric(_ spec: DesignMatrixSpec, _ j: Int) -> Bool {
        spec.columns[j].involvesNumericFactor
    }

    /// The index of a diverging coefficient (`diverges`) given γ and the information matrix in centred
    /// coordinates, or nil.
    static func divergingCoefficient(
        beta gamma: [Double], information: [Double], centring: DesignCentring,
        total: MomentMatrix
    ) -> Int? {
        let p = gamma.count
        let beta = centring.raw(gamma)
        guard let inverse = try? LinearAlgebra.solveSPD(information, [Double](repeating: 0, count: p), n: p).inverse
        else {
            return beta.indices.max { abs(beta[$0]) * spread(total, $0) < abs(beta[$1]) * spread(total, $1) }
        }
        let cov = centring.rawCovariance(inverse)
        return (0..<p).first {
            diverges(beta[$0], standardError: cov[$0 * p + $0].squareRoot(), spread: spread(total, $0))
        }
    }

    /// A separation error when a coefficient has run off (|β| · spread > 10) while Newton could not go on; complete
    /// when the last iterate's linear predictor already splits the outcomes strictly (`LogitStatistic.minimumMargin`).
    func separationSuspect(beta: [Double], total: MomentMatrix, spec: DesignMatrixSpec, last: LogitStatistic?)
        -> StatisticsError?
    {
        let size = { (j: Int) in abs(beta[j]) * Self.spread(total, j) }
        let terms = beta.indices.filter { !total.isConstant($0) && size($0) > 10 }
        guard let j = terms.max(by: { size($0) < size($1) }) ?? beta.indices.first(where: { size($0) > 10 }) else {
            return nil
        }
        return Self.divergence(
            term: spec.columnNames[j], complete: (last?.minimumMargin ?? 0) > 0,
            numeric: Self.isNumeric(spec, j))
    }

    /// Separation found by a diverging coefficient. The message carries no iterate's numbers: they depend on where
    /// Newton stopped, the decision does not.
    static func divergence(term: String, complete: Bool, numeric: Bool) -> StatisticsError {
        let detail =
            complete
            ? "its coefficient diverges: the outcomes are split by the linear predictor, so every row is predicted "
                + "perfectly"
            : "its coefficient diverges: the outcome is predicted perfectly except in rows tied at the boundary"
        return .separation(term: term, detail: detail, complete: complete, numeric: numeric)
    }
}
