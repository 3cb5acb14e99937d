import Causal
import Foundation
import Statistics
import Tabular

/// The gradient learner's round: a softmax policy σ_θ(a | u) ∝ exp(θᵀφ(u, a)) over the design's item-dependent
/// columns φ, valued by the doubly robust objective on each fit's training rows; each shard returns the objective and
/// its gradient in θ, merged in shard order; the coordinator takes an Adam step.
public struct GradientRequest: Sendable, Equatable {
    /// The reward model, schema, `at`, candidates, learner, top_k and the fits served (`fits`).
    public var base: LearnRequest
    /// The design columns of φ (J of them), ascending.
    public var columns: [Int]
    /// Per served fit: θ, [J].
    public var thetas: [[Double]]
    /// Keep θ, σ and the top-k lists on the worker (the last round), and return fit 0's lists.
    public var keep: Bool

    public init(base: LearnRequest, columns: [Int], thetas: [[Double]], keep: Bool) {
        self.base = base
        self.columns = columns
        self.thetas = thetas
        self.keep = keep
    }
}

/// One fit's doubly robust objective of σ_θ on a shard's training rows and its gradient.
///
/// With q(u, a) the reward model's score, row i of user u with logged candidate a_i, propensity p_i, reward r_i:
/// V_i = Σ_a σ_a q_a + σ_{a_i} (r_i − q_{a_i}) / p_i, and ∂V_i/∂θ = Σ_a σ_a (φ_a − φ̄) q_a +
/// σ_{a_i} (φ_{a_i} − φ̄)(r_i − q_{a_i}) / p_i with φ̄ = Σ_b σ_b φ_b (a logged item outside the candidates adds no
/// correction). Source: Dudík, Langford & Li (2011) for the DR value; the softmax policy gradient as in Swaminathan &
/// Joachims (2015), "Counterfactual risk minimization".
public struct PolicyGradient: SufficientStatistic, Equatable {
    /// Σ_i V_i over the shard's training rows of the fit.
    public var value: CompensatedSum
    /// [J] Σ_i ∂V_i/∂θ.
    public var gradient: [Double]
    /// Training rows summed.
    public var rows: Int

    public init(value: CompensatedSum = .init(), gradient: [Double], rows: Int = 0) {
        self.value = value
        self.gradient = gradient
        self.rows = rows
    }

    public static func empty(like other: PolicyGradient) -> PolicyGradient {
        PolicyGradient(gradient: [Double](repeating: 0, count: other.gradient.count))
    }

    public mutating func merge(_ other: PolicyGradient) {
        precondition(
            other.gradient.count == gradient.count, "merge: gradients of \(other.gradient.count), \(gradient.count)")
        guard other.rows > 0 else { return }
        value.merge(other.value)
        for j in gradient.indices { gradient[j] += other.gradient[j] }
        rows += other.rows
    }
}

/// A shard's answer: per served fit its `PolicyGradient`; with `keep`, fit 0's users and lists as `LearnAnswer`.
public struct GradientAnswer: Sendable, Equatable {
    /// Per served fit, the objective and its gradient.
    public var fits: [PolicyGradient]
    /// With `keep`: fit 0's users and top-k lists.
    public var lists: LearnAnswer
    /// With `keep`: per user, σ of the listed items (fit 0).
    public var probabilities: [[Double]]
    /// With `keep`: Σ_u σ(a | u) over the shard's users per candidate (fit 0), as catalogue indices and sums.
    public var massItems: [Int32]
    public var mass: [Double]

    public init(
        fits: [PolicyGradient], lists: LearnAnswer, probabilities: [[Double]], massItems: [Int32] = [],
        mass: [Double] = []
    ) {
        self.fits = fits
        self.lists = lists
        self.probabilities = probabilities
        self.massItems = massItems
        self.mass = mass
    }
}

/// The gradient learner's round (`GradientRequest`), the same request for every shard.
public struct GradientRound: Round {
    public static let id = "gradient"
    /// Sent to every shard.
    public var request: GradientRequest
    public init(request: GradientRequest) { self.request = request }
    public func request(shard: Int) -> GradientRequest { request }
    public func accepts(_ s: GradientAnswer, shard: Int) -> Bool {
        s.fits.count == request.base.fits.count && s.fits.allSatisfy { $0.gradient.count == request.columns.count }
            && s.probabilities.count == s.lists.lists.count
    }
    public static func compute(_ request: GradientRequest, shard: Int, in workspace: ShardWorkspace) throws
        -> GradientAnswer
    {
        try workspace.gradient(try workspace.batch(of: shard), request)
    }
}

/// A training row of the gradient learner.
struct TrainingRow {
    var user: Int
    /// The logged item's candidate index, or −1.
    var candidate: Int
    var propensity: Double
    var reward: Double
    var fold: Int
}

extension ShardWorkspace {
    /// σ over the candidates for each user from θ and φ, [users, C].
    static func softmax(theta: [Double], phi: [Double], users: Int, candidates c: Int) -> [Double] {
        let j = theta.count
        var out = [Double](repeating: 0, count: users * c)
        for u in 0..<users {
            var top = -Double.infinity
            for a in 0..<c {
                var z = 0.0
                let base = (u * c + a) * j
                for k in 0..<j { z += theta[k] * phi[base + k] }
                out[u * c + a] = z
                top = max(top, z)
            }
            var total = 0.0
            for a in 0..<c {
                let e = Foundation.exp(out[u * c + a] - top)
                out[u * c + a] = e
                total += e
            }
            for a in 0..<c { out[u * c + a] /= total }
        }
        return out
    }

    func gradient(_ data: RowBatch, _ r: GradientRequest) throws -> GradientAnswer {
        let base = r.base
        let state = try prepareLearning(data, base, fits: base.fits)
        let b = try broadcast(OffPolicyBroadcast.self)
        let c = base.candidates.count
        let u = state.users.count
        let j = r.columns.count
        // φ(u, a): the item-dependent design columns of each user's context with each candidate, once per shard.
        if state.phiColumns != r.columns {
            let s = try learningScorer(data, base, b)
            var phi = [Double](repeating: 0, count: u * c * j)
            for user in 0..<u {
                let i = state.firstRow[user]
                var slot = 0
                try s.fillCandidates(base: try userContext(s, data, base, row: i), row: i, items: base.candidates) {
                    _, row in
                    for (k, col) in r.columns.enumerated() { phi[(user * c + slot) * j + k] = row[col] }
                    slot += 1
                }
            }
            state.phi = phi
            state.phiColumns = r.columns
        }
        if state.training == nil {
            state.training = try trainingRows(data, state: state, candidates: base.candidates, b)
        }
        let rows = state.training!
        let phi = state.phi
        var answers: [PolicyGradient] = []
        for (slot, f) in base.fits.enumerated() {
            let theta = r.thetas[slot]
            let s = state.scores[f]!
            let sigma = Self.softmax(theta: theta, phi: phi, users: u, candidates: c)
            // Per user: DM value Σ σ q, φ̄, and the DM gradient Σ σ (φ − φ̄) q.
            var dm = [Double](repeating: 0, count: u)
            var mean = [Double](repeating: 0, count: u * j)
            var dmGradient = [Double](repeating: 0, count: u * j)
            for user in 0..<u {
                for a in 0..<c {
                    let w = sigma[user * c + a]
                    dm[user] += w * s[user * c + a]
                    for k in 0..<j { mean[user * j + k] += w * phi[(user * c + a) * j + k] }
                }
                for a in 0..<c {
                    let w = sigma[user * c + a] * s[user * c + a]
                    for k in 0..<j {
                        dmGradient[user * j + k] += w * (phi[(user * c + a) * j + k] - mean[user * j + k])
                    }
                }
            }
            var g = PolicyGradient(gradient: [Double](repeating: 0, count: j))
            for row in rows where f == 0 || row.fold != f - 1 {
                let user = row.user
                var v = dm[user]
                for k in 0..<j { g.gradient[k] += dmGradient[user * j + k] }
                if row.candidate >= 0 {
                    let a = row.candidate
                    let correction = (row.reward - s[user * c + a]) / row.propensity
                    let w = sigma[user * c + a]
                    v += w * correction
                    for k in 0..<j {
                        g.gradient[k] += w * (phi[(user * c + a) * j + k] - mean[user * j + k]) * correction
                    }
                }
                g.value.add(v)
                g.rows += 1
            }
            answers.append(g)
            guard r.keep else { continue }
            // Keep σ and the top-k lists (by σ, lowest index on ties) for the off-policy round and deployment.
            let k = min(base.topK, c)
            var kept = [Int32](repeating: -1, count: u * base.topK)
            var keptScores = [Double](repeating: 0, count: u * base.topK)
            for user in 0..<u {
                let order = (0..<c).sorted {
                    sigma[user * c + $0] != sigma[user * c + $1] ? sigma[user * c + $0] > sigma[user * c + $1] : $0 < $1
                }
                for (rank, a) in order.prefix(k).enumerated() {
                    kept[user * base.topK + rank] = base.candidates[a]
                    keptScores[user * base.topK + rank] = s[user * c + a]
                }
            }
            state.topK = base.topK
            state.lists[base.learner, default: [:]][f] = kept
            state.sigma[base.learner, default: [:]][f] = sigma
            state.candidates = base.candidates
            if f == 0 { state.listScores[base.learner] = keptScores }
        }
        guard r.keep, base.returnLists, let kept = state.lists[base.learner]?[0],
            let sigma = state.sigma[base.learner]?[0]
        else { return GradientAnswer(fits: answers, lists: LearnAnswer(fits: []), probabilities: []) }
        let keySlots = plan.userKey.map { plan.columns.firstIndex(of: $0) }
        let width = plan.columns.count
        let k = base.topK
        let candidateIndex = Dictionary(uniqueKeysWithValues: base.candidates.enumerated().map { ($1, $0) })
        var lists: [[Int32]] = []
        var scores: [[Double]] = []
        var probabilities: [[Double]] = []
        let listScores = state.listScores[base.learner] ?? []
        for user in 0..<u {
            let items = Array(kept[(user * k)..<((user + 1) * k)])
            lists.append(items)
            scores.append(Array(listScores[(user * k)..<((user + 1) * k)]))
            // σ of the listed items; π at position 1 is (1 − ε)σ + ε/|A| (the coordinator applies ε).
            probabilities.append(items.map { $0 < 0 ? 0 : sigma[user * c + candidateIndex[$0]!] })
        }
        let answerLists = LearnAnswer(
            fits: [], firstRows: state.firstRow.map { data.rowIndex[$0] },
            userKeys: state.firstRow.map { i in keySlots.map { $0.map { data.fields[i * width + $0] } ?? "" } },
            lists: lists, scores: scores)
        var mass = [Double](repeating: 0, count: c)
        for user in 0..<u { for a in 0..<c { mass[a] += sigma[user * c + a] } }
        return GradientAnswer(
            fits: answers, lists: answerLists, probabilities: probabilities, massItems: base.candidates, mass: mass)
    }

    /// The shard's rows the policy is trained on: valued positions, with their user, logged candidate, propensity,
    /// reward and fold. Propensities and rewards are checked as the off-policy round checks them.
    func trainingRows(_ data: RowBatch, state: LearnedShard, candidates: [Int32], _ b: OffPolicyBroadcast) throws
        -> [TrainingRow]
    {
        let c = plan.columns.count
        func slot(_ name: String) -> Int { plan.columns.firstIndex(of: name)! }
        let action = slot(b.action)
        let propensity = slot(b.propensity)
        let reward = slot(b.reward)
        let position = b.position.map(slot)
        let allowed = b.positions.map(Set.init)
        let catalogue = Dictionary(uniqueKeysWithValues: b.catalogue.enumerated().map { ($1, $0) })
        let candidate = Dictionary(uniqueKeysWithValues: candidates.enumerated().map { (Int($1), $0) })
        var out: [TrainingRow] = []
        for i in 0..<data.count {
            func fail(_ s: Int, _ message: String) -> ShardFailure {
                ShardFailure(
                    rowIndex: data.rowIndex[i], line: data.line[i], column: plan.columnNumbers[s], message: message)
            }
            if let position, let allowed {
                guard let v = Cell.number(data.fields[i * c + position]), allowed.contains(Int(v)) else { continue }
            }
            guard let p = Cell.number(data.fields[i * c + propensity]), LoggedPropensity.problem(p) == nil else {
                throw fail(propensity, "the propensity '\(data.fields[i * c + propensity])' is not a number in (0, 1]")
            }
            guard let r = Cell.number(data.fields[i * c + reward]), r.isFinite else {
                throw fail(reward, "the reward '\(data.fields[i * c + reward])' is not a number")
            }
            let item = catalogue[data.fields[i * c + action]].flatMap { candidate[$0] } ?? -1
            let fold =
                plan.folds > 0
                ? UserKey.fold(rowIndex: data.rowIndex[i], hash: data.userHash[i], folds: plan.folds, by: plan.foldBy)
                : 0
            out.append(
                TrainingRow(
                    user: state.index[data.userHash[i]]!, candidate: item, propensity: p, reward: r, fold: fold))
        }
        return out
    }
}
