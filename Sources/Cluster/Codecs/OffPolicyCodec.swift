import Causal
import Jobs
import Statistics

extension Wire {
    /// Vectors of doubles (coefficients, prices, θ) as repeated `Coefficients` messages.
    static func vectors(_ v: [[Double]]) -> [Causa_Wire_Coefficients] {
        v.map { values in
            var w = Causa_Wire_Coefficients()
            w.values = values
            return w
        }
    }
}

/// The off-policy round on the wire: an `OffPolicyRequest` (the reward model's coefficients per fit and the schema);
/// an `OffPolicyStatistic` message (moments and compensated sums of the per-row terms, maxima and counts, and the
/// exported predictions when asked).
extension OffPolicyRound: RoundCodec {
    public static func encode(request r: OffPolicyRequest) -> [UInt8] {
        var m = Causa_Wire_OffPolicyRequest()
        m.link = r.link.rawValue
        m.coefficients = Wire.vectors(r.coefficients)
        m.crossFit = r.crossFit
        m.schema = r.schema.map(Wire.columnSchema)
        m.exportPredictions = r.exportPredictions
        return Wire.bytes(m)
    }

    public static func decode(request bytes: [UInt8], plan: JobPlan) throws -> OffPolicyRequest {
        let m = try Wire.message(Causa_Wire_OffPolicyRequest.self, bytes)
        guard let link = RewardLink(rawValue: m.link) else {
            throw Wire.DecodeError(message: "unknown reward link '\(m.link)'")
        }
        guard link == .none || (m.coefficients.count == 1 + plan.folds && !m.coefficients[0].values.isEmpty) else {
            throw Wire.DecodeError(message: "\(m.coefficients.count) coefficient vectors for \(plan.folds) folds")
        }
        return OffPolicyRequest(
            link: link, coefficients: m.coefficients.map(\.values), crossFit: m.crossFit,
            schema: try m.schema.map(Wire.columnSchema), exportPredictions: m.exportPredictions)
    }

    public static func encode(statistic s: OffPolicyShardStatistic) -> [UInt8] {
        var m = Causa_Wire_OffPolicyStatistic()
        m.policies = UInt32(s.sums.policies)
        m.moments = Wire.moments(s.sums.moments)
        m.sumHigh = s.sums.sums.map(\.high)
        m.sumLow = s.sums.sums.map(\.low)
        m.maxWeight = s.sums.maxWeight
        m.changedRows = s.sums.changedRows.map { UInt64($0) }
        m.switchedRows = s.sums.switchedRows.map { UInt64($0) }
        m.skippedRows = UInt64(s.skippedRows)
        m.predictionRows = s.predictionRows.map { UInt64($0) }
        m.predictions = s.predictions
        m.mipsMaxWeight = s.sums.mipsMaxWeight
        m.mipsChangedRows = s.sums.mipsChangedRows.map { UInt64($0) }
        m.fallbackRows = s.fallbackRows.map { UInt64($0) }
        m.loggingMismatchRows = UInt64(s.loggingMismatchRows)
        m.loggingFirstMismatch = s.firstLoggingMismatch.map { UInt64($0) + 1 } ?? 0
        return Wire.bytes(m)
    }

    public static func decode(statistic bytes: [UInt8], request: OffPolicyRequest, plan: JobPlan) throws
        -> OffPolicyShardStatistic
    {
        let m = try Wire.message(Causa_Wire_OffPolicyStatistic.self, bytes)
        let p = Int(m.policies)
        guard p <= 1 << 12 else { throw Wire.DecodeError(message: "an off-policy statistic of \(p) policies") }
        let d = OffPolicyStatistic.termsPerPolicy * p
        let moments = try Wire.moments(m.moments, dimension: d)
        guard m.sumHigh.count == d, m.sumLow.count == d,
            let sums = OffPolicyStatistic(
                policies: p, moments: moments,
                sums: zip(m.sumHigh, m.sumLow).map { CompensatedSum(high: $0, low: $1) }, maxWeight: m.maxWeight,
                changedRows: m.changedRows.map { Int(clamping: $0) },
                switchedRows: m.switchedRows.map { Int(clamping: $0) }, mipsMaxWeight: m.mipsMaxWeight,
                mipsChangedRows: m.mipsChangedRows.map { Int(clamping: $0) }),
            m.fallbackRows.count == p
        else {
            throw Wire.DecodeError(message: "an off-policy statistic whose sizes do not fit \(p) policies")
        }
        guard m.predictionRows.isEmpty ? m.predictions.isEmpty : m.predictions.count % m.predictionRows.count == 0
        else {
            throw Wire.DecodeError(message: "\(m.predictions.count) predictions for \(m.predictionRows.count) rows")
        }
        return OffPolicyShardStatistic(
            sums: sums, skippedRows: Int(clamping: m.skippedRows),
            predictionRows: m.predictionRows.map { Int(clamping: $0) }, predictions: m.predictions,
            fallbackRows: m.fallbackRows.map { Int(clamping: $0) },
            loggingMismatchRows: Int(clamping: m.loggingMismatchRows),
            firstLoggingMismatch: m.loggingFirstMismatch == 0 ? nil : Int(clamping: m.loggingFirstMismatch - 1))
    }
}

/// The off-policy broadcast on the wire: an `OffPolicy` message (policies flattened group by group).
extension OffPolicyBroadcast: BroadcastCodec {
    static func encode(_ p: EvaluationPolicy) -> Causa_Wire_EvaluationPolicy {
        var w = Causa_Wire_EvaluationPolicy()
        switch p {
        case .logging: w.kind = .logging
        case .uniform: w.kind = .uniform
        case .learned(let learner, let epsilon):
            w.kind = .learned
            w.learner = UInt32(learner)
            w.epsilon = epsilon
        case .table(let t):
            w.kind = .table
            w.catalogueSize = UInt32(t.catalogueSize)
            w.byUser = t.byUser
            w.byPosition = t.byPosition
            for key in t.groups.keys.sorted() {
                let g = t.groups[key]!
                w.groupUser.append(key.user)
                w.groupPosition.append(Int64(key.position))
                w.groupSize.append(UInt32(g.items.count))
                w.groupEpsilon.append(g.epsilon)
                w.item += g.items.map { UInt32($0) }
                w.probability += g.probabilities
            }
        }
        return w
    }

    static func decode(_ w: Causa_Wire_EvaluationPolicy, catalogue: Int) throws -> EvaluationPolicy {
        switch w.kind {
        case .logging: return .logging
        case .uniform: return .uniform
        case .learned:
            guard w.epsilon >= 0, w.epsilon < 1 else {
                throw Wire.DecodeError(message: "a learned policy's ε of \(w.epsilon)")
            }
            return .learned(learner: Int(w.learner), epsilon: w.epsilon)
        case .table:
            let g = w.groupUser.count
            guard w.groupPosition.count == g, w.groupSize.count == g, w.groupEpsilon.count == g,
                Int(w.catalogueSize) == catalogue, w.item.count == w.probability.count,
                w.groupSize.reduce(0, { $0 + Int($1) }) == w.item.count, w.item.allSatisfy({ Int($0) < catalogue })
            else { throw Wire.DecodeError(message: "a policy table whose sizes do not fit") }
            var groups: [PolicyTable.GroupKey: PolicyTable.Group] = [:]
            var at = 0
            for i in 0..<g {
                let n = Int(w.groupSize[i])
                groups[PolicyTable.GroupKey(user: w.groupUser[i], position: Int(clamping: w.groupPosition[i]))] =
                    PolicyTable.Group(
                        items: w.item[at..<(at + n)].map { Int32($0) },
                        probabilities: Array(w.probability[at..<(at + n)]),
                        epsilon: w.groupEpsilon[i])
                at += n
            }
            return .table(
                PolicyTable(catalogueSize: catalogue, byUser: w.byUser, byPosition: w.byPosition, groups: groups))
        case .UNRECOGNIZED(let v): throw Wire.DecodeError(message: "unknown evaluation policy kind \(v)")
        }
    }

    public func encode() -> [UInt8] {
        var m = Causa_Wire_OffPolicy()
        m.action = action
        m.propensity = propensity
        m.reward = reward
        m.position = position ?? ""
        m.positions = (positions ?? []).map { Int64($0) }
        m.catalogue = catalogue
        m.policies = policies.map(Self.encode)
        if let logging { m.logging = Self.encode(logging) }
        m.clusters = clusters.map { UInt32($0) }
        m.missingUniform = missing == .uniform
        m.clip = rule.clip ?? 0
        m.propensityFloor = rule.propensityFloor ?? 0
        m.switchTau = switchTau
        m.itemColumns = itemColumns
        m.itemCells = itemCells
        m.components = UInt32(components)
        m.itemScores = itemScores
        if let itemVectors {
            var v = Causa_Wire_ItemVectors()
            v.dimension = UInt32(itemVectors.dimension)
            v.keys = catalogue
            v.unitVectors = itemVectors.rows(for: catalogue)
            m.itemVectors = v
        }
        m.shardCount = UInt32(shardCount)
        m.names = names
        return Wire.bytes(m)
    }

    public static func decode(_ bytes: [UInt8], plan: JobPlan) throws -> OffPolicyBroadcast {
        let m = try Wire.message(Causa_Wire_OffPolicy.self, bytes)
        let a = m.catalogue.count
        let k = Int(m.components)
        guard a > 0, m.clusters.isEmpty || m.clusters.count == a, k <= Wire.maximumDimension,
            m.itemCells.count == a * m.itemColumns.count, m.itemScores.count == a * k, m.shardCount > 0
        else { throw Wire.DecodeError(message: "an off_policy broadcast whose sizes do not fit") }
        var vectors: ItemVectorTable? = nil
        if m.hasItemVectors {
            let v = m.itemVectors
            let d = Int(v.dimension)
            guard (1...Wire.maximumDimension).contains(d), v.keys == m.catalogue, v.unitVectors.count == a * d else {
                throw Wire.DecodeError(message: "off_policy item vectors whose sizes do not fit")
            }
            vectors = ItemVectorTable(keys: v.keys, rows: v.unitVectors, dimension: d)
        }
        var b = OffPolicyBroadcast(
            action: m.action, propensity: m.propensity, reward: m.reward,
            position: m.position.isEmpty ? nil : m.position,
            positions: m.positions.isEmpty ? nil : m.positions.map { Int(clamping: $0) }, catalogue: m.catalogue,
            policies: try m.policies.map { try decode($0, catalogue: a) },
            logging: m.hasLogging ? try decode(m.logging, catalogue: a) : nil, clusters: m.clusters.map { Int($0) },
            missing: m.missingUniform ? .uniform : .error,
            rule: WeightRule(
                clip: m.clip > 0 ? m.clip : nil, propensityFloor: m.propensityFloor > 0 ? m.propensityFloor : nil),
            switchTau: m.switchTau, itemColumns: m.itemColumns, itemCells: m.itemCells, components: k,
            itemScores: m.itemScores, itemVectors: vectors, shardCount: Int(m.shardCount))
        b.names = m.names
        return b
    }
}

/// The greedy learner's round on the wire: a `LearnRequest`; a `LearnAnswer` (per fit its demand, and the users'
/// lists when asked).
extension LearnRound: RoundCodec {
    public static func encode(request r: LearnRequest) -> [UInt8] { Wire.bytes(message(r)) }

    static func message(_ r: LearnRequest) -> Causa_Wire_LearnRequest {
        var m = Causa_Wire_LearnRequest()
        m.phase = r.phase.rawValue
        m.learner = UInt32(r.learner)
        m.link = r.link.rawValue
        m.coefficients = Wire.vectors(r.coefficients)
        m.schema = r.schema.map(Wire.columnSchema)
        m.at = r.at
        m.candidates = r.candidates.map { UInt32($0) }
        m.fits = r.fits.map { UInt32($0) }
        m.prices = Wire.vectors(r.prices)
        m.quotas = r.quotas.map { q in
            var w = Causa_Wire_Quota()
            w.counts = q.map { UInt64($0) }
            return w
        }
        m.topK = UInt32(r.topK)
        m.returnLists = r.returnLists
        return m
    }

    public static func decode(request bytes: [UInt8], plan: JobPlan) throws -> LearnRequest {
        try value(try Wire.message(Causa_Wire_LearnRequest.self, bytes))
    }

    static func value(_ m: Causa_Wire_LearnRequest) throws -> LearnRequest {
        guard let phase = LearnRequest.Phase(rawValue: m.phase), let link = RewardLink(rawValue: m.link) else {
            throw Wire.DecodeError(message: "a learn request of phase '\(m.phase)', link '\(m.link)'")
        }
        let c = m.candidates.count
        guard c > 0, m.topK > 0, m.topK <= 1000, !m.coefficients.isEmpty,
            m.fits.allSatisfy({ Int($0) < m.coefficients.count }),
            m.prices.isEmpty || (m.prices.count == m.fits.count && m.prices.allSatisfy { $0.values.count == c }),
            m.quotas.isEmpty || (m.quotas.count == m.fits.count && m.quotas.allSatisfy { $0.counts.count == c })
        else { throw Wire.DecodeError(message: "a learn request whose sizes do not fit") }
        return LearnRequest(
            phase: phase, learner: Int(m.learner), link: link, coefficients: m.coefficients.map(\.values),
            schema: try m.schema.map(Wire.columnSchema), at: m.at, candidates: m.candidates.map { Int32($0) },
            fits: m.fits.map { Int($0) }, prices: m.prices.map(\.values),
            quotas: m.quotas.map { $0.counts.map { Int(clamping: $0) } }, topK: Int(m.topK),
            returnLists: m.returnLists)
    }

    public static func encode(statistic s: LearnAnswer) -> [UInt8] { Wire.bytes(message(s)) }

    static func message(_ s: LearnAnswer) -> Causa_Wire_LearnAnswer {
        var m = Causa_Wire_LearnAnswer()
        m.fits = s.fits.map { d in
            var w = Causa_Wire_PolicyDemand()
            w.demand = d.demand
            w.valueHigh = d.value.high
            w.valueLow = d.value.low
            w.maximaHigh = d.maxima.high
            w.maximaLow = d.maxima.low
            w.users = UInt64(d.users)
            return w
        }
        m.firstRows = s.firstRows.map { UInt64($0) }
        m.userKeys = s.userKeys.flatMap { $0 }
        m.listWidth = UInt32(s.lists.first?.count ?? 0)
        m.lists = s.lists.flatMap { $0 }
        m.scores = s.scores.flatMap { $0 }
        return m
    }

    public static func decode(statistic bytes: [UInt8], request: LearnRequest, plan: JobPlan) throws -> LearnAnswer {
        try value(try Wire.message(Causa_Wire_LearnAnswer.self, bytes), request: request, plan: plan)
    }

    static func value(_ m: Causa_Wire_LearnAnswer, request: LearnRequest, plan: JobPlan) throws -> LearnAnswer {
        let users = m.firstRows.count
        let k = Int(m.listWidth)
        let keys = plan.userKey.count
        guard m.lists.count == users * k, m.scores.count == users * k, m.userKeys.count == users * keys,
            m.fits.allSatisfy({ $0.demand.count == request.candidates.count })
        else { throw Wire.DecodeError(message: "a learn answer whose sizes do not fit") }
        return LearnAnswer(
            fits: m.fits.map {
                PolicyDemand(
                    demand: $0.demand, value: CompensatedSum(high: $0.valueHigh, low: $0.valueLow),
                    maxima: CompensatedSum(high: $0.maximaHigh, low: $0.maximaLow), users: Int(clamping: $0.users))
            },
            firstRows: m.firstRows.map { Int(clamping: $0) },
            userKeys: (0..<users).map { Array(m.userKeys[($0 * keys)..<(($0 + 1) * keys)]) },
            lists: (0..<users).map { Array(m.lists[($0 * k)..<(($0 + 1) * k)]) },
            scores: (0..<users).map { Array(m.scores[($0 * k)..<(($0 + 1) * k)]) })
    }
}

/// The deploy round on the wire: a `DeployRequest`; the users deployed as a `FeaturesReady` count.
extension DeployRound: RoundCodec {
    public static func encode(request r: DeployRequest) -> [UInt8] {
        var m = Causa_Wire_DeployRequest()
        m.learner = UInt32(r.learner)
        m.version = r.version
        m.epsilon = r.epsilon
        m.fallback = r.fallback.map { UInt32($0) }
        m.base = LearnRound.message(r.base)
        m.names = r.names
        return Wire.bytes(m)
    }

    public static func decode(request bytes: [UInt8], plan: JobPlan) throws -> DeployRequest {
        let m = try Wire.message(Causa_Wire_DeployRequest.self, bytes)
        guard m.epsilon >= 0, m.epsilon < 1 else {
            throw Wire.DecodeError(message: "a deploy request with ε \(m.epsilon)")
        }
        let base = try LearnRound.value(m.base)
        guard m.names.count == base.coefficients.first?.count else {
            throw Wire.DecodeError(message: "a deploy request with \(m.names.count) names for its coefficients")
        }
        return DeployRequest(
            learner: Int(m.learner), version: m.version, epsilon: m.epsilon, fallback: m.fallback.map { Int32($0) },
            base: base, names: m.names)
    }

    public static func encode(statistic: RowCount) -> [UInt8] {
        var m = Causa_Wire_FeaturesReady()
        m.rows = UInt64(statistic.rows)
        return Wire.bytes(m)
    }

    public static func decode(statistic bytes: [UInt8], request: DeployRequest, plan: JobPlan) throws -> RowCount {
        RowCount(rows: try Wire.count(try Wire.message(Causa_Wire_FeaturesReady.self, bytes).rows, "users"))
    }
}

/// The gradient learner's round on the wire: a `GradientRequest` (the learning request, φ's columns, θ per fit); a
/// `GradientAnswer` (per fit the objective and gradient; with keep, fit 0's lists, σ and item masses).
extension GradientRound: RoundCodec {
    public static func encode(request r: GradientRequest) -> [UInt8] {
        var m = Causa_Wire_GradientRequest()
        m.base = LearnRound.message(r.base)
        m.columns = r.columns.map { UInt32($0) }
        m.thetas = Wire.vectors(r.thetas)
        m.keep = r.keep
        return Wire.bytes(m)
    }

    public static func decode(request bytes: [UInt8], plan: JobPlan) throws -> GradientRequest {
        let m = try Wire.message(Causa_Wire_GradientRequest.self, bytes)
        let base = try LearnRound.value(m.base)
        let j = m.columns.count
        guard j > 0, m.thetas.count == base.fits.count, m.thetas.allSatisfy({ $0.values.count == j }) else {
            throw Wire.DecodeError(message: "a gradient request whose sizes do not fit")
        }
        return GradientRequest(
            base: base, columns: m.columns.map { Int($0) }, thetas: m.thetas.map(\.values), keep: m.keep)
    }

    public static func encode(statistic s: GradientAnswer) -> [UInt8] {
        var m = Causa_Wire_GradientAnswer()
        m.fits = s.fits.map { g in
            var w = Causa_Wire_PolicyGradient()
            w.valueHigh = g.value.high
            w.valueLow = g.value.low
            w.gradient = g.gradient
            w.rows = UInt64(g.rows)
            return w
        }
        m.lists = LearnRound.message(s.lists)
        m.probabilities = s.probabilities.flatMap { $0 }
        m.massItems = s.massItems.map { UInt32($0) }
        m.mass = s.mass
        return Wire.bytes(m)
    }

    public static func decode(statistic bytes: [UInt8], request: GradientRequest, plan: JobPlan) throws
        -> GradientAnswer
    {
        let m = try Wire.message(Causa_Wire_GradientAnswer.self, bytes)
        let lists = try LearnRound.value(m.lists, request: request.base, plan: plan)
        let k = lists.lists.first?.count ?? 0
        guard m.probabilities.count == lists.lists.count * k, m.massItems.count == m.mass.count,
            m.fits.allSatisfy({ $0.gradient.count == request.columns.count })
        else { throw Wire.DecodeError(message: "a gradient answer whose sizes do not fit") }
        return GradientAnswer(
            fits: m.fits.map {
                PolicyGradient(
                    value: CompensatedSum(high: $0.valueHigh, low: $0.valueLow), gradient: $0.gradient,
                    rows: Int(clamping: $0.rows))
            }, lists: lists,
            probabilities: (0..<lists.lists.count).map { Array(m.probabilities[($0 * k)..<(($0 + 1) * k)]) },
            massItems: m.massItems.map { Int32($0) }, mass: m.mass)
    }
}

/// The annealing learner's round on the wire: an `AnnealRequest` (the learning request, the round, the accepted moves
/// per fit); an `AnnealAnswer` (proposals per fit; with finish, fit 0's lists).
extension AnnealRound: RoundCodec {
    public static func encode(request r: AnnealRequest) -> [UInt8] {
        var m = Causa_Wire_AnnealRequest()
        m.base = LearnRound.message(r.base)
        m.round = UInt32(r.round)
        m.seed = r.seed
        m.proposals = UInt32(r.proposals)
        m.moves = r.moves.map { pairs in
            var w = Causa_Wire_Moves()
            w.pairs = pairs
            return w
        }
        m.finish = r.finish
        m.doublyRobust = r.doublyRobust
        return Wire.bytes(m)
    }

    public static func decode(request bytes: [UInt8], plan: JobPlan) throws -> AnnealRequest {
        let m = try Wire.message(Causa_Wire_AnnealRequest.self, bytes)
        let base = try LearnRound.value(m.base)
        guard m.moves.isEmpty || m.moves.count == base.fits.count, m.moves.allSatisfy({ $0.pairs.count % 2 == 0 }),
            m.proposals <= 1_000_000
        else { throw Wire.DecodeError(message: "an anneal request whose sizes do not fit") }
        return AnnealRequest(
            base: base, round: Int(m.round), seed: m.seed, proposals: Int(m.proposals), moves: m.moves.map(\.pairs),
            finish: m.finish, doublyRobust: m.doublyRobust)
    }

    public static func encode(statistic s: AnnealAnswer) -> [UInt8] {
        var m = Causa_Wire_AnnealAnswer()
        m.fits = s.fits.map { p in
            var w = Causa_Wire_AnnealProposals()
            w.users = p.users
            w.from = p.from
            w.to = p.to
            w.delta = p.delta
            return w
        }
        m.lists = LearnRound.message(s.lists)
        return Wire.bytes(m)
    }

    public static func decode(statistic bytes: [UInt8], request: AnnealRequest, plan: JobPlan) throws -> AnnealAnswer {
        let m = try Wire.message(Causa_Wire_AnnealAnswer.self, bytes)
        let c = Int32(request.base.candidates.count)
        guard
            m.fits.allSatisfy({
                $0.users.count == $0.from.count && $0.from.count == $0.to.count && $0.to.count == $0.delta.count
                    && $0.to.allSatisfy { (0..<c).contains($0) } && $0.from.allSatisfy { (0..<c).contains($0) }
            })
        else { throw Wire.DecodeError(message: "anneal proposals whose sizes do not fit") }
        return AnnealAnswer(
            fits: m.fits.map { AnnealProposals(users: $0.users, from: $0.from, to: $0.to, delta: $0.delta) },
            lists: try LearnRound.value(m.lists, request: request.base, plan: plan))
    }
}
