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

    public init(jobID: String, kind: JobSpec.ModelKind, formula: String, folds: Int, foldBy: JobSpec.FoldBy,
                columns: [String], columnNumbers: [Int], levelColumns: [String], outcomeColumn: String?) {
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
            if levels.count > Self.levelLimit { levels.removeLast(levels.count - Self.levelLimit); levelsTruncated = true }
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
    /// The distinct item keys the rows name (`text.item_key`), sorted bytewise, each with its earliest row.
    public var itemKeys: [KeyOccurrence] = []
    public init(columns: [ColumnSummary]) { self.columns = columns }
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
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].key.utf8.lexicographicallyPrecedes(b[j].key.utf8)) {
                out.append(a[i]); i += 1
            } else if i == a.count || a[i].key != b[j].key {
                out.append(b[j]); j += 1
            } else {
                out.append(KeyOccurrence(key: a[i].key, first: CellReference.first(a[i].first, b[j].first)!)); i += 1; j += 1
            }
        }
        return out
    }
}

/// The embedding round's request to one shard: the users-file records of the shard's users and the items-file
/// records the shard owns (items are sharded by the hash of their key).
public struct EmbedRequest: Sendable, Equatable {
    /// Users-file records whose user key hashes to this shard (empty when user texts are in the data rows).
    public var users: [TextEntry]
    /// Items-file records whose item key hashes to this shard, in file order.
    public var items: [TextEntry]
    public init(users: [TextEntry], items: [TextEntry]) {
        self.users = users
        self.items = items
    }
}

/// A shard's embeddings: the moments of its users' vectors (for the user PCA) and the vectors of the items it owns.
public struct EmbedStatistic: Sendable, Equatable {
    /// The encoder's identifier (it fingerprints the model files); "" when the shard embedded nothing.
    public var encoder: String
    /// Vector dimension d.
    public var dimension: Int
    /// Moments of the shard's users' vectors, over users with some text; dimension d. Empty (count 0) when
    /// `userVectors` carries them instead.
    public var userMoments: MomentMatrix
    /// [n, d] row-major: the users' vectors themselves, sent instead of `userMoments` when the shard has fewer than
    /// d/2 users with text (the moment matrix then has rank ≤ n, and n rows are smaller than d(d+1)/2 packed values);
    /// the coordinator forms their `MomentMatrix` with the same code, so results do not depend on the form.
    public var userVectors: [Double] = []
    /// Users with at least one non-empty text, and without any.
    public var usersWithText: Int
    public var usersWithoutText: Int
    /// The earliest row whose user has no record in the users file.
    public var firstUserWithoutRecord: CellReference?
    /// [m, d] row-major Float32: the vectors of `EmbedRequest.items`, in request order; zero rows for items with no text.
    public var itemVectors: [Float]
    /// [m]: whether each item had some text.
    public var itemHasText: [Bool]
    /// Distinct texts run through the encoder (cache hits included).
    public var textsEmbedded: Int

    public init(encoder: String, dimension: Int, userMoments: MomentMatrix, usersWithText: Int, usersWithoutText: Int,
                firstUserWithoutRecord: CellReference?, itemVectors: [Float], itemHasText: [Bool], textsEmbedded: Int) {
        self.encoder = encoder
        self.dimension = dimension
        self.userMoments = userMoments
        self.usersWithText = usersWithText
        self.usersWithoutText = usersWithoutText
        self.firstUserWithoutRecord = firstUserWithoutRecord
        self.itemVectors = itemVectors
        self.itemHasText = itemHasText
        self.textsEmbedded = textsEmbedded
    }
}

/// The features round's request to one shard: the user projection and the items its rows name.
public struct FeatureRequest: Sendable, Equatable {
    /// k principal components per side.
    public var components: Int
    /// Vector dimension d.
    public var dimension: Int
    /// [d]: the mean of user vectors (PCA centre).
    public var userMean: [Double]
    /// [k, d] row-major: the user principal axes.
    public var userAxes: [Double]
    /// The item keys the shard's rows name, sorted bytewise.
    public var itemKeys: [String]
    /// [m, k] row-major: the items' principal-component scores (zero for items with no text).
    public var itemScores: [Double]
    /// The items whose unit vectors this request carries: usually `itemKeys`; a transport that sends several shards
    /// to one worker may carry the union for all of them in the worker's first request and none in the others (the
    /// worker keeps the vectors it was sent for the rest of the job).
    public var vectorKeys: [String]
    /// The unit vectors (zero for items with no text) of at least `vectorKeys`, for `affinity`; one table shared by
    /// every shard's request (the wire carries only `vectorKeys`' rows).
    public var vectors: ItemVectorTable
    public init(components: Int, dimension: Int, userMean: [Double], userAxes: [Double], itemKeys: [String], itemScores: [Double],
                vectorKeys: [String], vectors: ItemVectorTable) {
        self.components = components
        self.dimension = dimension
        self.userMean = userMean
        self.userAxes = userAxes
        self.itemKeys = itemKeys
        self.itemScores = itemScores
        self.vectorKeys = vectorKeys
        self.vectors = vectors
    }
}

/// Item unit vectors by key: [items, d] Float32 row-major, built once per job and shared (by reference) by the
/// features requests of every shard.
public final class ItemVectorTable: Equatable, @unchecked Sendable {
    /// Vector dimension d.
    public let dimension: Int
    /// Row of each key.
    public let index: [String: Int]
    /// [index.count, d] row-major.
    public let rows: [Float]

    /// - Parameters:
    ///   - keys: item keys, unique.
    ///   - rows: [keys.count, dimension] row-major Float32.
    public init(keys: [String], rows: [Float], dimension: Int) {
        precondition(rows.count == keys.count * dimension, "ItemVectorTable: \(rows.count) values for \(keys.count) keys of \(dimension)")
        self.dimension = dimension
        var index: [String: Int] = [:]
        for (i, k) in keys.enumerated() { index[k] = i }
        self.index = index
        self.rows = rows
    }

    /// The vector of `key`, [d], or nil.
    public func vector(_ key: String) -> ArraySlice<Float>? {
        index[key].map { rows[($0 * dimension)..<(($0 + 1) * dimension)] }
    }

    /// The rows of `keys` (each must be in the table), [keys.count, d].
    public func rows(for keys: [String]) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(keys.count * dimension)
        for k in keys { out += vector(k)! }
        return out
    }

    public static func == (a: ItemVectorTable, b: ItemVectorTable) -> Bool {
        a === b || (a.dimension == b.dimension && a.index == b.index && a.rows == b.rows)
    }
}

/// How each data column is to be read when building the design (decided by the coordinator).
public struct ColumnSchema: Sendable, Equatable {
    public var name: String
    public var info: ColumnInfo
    public init(name: String, info: ColumnInfo) {
        self.name = name
        self.info = info
    }
}

/// OLS residual sums at one β: Σ e², and the HC0 meat Σ e² x xᵀ.
public struct ResidualStatistic: SufficientStatistic, Equatable {
    public var count: Double = 0
    public var sumOfSquares: Double = 0
    /// [p, p] row-major.
    public var meat: [Double]
    public init(dimension p: Int) { meat = [Double](repeating: 0, count: p * p) }
    public init(count: Double, sumOfSquares: Double, meat: [Double]) {
        self.count = count
        self.sumOfSquares = sumOfSquares
        self.meat = meat
    }
    public mutating func merge(_ other: ResidualStatistic) {
        precondition(other.meat.count == meat.count, "merge: meat sizes differ")
        count += other.count
        sumOfSquares += other.sumOfSquares
        for i in meat.indices { meat[i] += other.meat[i] }
    }
}

/// What the residual and Newton rounds subtract from each design column, as an unevaluated sum high + low (the
/// column means to about twice Float64 precision; `DesignCentring`): x − centre is computed as (x − high) − low.
public struct DesignCentre: Sendable, Equatable {
    /// [p] rounded centre.
    public var high: [Double]
    /// [p] its rounding error.
    public var low: [Double]
    public init(high: [Double], low: [Double]) {
        precondition(high.count == low.count, "DesignCentre: \(high.count) and \(low.count) values")
        self.high = high
        self.low = low
    }
}

/// One round's request, broadcast to every shard.
public enum RoundRequest: Sendable, Equatable {
    /// Summarise the shard's columns (types, missing values, levels).
    case summarize
    /// Build the design with this schema and return per-fold moments of [X, y].
    case moments(schema: [ColumnSchema])
    /// OLS: residual sums at β in coordinates where `centre` is subtracted from the design columns first
    /// (e = y − (x − centre)ᵀβ; a zero centre for none; see `DesignCentring`).
    case residuals(beta: [Double], centre: DesignCentre)
    /// Logit: per fit, the log-likelihood, gradient and information at its β. Fit −1 uses all rows; fit k
    /// (0 ≤ k < K) uses the rows outside fold k and holds fold k out.
    /// Every fit's β is in coordinates where `centre` is subtracted from the design columns (zeros for none).
    case newton(fits: [NewtonFit], centre: DesignCentre)
    /// Embed the shard's user texts and the items it owns (`text` jobs; a per-shard request).
    case embed(EmbedRequest)
    /// Compute the text features of every row (`text` jobs; a per-shard request).
    case features(FeatureRequest)

    /// A short name for logs.
    public var name: String {
        switch self {
        case .embed: return "embed"
        case .features: return "features"
        case .summarize: return "summarize"
        case .moments: return "moments"
        case .residuals: return "residuals"
        case .newton: return "newton"
        }
    }
}

/// A fit evaluated in a Newton round.
public struct NewtonFit: Sendable, Equatable {
    /// −1 for the fit on all rows, k for the fit without fold k.
    public var fit: Int
    public var beta: [Double]
    public init(fit: Int, beta: [Double]) {
        self.fit = fit
        self.beta = beta
    }
}

/// One shard's answer to a round.
public enum ShardReply: Sendable, Equatable {
    case summary(ShardSummary)
    /// Per fold group.
    case moments([MomentMatrix])
    case residuals(ResidualStatistic)
    /// One per requested fit, in request order.
    case newton([LogitStatistic])
    case embedded(EmbedStatistic)
    /// Rows whose features were computed.
    case featuresReady(rows: Int)
    /// The shard found an input error at a data cell.
    case failure(ShardFailure)
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

extension RoundRequest {
    /// Features requests carry item vectors that many shards share: each owner gets the union of its shards' vectors
    /// once, in its first request (shard order; a worker receives its requests in send order), and its other requests
    /// carry none. Results do not change (a worker keeps the vectors for the job); bytes fall from S × items to
    /// owners × items. Other rounds pass through unchanged.
    /// - Parameters:
    ///   - requests: one request per shard, S of them.
    ///   - owner: the owner of each shard 0..<S (any owner may hold no rows, no users and no items).
    public static func sharingItemVectors<Owner: Hashable>(_ requests: [RoundRequest],
                                                          owner: (Int) -> Owner) -> [RoundRequest] {
        guard case .features = requests.first else { return requests }
        var first: [Owner: Int] = [:]
        var keys: [Owner: [String]] = [:], seen: [Owner: Set<String>] = [:]
        for (s, r) in requests.enumerated() {
            guard case .features(let f) = r else { return requests }
            let o = owner(s)
            if first[o] == nil { first[o] = s }
            for key in f.vectorKeys where seen[o, default: []].insert(key).inserted { keys[o, default: []].append(key) }
        }
        var out = requests
        for (s, r) in requests.enumerated() {
            guard case .features(var f) = r else { continue }
            let o = owner(s)
            // An owner whose shards name no item (no rows, or a job without items) gets an empty list.
            f.vectorKeys = first[o] == s ? keys[o, default: []] : []  // the vectors themselves stay in the shared table
            out[s] = .features(f)
        }
        return out
    }
}
