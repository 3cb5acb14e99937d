import Foundation

/// The deployed policy a worker serves for the users of its shards (`causa recommend`), kept after the job that
/// learned it until a later policy job replaces it.
public struct Deployment: Sendable, Equatable, Codable {
    /// One user's list: item keys in rank order and their predicted rewards.
    public struct Entry: Sendable, Equatable, Codable {
        /// Item keys in rank order.
        public var items: [String]
        /// The reward model's prediction per listed item (fit on all rows).
        public var predictedRewards: [Double]
        /// π(item | user) at position 1 of the listed items, for a softmax policy (nil: the greedy form).
        public var probabilities: [Double]? = nil
        /// Per listed item, the model's largest contributions for this user and item relative to the average
        /// candidate, e.g. "affinity +0.84, user_pc2:item_pc2 +0.31 (log-odds vs the average item)".
        public var explanations: [String] = []
    }
    /// Names the policy: the job's id and the hash of the job.
    public var version: String
    /// ε and |A|: π(item | user) at position 1 is 1 − ε + ε/|A| for the first item, ε/|A| for the others.
    public var epsilon: Double
    public var catalogueSize: Int
    /// The answer for a user with no history: the items most often ranked first by the policy (ties: catalogue
    /// order), with no predicted reward (NaN).
    public var fallback: [String]
    /// Per shard, per user-key hash, the user's list.
    public var shards: [Int: [UInt64: Entry]]

    public init(
        version: String, epsilon: Double, catalogueSize: Int, fallback: [String], shards: [Int: [UInt64: Entry]]
    ) {
        self.version = version
        self.epsilon = epsilon
        self.catalogueSize = catalogueSize
        self.fallback = fallback
        self.shards = shards
    }

    /// π(item at rank j | user) at position 1 (j 0-based).
    public func probability(rank j: Int) -> Double {
        let spread = epsilon / Double(catalogueSize)
        return j == 0 ? 1 - epsilon + spread : spread
    }

    /// The answer for a user: (items, π at position 1, predicted rewards, explanations, whether the user is known),
    /// at most `top` items.
    public func recommend(user: UInt64, shard: Int, top: Int) -> (
        items: [String], probabilities: [Double], rewards: [Double], explanations: [String], known: Bool
    ) {
        if let e = shards[shard]?[user] {
            let n = min(top, e.items.count)
            let p = e.probabilities.map { Array($0.prefix(n)) } ?? (0..<n).map { probability(rank: $0) }
            return (
                Array(e.items.prefix(n)), p, Array(e.predictedRewards.prefix(n)), Array(e.explanations.prefix(n)), true
            )
        }
        let n = min(top, fallback.count)
        return (
            Array(fallback.prefix(n)), (0..<n).map { probability(rank: $0) }, [Double](repeating: .nan, count: n),
            [String](repeating: "a user with no history: the items the policy most often ranks first", count: n), false
        )
    }

    /// The explanation of one (user, item): the design columns whose β·(x(u, a) − mean over candidates of x(u, ·))
    /// are largest in size, at most `count`, on the scale of the linear predictor.
    /// - Parameters:
    ///   - row: [p] the item's design row; mean: [p] the mean row over candidates; beta: [p]; names: [p].
    public static func explanation(
        row: [Double], mean: [Double], beta: [Double], names: [String], logit: Bool, count: Int = 3
    ) -> String {
        var all: [(j: Int, v: Double)] = []
        for j in row.indices {
            let v: Double = beta[j] * (row[j] - mean[j])
            if v != 0, v.isFinite { all.append((j, v)) }
        }
        all.sort { a, b in
            let (x, y) = (Swift.abs(a.v), Swift.abs(b.v))
            return x != y ? x > y : a.j < b.j
        }
        let parts = all.prefix(count)
        let scale = logit ? "log-odds" : "predicted reward"
        guard !parts.isEmpty else { return "no term of the model separates this item from the average item" }
        let text = parts.map { part -> String in
            let sign = part.v >= 0 ? "+" : "−"
            return "\(names[part.j]) \(sign)\(String(format: "%.3g", Swift.abs(part.v)))"
        }
        return text.joined(separator: ", ") + " (\(scale) vs the average item)"
    }
}

/// The deploy round's request: which learner's lists become the served policy.
public struct DeployRequest: Sendable, Equatable {
    /// Index into `policy.learners` of the deployed learner.
    public var learner: Int
    /// The policy version (report `policy.policy_version`).
    public var version: String
    /// ε of the deployed policy.
    public var epsilon: Double
    /// Catalogue indices of the fallback list.
    public var fallback: [Int32]
    /// The learning request (reward model of fit 0, schema, `at`, candidates), for the explanations.
    public var base: LearnRequest
    /// The design's column names, for the explanations.
    public var names: [String]
    public init(
        learner: Int, version: String, epsilon: Double, fallback: [Int32], base: LearnRequest, names: [String]
    ) {
        self.learner = learner
        self.version = version
        self.epsilon = epsilon
        self.fallback = fallback
        self.base = base
        self.names = names
    }
}

/// The last round of a policy job: each shard turns the deployed learner's lists (fit on all rows) into its part of
/// the served policy (`ShardWorkspace.deployment`), which the worker keeps after the job. Answers its user count.
public struct DeployRound: Round {
    public static let id = "deploy"
    /// Sent to every shard.
    public var request: DeployRequest
    /// Per shard: its users (from the summary round).
    public var users: [Int]
    public init(request: DeployRequest, users: [Int]) {
        self.request = request
        self.users = users
    }
    public func request(shard: Int) -> DeployRequest { request }
    public func accepts(_ statistic: RowCount, shard: Int) -> Bool { statistic.rows == users[shard] }
    public static func compute(_ request: DeployRequest, shard: Int, in workspace: ShardWorkspace) throws -> RowCount {
        let b = try workspace.broadcast(OffPolicyBroadcast.self)
        guard let state = workspace.learned[shard], let lists = state.lists[request.learner]?[0],
            let scores = state.listScores[request.learner], state.topK > 0
        else {
            if (workspace.rows[shard]?.count ?? 0) == 0 { return RowCount(rows: 0) }
            throw ShardFailure(
                rowIndex: 0, line: 0, column: nil, message: "internal: shard \(shard) has no learned lists to deploy",
                isInternal: true)
        }
        let k = state.topK
        let sigma = state.sigma[request.learner]?[0]
        let c = state.candidates.count
        let candidateIndex = Dictionary(uniqueKeysWithValues: state.candidates.enumerated().map { ($1, $0) })
        let spread = request.epsilon / Double(b.catalogue.count)
        // Explanations: each user's candidate design rows under the fit on all rows, against their mean.
        let base = request.base
        let data = try workspace.batch(of: shard)
        let scorer = try workspace.learningScorer(data, base, b)
        let beta = base.coefficients[0]
        let p = beta.count
        let listed = Dictionary(uniqueKeysWithValues: base.candidates.enumerated().map { ($1, $0) })
        var users: [UInt64: Deployment.Entry] = [:]
        for (u, hash) in state.users.enumerated() {
            let i = state.firstRow[u]
            var rows = [Double](repeating: 0, count: base.candidates.count * p)
            var slot = 0
            try scorer.fillCandidates(
                base: try workspace.userContext(scorer, data, base, row: i), row: i, items: base.candidates
            ) { _, row in
                for j in 0..<p { rows[slot * p + j] = row[j] }
                slot += 1
            }
            var mean = [Double](repeating: 0, count: p)
            for a in 0..<slot { for j in 0..<p { mean[j] += rows[a * p + j] } }
            for j in 0..<p { mean[j] /= Double(max(slot, 1)) }
            var items: [String] = []
            var rewards: [Double] = []
            var probabilities: [Double] = []
            var explanations: [String] = []
            for j in 0..<k where lists[u * k + j] >= 0 {
                items.append(b.catalogue[Int(lists[u * k + j])])
                rewards.append(scores[u * k + j])
                if let a = listed[lists[u * k + j]] {
                    explanations.append(
                        Deployment.explanation(
                            row: Array(rows[(a * p)..<((a + 1) * p)]), mean: mean, beta: beta, names: request.names,
                            logit: base.link == .logistic))
                }
                if let sigma, let a = candidateIndex[lists[u * k + j]] {
                    probabilities.append((1 - request.epsilon) * sigma[u * c + a] + spread)
                }
            }
            users[hash] = .init(
                items: items, predictedRewards: rewards, probabilities: sigma == nil ? nil : probabilities,
                explanations: explanations)
        }
        var d =
            workspace.deployment
            ?? Deployment(
                version: request.version, epsilon: request.epsilon, catalogueSize: b.catalogue.count,
                fallback: request.fallback.map { b.catalogue[Int($0)] }, shards: [:])
        d.shards[shard] = users
        workspace.deployment = d
        return RowCount(rows: state.users.count)
    }
}
