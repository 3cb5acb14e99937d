import Causal
import Statistics

/// The annealing learner's round: each shard applies the moves the coordinator accepted in the last round, then
/// proposes new ones (a random user of the shard and a random other candidate, from a generator seeded by the seed,
/// shard, round and fit); the coordinator accepts them one by one, in shard order, by the Metropolis rule, keeping the
/// capacity and the budget after every accepted move. The last round applies the moves and keeps the top-k lists.
public struct AnnealRequest: Sendable, Equatable {
    /// The learning request (reward model, `at`, candidates, learner, top_k, fits served).
    public var base: LearnRequest
    /// The round (1-based).
    public var round: Int
    /// `policy.seed`: with the shard, round and fit it seeds each shard's proposals.
    public var seed: UInt64
    /// Proposals per shard and fit.
    public var proposals: Int
    /// Per served fit: this shard's accepted moves of the last round, as (user index in the shard, candidate index).
    public var moves: [[Int32]]
    /// Apply the moves and keep the lists; no proposals.
    public var finish: Bool
    /// Score moves by the doubly robust value of the assignment on each fit's training rows instead of the predicted
    /// reward (`policy.objective = "dr"`).
    public var doublyRobust: Bool

    public init(
        base: LearnRequest, round: Int, seed: UInt64, proposals: Int, moves: [[Int32]], finish: Bool,
        doublyRobust: Bool = false
    ) {
        self.base = base
        self.round = round
        self.seed = seed
        self.proposals = proposals
        self.moves = moves
        self.finish = finish
        self.doublyRobust = doublyRobust
    }
}

/// A shard's proposals for one fit: users, their current and proposed candidates, and the change of predicted reward.
public struct AnnealProposals: Sendable, Equatable {
    /// [m] user indices in the shard's first-appearance order.
    public var users: [Int32]
    /// [m] the users' current and proposed candidate indices.
    public var from: [Int32]
    public var to: [Int32]
    /// [m] the change of the objective (predicted reward, or DR value) if the move is made.
    public var delta: [Double]
    public init(users: [Int32] = [], from: [Int32] = [], to: [Int32] = [], delta: [Double] = []) {
        self.users = users
        self.from = from
        self.to = to
        self.delta = delta
    }
}

/// A shard's answer to an annealing round.
public struct AnnealAnswer: Sendable, Equatable {
    /// Per served fit, the shard's proposals (none in the last round).
    public var fits: [AnnealProposals]
    /// With `finish` and `base.returnLists`: fit 0's users and lists.
    public var lists: LearnAnswer
    public init(fits: [AnnealProposals], lists: LearnAnswer) {
        self.fits = fits
        self.lists = lists
    }
}

/// The annealing learner's round (`AnnealRequest`), one request per shard (each carries its own accepted moves).
public struct AnnealRound: Round {
    public static let id = "anneal"
    /// Per shard 0..<S.
    public var requests: [AnnealRequest]
    public init(requests: [AnnealRequest]) { self.requests = requests }
    public func request(shard: Int) -> AnnealRequest { requests[shard] }
    public func accepts(_ s: AnnealAnswer, shard: Int) -> Bool {
        s.fits.count == (requests[shard].finish ? 0 : requests[shard].base.fits.count)
            && s.fits.allSatisfy { $0.users.count == $0.from.count && $0.to.count == $0.delta.count }
    }
    public static func compute(_ request: AnnealRequest, shard: Int, in workspace: ShardWorkspace) throws
        -> AnnealAnswer
    {
        try workspace.anneal(try workspace.batch(of: shard), request)
    }
}

extension ShardWorkspace {
    func anneal(_ data: RowBatch, _ r: AnnealRequest) throws -> AnnealAnswer {
        let base = r.base
        let state = try prepareLearning(data, base, fits: base.fits)
        let c = base.candidates.count
        let u = state.users.count
        let candidateIndex = Dictionary(uniqueKeysWithValues: base.candidates.enumerated().map { ($1, $0) })
        var answers: [AnnealProposals] = []
        for (slot, f) in base.fits.enumerated() {
            // The assignment starts from the greedy lists this learner's index holds (their first items).
            var assignment = state.assignment[base.learner]?[f] ?? []
            if assignment.isEmpty {
                guard let lists = state.lists[base.learner]?[f] else {
                    if u == 0 {
                        answers.append(AnnealProposals())
                        continue
                    }
                    let why = "internal: annealing without a starting assignment on shard \(data.shard)"
                    throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: why, isInternal: true)
                }
                assignment = (0..<u).map { candidateIndex[lists[$0 * state.topK]] ?? 0 }
            }
            if slot < r.moves.count {
                let moves = r.moves[slot]
                var m = 0
                while m + 1 < moves.count {
                    assignment[Int(moves[m])] = Int(moves[m + 1])
                    m += 2
                }
            }
            state.assignment[base.learner, default: [:]][f] = assignment
            guard !r.finish else { continue }
            let s = state.scores[f]!
            // The DR objective of a deterministic assignment: per user, n_u·S(u, a) plus Σ over its training rows that
            // logged a of (r − S(u, a)) / p; a move's Δ is the change of that sum (rows of fold k are out of fit k + 1).
            var rowsOf: [[TrainingRow]] = []
            if r.doublyRobust {
                let b = try broadcast(OffPolicyBroadcast.self)
                if state.training == nil {
                    state.training = try trainingRows(data, state: state, candidates: base.candidates, b)
                }
                rowsOf = [[TrainingRow]](repeating: [], count: u)
                for row in state.training! where f == 0 || row.fold != f - 1 { rowsOf[row.user].append(row) }
            }
            func value(_ user: Int, _ a: Int) -> Double {
                guard r.doublyRobust else { return s[user * c + a] }
                let q = s[user * c + a]
                var v = Double(rowsOf[user].count) * q
                for row in rowsOf[user] where row.candidate == a { v += (row.reward - q) / row.propensity }
                return v
            }
            var generator = Xoshiro256(
                seed: r.seed,
                stream: UserKey.hash(["anneal", String(data.shard), String(r.round), String(f)]))
            var p = AnnealProposals()
            for _ in 0..<(u == 0 || c < 2 ? 0 : r.proposals) {
                let user = generator.index(u)
                let current = assignment[user]
                var to = generator.index(c - 1)
                if to >= current { to += 1 }
                p.users.append(Int32(user))
                p.from.append(Int32(current))
                p.to.append(Int32(to))
                p.delta.append(value(user, to) - value(user, current))
            }
            answers.append(p)
        }
        guard r.finish else { return AnnealAnswer(fits: answers, lists: LearnAnswer(fits: [])) }
        // Keep the lists: the assigned item, then the best others by predicted reward (lowest index on ties).
        var lists: [[Int32]] = []
        var listScores: [[Double]] = []
        for f in base.fits {
            let s = state.scores[f]!
            let assignment = state.assignment[base.learner]![f]!
            let k = min(base.topK, c)
            var kept = [Int32](repeating: -1, count: u * base.topK)
            var keptScores = [Double](repeating: 0, count: u * base.topK)
            for user in 0..<u {
                var others = (0..<c).filter { $0 != assignment[user] }
                others.sort { s[user * c + $0] != s[user * c + $1] ? s[user * c + $0] > s[user * c + $1] : $0 < $1 }
                let list = [assignment[user]] + others.prefix(k - 1)
                for (j, a) in list.enumerated() {
                    kept[user * base.topK + j] = base.candidates[a]
                    keptScores[user * base.topK + j] = s[user * c + a]
                }
                if f == 0, base.returnLists {
                    lists.append(list.map { base.candidates[$0] })
                    listScores.append(list.map { s[user * c + $0] })
                }
            }
            state.topK = base.topK
            state.lists[base.learner, default: [:]][f] = kept
            if f == 0 { state.listScores[base.learner] = keptScores }
        }
        guard base.returnLists else { return AnnealAnswer(fits: [], lists: LearnAnswer(fits: [])) }
        let keySlots = plan.userKey.map { plan.columns.firstIndex(of: $0) }
        let width = plan.columns.count
        return AnnealAnswer(
            fits: [],
            lists: LearnAnswer(
                fits: [], firstRows: state.firstRow.map { data.rowIndex[$0] },
                userKeys: state.firstRow.map { i in keySlots.map { $0.map { data.fields[i * width + $0] } ?? "" } },
                lists: lists, scores: listScores))
    }
}
