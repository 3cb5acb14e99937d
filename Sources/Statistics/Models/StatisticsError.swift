/// Why a model cannot be fitted to the data it was given. These are input errors: the data and the model
/// do not fit together, and the message says which terms are at fault.
public enum StatisticsError: Error, Equatable, CustomStringConvertible {
    /// The design matrix has no full column rank; `columns` are the design columns involved in a linear dependency.
    case singularDesign(columns: [String])
    /// The logit maximum-likelihood estimate does not exist: `term`'s rows all have the same outcome.
    case separation(term: String, detail: String)
    /// No rows (or fewer rows than coefficients) reached the fit.
    case tooFewRows(rows: Int, coefficients: Int)

    public var description: String {
        switch self {
        case .singularDesign(let columns):
            if columns.count == 1 { return "singular design: column \(columns[0]) is zero in every row (or a copy of others); drop it" }
            return "singular design: the columns \(columns.joined(separator: ", ")) are collinear; drop one of them"
        case .separation(let term, let detail):
            return "quasi-complete separation in the logit: \(term): \(detail); the maximum-likelihood estimate does not exist (pool or drop that level)"
        case .tooFewRows(let rows, let coefficients):
            return "\(rows) rows are too few for \(coefficients) coefficients"
        }
    }
}
