import Statistics

extension FitReport.Coefficient {
    /// The report's coefficient rows from a results object: estimates, classical standard errors, statistics,
    /// p-values and (1 − α) intervals from `results.table(.classical, alpha:)`, and the HC1 standard errors beside
    /// them.
    /// - Parameters:
    ///   - results: OLS (`LinearModelResults`, t tests) or logit (`LogitResults`, z tests) results, p coefficients.
    ///   - alpha: 1 − the interval's level; the report's intervals are 95%.
    /// - Returns: [p] rows in the design's column order.
    static func table(_ results: some RegressionResults, alpha: Double = 0.05) -> [FitReport.Coefficient] {
        let robust = results.standardErrors(.hc1)
        return results.table(.classical, alpha: alpha).enumerated().map { j, row in
            FitReport.Coefficient(
                name: row.name, estimate: row.estimate, std_error: row.standardError,
                robust_std_error: robust[j], statistic: row.statistic, p_value: row.pValue,
                ci_low: row.ciLow, ci_high: row.ciHigh)
        }
    }
}
