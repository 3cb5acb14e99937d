import Foundation

/// One data row of a CSV file with where it came from.
public struct CSVRecord: Sendable {
    /// 0-based index among the data rows (the header is not a data row).
    public let index: Int
    /// 1-based line where the row starts (the header is line 1).
    public let line: Int
    /// Field texts: every column, or the selected ones in the order asked for.
    public let fields: [String]
}

/// Reads the rows of a CSV file with a header line, tracking line numbers for error messages.
///
/// RFC 4180 over bytes: comma-separated fields (or `;`, tab or `|`: `CSVDelimiter`), optional double quotes (with
/// `""` for a quote inside), LF or CRLF line ends, a leading UTF-8 byte-order mark ignored, blank lines skipped. Like
/// Python's `csv` module it is lenient where RFC 4180 is strict: a quote inside an unquoted field, or text after a
/// closing quote, is kept as text. Rows are numbered both by data index and by line (a quoted field with newlines moves
/// the line count on).
///
/// Why not a library: yaslab/CSV.swift parsed at about 18 MB/s here (`benchmarks/csv-read.sh`), and the
/// coordinator parses every row of a job; this scanner materialises only the columns a job needs. See
/// docs/DECISIONS.md and docs/PERFORMANCE.md.
///
/// - Note: Not thread-safe; one reader per thread.
/// - Complexity: O(bytes) for a full pass; memory O(file size): the file is read and UTF-8-checked whole.
public final class CSVTable {
    /// The path as given (used in error messages).
    public let path: String
    /// The field delimiter (`,` by default).
    public let delimiter: CSVDelimiter
    /// Header names, in file order.
    public private(set) var header: [String]
    /// The file's bytes, owned by this reader (read through a raw buffer: the scanner is the hot loop of a job).
    private let bytes: UnsafeMutableBufferPointer<UInt8>
    private var position: Int
    private var nextIndex = 0
    private var nextLine: Int
    /// Line where the record just scanned starts.
    private var recordLine = 1
    /// Scratch: start, end and "has doubled quotes" of each field of the current record.
    private var starts: [Int] = []
    private var ends: [Int] = []
    private var escaped: [Bool] = []
    /// Position of a closing quote inside the field's range (text followed it), or −1.
    private var closes: [Int] = []

    /// Opens a CSV file and reads its header.
    /// - Parameters:
    ///   - path: file path; shown as given in errors.
    ///   - delimiter: the field delimiter; default `,`.
    /// - Throws: `TabularError` `.unreadable` (missing or unreadable file, or a folder), `.empty` (no header line),
    ///   `.malformed` (not UTF-8, or an unterminated quote in the header).
    public init(path: String, delimiter: CSVDelimiter = .comma) throws {
        self.path = path
        self.delimiter = delimiter
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TabularError(.unreadable, "no such file", file: path)
        }
        guard !isDirectory.boolValue else { throw TabularError(.unreadable, "is a folder, not a file", file: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TabularError(.unreadable, "cannot read the file", file: path)
        }
        if data.isEmpty {
            throw TabularError(.empty, "the file is empty (expected a header line)", file: path, line: 1)
        }
        guard String(data: data, encoding: .utf8) != nil else {
            throw TabularError(
                .malformed, "the file is not valid UTF-8", file: path, line: Self.firstInvalidUTF8Line(data))
        }
        bytes = .allocate(capacity: data.count)
        _ = bytes.initialize(from: data)
        position = data.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        nextLine = 1
        header = []
        // The header is the first non-blank record.
        guard let fields = try scanRecord() else {
            throw TabularError(.empty, "the file has no header line", file: path, line: 1)
        }
        header = (0..<fields).map { field($0) }
    }

    deinit { bytes.deallocate() }

    /// The 0-based position of a header column.
    /// - Throws: `TabularError` `.missingColumn` naming the column and the header line.
    public func columnIndex(_ name: String, wantedBy: String = "") throws -> Int {
        if let i = header.firstIndex(of: name) { return i }
        let close = header.filter { $0.lowercased() == name.lowercased() }
        var hint = close.isEmpty ? "" : " (did you mean '\(close[0])'?)"
        if close.isEmpty, header.count <= 20 {
            hint = " (the header has: \(header.map { "'\($0)'" }.joined(separator: ", ")))"
        }
        hint += delimiterHint
        throw TabularError(
            .missingColumn,
            "no column '\(name)' in the header\(wantedBy.isEmpty ? "" : ", needed by \(wantedBy)")\(hint)",
            file: path, line: 1)
    }

    /// Checks that each of `names` is in the header at most once (a header such as `user_id,score,score` cannot say
    /// which `score` a job means; readers that key rows by name silently keep one of them).
    /// - Parameter names: the columns a job reads.
    /// - Throws: `TabularError` `.duplicateColumn` at line 1 and the second occurrence's column: "the header names
    ///   'score' more than once (columns 2, 3); the job cannot tell which to read".
    public func requireUnique(_ names: [String]) throws {
        try Self.requireUnique(names, header: header, file: path)
    }

    /// `requireUnique(_:)` for a header read elsewhere (a shard manifest's copy of the data file's header).
    /// - Throws: as `requireUnique(_:)`, naming `file`.
    public static func requireUnique(_ names: [String], header: [String], file: String) throws {
        var seen = Set<String>()
        for name in names where seen.insert(name).inserted {
            let positions = header.indices.filter { header[$0] == name }
            guard positions.count > 1 else { continue }
            throw TabularError(
                .duplicateColumn,
                "the header names '\(name)' more than once (columns \(positions.map { "\($0 + 1)" }.joined(separator: ", "))); "
                    + "the job cannot tell which to read",
                file: file, line: 1, column: positions[1] + 1)
        }
    }

    /// The next data row with every field, or nil at the end of the file. Blank lines are skipped.
    /// - Throws: `TabularError` `.fieldCount` when a row's field count differs from the header's, `.malformed` for an
    ///   unterminated quote.
    public func next() throws -> CSVRecord? {
        try next(selecting: nil)
    }

    /// The next data row with only the given columns (0-based header positions, in the order given), or nil at the
    /// end. Cheaper than `next()` when a job reads a few of many columns.
    /// - Throws: as `next()`.
    public func next(selecting columns: [Int]?) throws -> CSVRecord? {
        guard let count = try scanRecord() else { return nil }
        let line = recordLine
        guard count == header.count else {
            // Column: the first field the header does not have, or the first one the row lacks.
            throw TabularError(
                .fieldCount, "\(count) fields, but the header has \(header.count)", file: path, line: line,
                column: min(count, header.count) + 1)
        }
        defer { nextIndex += 1 }
        let fields = columns.map { $0.map { field($0) } } ?? (0..<count).map { field($0) }
        return CSVRecord(index: nextIndex, line: line, fields: fields)
    }

    /// The text of field i of the record just scanned.
    private func field(_ i: Int) -> String {
        let s = UnsafeBufferPointer(rebasing: bytes[starts[i]..<ends[i]])
        guard escaped[i] else { return String(decoding: s, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var previousQuote = false
        let close = closes[i] < 0 ? Int.max : closes[i] - starts[i]
        for (k, b) in s.enumerated() {
            if k == close { continue }  // the closing quote of `"ab"cd` (text after it is kept, as Python's csv does)
            if b == 0x22, previousQuote {
                previousQuote = false
                continue
            }
            previousQuote = b == 0x22 && k < close
            out.append(b)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Scans the next non-blank record into `starts`/`ends`/`escaped`; returns its field count, or nil at the end.
    private func scanRecord() throws -> Int? {
        let n = bytes.count
        let bytes = UnsafeBufferPointer(self.bytes)
        let delimiter = self.delimiter.byte
        // Work on locals (class properties pay an exclusivity check per access), then store them back.
        var starts = self.starts
        var ends = self.ends
        var escaped = self.escaped
        var closes = self.closes
        self.starts = []
        self.ends = []
        self.escaped = []
        self.closes = []
        defer {
            self.starts = starts
            self.ends = ends
            self.escaped = escaped
            self.closes = closes
        }
        var nextLine = self.nextLine
        defer { self.nextLine = nextLine }
        while true {
            guard position < n else { return nil }
            starts.removeAll(keepingCapacity: true)
            ends.removeAll(keepingCapacity: true)
            escaped.removeAll(keepingCapacity: true)
            closes.removeAll(keepingCapacity: true)
            recordLine = nextLine
            var p = position
            var blank = true
            fields: while true {
                if p < n, bytes[p] == 0x22 {
                    // Quoted field: up to the closing quote; "" is a quote inside.
                    blank = false
                    let start = p + 1
                    var q = start
                    var hasDoubled = false
                    while true {
                        guard q < n else {
                            throw TabularError(
                                .malformed, "a quoted field is not closed before the end of the file", file: path,
                                line: recordLine)
                        }
                        let b = bytes[q]
                        if b == 0x22 {
                            if q + 1 < n, bytes[q + 1] == 0x22 {
                                hasDoubled = true
                                q += 2
                                continue
                            }
                            break
                        }
                        if b == 0x0A { nextLine += 1 }
                        q += 1
                    }
                    var end = q
                    p = q + 1
                    // Lenient: text after the closing quote is kept (as Python's csv does).
                    while p < n, bytes[p] != delimiter, bytes[p] != 0x0A, bytes[p] != 0x0D {
                        p += 1
                        end = p
                    }
                    starts.append(start)
                    ends.append(end == q ? q : end)
                    escaped.append(hasDoubled || end != q)
                    closes.append(end == q ? -1 : q)
                } else {
                    let start = p
                    while p < n, bytes[p] != delimiter, bytes[p] != 0x0A, bytes[p] != 0x0D { p += 1 }
                    if p > start { blank = false }
                    starts.append(start)
                    ends.append(p)
                    escaped.append(false)
                    closes.append(-1)
                }
                // After a field: a delimiter, a line end, or the end of the file.
                if p < n, bytes[p] == delimiter {
                    p += 1
                    blank = false
                    continue fields
                }
                if p < n, bytes[p] == 0x0D { p += 1 }
                if p < n, bytes[p] == 0x0A { p += 1 }
                nextLine += 1
                break
            }
            position = p
            if blank { continue }
            return starts.count
        }
    }
}

extension CSVTable {
    /// A hint for "no such column" messages when the header was read as one column that contains another delimiter
    /// (`a;b;c` read with `,`): " (the header was read as one column, 'a;b;c', which contains ';': the file looks
    /// ';'-separated; set data.delimiter = ";" in the job file)"; otherwise "".
    public var delimiterHint: String { CSVDelimiter.hint(header: header, readWith: delimiter) }

    /// 1-based line of the first byte sequence that is not UTF-8.
    static func firstInvalidUTF8Line(_ data: Data) -> Int {
        var line = 1
        var start = 0
        let bytes = [UInt8](data)
        for (i, b) in bytes.enumerated() where b == 10 {
            if String(bytes: bytes[start..<i], encoding: .utf8) == nil { return line }
            line += 1
            start = i + 1
        }
        return line
    }
}

/// A field delimiter `CSVTable` can read with. The raw value is the character, as a job file's `data.delimiter` gives
/// it (`"\t"` for tab).
public enum CSVDelimiter: String, CaseIterable, Codable, Sendable {
    /// `,` (RFC 4180; the default).
    case comma = ","
    /// `;` (spreadsheets in locales with a decimal comma).
    case semicolon = ";"
    /// Tab (TSV), written `"\t"` in a job file.
    case tab = "\t"
    /// `|`.
    case pipe = "|"

    /// The delimiter's byte.
    public var byte: UInt8 {
        switch self {
        case .comma: UInt8(ascii: ",")
        case .semicolon: UInt8(ascii: ";")
        case .tab: UInt8(ascii: "\t")
        case .pipe: UInt8(ascii: "|")
        }
    }

    /// How the delimiter is named in a message: `','`, `';'`, `a tab`, `'|'`.
    public var spoken: String { self == .tab ? "a tab" : "'\(rawValue)'" }

    /// How it is written in a TOML job file: `","`, `";"`, `"\t"`, `"|"`.
    public var toml: String { self == .tab ? "\"\\t\"" : "\"\(rawValue)\"" }

    /// A hint for a header read with `delimiter` as a single column that contains another delimiter (the one it
    /// contains most often), or "" when the header has several columns or contains no other delimiter.
    public static func hint(header: [String], readWith delimiter: CSVDelimiter) -> String {
        guard header.count == 1, let only = header.first else { return "" }
        let bytes = Array(only.utf8)
        let counts = allCases.filter { $0 != delimiter }.map { d in (d, bytes.filter { $0 == d.byte }.count) }
        guard let (other, count) = counts.max(by: { $0.1 < $1.1 }), count > 0 else { return "" }
        let kind = other == .tab ? "tab" : "'\(other.rawValue)'"
        return " (the header was read as one column, '\(only)', which contains \(other.spoken): the file looks"
            + " \(kind)-separated; set data.delimiter = \(other.toml) in the job file)"
    }
}
