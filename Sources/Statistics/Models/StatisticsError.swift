/// Why a model cannot be fitted to the data it was given. These are input errors: the data and the model
/// do not fit together, and the message says which terms are at fault.
public enum StatisticsError: Error, Equatable, CustomStringConvertible {
    /// The design matrix has no full column rank; `columns` are the design columns involved in a linear dependency.
    case singularDesign(columns: [String])
    /// The logit maximum-likelihood estimate does not exist: `term`'s rows all have the same outcome. `complete`: the
    /// outcomes are split strictly (every row is predicted perfectly), else quasi-complete (some rows are not);
    /// `numeric`: the term is a numeric column (not a level of a categorical one), which decides the advice.
    case separation(term: String, detail: String, complete: Bool, numeric: Bool)
    /// No rows (or fewer rows than coefficients) reached the fit.
    case tooFewRows(rows: Int, coefficients: Int)
    /// A logit outcome that takes one value in every row.
    case constantOutcome(value: Int, rows: Int)
    /// The formula has no columns at all (e.g. `y ~ 0`).
    case emptyDesign
    /// Sums of squares overflow Float64 in these columns (values around √(1.8e308 / n) or larger).
    case overflow(columns: [String])
    /// The prior's values (e.g. a precision of 1e308) overflow Float64 in the conjugate update.
    case priorOverflow

    public var description: String {
        switch self {
        case .singularDesign(let columns):
            if columns.count == 1 {
                return "singular design: column \(columns[0]) is zero in every row (or a copy of others); drop it"
            }
            return "singular design: the columns \(columns.joined(separator: ", ")) are collinear; drop one of them"
        case .separation(let term, let detail, let complete, let numeric):
            let advice =
                numeric
                ? "drop the term, or use it coarsened into a few levels, or fit a penalised (Firth) logit"
                : "pool that level with another, or drop it"
            return "\(complete ? "complete" : "quasi-complete") separation in the logit: \(term): \(detail); "
                + "the maximum-likelihood estimate does not exist (\(advice))"
        case .tooFewRows(let rows, let coefficients):
            return
                "\(rows) \(rows == 1 ? "row is" : "rows are") too few for \(coefficients) \(coefficients == 1 ? "coefficient" : "coefficients")"
        case .constantOutcome(let value, let rows):
            return "the outcome is \(value) in all \(rows) rows; a logit needs rows with both outcomes"
        case .emptyDesign:
            return "the formula has no terms (not even an intercept)"
        case .overflow(let columns):
            return "sums of squares overflow in \(columns.joined(separator: ", ")): values are too large (their sums "
                + "of squares exceed Float64's 1.8e308); rescale them"
        case .priorOverflow:
            return
                "the posterior is not finite: the prior's values overflow with this data; give values nearer the data's scale"
        }
    }
}
