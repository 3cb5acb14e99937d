import Causal
import Foundation
import StableRandom
import Statistics
import Tabular

/// What the learners produced, before the off-policy round values them.
struct LearnedPolicies {
    struct Learner {
        var name: String
        /// Per fit (0: all rows; 1 + k: without fold k): mean predicted reward of the position-1 choices.
        var meanValue: Double
        /// Mean of the smallest Lagrangian dual bound seen (the LP bound), fit 0.
        var bound: Double
        /// Rounds of price search (demand rounds) for fit 0.
        var rounds: Int
        /// The largest expected share of position-1 impressions of an item, fit 0.
        var maxShare: Double
        /// With a budget: mean over users of Σ_a π(a|u)·cost(a) at position 1, fit 0.
        var meanCost: Double?
        /// Final item prices of fit 0 (zeros without capacity), and the budget's price μ.
        var prices: [Double]
        var budgetPrice: Double?
        /// Users' lists of fit 0, in data order of their first rows.
        var recommendations: [(keys: [String], items: [Int32], scores: [Double])]
        /// Softmax learners: per user, σ of the listed items (π at position 1 is (1 − ε)σ + ε/|A|); nil for greedy.
        var probabilities: [[Double]]? = nil
        /// Softmax learners: Adam steps of the fit on all rows, and whether its objective settled.
        var iterations: Int? = nil
        var converged: Bool? = nil
    }
    var learners: [Learner]
    var candidates: [Int32]
    var catalogue: [String]
    var users: Int
    var limit: Int?
    var reward: RewardModel
    /// How users × candidates were scored (matrix products, or pair by pair and why).
    var scoringNote: String = ""
}

/// The coordinator's side of policy learning (issue 12): the greedy learner's rounds, its outputs (policy.json,
/// recommendations.csv) and the report's `policy` section.
extension FitDriver {
    /// Most demand rounds of the price search.
    static let maximumPriceRounds = 200

    /// Learns every `policy.learners` policy for the full fit and (with `[cv]`) for each fold's fit, leaving each user's
    /// top-k list on the worker that owns the user.
    /// - Throws: `InputError` at `policy.capacity` when no assignment can respect it; `RunError` from the rounds.
    func learnPolicies(_ ope: OffPolicyPlan, designed: Designed, reward: RewardModel, executor: ShardExecutor)
        throws -> LearnedPolicies
    {
        let policy = job.policy!
        let catalogue = ope.broadcast.catalogue
        let index = Dictionary(uniqueKeysWithValues: catalogue.enumerated().map { ($1, $0) })
        let useLogged = (policy.candidates ?? (prepared.items == nil ? .logged : .items)) == .logged
        let candidates: [Int32] =
            useLogged
            ? designed.summary.itemKeys.compactMap { index[$0.key].map(Int32.init) }.sorted()
            : (0..<catalogue.count).map(Int32.init)
        let c = candidates.count
        let usersPerShard = designed.summaries.map(\.users)
        let users = usersPerShard.reduce(0, +)
        let coefficients = [reward.full] + reward.folds
        let fits = Array(coefficients.indices)
        var limit: Int? = nil
        if let share = policy.capacity {
            let n = CapacityAllocation.itemLimit(
                share: share, users: users, epsilon: policy.epsilon, catalogue: catalogue.count)
            guard n * c >= users else {
                throw job.policyError(
                    "capacity",
                    "no assignment respects capacity = \(share): with \(c) candidate items, ε = \(policy.epsilon) and \(users) users, each item may take at most \(n) users at position 1, \(n * c) in all"
                )
            }
            limit = n
        }
        // The budget: mean over users of Σ_a π(a|u)·cost(a) ≤ max_mean, i.e. the choices' mean cost ≤
        // (max_mean − ε·mean_A cost) / (1 − ε); folded into the prices as μ·cost.
        var costs: [Double]? = nil
        var costTarget = Double.infinity
        var catalogueMeanCost = 0.0
        if let budget = policy.budget {
            let all = try itemCosts(budget.column, catalogue: catalogue)
            catalogueMeanCost = all.reduce(0, +) / Double(all.count)
            let candidateCosts = candidates.map { all[Int($0)] }
            costTarget = (budget.maxMean - policy.epsilon * catalogueMeanCost) / (1 - policy.epsilon)
            let cheapest = candidateCosts.min()!
            guard cheapest <= costTarget else {
                throw job.policyError(
                    "budget",
                    "no policy meets max_mean = \(budget.maxMean): even recommending the cheapest candidate (\(budget.column) \(cheapest)) to every user, with ε = \(policy.epsilon) spread over the catalogue (mean \(budget.column) \(catalogueMeanCost)), the mean is \((1 - policy.epsilon) * cheapest + policy.epsilon * catalogueMeanCost)"
                )
            }
            costs = candidateCosts
        }
        let constrained = limit != nil || costs != nil
        let limits = [Int](repeating: limit ?? users, count: c)
        var learners: [LearnedPolicies.Learner] = []
        for (l, learner) in policy.learners.enumerated() {
            if learner == .gradient {
                learners.append(
                    try learnGradient(
                        learner: l, designed: designed, reward: reward, candidates: candidates, users: users,
                        catalogue: catalogue, broadcast: ope.broadcast, executor: executor))
                continue
            }
            func request(_ phase: LearnRequest.Phase, prices: [[Double]], quotas: [[Int]], lists: Bool)
                -> LearnRequest
            {
                LearnRequest(
                    phase: phase, learner: l, link: reward.link, coefficients: coefficients, schema: designed.schema,
                    at: policy.at, candidates: candidates, fits: fits, prices: prices, quotas: quotas,
                    topK: policy.topK, returnLists: lists)
            }
            var lambda = fits.map { _ in [Double](repeating: 0, count: c) }
            var mu = [Double](repeating: 0, count: fits.count)
            func effective(_ f: Int) -> [Double] {
                guard let costs else { return lambda[f] }
                return (0..<c).map { lambda[f][$0] + mu[f] * costs[$0] }
            }
            func meanCost(_ d: PolicyDemand) -> Double {
                guard let costs else { return 0 }
                var total = CompensatedSum()
                for a in 0..<c { total.add(d.demand[a] * costs[a]) }
                return total.value / Double(max(d.users, 1))
            }
            var bound = [Double](repeating: .infinity, count: fits.count)
            var rounds = 0
            var answers: [LearnAnswer] = []
            var demandPrices: [[Double]] = fits.indices.map { _ in [Double](repeating: 0, count: c) }
            /// Demand rounds until every fit's choices respect the capacity and the budget (or the round limit).
            func searchPrices(from start: Int) throws {
                var settled = [Bool](repeating: false, count: fits.count)
                var t = start
                while t < start + Self.maximumPriceRounds {
                    demandPrices = fits.indices.map(effective)
                    answers = try executor.run(
                        LearnRound(
                            requests: [LearnRequest](
                                repeating: request(.demand, prices: demandPrices, quotas: [], lists: false),
                                count: executor.shardCount)),
                        job: prepared)
                    t += 1
                    rounds += 1
                    for f in fits.indices where !settled[f] {
                        var merged = PolicyDemand(demand: [Double](repeating: 0, count: c))
                        for a in answers { merged.merge(a.fits[f]) }
                        var dual = CapacityAllocation.dualBound(
                            maximaSum: merged.maxima.value, prices: lambda[f], limits: limits)
                        if costs != nil { dual += mu[f] * Double(users) * costTarget }
                        bound[f] = min(bound[f], dual)
                        let overBudget = meanCost(merged) - costTarget
                        if merged.demand.allSatisfy({ $0 <= Double(limits[0]) }),
                            overBudget <= 1e-12 * max(1, abs(costTarget))
                        {
                            settled[f] = true
                            continue
                        }
                        let scale = max(abs(merged.value.value) / Double(max(merged.users, 1)), 1e-6)
                        let step = scale / Double(t).squareRoot()
                        if limit != nil {
                            lambda[f] = CapacityAllocation.step(
                                prices: lambda[f], demand: merged.demand, limits: limits, users: users, step: step)
                        }
                        if costs != nil {
                            mu[f] = max(
                                0,
                                mu[f] + step * overBudget / max(catalogueMeanCost, 1e-12)
                                    / max(catalogueMeanCost, 1e-12))
                        }
                    }
                    if !settled.contains(false) { break }
                }
            }
            var quotas: [[[Int]]] = []  // [shard][fit][candidate]
            var merged = PolicyDemand(demand: [Double](repeating: 0, count: c))
            var finalAnswers: [LearnAnswer] = []
            for attempt in 0..<30 {
                if constrained { try searchPrices(from: rounds) }
                if limit != nil {
                    var perFit: [[[Int]]] = []  // [fit][shard][candidate]
                    for f in fits.indices {
                        let demand = answers.map { $0.fits[f].demand.map { Int($0) } }
                        guard
                            let q = CapacityAllocation.quotas(demand: demand, users: usersPerShard, limits: limits)
                        else { throw RunError("internal: capacity quotas infeasible after the feasibility check") }
                        perFit.append(q)
                    }
                    quotas = (0..<executor.shardCount).map { s in fits.indices.map { perFit[$0][s] } }
                }
                let prices = constrained ? demandPrices : lambda
                let assign = LearnRound(
                    requests: (0..<executor.shardCount).map { s in
                        request(.assign, prices: prices, quotas: quotas.isEmpty ? [] : quotas[s], lists: true)
                    })
                finalAnswers = try executor.run(assign, job: prepared)
                // The quotas may move users to pricier items: check the budget on every fit's assignment.
                var over: [Int] = []
                for f in fits.indices {
                    var m = PolicyDemand(demand: [Double](repeating: 0, count: c))
                    for a in finalAnswers { m.merge(a.fits[f]) }
                    if f == 0 { merged = m }
                    if costs != nil, meanCost(m) - costTarget > 1e-12 * max(1, abs(costTarget)) { over.append(f) }
                }
                if over.isEmpty { break }
                guard attempt < 29 else {
                    throw RunError(
                        "the greedy learner could not meet policy.budget together with policy.capacity after \(rounds) price rounds; loosen one of them"
                    )
                }
                for f in over { mu[f] = mu[f] * 2 + 1e-6 * max(abs(merged.value.value) / Double(max(users, 1)), 1e-6) }
            }
            if !constrained {
                bound[0] = merged.value.value
                rounds = 0
            }
            var annealRounds: Int? = nil
            if learner == .annealing {
                // Start from the greedy assignment just made (this learner's lists on the workers) and anneal it.
                var counts: [[Int]] = []
                for f in fits.indices {
                    var m = PolicyDemand(demand: [Double](repeating: 0, count: c))
                    for a in finalAnswers { m.merge(a.fits[f]) }
                    counts.append(m.demand.map { Int($0) })
                }
                let result = try annealAssignments(
                    base: request(.assign, prices: [], quotas: [], lists: true), counts: counts,
                    costs: costs, costLimit: costs == nil ? nil : costTarget * Double(users), limit: limit,
                    executor: executor)
                finalAnswers = result.answers
                merged = PolicyDemand(demand: result.counts.map(Double.init))
                merged.value.add(result.value)
                merged.users = users
                annealRounds = result.rounds
            }
            var recommendations: [(first: Int, keys: [String], items: [Int32], scores: [Double])] = []
            for a in finalAnswers {
                for u in a.firstRows.indices {
                    recommendations.append((a.firstRows[u], a.userKeys[u], a.lists[u], a.scores[u]))
                }
            }
            recommendations.sort { $0.first < $1.first }
            let spread = policy.epsilon / Double(catalogue.count)
            let maxShare = (merged.demand.max() ?? 0) * (1 - policy.epsilon) / Double(max(users, 1)) + spread
            learners.append(
                .init(
                    name: learner.rawValue, meanValue: merged.value.value / Double(max(users, 1)),
                    bound: bound[0] / Double(max(users, 1)), rounds: rounds, maxShare: maxShare,
                    meanCost: costs == nil
                        ? nil : (1 - policy.epsilon) * meanCost(merged) + policy.epsilon * catalogueMeanCost,
                    prices: lambda[0], budgetPrice: costs == nil ? nil : mu[0],
                    recommendations: recommendations.map { ($0.keys, $0.items, $0.scores) },
                    iterations: annealRounds))
        }
        let features = Set(plan.text?.featureNames ?? [])
        let (split, mixed) = SeparableDesign.split(
            designed.spec, itemNames: Set([policy.action] + ope.broadcast.itemColumns), features: features)
        let scoringNote =
            split != nil
            ? "users × candidates scored by matrix products (the model splits into user-side and item-side factors and affinity)"
            : "users × candidates scored pair by pair (slower): the factor \(mixed ?? "?") mixes the user and the item"
        return LearnedPolicies(
            learners: learners, candidates: candidates, catalogue: catalogue, users: users, limit: limit,
            reward: reward, scoringNote: scoringNote)
    }

    /// The gradient learner: Adam ascent on each fit's doubly robust value of a softmax policy over the design's
    /// item-dependent columns, all fits sharing rounds, each stopping by its own rule; then a round that keeps σ and the
    /// top-k lists on the workers.
    /// - Throws: `InputError` when the model has no term of the item (the policy would be uniform).
    func learnGradient(
        learner l: Int, designed: Designed, reward: RewardModel, candidates: [Int32], users: Int, catalogue: [String],
        broadcast b: OffPolicyBroadcast, executor: ShardExecutor
    ) throws -> LearnedPolicies.Learner {
        let policy = job.policy!
        let spec = designed.spec
        let features = Set(plan.text?.featureNames ?? [])
        let itemNames = Set([policy.action] + b.itemColumns)
        let itemFactors = Set(
            spec.factors.indices.filter { f in
                spec.factors[f].expression.columns.contains {
                    itemNames.contains($0) || (features.contains($0) && ($0.hasPrefix("item_pc") || $0 == "affinity"))
                }
            })
        let columns = spec.columns.indices.filter { j in
            spec.columns[j].factorIndices.contains(where: itemFactors.contains)
        }
        guard !columns.isEmpty else {
            throw job.policyError(
                "learners",
                "the gradient learner's policy is a softmax over the model's terms of the item, and the formula has none"
            )
        }
        let coefficients = [reward.full] + reward.folds
        let fits = Array(coefficients.indices)
        let j = columns.count
        func base(_ served: [Int], lists: Bool) -> LearnRequest {
            LearnRequest(
                phase: .demand, learner: l, link: reward.link, coefficients: coefficients, schema: designed.schema,
                at: policy.at, candidates: candidates, fits: served, prices: [], quotas: [], topK: policy.topK,
                returnLists: lists)
        }
        struct Adam {
            var theta: [Double]
            var m: [Double]
            var v: [Double]
            var t = 0
            var previous: Double? = nil
            var done = false
            var converged = false
        }
        var states = fits.map { _ in
            Adam(
                theta: [Double](repeating: 0, count: j), m: [Double](repeating: 0, count: j),
                v: [Double](repeating: 0, count: j))
        }
        let (beta1, beta2, tiny) = (0.9, 0.999, 1e-8)
        while states.contains(where: { !$0.done }) {
            let active = fits.indices.filter { !states[$0].done }
            let answers = try executor.run(
                GradientRound(
                    request: GradientRequest(
                        base: base(active.map { fits[$0] }, lists: false), columns: columns,
                        thetas: active.map { states[$0].theta }, keep: false)),
                job: prepared)
            for (slot, f) in active.enumerated() {
                var g = PolicyGradient(gradient: [Double](repeating: 0, count: j))
                for a in answers { g.merge(a.fits[slot]) }
                let n = Double(max(g.rows, 1))
                var s = states[f]
                let norm = s.theta.reduce(0.0) { $0 + $1 * $1 }
                let objective = g.value.value / n - policy.l2 / 2 * norm
                if let last = s.previous,
                    Swift.abs(objective - last) <= policy.tolerance * Swift.max(Swift.abs(last), 1e-12)
                {
                    s.done = true
                    s.converged = true
                    states[f] = s
                    continue
                }
                if s.t >= policy.maxRounds {
                    s.done = true
                    states[f] = s
                    continue
                }
                s.previous = objective
                s.t += 1
                for k in 0..<j {
                    let grad = g.gradient[k] / n - policy.l2 * s.theta[k]
                    s.m[k] = beta1 * s.m[k] + (1 - beta1) * grad
                    s.v[k] = beta2 * s.v[k] + (1 - beta2) * grad * grad
                    let mHat = s.m[k] / (1 - Foundation.pow(beta1, Double(s.t)))
                    let vHat = s.v[k] / (1 - Foundation.pow(beta2, Double(s.t)))
                    s.theta[k] += policy.step * mHat / (vHat.squareRoot() + tiny)
                }
                states[f] = s
            }
        }
        // Keep σ and the lists for every fit; fit 0's lists come back for recommendations.csv.
        let kept = try executor.run(
            GradientRound(
                request: GradientRequest(
                    base: base(fits, lists: true), columns: columns, thetas: states.map(\.theta), keep: true)),
            job: prepared)
        var value = PolicyGradient(gradient: [Double](repeating: 0, count: j))
        for a in kept { value.merge(a.fits[0]) }
        var recommendations: [(first: Int, keys: [String], items: [Int32], scores: [Double], sigma: [Double])] = []
        var mass = [Double](repeating: 0, count: catalogue.count)
        for a in kept {
            for u in a.lists.firstRows.indices {
                recommendations.append(
                    (a.lists.firstRows[u], a.lists.userKeys[u], a.lists.lists[u], a.lists.scores[u], a.probabilities[u])
                )
            }
            for (item, m) in zip(a.massItems, a.mass) { mass[Int(item)] += m }
        }
        recommendations.sort { $0.first < $1.first }
        let spread = policy.epsilon / Double(catalogue.count)
        let maxShare = (mass.max() ?? 0) * (1 - policy.epsilon) / Double(max(users, 1)) + spread
        var meanCost: Double? = nil
        if let budget = policy.budget {
            let all = try itemCosts(budget.column, catalogue: catalogue)
            var total = CompensatedSum()
            for a in catalogue.indices { total.add(mass[a] * all[a]) }
            meanCost =
                (1 - policy.epsilon) * total.value / Double(max(users, 1)) + policy.epsilon * all.reduce(0, +)
                / Double(all.count)
        }
        return .init(
            name: PolicySpec.Learner.gradient.rawValue,
            meanValue: value.value.value / Double(max(value.rows, 1)), bound: .nan, rounds: 0, maxShare: maxShare,
            meanCost: meanCost, prices: [], budgetPrice: nil,
            recommendations: recommendations.map { ($0.keys, $0.items, $0.scores) },
            probabilities: recommendations.map(\.sigma), iterations: states[0].t, converged: states[0].converged)
    }

    /// Simulated annealing of the position-1 assignment of every fit, from the greedy one: each round the shards
    /// propose moves (seeded by seed, shard, round and fit) and the coordinator accepts them in shard order by the
    /// Metropolis rule at temperature T_t = T₀·0.95^(t−1) (T₀ the mean |Δ| of the first round's proposals), keeping
    /// every item within its limit and the total cost within the budget after every accepted move.
    /// - Returns: the last round's answers (fit 0's lists), fit 0's counts and predicted value, and the rounds run.
    func annealAssignments(
        base: LearnRequest, counts startCounts: [[Int]], costs: [Double]?,
        costLimit: Double?,
        limit: Int?, executor: ShardExecutor
    ) throws -> (answers: [LearnAnswer], counts: [Int], value: Double, rounds: Int) {
        let policy = job.policy!
        let fits = base.fits
        var counts = startCounts
        var totals = counts.map { n in costs.map { c in zip(n, c).reduce(0.0) { $0 + Double($1.0) * $1.1 } } ?? 0 }
        var moves = [[[Int32]]](
            repeating: [[Int32]](repeating: [], count: fits.count), count: executor.shardCount)
        var temperature = [Double](repeating: 0, count: fits.count)
        // Per fit: every accepted move (shard, user, from, to) and the objective's running change, to return to the
        // best assignment seen (the start, greedy's, counts as seen).
        var log = [[(shard: Int, user: Int32, from: Int32, to: Int32)]](repeating: [], count: fits.count)
        var change = [Double](repeating: 0, count: fits.count)
        var best = [(change: Double, moves: Int)](repeating: (0, 0), count: fits.count)
        for t in 1...policy.annealRounds {
            let requests = (0..<executor.shardCount).map {
                AnnealRequest(
                    base: base, round: t, seed: policy.seed, proposals: policy.annealProposals, moves: moves[$0],
                    finish: false, doublyRobust: policy.objective == .dr)
            }
            let answers = try executor.run(AnnealRound(requests: requests), job: prepared)
            moves = [[[Int32]]](repeating: [[Int32]](repeating: [], count: fits.count), count: executor.shardCount)
            for f in fits.indices {
                if t == 1 {
                    var total = 0.0
                    var n = 0
                    for a in answers {
                        for d in a.fits[f].delta {
                            total += abs(d)
                            n += 1
                        }
                    }
                    temperature[f] = n > 0 && total > 0 ? total / Double(n) : 1e-12
                }
                let temp = temperature[f] * Foundation.pow(0.95, Double(t - 1))
                var generator = Xoshiro256(seed: policy.seed, stream: UserKey.hash(["accept", String(t), String(f)]))
                for (s, a) in answers.enumerated() {
                    let p = a.fits[f]
                    var moved: Set<Int32> = []
                    for m in p.users.indices where !moved.contains(p.users[m]) {
                        let from = Int(p.from[m])
                        let to = Int(p.to[m])
                        if let limit, counts[f][to] + 1 > limit { continue }
                        if let costs, let costLimit, totals[f] - costs[from] + costs[to] > costLimit * (1 + 1e-12) {
                            continue
                        }
                        let delta = p.delta[m]
                        let u = generator.uniform()
                        guard delta >= 0 || u < Foundation.exp(delta / temp) else { continue }
                        counts[f][from] -= 1
                        counts[f][to] += 1
                        if let costs { totals[f] += costs[to] - costs[from] }
                        moves[s][f] += [p.users[m], Int32(to)]
                        moved.insert(p.users[m])
                        log[f].append((s, p.users[m], Int32(from), Int32(to)))
                        change[f] += delta
                        if change[f] > best[f].change { best[f] = (change[f], log[f].count) }
                    }
                }
            }
        }
        // Back to the best assignment: after the last round's moves, undo those made since the best, newest first.
        for f in fits.indices {
            for move in log[f][best[f].moves...].reversed() {
                moves[move.shard][f] += [move.user, move.from]
                counts[f][Int(move.to)] -= 1
                counts[f][Int(move.from)] += 1
            }
        }
        let finish = (0..<executor.shardCount).map {
            AnnealRequest(base: base, round: 0, seed: policy.seed, proposals: 0, moves: moves[$0], finish: true)
        }
        let answers = try executor.run(AnnealRound(requests: finish), job: prepared)
        // The predicted value of fit 0's final assignment, from the kept lists (their first items), in shard order.
        var predicted = CompensatedSum()
        for a in answers { for scores in a.lists.scores { if let first = scores.first { predicted.add(first) } } }
        return (answers.map(\.lists), counts[0], predicted.value, policy.annealRounds)
    }

    /// The cost column of the items file for every catalogue item.
    /// - Throws: `InputError` at the items file's cell when a cost is not a number.
    func itemCosts(_ column: String, catalogue: [String]) throws -> [Double] {
        let items = prepared.items!
        var costs: [String: Double] = [:]
        do {
            let table = try CSVTable(path: items.path, delimiter: job.delimiter)
            let key = table.header.firstIndex(of: plan.text!.itemKey!)!
            let col = table.header.firstIndex(of: column)!
            while let r = try table.next(selecting: [key, col]) {
                guard let v = Cell.number(r.fields[1]), v.isFinite else {
                    throw InputError(
                        file: items.path, line: r.line, column: col + 1,
                        "policy.budget: '\(printable(r.fields[1]))' in column \(column) is not a number (the budget's cost)"
                    )
                }
                costs[r.fields[0]] = v
            }
        } catch let e as TabularError { throw InputError(e) }
        return catalogue.map { costs[$0]! }
    }

    /// The report's `policy` section and the deployed policy's files.
    func policySection(_ learned: LearnedPolicies, entries: [FitReport.OffPolicyEntry], names: [String]) throws
        -> (FitReport.PolicySection, [String: Data])
    {
        let policy = job.policy!
        var results: [FitReport.PolicySection.LearnerResult] = []
        for l in learned.learners {
            results.append(
                .init(
                    learner: l.name, predicted_value: l.meanValue, lp_bound: l.rounds == 0 ? nil : l.bound,
                    lp_gap: l.rounds == 0 ? nil : l.bound - l.meanValue, price_rounds: l.rounds,
                    max_item_share: l.maxShare, mean_budget_column: l.meanCost, iterations: l.iterations,
                    converged: l.converged,
                    held_out: entries.filter { $0.policy == l.name }))
        }
        // Only a learner whose policy keeps the capacity and the budget may be deployed (the gradient learner's
        // softmax is not constrained).
        func keeps(_ r: FitReport.PolicySection.LearnerResult) -> Bool {
            (policy.capacity.map { r.max_item_share <= $0 * (1 + 1e-12) } ?? true)
                && (policy.budget.map { b in r.mean_budget_column.map { $0 <= b.maxMean * (1 + 1e-12) } ?? true }
                    ?? true)
        }
        let allowed = results.filter(keeps)
        var deployed = policy.selectLearner
        if deployed != "best_lcb", let r = results.first(where: { $0.learner == deployed }), !keeps(r) {
            throw job.policyError(
                "select_learner",
                "the \(deployed) policy does not keep policy.capacity or policy.budget (largest item share \(r.max_item_share)\(r.mean_budget_column.map { ", mean \(policy.budget!.column) \($0)" } ?? "")); deploy a learner that does (greedy, annealing)"
            )
        }
        if deployed == "best_lcb" {
            guard !allowed.isEmpty else {
                throw job.policyError(
                    "learners", "no learned policy keeps policy.capacity and policy.budget; add greedy or annealing")
            }
            func lcb(_ r: FitReport.PolicySection.LearnerResult) -> Double {
                (r.held_out.first { $0.estimator == "dr" } ?? r.held_out.first { $0.estimator == "ipw" })?.ci_low
                    ?? -.infinity
            }
            // The first learner wins ties (max(by:) keeps the last of equal elements, so scan in order).
            var best = allowed[0]
            for r in allowed.dropFirst() where lcb(r) > lcb(best) { best = r }
            deployed = best.learner
        }
        var notes: [String] = []
        if let chosen = results.first(where: { $0.learner == deployed }),
            let dr = chosen.held_out.first(where: { $0.estimator == "dr" }) ?? chosen.held_out.first,
            let logging = entries.first(where: { $0.policy == "logging" && $0.estimator == "ipw" }),
            dr.ci_low < logging.estimate
        {
            notes.append(
                "warning: the deployed \(deployed) policy's \(dr.estimator) lower bound (\(dr.ci_low)) is below the logging policy's value (\(logging.estimate)): it is not shown to do better than what is deployed now"
            )
        }
        if job.folds > 0 {
            notes.append(
                "held-out values: each learner trained without CV fold k, valued on fold k's rows (pooled); they estimate the fold policies' average value, not the deployed policy's (trained on all rows), and choosing the learner by its lower bound adds optimism"
            )
        } else {
            notes.append(
                "in-sample values: without [cv], each policy is valued on the rows its reward model was fitted on")
        }
        if policy.learners.contains(.gradient) {
            notes.append(
                "gradient: a softmax policy over the model's terms of the item, trained by Adam (step \(policy.step)) on the doubly robust value of its training rows, with q̂ taken at the user's context (policy.at); recommendations.csv lists its top \(policy.topK) items with their π and spreads the remainder evenly over the others (the compact form), which only approximates the softmax's tail"
            )
            if policy.capacity != nil || policy.budget != nil {
                notes.append(
                    "capacity and budget constrain the greedy learner; the gradient learner's policy is not constrained"
                )
            }
        }
        notes.append(
            "a learned policy is π(a | user) at position 1: its top-\(policy.topK) list fills positions 1..\(policy.topK); on slate logs position j is valued as the j-th listed item with probability 1 − ε plus ε/|A|"
        )
        notes.append(learned.scoringNote)
        if policy.learners.contains(.annealing) {
            notes.append(
                "annealing: \(policy.annealRounds) rounds of \(policy.annealProposals) proposed moves per shard from the greedy assignment, accepted in shard order by the Metropolis rule at T = T₀·0.95^(t−1) (T₀ the mean |Δ| of the first proposals), every accepted move keeping the capacity and the budget"
            )
        }
        if !policy.at.isEmpty {
            notes.append(
                "new (user, item) pairs are scored at \(policy.at.keys.sorted().map { "\($0) = \(policy.at[$0]!)" }.joined(separator: ", "))"
            )
        }
        let section = FitReport.PolicySection(
            learners: results, deployed: deployed, policy_version: String(format: "%016llx", Self.jobHash(job)),
            epsilon: policy.epsilon, top_k: policy.topK,
            candidates: learned.candidates.count, users: learned.users, capacity: policy.capacity,
            item_limit: learned.limit, budget_column: policy.budget?.column, budget_max_mean: policy.budget?.maxMean,
            notes: notes)
        let chosen = learned.learners.first { $0.name == deployed }!
        // recommendations.csv: a per-user policy file in the compact form (listed π plus the ε remainder).
        let keyNames = job.userKey.map(ShardPartitioner.csvField)
        var csv = (keyNames + ["item_id", "rank", "probability", "predicted_reward", "epsilon"]).joined(separator: ",")
        csv += "\n"
        let a = Double(learned.catalogue.count)
        let spread = policy.epsilon / a
        for (u, r) in chosen.recommendations.enumerated() {
            let items = r.items.filter { $0 >= 0 }
            let probabilities = items.indices.map { j in
                chosen.probabilities.map { (1 - policy.epsilon) * $0[u][j] + spread }
                    ?? (j == 0 ? 1 - policy.epsilon + spread : spread)
            }
            var remainder = CompensatedSum()
            remainder.add(1)
            for p in probabilities { remainder.add(-p) }
            let keys = r.keys.map(ShardPartitioner.csvField).joined(separator: ",")
            for (j, item) in items.enumerated() {
                csv +=
                    "\(keys),\(ShardPartitioner.csvField(learned.catalogue[Int(item)])),\(j + 1),\(probabilities[j]),\(r.scores[j]),\(remainder.value > 1e-12 ? remainder.value : 0)\n"
            }
        }
        // policy.json: what was deployed and how it was made.
        let document = PolicyDocument(
            format_version: 1, job_hash: String(format: "%016llx", Self.jobHash(job)), learner: deployed,
            epsilon: policy.epsilon, top_k: policy.topK, capacity: policy.capacity, item_limit: learned.limit,
            candidates: learned.candidates.map { learned.catalogue[Int($0)] }, prices: chosen.prices,
            budget_column: policy.budget?.column, budget_max_mean: policy.budget?.maxMean,
            budget_price: chosen.budgetPrice,
            at: policy.at, link: learned.reward.link.rawValue, feature_names: names,
            coefficients: learned.reward.full, users: learned.users)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (section, ["recommendations.csv": Data(csv.utf8), "policy.json": try encoder.encode(document)])
    }

    /// The deploy round: every shard keeps the deployed learner's lists as its part of the served policy.
    func deploy(
        _ learned: LearnedPolicies, section: FitReport.PolicySection, designed: Designed, executor: ShardExecutor
    ) throws {
        let l = learned.learners.firstIndex { $0.name == section.deployed }!
        let fallback = Self.noHistoryItems(learned.learners[l], catalogue: learned.catalogue.count, topK: section.top_k)
            .map(Int32.init)
        let policy = job.policy!
        let base = LearnRequest(
            phase: .demand, learner: l, link: learned.reward.link, coefficients: [learned.reward.full],
            schema: designed.schema, at: policy.at, candidates: learned.candidates, fits: [0], prices: [], quotas: [],
            topK: policy.topK, returnLists: false)
        let request = DeployRequest(
            learner: l, version: section.policy_version, epsilon: section.epsilon, fallback: Array(fallback),
            base: base, names: designed.spec.columnNames)
        _ = try executor.run(DeployRound(request: request, users: designed.summaries.map(\.users)), job: prepared)
    }

    /// The coordinator's copy of the deployed policy (without explanations, which the workers compute): what it
    /// answers from when a user's worker has left, or after a restart until the workers are back.
    func coordinatorCopy(_ learned: LearnedPolicies, section: FitReport.PolicySection) -> Deployment {
        let l = learned.learners.first { $0.name == section.deployed }!
        let spread = section.epsilon / Double(learned.catalogue.count)
        var shards: [Int: [UInt64: Deployment.Entry]] = [:]
        for (u, r) in l.recommendations.enumerated() {
            let hash = UserKey.hash(r.keys)
            let listed = r.items.indices.filter { r.items[$0] >= 0 }
            let entry = Deployment.Entry(
                items: listed.map { learned.catalogue[Int(r.items[$0])] },
                predictedRewards: listed.map { r.scores[$0] },
                probabilities: l.probabilities.map { p in listed.map { (1 - section.epsilon) * p[u][$0] + spread } })
            shards[UserKey.shard(hash: hash, shards: job.shards), default: [:]][hash] = entry
        }
        let fallback = Self.noHistoryItems(l, catalogue: learned.catalogue.count, topK: section.top_k)
            .map { learned.catalogue[$0] }
        return Deployment(
            version: section.policy_version, epsilon: section.epsilon, catalogueSize: learned.catalogue.count,
            fallback: Array(fallback), shards: shards)
    }

    /// The answer for a user with no history: the catalogue indices the learner most often ranks first, at most
    /// `topK` (ties: catalogue order).
    static func noHistoryItems(_ l: LearnedPolicies.Learner, catalogue: Int, topK: Int) -> [Int] {
        var firsts = [Int](repeating: 0, count: catalogue)
        for r in l.recommendations { if let a = r.items.first, a >= 0 { firsts[Int(a)] += 1 } }
        return Array(
            firsts.indices.filter { firsts[$0] > 0 }
                .sorted { firsts[$0] != firsts[$1] ? firsts[$0] > firsts[$1] : $0 < $1 }
                .prefix(topK))
    }

    /// FNV-1a 64 of the job as read (its JSON with sorted keys): names the job a policy came from, on the coordinator
    /// too, which never sees a submitted job's file.
    static func jobHash(_ job: JobSpec) -> UInt64 {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var named = job
        named.jobFile = ""  // the same job from `causa local` and `causa submit` (which passes an absolute path)
        guard let data = try? encoder.encode(named) else { return 0 }
        return FNV1a64.hash(String(decoding: data, as: UTF8.self))
    }
}

/// policy.json: the deployed policy (format_version 1).
struct PolicyDocument: Codable {
    var format_version: Int
    var job_hash: String
    var learner: String
    var epsilon: Double
    var top_k: Int
    var capacity: Double?
    var item_limit: Int?
    var candidates: [String]
    var prices: [Double]
    var budget_column: String?
    var budget_max_mean: Double?
    var budget_price: Double?
    var at: [String: String]
    var link: String
    var feature_names: [String]
    var coefficients: [Double]
    var users: Int
}

extension FitReport {
    /// Learned policies (report section `policy`).
    public struct PolicySection: Codable, Sendable, Equatable {
        public struct LearnerResult: Codable, Sendable, Equatable {
            public var learner: String
            /// Mean predicted reward of the position-1 choices (fit on all rows), per user.
            public var predicted_value: Double
            /// With capacity: the Lagrangian (LP) bound per user and the gap to it.
            public var lp_bound: Double?
            public var lp_gap: Double?
            /// Demand rounds of the price search (0 without capacity).
            public var price_rounds: Int
            /// The largest expected share of position-1 impressions of one item.
            public var max_item_share: Double
            /// With `policy.budget`: mean over users of Σ_a π(a|u)·cost(a) at position 1.
            public var mean_budget_column: Double?
            /// The gradient learner: Adam steps of the fit on all rows, and whether its objective settled (relative
            /// change below `policy.tolerance`) before `policy.max_rounds`.
            public var iterations: Int?
            public var converged: Bool?
            /// The off-policy estimates of the learned policy (held out with `[cv]`, else in-sample).
            public var held_out: [OffPolicyEntry]
        }
        public var learners: [LearnerResult]
        /// The learner whose policy was deployed (policy.json, recommendations.csv).
        public var deployed: String
        /// The deployed policy's version (`causa recommend` names it): a hash of the job.
        public var policy_version: String
        public var epsilon: Double
        public var top_k: Int
        /// Candidate items and users.
        public var candidates: Int
        public var users: Int
        public var capacity: Double?
        /// Users one item may take at position 1 under the capacity.
        public var item_limit: Int?
        /// `policy.budget`: the cost column and its largest mean.
        public var budget_column: String?
        public var budget_max_mean: Double?
        public var notes: [String]
    }
}
