import Causal
import Foundation
import Statistics
import Tabular

/// An evaluation policy as a worker applies it to its rows.
public enum EvaluationPolicy: Sendable, Equatable {
    /// The logging policy: π_e(a_i | x_i) = the logged propensity, so w = 1 (IPW = SNIPS = mean reward).
    case logging
    /// 1/|A| for every item.
    case uniform
    /// A policy file's distributions.
    case table(PolicyTable)
    /// A policy learned in this job (`policy.learners[learner]`), kept on the workers as each user's top-k list:
    /// π(a | u, position j) = (1 − ε)·1{a = j-th listed} + ε/|A|. Rows of CV fold k use the policy learned without
    /// fold k (when the job has `[cv]`).
    case learned(learner: Int, epsilon: Double)
}

/// How the reward model turns a linear predictor into q̂.
public enum RewardLink: String, Sendable, Equatable {
    /// No reward model (DM, DR and switch-DR are not computed).
    case none
    /// q̂ = xβ (`ols`, `bayes_linear`'s posterior mean).
    case identity
    /// q̂ = 1 / (1 + e^{−xβ}) (`logit`).
    case logistic
}

/// Everything the off-policy round needs once per job (`JobBroadcast` "off_policy"): the `[policy]` columns, the
/// catalogue, the evaluation policies, the logging distribution and item clusters for MIPS, and the items' own
/// columns and text features for scoring candidates with the reward model. A worker gets the per-user policy rows
/// of the users its shards own.
public struct OffPolicyBroadcast: JobBroadcast, Equatable {
    public static let name = "off_policy"
    /// `policy.action`, `propensity`, `reward`, `position` (nil: none).
    public var action: String
    public var propensity: String
    public var reward: String
    public var position: String?
    /// Positions valued (nil: every row).
    public var positions: [Int]?
    /// The catalogue's item keys, A (items-file order, or the logged actions sorted).
    public var catalogue: [String]
    /// The evaluation policies, in report order, and their names (for messages).
    public var policies: [EvaluationPolicy]
    public var names: [String] = []
    /// The logging policy's distribution (uniform or a table), when known: MIPS's π_b(c | x).
    public var logging: EvaluationPolicy?
    /// [A] the k-means cluster of each item (empty: no MIPS).
    public var clusters: [Int]
    /// `policy.missing`.
    public var missing: PolicySpec.Missing
    /// The weight rule (clip) and switch-DR's τ.
    public var rule: WeightRule
    public var switchTau: Double
    /// Design data columns that belong to the item (read from the items file for a candidate).
    public var itemColumns: [String]
    /// [A, itemColumns.count] row-major: their cells per catalogue item.
    public var itemCells: [String]
    /// k, and [A, k] row-major: each item's `item_pc*` scores (empty when the formula has none).
    public var components: Int
    public var itemScores: [Double]
    /// Each item's unit vector, for `affinity` (nil when the formula does not use it).
    public var itemVectors: ItemVectorTable?
    /// Number of shards S (to cut per-user tables by shard).
    public var shardCount: Int

    public init(
        action: String, propensity: String, reward: String, position: String?, positions: [Int]?,
        catalogue: [String], policies: [EvaluationPolicy], logging: EvaluationPolicy?, clusters: [Int],
        missing: PolicySpec.Missing, rule: WeightRule, switchTau: Double, itemColumns: [String] = [],
        itemCells: [String] = [], components: Int = 0, itemScores: [Double] = [], itemVectors: ItemVectorTable? = nil,
        shardCount: Int
    ) {
        self.action = action
        self.propensity = propensity
        self.reward = reward
        self.position = position
        self.positions = positions
        self.catalogue = catalogue
        self.policies = policies
        self.logging = logging
        self.clusters = clusters
        self.missing = missing
        self.rule = rule
        self.switchTau = switchTau
        self.itemColumns = itemColumns
        self.itemCells = itemCells
        self.components = components
        self.itemScores = itemScores
        self.itemVectors = itemVectors
        self.shardCount = shardCount
    }

    /// The per-user policy rows of the users `shards` own; everything else whole.
    public func part(forShards shards: [Int]) -> OffPolicyBroadcast {
        var b = self
        func cut(_ p: EvaluationPolicy) -> EvaluationPolicy {
            if case .table(let t) = p { return .table(t.part(forShards: shards, shardCount: shardCount)) }
            return p
        }
        b.policies = policies.map(cut)
        b.logging = logging.map(cut)
        return b
    }
}

/// The off-policy round's request: the reward model's coefficients (on the design's raw scale) for every fit.
public struct OffPolicyRequest: Sendable, Equatable {
    /// The link (`.none`: no reward model).
    public var link: RewardLink
    /// [0]: the fit on all rows; [1 + k]: the fit without CV fold k (empty: that fold's rows use the full fit).
    /// Each [p].
    public var coefficients: [[Double]]
    /// Whether rows are scored by the fit without their own fold (cross-fitting).
    public var crossFit: Bool
    /// The column schema (for the design; empty without a reward model).
    public var schema: [ColumnSchema]
    /// Whether the shard returns q̂ of every candidate for every valued row (`--export-predictions`).
    public var exportPredictions: Bool

    public init(
        link: RewardLink, coefficients: [[Double]], crossFit: Bool, schema: [ColumnSchema], exportPredictions: Bool
    ) {
        self.link = link
        self.coefficients = coefficients
        self.crossFit = crossFit
        self.schema = schema
        self.exportPredictions = exportPredictions
    }
}

/// A shard's off-policy answer: the estimators' sums and, when asked, the reward model's predictions.
public struct OffPolicyShardStatistic: SufficientStatistic, Equatable {
    /// The per-row terms' sums for every evaluation policy.
    public var sums: OffPolicyStatistic
    /// Rows not valued (at positions outside `policy.positions`).
    public var skippedRows: Int
    /// Exported predictions: 0-based data-row indices of the valued rows, [m].
    public var predictionRows: [Int]
    /// [m, A] row-major q̂(x_i, a) (empty unless exported).
    public var predictions: [Double]
    /// Per policy: rows of users a per-user policy file does not list, valued by the uniform policy
    /// (`policy.missing = "uniform"`).
    public var fallbackRows: [Int]
    /// Rows where `policy.logging_policy`'s π_b(a_i | x_i) differs from the logged propensity (relative 1e-6), and the
    /// earliest such data row (nil: none).
    public var loggingMismatchRows: Int
    public var firstLoggingMismatch: Int?

    public init(
        sums: OffPolicyStatistic, skippedRows: Int, predictionRows: [Int] = [], predictions: [Double] = [],
        fallbackRows: [Int]? = nil, loggingMismatchRows: Int = 0, firstLoggingMismatch: Int? = nil
    ) {
        self.sums = sums
        self.skippedRows = skippedRows
        self.predictionRows = predictionRows
        self.predictions = predictions
        self.fallbackRows = fallbackRows ?? [Int](repeating: 0, count: sums.policies)
        self.loggingMismatchRows = loggingMismatchRows
        self.firstLoggingMismatch = firstLoggingMismatch
    }

    public static func empty(like other: OffPolicyShardStatistic) -> OffPolicyShardStatistic {
        OffPolicyShardStatistic(sums: .empty(like: other.sums), skippedRows: 0)
    }

    /// Adds another shard's answer: sums by `OffPolicyStatistic.merge`, counts added, predictions appended.
    public mutating func merge(_ other: OffPolicyShardStatistic) {
        sums.merge(other.sums)
        skippedRows += other.skippedRows
        predictionRows += other.predictionRows
        predictions += other.predictions
        for k in fallbackRows.indices { fallbackRows[k] += other.fallbackRows[k] }
        loggingMismatchRows += other.loggingMismatchRows
        if let o = other.firstLoggingMismatch { firstLoggingMismatch = min(firstLoggingMismatch ?? o, o) }
    }
}

/// The off-policy round: each shard values the evaluation policies on its rows (weights from the logged
/// propensities, q̂ of every candidate item from the reward model, cross-fitted by CV fold) and returns the sums of
/// the estimators' per-row terms (`OffPolicyStatistic`), merged in shard order.
public struct OffPolicyRound: Round {
    public static let id = "off_policy"
    public var request: OffPolicyRequest
    /// Per shard: the rows it holds (valued plus skipped must add up to them).
    public var rows: [Int]
    /// Number of evaluation policies.
    public var policies: Int
    public init(request: OffPolicyRequest, rows: [Int], policies: Int) {
        self.request = request
        self.rows = rows
        self.policies = policies
    }
    public func request(shard: Int) -> OffPolicyRequest { request }
    public func accepts(_ s: OffPolicyShardStatistic, shard: Int) -> Bool {
        s.sums.policies == policies && s.sums.count + s.skippedRows == rows[shard]
    }
    public static func compute(_ request: OffPolicyRequest, shard: Int, in workspace: ShardWorkspace) throws
        -> OffPolicyShardStatistic
    {
        try workspace.offPolicy(try workspace.batch(of: shard), request)
    }
}

extension ShardWorkspace {
    /// Rows per block of the off-policy sums.
    static let offPolicyBlock = 8192

    /// The off-policy sums of one shard's rows.
    /// - Throws: `ShardFailure` at the row for a propensity that is not a number in (0, 1], a reward that is not a
    ///   number, a position that is not a whole number, an action outside the catalogue, a user a per-user policy
    ///   does not list (unless `missing = "uniform"`), or a position a per-position policy does not list.
    func offPolicy(_ data: RowBatch, _ request: OffPolicyRequest) throws -> OffPolicyShardStatistic {
        let b = try broadcast(OffPolicyBroadcast.self)
        let c = plan.columns.count
        func slot(_ name: String) throws -> Int {
            guard let s = plan.columns.firstIndex(of: name) else {
                let why = "internal: the [policy] column '\(name)' is not in the job's plan"
                throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: why, isInternal: true)
            }
            return s
        }
        let actionSlot = try slot(b.action)
        let propensitySlot = try slot(b.propensity)
        let rewardSlot = try slot(b.reward)
        let positionSlot = try b.position.map(slot)
        let allowed = b.positions.map(Set.init)
        let catalogue = Dictionary(uniqueKeysWithValues: b.catalogue.enumerated().map { ($1, $0) })
        let a = b.catalogue.count
        let clusterCount = (b.clusters.max() ?? -1) + 1
        var clusterSize = [Int](repeating: 0, count: clusterCount)
        for k in b.clusters { clusterSize[k] += 1 }

        // The reward model: a scorer of every candidate for a row.
        let scorer = try request.link == .none ? nil : CandidateScorer(self, data, request, b)

        // Rows are summed in blocks of `offPolicyBlock`, merged in data order: memory O(block), the same bits for any
        // number of workers (a shard's rows and their order do not depend on them).
        var sums = OffPolicyStatistic(policies: b.policies.count)
        var rows: [[OffPolicyRow]] = []
        var skipped = 0
        var fallback = [Int](repeating: 0, count: b.policies.count)
        var loggingMismatch = 0
        var firstMismatch: Int? = nil
        let names = b.names
        var predictionRows: [Int] = []
        var predictions: [Double] = []
        var q = [Double](repeating: 0, count: a)
        let p = b.policies.count
        for i in 0..<data.count {
            func fail(_ s: Int?, _ message: String) -> ShardFailure {
                ShardFailure(
                    rowIndex: data.rowIndex[i], line: data.line[i], column: s.map { plan.columnNumbers[$0] },
                    message: message)
            }
            func cell(_ s: Int) -> String { data.fields[i * c + s] }
            var position = 0
            if let s = positionSlot {
                guard let v = Cell.number(cell(s)), v == v.rounded(), abs(v) < 1e9 else {
                    throw fail(s, "position '\(printable(cell(s)))' is not a whole number (column \(b.position!))")
                }
                position = Int(v)
            }
            if let allowed, !allowed.contains(position) {
                skipped += 1
                continue
            }
            let pText = cell(propensitySlot)
            guard let propensity = Cell.number(pText) else {
                let what = pText.trimmingCharacters(in: .whitespaces).isEmpty ? "missing" : "'\(printable(pText))'"
                throw fail(
                    propensitySlot, "the propensity is \(what), not a number in (0, 1] (column \(b.propensity))")
            }
            if let problem = LoggedPropensity.problem(propensity) {
                throw fail(propensitySlot, "\(problem) (column \(b.propensity))")
            }
            let rText = cell(rewardSlot)
            guard let reward = Cell.number(rText), reward.isFinite else {
                throw fail(rewardSlot, "the reward '\(printable(rText))' is not a number (column \(b.reward))")
            }
            let key = cell(actionSlot)
            guard let logged = catalogue[key] else {
                throw fail(
                    actionSlot,
                    "action '\(printable(key))' (column \(b.action)) is not in the catalogue of \(a) items (keys are compared as text: 7 and 7.0 differ)"
                )
            }
            let user = data.userHash[i]
            var fit = 0
            if request.crossFit, plan.folds > 0 {
                let k = UserKey.fold(rowIndex: data.rowIndex[i], hash: user, folds: plan.folds, by: plan.foldBy)
                if 1 + k < request.coefficients.count, !request.coefficients[1 + k].isEmpty { fit = 1 + k }
            }
            var sumQ = 0.0
            if let scorer {
                try scorer.score(i, into: &q)
                for v in q { sumQ += v }
                if request.exportPredictions {
                    predictionRows.append(data.rowIndex[i])
                    predictions += q
                }
            }
            let cluster = b.clusters.isEmpty ? -1 : b.clusters[logged]
            /// (π(logged), Σ_a π(a) q̂(a), π(cluster of logged)) of a distribution.
            var fellBack = false
            func apply(_ policy: EvaluationPolicy, _ index: Int) throws -> (Double, Double?, Double?) {
                switch policy {
                case .logging: return (propensity, nil, nil)
                case .uniform:
                    let u = 1 / Double(a)
                    return (
                        u, scorer == nil ? nil : sumQ / Double(a),
                        cluster < 0 ? nil : Double(clusterSize[cluster]) / Double(a)
                    )
                case .learned(let learner, let epsilon):
                    let spread = epsilon / Double(a)
                    let j = max(position, 1) - 1
                    if j == 0,
                        let (sigma, candidates) = learnedSoftmax(
                            shard: data.shard, learner: learner, fit: fit, user: user)
                    {
                        // A softmax policy at position 1: π(a) = (1 − ε)σ_a + ε/|A| (σ over the candidates).
                        var target = spread
                        var dm = spread * sumQ
                        var clusterProbability = cluster < 0 ? 0 : spread * Double(clusterSize[cluster])
                        for (k, item) in candidates.enumerated() {
                            let pk = (1 - epsilon) * sigma[sigma.startIndex + k]
                            if Int(item) == logged { target += pk }
                            if scorer != nil { dm += pk * q[Int(item)] }
                            if cluster >= 0, b.clusters[Int(item)] == cluster { clusterProbability += pk }
                        }
                        return (target, scorer == nil ? nil : dm, cluster < 0 ? nil : clusterProbability)
                    }
                    let list = learnedList(shard: data.shard, learner: learner, fit: fit, user: user)
                    let listed = list.flatMap { j < $0.count ? Int($0[$0.startIndex + j]) : nil } ?? -1
                    let target = (listed == logged ? 1 - epsilon : 0) + spread
                    var dm: Double? = nil
                    if scorer != nil { dm = (listed >= 0 ? (1 - epsilon) * q[listed] : 0) + spread * sumQ }
                    var clusterProbability: Double? = nil
                    if cluster >= 0 {
                        clusterProbability =
                            (listed >= 0 && b.clusters[listed] == cluster ? 1 - epsilon : 0) + spread
                            * Double(clusterSize[cluster])
                    }
                    return (target, dm, clusterProbability)
                case .table(let t):
                    guard let g = t.group(user: user, position: position) else {
                        let name = index < names.count ? " \(names[index])" : ""
                        if t.byUser, !t.users.contains(user) {
                            if b.missing == .uniform {
                                fellBack = true
                                return try apply(.uniform, index)
                            }
                            throw fail(
                                nil,
                                "this row's user is not in the per-user policy file\(name) (set policy.missing = \"uniform\" to value such users with the uniform policy)"
                            )
                        }
                        throw fail(
                            positionSlot,
                            "the policy file\(name) has no rows for position \(position)\(t.byUser ? " for this row's user" : "")"
                        )
                    }
                    let rest = g.unlisted(catalogueSize: a)
                    var target = rest
                    var listedQ = 0.0
                    var dm = 0.0
                    var inCluster = 0.0
                    var listedInCluster = 0
                    for (j, item) in g.items.enumerated() {
                        let m = Int(item)
                        let pj = g.probabilities[j]
                        if m == logged { target = pj }
                        if scorer != nil {
                            dm += pj * q[m]
                            listedQ += q[m]
                        }
                        if cluster >= 0, b.clusters[m] == cluster {
                            inCluster += pj
                            listedInCluster += 1
                        }
                    }
                    if scorer != nil, rest > 0 { dm += rest * (sumQ - listedQ) }
                    let clusterProbability =
                        cluster < 0 ? nil : inCluster + rest * Double(clusterSize[cluster] - listedInCluster)
                    return (target, scorer == nil ? nil : dm, clusterProbability)
                }
            }
            var clusterPropensity: Double? = nil
            if let logging = b.logging {
                let (pb, _, cb) = try apply(logging, -1)
                clusterPropensity = cb
                if abs(pb - propensity) > 1e-6 * propensity {
                    loggingMismatch += 1
                    if firstMismatch == nil { firstMismatch = data.rowIndex[i] }
                }
                if let cb, cb <= 0, !b.clusters.isEmpty {
                    throw fail(
                        nil,
                        "policy.logging_policy gives probability 0 to the cluster of this row's item, yet the item was logged: MIPS's weights would be infinite (the logging distribution is not the one that logged the data)"
                    )
                }
            }
            var row: [OffPolicyRow] = []
            row.reserveCapacity(p)
            for (index, policy) in b.policies.enumerated() {
                fellBack = false
                let (target, dm, clusterTarget) = try apply(policy, index)
                if fellBack { fallback[index] += 1 }
                let w = target / propensity
                guard (w * w * max(1, abs(reward) * abs(reward))).isFinite else {
                    throw fail(
                        propensitySlot,
                        "the weight π_e/π_b = \(w) of this row (propensity \(propensity)) is too large for the variance to be finite; set policy.clip"
                    )
                }
                let isLogging = policy == .logging
                row.append(
                    OffPolicyRow(
                        reward: reward, propensity: propensity, target: target, directMethod: dm,
                        predictedLogged: scorer == nil || isLogging ? nil : q[logged],
                        clusterTarget: clusterPropensity == nil ? nil : clusterTarget,
                        clusterPropensity: clusterTarget == nil ? nil : clusterPropensity))
            }
            rows.append(row)
            if rows.count == Self.offPolicyBlock {
                sums.merge(OffPolicyStatistic(rows: rows, rule: b.rule, switchThreshold: b.switchTau))
                rows.removeAll(keepingCapacity: true)
            }
        }
        if !rows.isEmpty { sums.merge(OffPolicyStatistic(rows: rows, rule: b.rule, switchThreshold: b.switchTau)) }
        return OffPolicyShardStatistic(
            sums: sums, skippedRows: skipped, predictionRows: predictionRows, predictions: predictions,
            fallbackRows: fallback, loggingMismatchRows: loggingMismatch, firstLoggingMismatch: firstMismatch)
    }
}

/// Scores every catalogue item for a row with the reward model: the row's own factor values with the item's
/// columns replaced (the action column, the items file's columns, `item_pc*` and `affinity` of the item).
///
/// Rows whose own (non-item) factor values, user and fit are the same get the same scores, so the scores are kept
/// by that key (up to `cacheLimit` keys per shard): a model of position and item scores three contexts, not every row.
final class CandidateScorer {
    /// Most cached contexts per shard.
    static let cacheLimit = 4096
    struct Key: Hashable {
        var values: [FactorValue]
        var fit: Int
        var user: UInt64
    }
    var cache: [Key: [Double]] = [:]
    let data: RowBatch
    let spec: DesignMatrixSpec
    let reader: ShardWorkspace.RowReader
    let request: OffPolicyRequest
    let folds: Int
    let foldBy: JobSpec.FoldBy
    /// Per design read k: what replaces it for a candidate.
    enum Source {
        case row
        case action(numeric: Bool)
        case itemCell(column: Int, numeric: Bool)
        case itemScore(Int)
        case affinity
    }
    let sources: [Source]
    /// Whether a candidate's score depends on the user beyond the row's values (affinity).
    let usesUser: Bool
    let catalogue: [String]
    let broadcast: OffPolicyBroadcast
    /// Per user hash, the unit vector (for affinity).
    let units: [UInt64: [Double]]
    /// Parsed action keys and item cells, per catalogue item (nil where not a number).
    let actionNumbers: [Double?]
    let itemNumbers: [Double?]

    init(_ ws: ShardWorkspace, _ data: RowBatch, _ request: OffPolicyRequest, _ b: OffPolicyBroadcast) throws {
        self.data = data
        self.request = request
        self.broadcast = b
        self.catalogue = b.catalogue
        folds = ws.plan.folds
        foldBy = ws.plan.foldBy
        spec = try ws.design(for: request.schema)
        reader = try ws.rowReader(data, spec: spec, schema: request.schema)
        let featureNames = ws.plan.text?.featureNames ?? []
        let info = Dictionary(uniqueKeysWithValues: request.schema.map { ($0.name, $0.info) })
        var sources: [Source] = []
        for (k, name) in reader.names.enumerated() {
            let numeric = reader.reads[k].numeric
            if name == b.action {
                sources.append(.action(numeric: numeric))
            } else if let j = b.itemColumns.firstIndex(of: name) {
                sources.append(.itemCell(column: j, numeric: info[name]?.isNumeric ?? numeric))
            } else if name.hasPrefix("item_pc"), featureNames.contains(name), let j = Int(name.dropFirst(7)) {
                sources.append(.itemScore(j - 1))
            } else if name == "affinity", featureNames.contains(name) {
                sources.append(.affinity)
            } else {
                sources.append(.row)
            }
        }
        self.sources = sources
        usesUser = sources.contains(where: { if case .affinity = $0 { return true } else { return false } })
        if usesUser {
            var units: [UInt64: [Double]] = [:]
            for (h, u) in ws.userVectors[data.shard] ?? [:] { units[h] = ShardWorkspace.unit(u) }
            self.units = units
        } else {
            units = [:]
        }
        actionNumbers = b.catalogue.map { Cell.number($0) }
        itemNumbers = b.itemCells.map { Cell.number($0) }
        let p = spec.width
        guard request.coefficients.allSatisfy({ $0.isEmpty || $0.count == p }), request.coefficients.first?.count == p
        else {
            let why = "internal: reward-model coefficients do not fit a design of \(p) columns"
            throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: why, isInternal: true)
        }
    }

    /// q̂(x_i, a) for every catalogue item a, [A].
    /// - Throws: `ShardFailure` at the row when a candidate's design row is not finite or a numeric item column
    ///   holds text.
    func score(_ i: Int, into q: inout [Double]) throws {
        var base = [FactorValue](repeating: .number(0), count: sources.count)
        try reader.values(i, of: data, into: &base)
        var fit = 0
        if request.crossFit, folds > 0 {
            let k = UserKey.fold(rowIndex: data.rowIndex[i], hash: data.userHash[i], folds: folds, by: foldBy)
            if !request.coefficients[1 + k].isEmpty { fit = 1 + k }
        }
        try score(base: base, fit: fit, row: i, into: &q)
    }

    /// q̂ for every catalogue item from given factor values (a row's, or a user's context with `policy.at` values),
    /// with the coefficients of fit `fit` (0: all rows; 1 + k: without fold k).
    /// - Parameter row: the row errors point at.
    func score(base: [FactorValue], fit: Int, row i: Int, into q: inout [Double]) throws {
        let beta = request.coefficients[fit].isEmpty ? request.coefficients[0] : request.coefficients[fit]
        let key = Key(
            values: zip(sources, base).map { if case .row = $0.0 { return $0.1 } else { return .number(0) } },
            fit: fit, user: usesUser ? data.userHash[i] : 0)
        if let cached = cache[key] {
            q = cached
            return
        }
        defer { if cache.count < Self.cacheLimit { cache[key] = q } }
        let p = spec.width
        try fillCandidates(base: base, row: i, items: nil) { a, row in
            var eta = 0.0
            for j in 0..<p { eta += row[j] * beta[j] }
            let v = request.link == .logistic ? 1 / (1 + Foundation.exp(-eta)) : eta
            guard v.isFinite else {
                throw ShardFailure(
                    rowIndex: data.rowIndex[i], line: data.line[i], column: nil,
                    message: "the reward model's prediction for item '\(printable(catalogue[a]))' is not finite")
            }
            q[a] = v
        }
    }

    /// Fills the design row of every catalogue item (or of `items`) for the context `base` and hands it to `visit`.
    /// - Parameter row: the data row errors point at.
    func fillCandidates(
        base: [FactorValue], row i: Int, items: [Int32]?, visit: (Int, [Double]) throws -> Void
    ) throws {
        let p = spec.width
        var row = [Double](repeating: 0, count: p)
        var values = base
        var scratch = DesignMatrixSpec.Scratch(factors: spec.factors.count)
        let unit = units[data.userHash[i]]
        func fail(_ message: String) -> ShardFailure {
            ShardFailure(rowIndex: data.rowIndex[i], line: data.line[i], column: nil, message: message)
        }
        for a in items.map({ $0.map(Int.init) }) ?? Array(0..<catalogue.count) {
            try setCandidate(a, in: &values, unit: unit, fail: fail)
            do { _ = try spec.fill(values: values, row: &row, scratch: &scratch) } catch let e as FormulaError {
                throw fail("scoring item '\(printable(catalogue[a]))': \(e.message)")
            }
            try visit(a, row)
        }
    }

    /// Puts candidate a's values (action column, items-file cells, `item_pc*`, `affinity` with the user's unit vector)
    /// into a row's factor values.
    func setCandidate(
        _ a: Int, in values: inout [FactorValue], unit: [Double]?, fail: (String) -> ShardFailure
    ) throws {
        let m = broadcast.itemColumns.count
        let k = broadcast.components
        for (j, source) in sources.enumerated() {
            switch source {
            case .row: continue
            case .action(let numeric):
                if numeric {
                    guard let v = actionNumbers[a] else {
                        throw fail(
                            "the reward model reads the action column as a number; item '\(printable(catalogue[a]))' is not one"
                        )
                    }
                    values[j] = .number(v)
                } else {
                    values[j] = .string(catalogue[a])
                }
            case .itemCell(let column, let numeric):
                let cell = broadcast.itemCells[a * m + column]
                if numeric {
                    guard let v = itemNumbers[a * m + column] else {
                        throw fail(
                            "item '\(printable(catalogue[a]))' has '\(printable(cell))' in column \(broadcast.itemColumns[column]) of the items file, which the formula reads as a number"
                        )
                    }
                    values[j] = .number(v)
                } else {
                    values[j] = .string(cell)
                }
            case .itemScore(let c): values[j] = .number(broadcast.itemScores[a * k + c])
            case .affinity:
                var v = 0.0
                if let unit, let item = broadcast.itemVectors?.vector(catalogue[a]) {
                    v = ShardWorkspace.affinity(unit, item)
                }
                values[j] = .number(v)
            }
        }
    }
}
