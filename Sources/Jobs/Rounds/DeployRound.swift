/// The deployed policy a worker serves for the users of its shards (`causa recommend`), kept after the job that
/// learned it until a later policy job replaces it.
public struct Deployment: Sendable, Equatable {
    /// One user's list: item keys in rank order and their predicted rewards.
    public struct Entry: Sendable, Equatable {
        public var items: [String]
        public var predictedRewards: [Double]
        /// π(item | user) at position 1 of the listed items, for a softmax policy (nil: the greedy form).
        public var probabilities: [Double]? = nil
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

    /// The answer for a user: (items, π at position 1, predicted rewards, whether the user is known), at most `top`
    /// items.
    public func recommend(user: UInt64, shard: Int, top: Int) -> (
        items: [String], probabilities: [Double], rewards: [Double], known: Bool
    ) {
        if let e = shards[shard]?[user] {
            let n = min(top, e.items.count)
            let p = e.probabilities.map { Array($0.prefix(n)) } ?? (0..<n).map { probability(rank: $0) }
            return (Array(e.items.prefix(n)), p, Array(e.predictedRewards.prefix(n)), true)
        }
        let n = min(top, fallback.count)
        return (
            Array(fallback.prefix(n)), (0..<n).map { probability(rank: $0) }, [Double](repeating: .nan, count: n), false
        )
    }
}

/// The deploy round's request: which learner's lists become the served policy.
public struct DeployRequest: Sendable, Equatable {
    public var learner: Int
    public var version: String
    public var epsilon: Double
    /// Catalogue indices of the fallback list.
    public var fallback: [Int32]
    public init(learner: Int, version: String, epsilon: Double, fallback: [Int32]) {
        self.learner = learner
        self.version = version
        self.epsilon = epsilon
        self.fallback = fallback
    }
}

/// The last round of a policy job: each shard turns the deployed learner's lists (fit on all rows) into its part of
/// the served policy (`ShardWorkspace.deployment`), which the worker keeps after the job. Answers its user count.
public struct DeployRound: Round {
    public static let id = "deploy"
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
        var users: [UInt64: Deployment.Entry] = [:]
        for (u, hash) in state.users.enumerated() {
            var items: [String] = []
            var rewards: [Double] = []
            var probabilities: [Double] = []
            for j in 0..<k where lists[u * k + j] >= 0 {
                items.append(b.catalogue[Int(lists[u * k + j])])
                rewards.append(scores[u * k + j])
                if let sigma, let a = candidateIndex[lists[u * k + j]] {
                    probabilities.append((1 - request.epsilon) * sigma[u * c + a] + spread)
                }
            }
            users[hash] = .init(
                items: items, predictedRewards: rewards, probabilities: sigma == nil ? nil : probabilities)
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
