/// Why a structural equation model cannot be fitted: the syntax, the variables, the identification or the data.
///
/// Positions are 1-based line and column (in Unicode scalars) of the model text.
public enum SEMError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The model text does not parse.
    case syntax(line: Int, column: Int, message: String)
    /// A name is neither a data column nor a latent variable (the left-hand side of an `=~`).
    case unknownVariable(name: String, line: Int, column: Int)
    /// A latent variable has the name of a data column.
    case latentIsObserved(name: String, line: Int, column: Int)
    /// The model has no statements.
    case emptyModel
    /// More free parameters than sample moments (t-rule): `free` > `moments`.
    case tooManyParameters(free: Int, moments: Int)
    /// One equation or latent variable is not identified; `message` names it, its position and what it lacks.
    case notIdentified(message: String)
    /// `names.count` differs from the moment matrix's dimension, or a name repeats.
    case namesMismatch(message: String)
    /// Fewer than two rows reached the fit.
    case tooFewObservations(count: Double)
    /// A loop of paths makes I − B singular (for every value of its free paths, or at the starting values); `message`
    /// names the loop, its paths and where the first is written ("line L, column C").
    case singularLoop(message: String)
    /// The model-implied covariance matrix is not positive definite at the starting values or cannot be made so.
    case impliedCovarianceNotPositiveDefinite(message: String)

    public var description: String {
        switch self {
        case .syntax(let line, let column, let message):
            return "\(line):\(column): \(message)"
        case .unknownVariable(let name, let line, let column):
            return
                "\(line):\(column): unknown variable '\(name)': it is not a data column and not a latent variable (define latent variables with =~)"
        case .latentIsObserved(let name, let line, let column):
            return "\(line):\(column): latent variable '\(name)' has the name of a data column; rename it"
        case .emptyModel:
            return "the model has no statements"
        case .tooManyParameters(let free, let moments):
            return
                "the model is not identified: it has \(free) free parameters but the data give only \(moments) sample moments (t-rule: free parameters ≤ moments); fix or drop \(free - moments) \(free - moments == 1 ? "parameter" : "parameters")"
        case .notIdentified(let message), .singularLoop(let message):
            return message
        case .namesMismatch(let message):
            return message
        case .tooFewObservations(let count):
            return "\(Int(count)) \(count == 1 ? "row" : "rows") are too few for a structural equation model"
        case .impliedCovarianceNotPositiveDefinite(let message):
            return message
        }
    }
}
