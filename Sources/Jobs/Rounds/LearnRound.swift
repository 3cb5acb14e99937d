import Causal
import Statistics
import Tabular

/// What the greedy learner's round asks a shard: score its users against the candidates (once, then kept), choose
/// each user's position-1 item at the given item prices, and — in the last round — assign within the shard's quotas
/// and keep every user's top-k list for the off-policy round and for recommendations.
public struct LearnRequest: Sendable, Equatable {
    /// What the round does.
    public enum Phase: String, Sendable, Equatable {
        /// Per fit: users choosing each candidate at `prices` (argmax of S − λ), Σ S at the choices and Σ max(S − λ).
        case demand
        /// Per fit: assign within `quotas` (users in order of their margin), keep the top-k lists, report the counts.
        case assign
    }
    public var phase: Phase
    /// Which learner (index into `policy.learners`) the lists are kept for.
    public var learner: Int
    /// The reward model: link and β per fit ([0] all rows, [1 + k] without fold k; empty: use [0]).
    public var link: RewardLink
    public var coefficients: [[Double]]
    public var schema: [ColumnSchema]
    /// `policy.at`: values replacing log-only context columns, by column.
    public var at: [String: String]
    /// Catalogue indices of the candidates, ascending.
    public var candidates: [Int32]
    /// The fits this round serves (indices into `coefficients`).
    public var fits: [Int]
    /// Per served fit: [C] item prices λ (empty: all 0).
    public var prices: [[Double]]
    /// `assign`: per served fit, [C] this shard's quota per candidate (empty: no limit).
    public var quotas: [[Int]]
    /// Items per user kept (`policy.top_k`).
    public var topK: Int
    /// `assign`: return the users' lists of fit 0 (for recommendations.csv).
    public var returnLists: Bool

    public init(
        phase: Phase, learner: Int, link: RewardLink, coefficients: [[Double]], schema: [ColumnSchema],
        at: [String: String], candidates: [Int32], fits: [Int], prices: [[Double]], quotas: [[Int]], topK: Int,
        returnLists: Bool
    ) {
        self.phase = phase
        self.learner = learner
        self.link = link
        self.coefficients = coefficients
        self.schema = schema
        self.at = at
        self.candidates = candidates
        self.fits = fits
        self.prices = prices
        self.quotas = quotas
        self.topK = topK
        self.returnLists = returnLists
    }
}

/// One fit's choices on a shard: how many users chose each candidate, the predicted reward of the choices, and the
/// shard's part of the Lagrangian dual bound. Merged by adding (compensated sums), in shard order.
public struct PolicyDemand: SufficientStatistic, Equatable {
    /// [C] users choosing each candidate at position 1.
    public var demand: [Double]
    /// Σ_u S[u, a(u)]: predicted reward of the choices.
    public var value: CompensatedSum
    /// Σ_u max_a (S[u, a] − λ_a).
    public var maxima: CompensatedSum
    /// Users U.
    public var users: Int

    public init(demand: [Double], value: CompensatedSum = .init(), maxima: CompensatedSum = .init(), users: Int = 0) {
        self.demand = demand
        self.value = value
        self.maxima = maxima
        self.users = users
    }

    public static func empty(like other: PolicyDemand) -> PolicyDemand {
        PolicyDemand(demand: [Double](repeating: 0, count: other.demand.count))
    }

    public mutating func merge(_ other: PolicyDemand) {
        precondition(other.demand.count == demand.count, "merge: \(other.demand.count) candidates, \(demand.count)")
        guard other.users > 0 else { return }
        for a in demand.indices { demand[a] += other.demand[a] }
        value.merge(other.value)
        maxima.merge(other.maxima)
        users += other.users
    }
}

/// A shard's answer: per served fit its `PolicyDemand`, and (assign, when asked) its users' lists of fit 0.
public struct LearnAnswer: Sendable, Equatable {
    /// Per served fit, the shard's demand and values.
    public var fits: [PolicyDemand]
    /// Per user (first-appearance order in the shard): the data-row index of its first row, its user-key fields,
    /// [k] catalogue indices, [k] predicted rewards.
    public var firstRows: [Int]
    public var userKeys: [[String]]
    public var lists: [[Int32]]
    public var scores: [[Double]]

    public init(
        fits: [PolicyDemand], firstRows: [Int] = [], userKeys: [[String]] = [], lists: [[Int32]] = [],
        scores: [[Double]] = []
    ) {
        self.fits = fits
        self.firstRows = firstRows
        self.userKeys = userKeys
        self.lists = lists
        self.scores = scores
    }
}

/// The greedy learner's round (`LearnRequest`). Rounds of `demand` find item prices under capacity; one `assign`
/// round makes the assignment and leaves every user's top-k list on the worker that owns the user.
public struct LearnRound: Round {
    public static let id = "learn"
    /// Per shard 0..<S (the quotas differ by shard in the assign phase).
    public var requests: [LearnRequest]
    public init(requests: [LearnRequest]) { self.requests = requests }
    public func request(shard: Int) -> LearnRequest { requests[shard] }
    public func accepts(_ s: LearnAnswer, shard: Int) -> Bool {
        let r = requests[shard]
        return s.fits.count == r.fits.count && s.fits.allSatisfy { $0.demand.count == r.candidates.count }
            && s.lists.count == s.firstRows.count && s.scores.count == s.lists.count
    }
    public static func compute(_ request: LearnRequest, shard: Int, in workspace: ShardWorkspace) throws
        -> LearnAnswer
    {
        try workspace.learn(try workspace.batch(of: shard), request)
    }
}

/// A shard's learned-policy state: its users, their scores per fit, and each learner's top-k lists per fit.
final class LearnedShard {
    /// Users in first-appearance order, and the batch position of each one's first row.
    var users: [UInt64] = []
    var firstRow: [Int] = []
    var index: [UInt64: Int] = [:]
    /// Per fit (by coefficient index): [users, C] row-major S, computed on first use.
    var scores: [Int: [Double]] = [:]
    /// Per learner, per fit: [users, k] catalogue indices.
    var lists: [Int: [Int: [Int32]]] = [:]
    /// Per learner: [users, k] predicted rewards of the listed items under the fit on all rows.
    var listScores: [Int: [Double]] = [:]
    /// The gradient learner: φ [users, C, J] for `phiColumns`, the training rows, and per learner and fit the softmax
    /// σ [users, C] over `candidates`.
    var phi: [Double] = []
    var phiColumns: [Int]? = nil
    var training: [TrainingRow]? = nil
    var sigma: [Int: [Int: [Double]]] = [:]
    var candidates: [Int32] = []
    /// The annealing learner: per learner and fit, each user's position-1 candidate index.
    var assignment: [Int: [Int: [Int]]] = [:]
    var topK = 0
}

extension ShardWorkspace {
    /// The learned lists of `learner` for the user of hash `user` under fit `fit`, [k] catalogue indices, or nil.
    func learnedList(shard: Int, learner: Int, fit: Int, user: UInt64) -> ArraySlice<Int32>? {
        guard let state = learned[shard], let u = state.index[user],
            let lists = state.lists[learner]?[fit] ?? state.lists[learner]?[0]
        else { return nil }
        return lists[(u * state.topK)..<((u + 1) * state.topK)]
    }

    /// The shard's learning state with the users listed and S computed for `fits`.
    /// A softmax learner's σ for the user of hash `user` under fit `fit` (fit 0 when that fit has none), [C], and the
    /// candidates it is over; nil for a learner without σ (greedy).
    func learnedSoftmax(shard: Int, learner: Int, fit: Int, user: UInt64) -> (ArraySlice<Double>, [Int32])? {
        guard let state = learned[shard], let u = state.index[user],
            let sigma = state.sigma[learner]?[fit] ?? state.sigma[learner]?[0]
        else { return nil }
        let c = state.candidates.count
        return (sigma[(u * c)..<((u + 1) * c)], state.candidates)
    }

    func prepareLearning(_ data: RowBatch, _ r: LearnRequest, fits: [Int]) throws -> LearnedShard {
        let b = try broadcast(OffPolicyBroadcast.self)
        let state = learned[data.shard] ?? LearnedShard()
        learned[data.shard] = state
        if state.users.isEmpty {
            for i in 0..<data.count where state.index[data.userHash[i]] == nil {
                state.index[data.userHash[i]] = state.users.count
                state.users.append(data.userHash[i])
                state.firstRow.append(i)
            }
        }
        let c = r.candidates.count
        let u = state.users.count
        // Scores S[u, a] = q̂ of the user's context (its first row, log-only columns at `policy.at`), per fit.
        for f in fits where state.scores[f] == nil {
            let s = try learningScorer(data, r, b)
            let contexts = try state.firstRow.map { try userContext(s, data, r, row: $0) }
            // Users × items by matrix products when the model splits into user and item sides; else pair by pair.
            if let matrix = try s.scoreMatrix(
                contexts: contexts, rows: state.firstRow, users: state.users, fit: f, candidates: r.candidates)
            {
                state.scores[f] = matrix
                continue
            }
            var matrix = [Double](repeating: 0, count: u * c)
            var q = [Double](repeating: 0, count: b.catalogue.count)
            for user in 0..<u {
                let i = state.firstRow[user]
                try s.score(base: contexts[user], fit: f, row: i, into: &q)
                for (j, a) in r.candidates.enumerated() { matrix[user * c + j] = q[Int(a)] }
            }
            state.scores[f] = matrix
        }
        return state
    }

    /// A scorer for the learning rounds (the off-policy round's, without cross-fitting).
    func learningScorer(_ data: RowBatch, _ r: LearnRequest, _ b: OffPolicyBroadcast) throws -> CandidateScorer {
        let offRequest = OffPolicyRequest(
            link: r.link, coefficients: r.coefficients, crossFit: false, schema: r.schema, exportPredictions: false)
        return try CandidateScorer(self, data, offRequest, b)
    }

    /// A user's context for scoring new pairs: the factor values of row `i` (their first row) with the `policy.at`
    /// values in place of the log-only columns.
    func userContext(_ s: CandidateScorer, _ data: RowBatch, _ r: LearnRequest, row i: Int) throws -> [FactorValue] {
        var base = [FactorValue](repeating: .number(0), count: s.reader.reads.count)
        try s.reader.values(i, of: data, into: &base)
        let info = Dictionary(uniqueKeysWithValues: r.schema.map { ($0.name, $0.info) })
        for (k, name) in s.reader.names.enumerated() {
            guard let text = r.at[name] else { continue }
            if info[name]?.isNumeric ?? true {
                guard let v = Cell.number(text) else {
                    let why = "policy.at gives '\(text)' for the numeric column \(name)"
                    throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: why)
                }
                base[k] = .number(v)
            } else {
                base[k] = .string(text)
            }
        }
        return base
    }

    func learn(_ data: RowBatch, _ r: LearnRequest) throws -> LearnAnswer {
        let state = try prepareLearning(data, r, fits: r.fits)
        let c = r.candidates.count
        let u = state.users.count
        var answers: [PolicyDemand] = []
        var lists: [[Int32]] = []
        var listScores: [[Double]] = []
        for (slot, f) in r.fits.enumerated() {
            let s = state.scores[f]!
            let prices = r.prices.isEmpty || r.prices[slot].isEmpty ? [Double](repeating: 0, count: c) : r.prices[slot]
            // Each user's best candidate at the prices (lowest index on ties), its margin over the second best.
            var best = [Int](repeating: 0, count: u)
            var margin = [Double](repeating: 0, count: u)
            var demand = PolicyDemand(demand: [Double](repeating: 0, count: c), users: u)
            for user in 0..<u {
                var top = -Double.infinity
                var second = -Double.infinity
                var arg = 0
                for a in 0..<c {
                    let v = s[user * c + a] - prices[a]
                    if v > top {
                        second = top
                        top = v
                        arg = a
                    } else if v > second {
                        second = v
                    }
                }
                best[user] = arg
                margin[user] = c > 1 ? top - second : 0
                demand.maxima.add(top)
            }
            var choice = best
            if r.phase == .assign, slot < r.quotas.count, !r.quotas[slot].isEmpty {
                // Users with the most to lose choose first (ties: user order); each takes its best item with room.
                var room = r.quotas[slot]
                let order = (0..<u).sorted { margin[$0] != margin[$1] ? margin[$0] > margin[$1] : $0 < $1 }
                for user in order {
                    if room[best[user]] > 0 {
                        choice[user] = best[user]
                    } else {
                        var pick = -1
                        var top = -Double.infinity
                        for a in 0..<c where room[a] > 0 {
                            let v = s[user * c + a] - prices[a]
                            if v > top {
                                top = v
                                pick = a
                            }
                        }
                        guard pick >= 0 else {
                            let why = "internal: the quotas of shard \(data.shard) leave no item for a user"
                            throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: why, isInternal: true)
                        }
                        choice[user] = pick
                    }
                    room[choice[user]] -= 1
                }
            }
            for user in 0..<u {
                demand.demand[choice[user]] += 1
                demand.value.add(s[user * c + choice[user]])
            }
            answers.append(demand)
            guard r.phase == .assign else { continue }
            // Top-k lists: the assigned item, then the best others by predicted reward (lowest index on ties).
            let k = min(r.topK, c)
            var kept = [Int32](repeating: 0, count: u * r.topK)
            var keptScores = [Double](repeating: 0, count: u * r.topK)
            for user in 0..<u {
                var others = (0..<c).filter { $0 != choice[user] }
                others.sort { s[user * c + $0] != s[user * c + $1] ? s[user * c + $0] > s[user * c + $1] : $0 < $1 }
                let list = [choice[user]] + others.prefix(k - 1)
                for (j, a) in list.enumerated() {
                    kept[user * r.topK + j] = r.candidates[a]
                    keptScores[user * r.topK + j] = s[user * c + a]
                }
                // A catalogue smaller than top_k repeats the last item's slot as "none" (−1).
                for j in list.count..<r.topK { kept[user * r.topK + j] = -1 }
                if f == 0, r.returnLists {
                    lists.append(list.map { r.candidates[$0] })
                    listScores.append(list.map { s[user * c + $0] })
                }
            }
            state.topK = r.topK
            state.lists[r.learner, default: [:]][f] = kept
            if f == 0 { state.listScores[r.learner] = keptScores }
        }
        guard r.phase == .assign, r.returnLists else { return LearnAnswer(fits: answers) }
        let keySlots = plan.userKey.map { plan.columns.firstIndex(of: $0) }
        let width = plan.columns.count
        return LearnAnswer(
            fits: answers, firstRows: state.firstRow.map { data.rowIndex[$0] },
            userKeys: state.firstRow.map { i in keySlots.map { $0.map { data.fields[i * width + $0] } ?? "" } },
            lists: lists, scores: listScores)
    }
}
