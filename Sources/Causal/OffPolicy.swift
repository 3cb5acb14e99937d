import Foundation
import Statistics

/// How importance weights w = π_e(a | x) / π_b(a | x) are bounded: one rule, applied the same way to the estimate,
/// its standard error and every shard (the estimate and its interval are built from the same clipped terms).
///
/// Source: Open Bandit Pipeline 0.4.1, `obp.ope.estimators` (`lambda_`: w ← min(w, λ) in IPW, DR and SNIPS);
/// statsmodels PR #10223 (one visible propensity bound for estimates and inference).
public struct WeightRule: Sendable, Equatable, Codable {
    /// λ: weights above it are set to it (obp's `lambda_`); nil for none.
    public var clip: Double?
    /// A floor on the logged propensity: w = π_e / max(π_b, floor); nil for none.
    public var propensityFloor: Double?

    /// - Parameters:
    ///   - clip: λ > 0, or nil.
    ///   - propensityFloor: in (0, 1], or nil.
    public init(clip: Double? = nil, propensityFloor: Double? = nil) {
        self.clip = clip
        self.propensityFloor = propensityFloor
    }

    /// The weight of a row and whether the rule changed it.
    /// - Parameters:
    ///   - target: π_e(a_i | x_i), in [0, 1].
    ///   - propensity: π_b(a_i | x_i), in (0, 1] (checked by `LoggedPropensity.problem`).
    public func weight(target: Double, propensity: Double) -> (weight: Double, changed: Bool) {
        var changed = false
        var p = propensity
        if let floor = propensityFloor, p < floor {
            p = floor
            changed = target > 0
        }
        var w = target / p
        if let clip, w > clip {
            w = clip
            changed = true
        }
        return (w, changed)
    }
}

/// Checks of a logged propensity.
public enum LoggedPropensity {
    /// Why `p` cannot be a logged propensity, or nil when it can: it must be a number in (0, 1] (0 is a positivity
    /// violation that would give an infinite weight; a negative value is often a log-probability).
    public static func problem(_ p: Double) -> String? {
        guard p.isFinite else { return "logged propensity must be in (0, 1]: it is not a finite number" }
        if p <= 0 {
            let hint =
                p < 0
                ? " (a negative value looks like a log-probability: give exp of it)"
                : " (0 means the logging policy could not have chosen this action)"
            return "logged propensity must be in (0, 1]: it is \(p)\(hint)"
        }
        if p > 1 { return "logged propensity must be in (0, 1]: it is \(p)" }
        return nil
    }
}

/// The per-row inputs of the off-policy estimators for one evaluation policy.
public struct OffPolicyRow: Sendable, Equatable {
    /// r_i.
    public var reward: Double
    /// π_b(a_i | x_i), the logged propensity, in (0, 1].
    public var propensity: Double
    /// π_e(a_i | x_i), the evaluation policy's probability of the logged action in the logged context.
    public var target: Double
    /// Σ_a π_e(a | x_i) q̂(x_i, a): the direct-method term; nil without a reward model.
    public var directMethod: Double?
    /// q̂(x_i, a_i): the reward model's prediction for the logged action; nil without a reward model.
    public var predictedLogged: Double?
    /// For MIPS: π_e(c_i | x_i) and π_b(c_i | x_i), the two policies' probabilities of the logged item's cluster c_i
    /// (sums over the cluster's items); nil without item clusters and a known logging distribution.
    public var clusterTarget: Double?
    public var clusterPropensity: Double?

    public init(
        reward: Double, propensity: Double, target: Double, directMethod: Double? = nil, predictedLogged: Double? = nil,
        clusterTarget: Double? = nil, clusterPropensity: Double? = nil
    ) {
        self.reward = reward
        self.propensity = propensity
        self.target = target
        self.directMethod = directMethod
        self.predictedLogged = predictedLogged
        self.clusterTarget = clusterTarget
        self.clusterPropensity = clusterPropensity
    }
}

/// The off-policy estimators Causa computes; names and definitions as in Open Bandit Pipeline 0.4.1.
public enum OffPolicyEstimator: String, CaseIterable, Sendable, Codable {
    /// Inverse propensity weighting: mean of w·r (Precup, Sutton & Singh 2000; obp `InverseProbabilityWeighting`).
    case ipw
    /// Self-normalised IPW: Σ w·r / Σ w (Swaminathan & Joachims 2015; obp `SelfNormalizedInverseProbabilityWeighting`).
    case snips
    /// Direct method: mean of Σ_a π_e(a|x) q̂(x, a) (Beygelzimer & Langford 2009; obp `DirectMethod`).
    case dm
    /// Doubly robust: mean of DM_i + w_i (r_i − q̂(x_i, a_i)) (Dudík, Langford & Li 2011; obp `DoublyRobust`).
    case dr
    /// Switch-DR: mean of DM_i + 1{w_i ≤ τ} w_i (r_i − q̂(x_i, a_i)): every row keeps its DM term and only the
    /// correction switches, boundary included (Wang, Agarwal & Dudík 2017; obp `SwitchDoublyRobust`).
    case switchDR = "switch_dr"
    /// Marginalised IPW: mean of w̃·r with w̃ = π_e(c_i | x_i) / π_b(c_i | x_i) over item clusters c (Saito & Joachims
    /// 2022, "Off-policy evaluation for large action spaces via embeddings", ICML; obp ≥ 0.5 `MarginalizedIPS`).
    /// Unbiased when an item's cluster carries all of its effect on the reward; clusters built from embeddings may not.
    case mips

    /// Whether the estimator needs a reward model.
    public var needsRewardModel: Bool { self == .dm || self == .dr || self == .switchDR }
}

/// A shard's off-policy sums for P evaluation policies: the count, means and centred co-moments of the per-row terms
/// (w·r, w, DM, DR, switch-DR, MIPS's w̃·r and w̃ for each policy, 7P columns: policy-major), the largest weights, and the rows
/// the weight rule changed or switch-DR sent back to DM. Merged with Chan's update (`MomentMatrix`), in shard order, so
/// SNIPS is the ratio of two global sums (never an average of shard ratios), variances never come from Σψ² − (Σψ)²/n,
/// and a contrast of two policies uses their per-row covariance.
public struct OffPolicyStatistic: SufficientStatistic, Equatable {
    /// Terms per policy (w·r, w, DM, DR, switch-DR, w̃·r, w̃).
    public static let termsPerPolicy = 7
    /// Number of evaluation policies P.
    public let policies: Int
    /// Moments of the [n, 7P] per-row terms: the variances and covariances of the intervals.
    public private(set) var moments: MomentMatrix
    /// [7P] sums of the per-row terms to twice Float64 precision: the point estimates, so that a ratio of sums
    /// (SNIPS) merged from any split of the rows agrees with the single-shard value to ~1e-16.
    public private(set) var sums: [CompensatedSum]
    /// Per policy: the largest weight (after the rule), 0 when no rows.
    public private(set) var maxWeight: [Double]
    /// Per policy: rows whose weight the rule changed.
    public private(set) var changedRows: [Int]
    /// Per policy: rows whose weight exceeded switch-DR's τ (their correction was dropped).
    public private(set) var switchedRows: [Int]
    /// Per policy: the largest MIPS weight w̃ (after the rule), and the rows whose w̃ the rule changed.
    public private(set) var mipsMaxWeight: [Double]
    public private(set) var mipsChangedRows: [Int]

    /// An empty statistic (the identity of `merge`) for P policies.
    public init(policies: Int) {
        self.policies = policies
        moments = MomentMatrix(dimension: Self.termsPerPolicy * policies)
        sums = [CompensatedSum](repeating: CompensatedSum(), count: Self.termsPerPolicy * policies)
        maxWeight = [Double](repeating: 0, count: policies)
        changedRows = [Int](repeating: 0, count: policies)
        switchedRows = [Int](repeating: 0, count: policies)
        mipsMaxWeight = [Double](repeating: 0, count: policies)
        mipsChangedRows = [Int](repeating: 0, count: policies)
    }

    /// A statistic from its parts, as the properties above give them (a decoded statistic).
    /// - Returns: nil when the sizes do not fit P policies (7P moments and sums, P maxima and counts).
    public init?(
        policies: Int, moments: MomentMatrix, sums: [CompensatedSum], maxWeight: [Double], changedRows: [Int],
        switchedRows: [Int], mipsMaxWeight: [Double], mipsChangedRows: [Int]
    ) {
        let d = Self.termsPerPolicy * policies
        guard policies >= 0, moments.dimension == d, sums.count == d, maxWeight.count == policies,
            changedRows.count == policies, switchedRows.count == policies, mipsMaxWeight.count == policies,
            mipsChangedRows.count == policies
        else { return nil }
        self.mipsMaxWeight = mipsMaxWeight
        self.mipsChangedRows = mipsChangedRows
        self.policies = policies
        self.moments = moments
        self.sums = sums
        self.maxWeight = maxWeight
        self.changedRows = changedRows
        self.switchedRows = switchedRows
    }

    /// The statistic of a block of rows.
    /// - Parameters:
    ///   - rows: [n][P]: row i's inputs for each policy (the same reward and propensity, each policy's target,
    ///     DM term and q̂ of the logged action). Rows without a reward model give DM = DR = switch-DR terms 0, rows
    ///     without cluster probabilities a MIPS term 0.
    ///   - rule: the weight rule (the same on every shard).
    ///   - switchThreshold: τ of switch-DR.
    /// - Complexity: O(n P²).
    public init(rows: [[OffPolicyRow]], rule: WeightRule, switchThreshold: Double) {
        let p = rows.first?.count ?? 0
        self.init(policies: p)
        guard !rows.isEmpty else { return }
        let d = Self.termsPerPolicy * p
        var terms = [Double](repeating: 0, count: rows.count * d)
        for (i, row) in rows.enumerated() {
            precondition(row.count == p, "OffPolicyStatistic: row \(i) has \(row.count) policies, expected \(p)")
            for (k, x) in row.enumerated() {
                let (w, changed) = rule.weight(target: x.target, propensity: x.propensity)
                let dm = x.directMethod ?? 0
                let correction = w * (x.reward - (x.predictedLogged ?? 0))
                let switched = w > switchThreshold
                let base = i * d + k * Self.termsPerPolicy
                terms[base] = w * x.reward
                terms[base + 1] = w
                terms[base + 2] = dm
                terms[base + 3] = dm + correction
                terms[base + 4] = switched ? dm : dm + correction
                if let ct = x.clusterTarget, let cp = x.clusterPropensity {
                    let (wc, clipped) = rule.weight(target: ct, propensity: cp)
                    terms[base + 5] = wc * x.reward
                    terms[base + 6] = wc
                    mipsMaxWeight[k] = max(mipsMaxWeight[k], wc)
                    if clipped { mipsChangedRows[k] += 1 }
                }
                maxWeight[k] = max(maxWeight[k], w)
                if changed { changedRows[k] += 1 }
                if switched { switchedRows[k] += 1 }
            }
        }
        moments = MomentMatrix(rows: terms, count: rows.count, dimension: d)
        for i in 0..<rows.count { for j in 0..<d { sums[j].add(terms[i * d + j]) } }
    }

    /// The empty statistic for `other`'s number of policies (the identity of `merge`, bit for bit).
    public static func empty(like other: OffPolicyStatistic) -> OffPolicyStatistic {
        OffPolicyStatistic(policies: other.policies)
    }

    /// Adds another shard's sums (Chan's update for the moments; max and counts exactly).
    /// - Precondition: the same number of policies.
    public mutating func merge(_ other: OffPolicyStatistic) {
        precondition(other.policies == policies, "merge: \(other.policies) policies, expected \(policies)")
        guard other.count > 0 else { return }  // the empty statistic is the identity, bit for bit
        guard count > 0 else {
            self = other
            return
        }
        moments.merge(other.moments)
        for j in sums.indices { sums[j].merge(other.sums[j]) }
        for k in 0..<policies {
            maxWeight[k] = max(maxWeight[k], other.maxWeight[k])
            changedRows[k] += other.changedRows[k]
            switchedRows[k] += other.switchedRows[k]
            mipsMaxWeight[k] = max(mipsMaxWeight[k], other.mipsMaxWeight[k])
            mipsChangedRows[k] += other.mipsChangedRows[k]
        }
    }

    /// Rows n.
    public var count: Int { Int(moments.count) }
}

/// One off-policy estimate with its normal-approximation interval and weight diagnostics.
public struct OffPolicyEstimate: Sendable, Equatable, Codable {
    /// The policy value estimate.
    public var estimate: Double
    /// Its standard error: sd of the per-row terms (divisor n − 1) / √n; for SNIPS, the delta method.
    public var standardError: Double
    /// The `confidence` interval's lower end, estimate − z·se (z the normal quantile).
    public var ciLow: Double
    /// Its upper end, estimate + z·se.
    public var ciHigh: Double
    /// Effective sample size (Σw)² / Σw².
    public var effectiveSampleSize: Double
    /// The largest weight.
    public var maxWeight: Double
    /// Rows whose weight the rule changed (clip or propensity floor).
    public var clippedRows: Int
    /// Rows n.
    public var count: Int
}

extension OffPolicyStatistic {
    private func column(_ policy: Int, _ term: Int) -> Int { policy * Self.termsPerPolicy + term }

    private func term(_ e: OffPolicyEstimator) -> Int {
        switch e {
        case .ipw, .snips: return 0
        case .dm: return 2
        case .dr: return 3
        case .switchDR: return 4
        case .mips: return 5
        }
    }

    /// Sample covariance (divisor n − 1) of two term columns.
    private func covariance(_ a: Int, _ b: Int) -> Double {
        let n = moments.count
        return n > 1 ? moments.comoment[a * moments.dimension + b] / (n - 1) : 0
    }

    /// The estimate of `estimator` for policy k.
    /// - Parameters:
    ///   - estimator: which estimator.
    ///   - policy: 0-based policy index.
    ///   - confidence: interval level in (0, 1), e.g. 0.95.
    /// - Returns: nil when there are no rows, or SNIPS with Σw = 0.
    public func estimate(_ estimator: OffPolicyEstimator, policy k: Int, confidence: Double = 0.95)
        -> OffPolicyEstimate?
    {
        let n = moments.count
        guard n > 0 else { return nil }
        // MIPS's diagnostics are those of its marginal weights w̃; every other estimator's those of w.
        let wCol = column(k, estimator == .mips ? 6 : 1)
        let sumW = sums[wCol].value
        let meanW = sumW / n
        let sumW2 = moments.comoment[wCol * moments.dimension + wCol] + n * meanW * meanW
        let ess = sumW2 > 0 ? sumW * sumW / sumW2 : 0
        let value: Double
        let variance: Double
        switch estimator {
        case .snips:
            guard sumW > 0 else { return nil }
            // Delta method for the ratio of means: Var(ψ − S·w) / (n · w̄²).
            let rCol = column(k, 0)
            value = sums[rCol].value / sumW
            variance =
                max(
                    0,
                    covariance(rCol, rCol) - 2 * value * covariance(rCol, wCol) + value * value * covariance(wCol, wCol)
                ) / (meanW * meanW)
        default:
            let c = column(k, term(estimator))
            value = sums[c].value / n
            variance = max(0, covariance(c, c))
        }
        let se = (variance / n).squareRoot()
        let z = Distributions.normalQuantile(0.5 + confidence / 2)
        return OffPolicyEstimate(
            estimate: value, standardError: se, ciLow: value - z * se, ciHigh: value + z * se,
            effectiveSampleSize: ess, maxWeight: estimator == .mips ? mipsMaxWeight[k] : maxWeight[k],
            clippedRows: estimator == .mips ? mipsChangedRows[k] : changedRows[k], count: Int(n))
    }

    /// The paired contrast value(policy a) − value(policy b) of a linear estimator (IPW, DM, DR, switch-DR), with the
    /// standard error of the per-row differences (which uses the two policies' covariance).
    /// - Returns: nil for SNIPS (a ratio) or no rows.
    public func contrast(_ estimator: OffPolicyEstimator, _ a: Int, minus b: Int, confidence: Double = 0.95) -> (
        estimate: Double, standardError: Double, ciLow: Double, ciHigh: Double
    )? {
        guard estimator != .snips, moments.count > 0 else { return nil }
        let ca = column(a, term(estimator))
        let cb = column(b, term(estimator))
        var difference = sums[ca]
        difference.merge(CompensatedSum([-sums[cb].high, -sums[cb].low]))
        let value = difference.value / moments.count
        let variance = max(0, covariance(ca, ca) + covariance(cb, cb) - 2 * covariance(ca, cb))
        let se = (variance / moments.count).squareRoot()
        let z = Distributions.normalQuantile(0.5 + confidence / 2)
        return (value, se, value - z * se, value + z * se)
    }
}
