import CSV
import Foundation

/// One data row of a CSV file with where it came from.
public struct CSVRecord: Sendable {
    /// 0-based index among the data rows (the header is not a data row).
    public let index: Int
    /// 1-based line where the row starts (the header is line 1).
    public let line: Int
    /// Field texts, one per header column.
    public let fields: [String]
}

/// Streams the rows of a CSV file with a header line, tracking line numbers for error messages.
///
/// Parsing is yaslab/CSV.swift's (RFC 4180 quoting, LF or CRLF). This type adds what Causa needs around it:
/// typed errors with file, line and column; a header check; and rows numbered both by data index and by line
/// (a quoted field with newlines moves the line count on by as many lines).
///
/// - Note: Not thread-safe; one reader per thread.
/// - Complexity: O(bytes) for a full pass; memory O(file size): the file is read and UTF-8-checked whole.
public final class CSVTable {
    /// The path as given (used in error messages).
    public let path: String
    /// Header names, in file order.
    public let header: [String]
    private let reader: CSVReader
    private var nextIndex = 0
    private var nextLine = 2

    /// Opens a CSV file and reads its header.
    /// - Parameter path: file path; shown as given in errors.
    /// - Throws: `TabularError` `.unreadable` (missing or unreadable file), `.empty` (no header line),
    ///   `.malformed` (the header is not valid CSV or the file is not UTF-8).
    public init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw TabularError(.unreadable, "no such file", file: path)
        }
        guard let bytes = FileManager.default.contents(atPath: path) else { throw TabularError(.unreadable, "cannot read the file", file: path) }
        if bytes.isEmpty { throw TabularError(.empty, "the file is empty (expected a header line)", file: path, line: 1) }
        guard let text = String(validatingUTF8Data: bytes) else {
            let line = Self.firstInvalidUTF8Line(bytes)
            throw TabularError(.malformed, "the file is not valid UTF-8", file: path, line: line)
        }
        do {
            // The whole file is decoded once; CSV.swift's stream reader misreports end-of-file on Linux.
            reader = try CSVReader(string: text, hasHeaderRow: true)
        } catch {
            throw TabularError(.malformed, "cannot read the header: \(error)", file: path, line: 1)
        }
        guard let header = reader.headerRow, !(header.count == 1 && header[0].trimmingCharacters(in: .whitespaces).isEmpty) else {
            throw TabularError(.empty, "the file has no header line", file: path, line: 1)
        }
        self.header = header
        nextLine = 2 + header.reduce(0) { $0 + $1.filter { $0 == "\n" || $0 == "\r\n" }.count }
    }

    /// The 0-based position of a header column.
    /// - Throws: `TabularError` `.missingColumn` naming the column and the header line.
    public func columnIndex(_ name: String, wantedBy: String = "") throws -> Int {
        if let i = header.firstIndex(of: name) { return i }
        let close = header.filter { $0.lowercased() == name.lowercased() }
        var hint = close.isEmpty ? "" : " (did you mean '\(close[0])'?)"
        if close.isEmpty, header.count <= 20 { hint = " (the header has: \(header.map { "'\($0)'" }.joined(separator: ", ")))" }
        throw TabularError(.missingColumn, "no column '\(name)' in the header\(wantedBy.isEmpty ? "" : ", needed by \(wantedBy)")\(hint)",
                           file: path, line: 1)
    }

    /// The next data row, or nil at the end of the file. Blank lines are skipped.
    /// - Throws: `TabularError` `.fieldCount` when a row's field count differs from the header's,
    ///   `.malformed` when the parser fails.
    public func next() throws -> CSVRecord? {
        while true {
            guard let fields = reader.next() else {
                if let error = reader.error { throw TabularError(.malformed, "\(error)", file: path, line: nextLine) }
                return nil
            }
            let line = nextLine
            nextLine += 1 + fields.reduce(0) { $0 + $1.filter { $0 == "\n" || $0 == "\r\n" }.count }
            if fields.count == 1 && fields[0].isEmpty { continue }
            guard fields.count == header.count else {
                throw TabularError(.fieldCount, "\(fields.count) fields, but the header has \(header.count)", file: path, line: line)
            }
            defer { nextIndex += 1 }
            return CSVRecord(index: nextIndex, line: line, fields: fields)
        }
    }
}

extension CSVTable {
    /// 1-based line of the first byte sequence that is not UTF-8.
    static func firstInvalidUTF8Line(_ data: Data) -> Int {
        var line = 1, start = 0
        let bytes = [UInt8](data)
        for (i, b) in bytes.enumerated() where b == 10 {
            if String(bytes: bytes[start..<i], encoding: .utf8) == nil { return line }
            line += 1
            start = i + 1
        }
        return line
    }
}

extension String {
    /// Decodes UTF-8, or nil when the bytes are not valid UTF-8 (no replacement characters).
    init?(validatingUTF8Data data: Data) {
        guard let s = String(data: data, encoding: .utf8) else { return nil }
        self = s
    }
}
