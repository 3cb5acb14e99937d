/// A formula that cannot be parsed or built into a design matrix.
///
/// `offset` is the 1-based character position in the formula text, where there is one, so callers can point
/// at `file:line:column` of the job file.
public struct FormulaError: Error, Equatable, CustomStringConvertible {
    /// What went wrong, in one sentence.
    public let message: String
    /// 1-based character position in the formula text, or nil when the problem is not at one place.
    public let offset: Int?

    /// Creates an error.
    public init(_ message: String, at offset: Int? = nil) {
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let offset { return "formula, character \(offset): \(message)" }
        return "formula: \(message)"
    }
}
