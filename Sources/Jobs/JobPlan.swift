import Statistics

/// What a worker needs to know about a job before rows arrive: sent once to every worker.
public struct JobPlan: Sendable, Equatable {
    /// Identifies the job in every message.
    public var jobID: String
    /// Model family.
    public var kind: JobSpec.ModelKind
    /// The formula text (workers parse it themselves; it parsed on the coordinator, so it parses here).
    public var formula: String
    /// Number of CV folds K (0: no CV).
    public var folds: Int
    /// How folds are assigned.
    public var foldBy: JobSpec.FoldBy
    /// Data columns sent with each row, in this order.
    public var columns: [String]
    /// 1-based positions of `columns` in the data file's header, for error messages.
    public var columnNumbers: [Int]
    /// Columns whose distinct values the summary collects (used as categorical, or maybe so).
    public var levelColumns: [String]
    /// The `levelColumns` written `C(x)`: categorical whatever their cells. For the others only text cells' values are
    /// collected: a column of numbers used plainly is numeric and needs no levels.
    public var categoricalColumns: [String] = []
    /// The outcome column when the outcome is a plain column (checked for 0/1 in a logit).
    public var outcomeColumn: String?
    /// The user-key columns (workers reading shard files hash them).
    public var userKey: [String] = []
    /// The job's `[text]` table (workers use the encoder, the text columns, combine and cache settings).
    public var text: TextSpec?
    /// `policy.action`, when the job values policies: the summary collects its distinct values (the catalogue when
    /// there is no items file).
    public var actionColumn: String?

    public init(
        jobID: String, kind: JobSpec.ModelKind, formula: String, folds: Int, foldBy: JobSpec.FoldBy,
        columns: [String], columnNumbers: [Int], levelColumns: [String], outcomeColumn: String?
    ) {
        self.jobID = jobID
        self.kind = kind
        self.formula = formula
        self.folds = folds
        self.foldBy = foldBy
        self.columns = columns
        self.columnNumbers = columnNumbers
        self.levelColumns = levelColumns
        self.outcomeColumn = outcomeColumn
    }

    /// Number of fold groups a shard keeps statistics for (1 without CV).
    public var foldGroups: Int { max(folds, 1) }
}

/// A batch of one shard's rows, in data order.
public struct RowBatch: Sendable, Equatable {
    /// The virtual shard these rows hash to.
    public var shard: Int
    /// 0-based data-row indices, [n].
    public var rowIndex: [Int]
    /// 1-based lines in the data file, [n].
    public var line: [Int]
    /// User-key hashes, [n].
    public var userHash: [UInt64]
    /// Field texts of `JobPlan.columns`, [n, c] row-major.
    public var fields: [String]

    public init(shard: Int, rowIndex: [Int] = [], line: [Int] = [], userHash: [UInt64] = [], fields: [String] = []) {
        self.shard = shard
        self.rowIndex = rowIndex
        self.line = line
        self.userHash = userHash
        self.fields = fields
    }

    /// Rows in the batch, n.
    public var count: Int { rowIndex.count }
}

/// An input error found by a worker, with where in the data it is.
public struct ShardFailure: Sendable, Equatable, Error {
    public var rowIndex: Int
    public var line: Int
    /// 1-based column of the data file, when known.
    public var column: Int?
    public var message: String
    /// A worker-side fault rather than a problem with the user's input (the job then fails with exit 1).
    public var isInternal: Bool
    public init(rowIndex: Int, line: Int, column: Int?, message: String, isInternal: Bool = false) {
        self.rowIndex = rowIndex
        self.line = line
        self.column = column
        self.message = message
        self.isInternal = isInternal
    }
}
