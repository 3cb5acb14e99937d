/// An input-data error with the place it was found: file, line (1-based, counting the header as line 1) and
/// column (1-based field number, with the header's name when known).
///
/// `description` reads `file:line:column: message`, the form compilers use, so editors can jump to it.
public struct TabularError: Error, Equatable, CustomStringConvertible {
    /// What kind of problem this is; stable for tests and exit-code decisions.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }
        /// The file does not exist or cannot be read.
        public static let unreadable = Code(name: "unreadable")
        /// The file has no bytes, or no header line.
        public static let empty = Code(name: "empty")
        /// The file has a header but no data rows.
        public static let noRows = Code(name: "noRows")
        /// A column named by the job or formula is not in the header.
        public static let missingColumn = Code(name: "missingColumn")
        /// The header names a column the job reads more than once.
        public static let duplicateColumn = Code(name: "duplicateColumn")
        /// A row has more or fewer fields than the header.
        public static let fieldCount = Code(name: "fieldCount")
        /// A value is not what its use requires (e.g. text in a numeric term).
        public static let badValue = Code(name: "badValue")
        /// A value is missing (empty, NA, NaN) where a value is required.
        public static let missingValue = Code(name: "missingValue")
        /// The text is not valid CSV (e.g. an unterminated quote) or not UTF-8.
        public static let malformed = Code(name: "malformed")
    }

    public let code: Code
    public let message: String
    public let file: String
    /// 1-based line, or nil for whole-file problems.
    public let line: Int?
    /// 1-based field number, or nil.
    public let column: Int?

    public init(_ code: Code, _ message: String, file: String, line: Int? = nil, column: Int? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += ":\(column)" }
        return "\(place): \(message)"
    }
}
