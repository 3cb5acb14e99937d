import Statistics
import Tabular

/// The first round of every job: each shard summarises its data columns (types, missing values, levels, item keys);
/// the coordinator merges the summaries in shard order and decides the schema.
public struct SummarizeRound: Round {
    public static let id = "summarize"
    /// The summarize round sends nothing but its id.
    public struct Request: Sendable, Equatable {
        public init() {}
    }
    /// The plan's data columns: every summary must cover exactly these, in this order.
    public var columns: [String]
    public init(columns: [String]) { self.columns = columns }
    public func request(shard: Int) -> Request { Request() }
    public func accepts(_ statistic: ShardSummary, shard: Int) -> Bool { statistic.columns.map(\.name) == columns }
    public static func compute(_ request: Request, shard: Int, in workspace: ShardWorkspace) throws -> ShardSummary {
        workspace.summarize(try workspace.batch(of: shard))
    }
}

/// A cell of the data file, for error messages: row, line, and its text.
public struct CellReference: Sendable, Equatable {
    /// 0-based data-row index.
    public var rowIndex: Int
    /// 1-based line in the data file.
    public var line: Int
    /// The cell's text.
    public var value: String
    public init(rowIndex: Int, line: Int, value: String) {
        self.rowIndex = rowIndex
        self.line = line
        self.value = value
    }

    /// The earlier of two references (by data row), for merges in any order.
    static func first(_ a: CellReference?, _ b: CellReference?) -> CellReference? {
        guard let a else { return b }
        guard let b else { return a }
        return b.rowIndex < a.rowIndex ? b : a
    }
}

/// What one shard saw in one data column: the statistic of the first round of every job.
public struct ColumnSummary: SufficientStatistic, Equatable {
    /// The data column.
    public var name: String
    /// Cells that are numbers.
    public var numericCount = 0
    /// Cells that are neither numbers nor missing.
    public var nonNumericCount = 0
    /// Every number was written as a whole number.
    public var allIntegral = true
    /// The earliest missing cell (empty, NA, NaN, …).
    public var firstMissing: CellReference?
    /// The earliest cell that is not a number.
    public var firstNonNumeric: CellReference?
    /// First number other than 0 or 1 (for a logit outcome).
    public var firstNonBinary: CellReference?
    /// Distinct texts, sorted bytewise (only for `JobPlan.levelColumns`).
    public var levels: [String] = []
    /// More than `ColumnSummary.levelLimit` distinct values were seen.
    public var levelsTruncated = false

    /// Most distinct values kept per column.
    public static let levelLimit = 10_000

    public init(name: String) { self.name = name }

    /// The summary of no cells of `other`'s column (the identity of `merge`, bit for bit).
    public static func empty(like other: ColumnSummary) -> ColumnSummary { ColumnSummary(name: other.name) }

    /// Adds counts, keeps the earliest cells (by row), unions the levels. Order-independent.
    /// - Precondition: same column.
    public mutating func merge(_ other: ColumnSummary) {
        precondition(other.name == name, "merge: column \(other.name), expected \(name)")
        numericCount += other.numericCount
        nonNumericCount += other.nonNumericCount
        allIntegral = allIntegral && other.allIntegral
        firstMissing = CellReference.first(firstMissing, other.firstMissing)
        firstNonNumeric = CellReference.first(firstNonNumeric, other.firstNonNumeric)
        firstNonBinary = CellReference.first(firstNonBinary, other.firstNonBinary)
        levelsTruncated = levelsTruncated || other.levelsTruncated
        if !other.levels.isEmpty {
            var set = Set(levels)
            set.formUnion(other.levels)
            levels = set.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            if levels.count > Self.levelLimit {
                levels.removeLast(levels.count - Self.levelLimit)
                levelsTruncated = true
            }
        }
    }
}

/// The merged facts of a shard's data that are not about one column.
public struct ShardSummary: SufficientStatistic, Equatable {
    /// Data rows.
    public var rows = 0
    /// Distinct user keys (a user lives in one shard, so shard counts add).
    public var users = 0
    /// One summary per `JobPlan.columns` entry, in that order.
    public var columns: [ColumnSummary]
    /// The distinct item keys the rows name (`text.item_key`, else `policy.action`), sorted bytewise, each with its
    /// earliest row.
    public var itemKeys: [KeyOccurrence] = []
    public init(columns: [ColumnSummary]) { self.columns = columns }
    /// The summary of no rows over `other`'s columns (the identity of `merge`, bit for bit).
    public static func empty(like other: ShardSummary) -> ShardSummary {
        ShardSummary(columns: other.columns.map(ColumnSummary.empty(like:)))
    }
    /// Adds another shard's summary (columns pairwise, item keys as a union keeping the earliest row).
    public mutating func merge(_ other: ShardSummary) {
        rows += other.rows
        users += other.users
        for i in columns.indices { columns[i].merge(other.columns[i]) }
        if !other.itemKeys.isEmpty { itemKeys = KeyOccurrence.union(itemKeys, other.itemKeys) }
    }
}

/// A key and the earliest row that names it.
public struct KeyOccurrence: Sendable, Equatable {
    /// The key's text as written in the data.
    public var key: String
    /// The earliest data row naming it (row index, line, the key as the cell's value).
    public var first: CellReference
    public init(key: String, first: CellReference) {
        self.key = key
        self.first = first
    }

    /// Merges two lists sorted bytewise by key, keeping the earlier row of a key in both.
    static func union(_ a: [KeyOccurrence], _ b: [KeyOccurrence]) -> [KeyOccurrence] {
        var out: [KeyOccurrence] = []
        out.reserveCapacity(a.count + b.count)
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].key.utf8.lexicographicallyPrecedes(b[j].key.utf8)) {
                out.append(a[i])
                i += 1
            } else if i == a.count || a[i].key != b[j].key {
                out.append(b[j])
                j += 1
            } else {
                out.append(KeyOccurrence(key: a[i].key, first: CellReference.first(a[i].first, b[j].first)!))
                i += 1
                j += 1
            }
        }
        return out
    }
}

extension ShardWorkspace {
    /// Summarises a shard's columns; keeps the cells parsed as numbers for the design.
    func summarize(_ data: RowBatch) -> ShardSummary {
        let c = plan.columns.count
        var summary = ShardSummary(columns: plan.columns.map { ColumnSummary(name: $0) })
        summary.rows = data.count
        summary.users = Set(data.userHash).count
        var parsed = [[Double]](repeating: [], count: c)
        for (k, name) in plan.columns.enumerated() {
            var s = summary.columns[k]
            let keep = formula.columns.contains(name)  // text-only columns (user_text, item_key) are never read as numbers
            var column = keep ? [Double](repeating: .nan, count: data.count) : []
            let collect = plan.levelColumns.contains(name)
            let forced = plan.categoricalColumns.contains(name)
            let isOutcome = name == plan.outcomeColumn
            var levels = Set<String>()
            for i in 0..<data.count {
                let text = data.fields[i * c + k]
                let ref = { CellReference(rowIndex: data.rowIndex[i], line: data.line[i], value: text) }
                if Cell.isMissing(text) {
                    if s.firstMissing == nil { s.firstMissing = ref() }
                    continue
                }
                var isNumber = false
                if let x = Cell.number(text) {
                    isNumber = true
                    if keep { column[i] = x }
                    s.numericCount += 1
                    if s.allIntegral, !Cell.isIntegerSyntax(text) { s.allIntegral = false }
                    if isOutcome, x != 0, x != 1, s.firstNonBinary == nil { s.firstNonBinary = ref() }
                } else {
                    s.nonNumericCount += 1
                    if s.firstNonNumeric == nil { s.firstNonNumeric = ref() }
                }
                if collect, forced || !isNumber, !s.levelsTruncated {
                    levels.insert(text)
                    if levels.count > ColumnSummary.levelLimit { s.levelsTruncated = true }
                }
            }
            s.levels = levels.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            if s.levels.count > ColumnSummary.levelLimit {
                s.levels.removeLast(s.levels.count - ColumnSummary.levelLimit)
            }
            summary.columns[k] = s
            parsed[k] = column
        }
        numbers[data.shard] = parsed
        if let key = plan.text?.itemKey ?? plan.actionColumn, let slot = plan.columns.firstIndex(of: key) {
            var first: [String: Int] = [:]
            for i in 0..<data.count where first[data.fields[i * c + slot]] == nil {
                first[data.fields[i * c + slot]] = i
            }
            summary.itemKeys = first.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { key in
                let i = first[key]!
                return KeyOccurrence(
                    key: key, first: CellReference(rowIndex: data.rowIndex[i], line: data.line[i], value: key))
            }
        }
        return summary
    }
}
