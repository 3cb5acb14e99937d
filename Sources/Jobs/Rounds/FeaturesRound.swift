import Statistics

/// The second text round (`[text]` jobs): each shard computes every row's text features from the broadcast user
/// projection and the items its rows name, and keeps them for the design; it answers with its row count.
public struct FeaturesRound: Round {
    public static let id = "features"
    public var requests: [FeatureRequest]
    /// Per shard: the rows it holds (from the summary round), which its answer must count.
    public var rows: [Int]
    public init(requests: [FeatureRequest], rows: [Int]) {
        self.requests = requests
        self.rows = rows
    }
    public func request(shard: Int) -> FeatureRequest { requests[shard] }
    public func accepts(_ statistic: RowCount, shard: Int) -> Bool { statistic.rows == rows[shard] }
    public static func compute(_ request: FeatureRequest, shard: Int, in workspace: ShardWorkspace) throws -> RowCount {
        RowCount(rows: try workspace.computeFeatures(try workspace.batch(of: shard), request))
    }
}

/// Rows a shard processed.
public struct RowCount: SufficientStatistic, Equatable {
    public var rows: Int
    public init(rows: Int) { self.rows = rows }
    public static func empty(like other: RowCount) -> RowCount { RowCount(rows: 0) }
    public mutating func merge(_ other: RowCount) { rows += other.rows }
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
    public init(
        components: Int, dimension: Int, userMean: [Double], userAxes: [Double], itemKeys: [String],
        itemScores: [Double]
    ) {
        self.components = components
        self.dimension = dimension
        self.userMean = userMean
        self.userAxes = userAxes
        self.itemKeys = itemKeys
        self.itemScores = itemScores
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
        precondition(
            rows.count == keys.count * dimension,
            "ItemVectorTable: \(rows.count) values for \(keys.count) keys of \(dimension)")
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

extension ShardWorkspace {
    /// A user's text vector scaled to length 1, or nil when it is 0 (a user without text).
    static func unit(_ u: [Double]) -> [Double]? {
        let norm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? u.map { $0 / norm } : nil
    }

    /// `affinity`: the cosine of a user's unit vector and an item's unit vector, summed in dimension order.
    static func affinity(_ u: [Double], _ v: ArraySlice<Float>) -> Double {
        var dot = 0.0
        v.withUnsafeBufferPointer { v in for l in 0..<u.count { dot += u[l] * Double(v[l]) } }
        return dot
    }

    /// Computes every row's text features from the broadcast projection and item table; keeps them for the design.
    func computeFeatures(_ data: RowBatch, _ r: FeatureRequest) throws -> Int {
        guard let t = plan.text else {
            throw ShardFailure(
                rowIndex: 0, line: 0, column: nil, message: "internal: features round for a job without [text]",
                isInternal: true)
        }
        let names = t.featureNames
        let f = names.count
        let k = r.components
        let d = r.dimension
        let c = plan.columns.count
        let hasUsers = !t.userText.isEmpty
        let hasItems = t.itemsPath != nil
        let users = userVectors[data.shard] ?? [:]
        var scores: [UInt64: [Double]] = [:]
        var units: [UInt64: [Double]] = [:]
        for (h, u) in users {
            scores[h] = PrincipalComponents.scores(
                centred: (0..<d).map { u[$0] - r.userMean[$0] }, components: r.userAxes, count: k)
            units[h] = Self.unit(u)
        }
        guard k == t.components, hasUsers ? (r.userMean.count == d && r.userAxes.count == k * d) : true,
            r.itemScores.count == r.itemKeys.count * k
        else {
            throw ShardFailure(
                rowIndex: 0, line: 0, column: nil,
                message: "internal: features request of the wrong shape (k = \(k), d = \(d))", isInternal: true)
        }
        // Affinity needs the item vectors: a job-level broadcast, sent to this worker before the round.
        let vectors = hasUsers && hasItems ? try broadcast(ItemVectorBroadcast.self).table : nil
        if let vectors, vectors.dimension != d {
            let why = "internal: item vectors of dimension \(vectors.dimension), expected \(d)"
            throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: why, isInternal: true)
        }
        let itemIndex = Dictionary(uniqueKeysWithValues: r.itemKeys.enumerated().map { ($1, $0) })
        let itemSlot = t.itemKey.flatMap { plan.columns.firstIndex(of: $0) }
        var out = [Double](repeating: 0, count: data.count * f)
        for i in 0..<data.count {
            var col = i * f
            let h = data.userHash[i]
            if hasUsers {
                if let s = scores[h] { for j in 0..<k { out[col + j] = s[j] } }
                col += k
            }
            if hasItems, let slot = itemSlot {
                let key = data.fields[i * c + slot]
                guard let m = itemIndex[key] else {
                    throw ShardFailure(
                        rowIndex: data.rowIndex[i], line: data.line[i], column: nil,
                        message: "internal: item '\(key)' missing from the features request", isInternal: true)
                }
                for j in 0..<k { out[col + j] = r.itemScores[m * k + j] }
                col += k
                if hasUsers, let u = units[h] {
                    guard let v = vectors?.vector(key) else {
                        let why = "internal: no vector for item '\(key)' in this job's item_vectors broadcast"
                        throw ShardFailure(
                            rowIndex: data.rowIndex[i], line: data.line[i], column: nil, message: why,
                            isInternal: true)
                    }
                    out[col] = Self.affinity(u, v)
                }
            }
        }
        features[data.shard] = out
        return data.count
    }
}
