import Tabular

/// A problem with what the user gave us: the job file, the data, or the model against the data.
/// The CLI maps it to exit code 2; `description` starts with `file:line:column:` where there is a place.
public struct InputError: Error, Equatable, CustomStringConvertible {
    /// File the problem is in (job file or data file).
    public let file: String
    /// 1-based line, when known.
    public let line: Int?
    /// 1-based column, when known.
    public let column: Int?
    /// One sentence saying what is wrong and, where possible, what to do.
    public let message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// Wraps a data-file error.
    public init(_ error: TabularError) {
        self.init(file: error.file, line: error.line, column: error.column, error.message)
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += ":\(column)" }
        return "\(place): \(printable(message))"  // one line, even when a name in the message holds a newline
    }
}

/// A failure that is not the user's input: a worker died, a timeout, a protocol fault. Exit code 1.
public struct RunError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
