import Foundation
import Logging
import Statistics
import Tabular

/// The coordinator's side of a `sem` job: the SEM fitted from the merged moments (no further round).
extension FitDriver {
    /// Fits the SEM from the merged moments of its observed variables (design [observed[1...], observed[0]]).
    func fitSEM(total: MomentMatrix) throws -> (FitReport.ModelResult, FitReport.SEMSection) {
        let v = prepared.semVariables
        let names = Array(v.dropFirst()) + [v[0]]
        if let j = names.indices.first(where: { total.isConstant($0) }) {
            throw job.syntaxError(
                line: nil, column: nil,
                "the observed variable '\(names[j])' is \(Self.text(total.minimum[j])) in all "
                    + "\(Int(total.count)) rows: its variance is 0, so the model-implied covariance "
                    + "cannot fit it; drop it from the model")
        }
        let result: SEMResult
        do {
            result = try SEM.fit(
                model: prepared.semModel!, moments: total, names: names,
                options: SEMOptions(stdLV: job.stdLV))
        } catch let e as SEMError {
            throw PreparedJob.semInputError(e, job: job)
        }
        let section = FitReport.SEMSection(result, syntax: job.syntax ?? "", stdLV: job.stdLV)
        let model = FitReport.ModelResult(
            kind: job.kind.rawValue, formula: job.syntax ?? "", n: Int(total.count),
            df_resid: result.fit?.degreesOfFreedom ?? 0,
            statistic: "z", coefficients: [], log_likelihood: finite(result.fit?.logLikelihood) ?? 0,
            iterations: result.iterations, converged: result.converged, sigma2_mle: nil, sigma2: nil, rss: nil,
            warnings: section.warnings)
        return (model, section)
    }
}
