import Causal
import Foundation
import TOMLKit

/// The `[policy]` table of a job file: off-policy evaluation of recommendation policies on the logged rows.
///
/// ```toml
/// [policy]
/// action = "item_id"            # the logged action (item) column
/// propensity = "propensity"     # π_b(a_i | x_i, position), in (0, 1]
/// reward = "click"              # default: the model's outcome column
/// position = "position"         # optional
/// positions = [1]               # optional: value only rows at these positions
/// evaluate = ["logging", "uniform", "policies/bts.csv"]
/// estimators = ["ipw", "snips", "dm", "dr", "switch_dr", "mips"]
/// clip = 1000                   # optional weight clip λ
/// switch_tau = 1.0
/// logging_policy = "uniform"    # MIPS needs the logging distribution
/// mips_clusters = 10
/// confidence = 0.95
/// missing = "error"             # or "uniform": users absent from a per-user policy file
/// seed = 1                      # k-means++ seeding of the MIPS item clusters
/// ```
public struct PolicySpec: Sendable, Equatable, Codable {
    /// One policy to value.
    public enum Target: Sendable, Equatable, Codable {
        /// The logging policy itself: IPW = SNIPS = the mean reward (no DM or DR: they would need its full
        /// distribution).
        case logging
        /// 1/|A| for every item of the catalogue.
        case uniform
        /// A policy file (`PolicyTable`).
        /// - Parameters: written: the path as the job file gives it (the report's name); resolved: against the job
        ///   file's folder.
        case file(written: String, resolved: String)

        /// The name the report and the printed table use.
        public var name: String {
            switch self {
            case .logging: return "logging"
            case .uniform: return "uniform"
            case .file(let written, _): return written
            }
        }
    }

    /// What a per-user policy file does for a user it does not list.
    public enum Missing: String, Sendable, Codable, CaseIterable {
        /// An input error at the first such data row.
        case error
        /// The uniform policy for that user.
        case uniform
    }

    /// `policy.action`: the column naming the logged item.
    public var action: String
    /// `policy.propensity`: the column of logged propensities.
    public var propensity: String
    /// `policy.reward`: the reward column (default: the model's outcome column).
    public var reward: String
    /// `policy.position`: the position column, if any.
    public var position: String?
    /// `policy.positions`: the positions valued (nil: all rows).
    public var positions: [Int]?
    /// `policy.evaluate`, in the job file's order (the report puts `logging` first).
    public var evaluate: [Target]
    /// `policy.estimators` (nil: every estimator that applies).
    public var estimators: [OffPolicyEstimator]?
    /// `policy.clip` λ and no propensity floor.
    public var rule: WeightRule
    /// `policy.switch_tau` (obp's default 1.0).
    public var switchTau: Double = 1.0
    /// `policy.logging_policy`: the logging policy's full distribution (uniform or a file), for MIPS.
    public var loggingPolicy: Target?
    /// `policy.mips_clusters`: k of the item clusters (10).
    public var mipsClusters: Int = 10
    /// `policy.confidence` (0.95).
    public var confidence: Double = 0.95
    /// `policy.missing`.
    public var missing: Missing = .error
    /// `policy.seed` (1): seeds k-means++ for the MIPS clusters.
    public var seed: UInt64 = 1
    /// Where the keys of `[policy]` are in the job file (by key), for errors about them.
    public var positionsInJob: [String: JobSpec.SourceLocation] = [:]

    // MARK: policy learning (issue 12)

    /// Policy learners `policy.learners` can name.
    public enum Learner: String, Sendable, Codable, CaseIterable {
        /// Per user the top-k predicted items (under capacity: at Lagrangian item prices), with ε exploration.
        case greedy
        /// A softmax policy over the design's item-dependent columns, trained by gradient ascent (Adam) on the
        /// doubly robust value of the training rows.
        case gradient
        /// Simulated annealing of the position-1 assignment from the greedy one, every accepted move keeping the
        /// capacity and the budget.
        case annealing
    }

    /// Which items a learned policy may recommend.
    public enum Candidates: String, Sendable, Codable, CaseIterable {
        /// Every item of the items file (the default with one).
        case items
        /// The items seen in the log.
        case logged
    }

    /// `policy.learners` (empty: the job learns nothing).
    public var learners: [Learner] = []
    /// `policy.candidates` (nil: "items" with an items file, else "logged").
    public var candidates: Candidates?
    /// `policy.at`: values of log-only context columns (position, timestamp, …) used to score new (user, item) pairs,
    /// by column, as the job file writes them (numbers as their shortest decimal text).
    public var at: [String: String] = [:]
    /// `policy.top_k` (3): items per user in recommendations.csv.
    public var topK = 3
    /// `policy.epsilon` (0.05): mass spread over the catalogue.
    public var epsilon = 0.05
    /// `policy.capacity`: each item's largest expected share of position-1 impressions, Σ_u π(a|u) / U.
    public var capacity: Double?
    /// `policy.budget`: the mean over users of Σ_a π(a|u)·cost(a) at position 1 is at most `maxMean`, with the cost
    /// a numeric column of the items file.
    public struct Budget: Sendable, Equatable, Codable {
        public var column: String
        public var maxMean: Double
    }
    public var budget: Budget?
    /// `policy.select_learner` ("best_lcb" or a learner's name).
    public var selectLearner = "best_lcb"
    /// The gradient learner: `policy.step` (Adam's step, 0.05), `policy.max_rounds` (500), `policy.tolerance` (1e-6,
    /// on the objective's relative change) and `policy.l2` (0: a penalty λ/2·|θ|² on the mean objective).
    public var step = 0.05
    public var maxRounds = 500
    public var tolerance = 1e-6
    public var l2 = 0.0
    /// The annealing learner: `policy.anneal_rounds` (100) and `policy.anneal_proposals` (64 per shard and round).
    public var annealRounds = 100
    public var annealProposals = 64
    /// The annealing learner's objective: `policy.objective` = "predicted" (default: the reward model's predicted
    /// reward) or "dr" (the doubly robust value on the training rows).
    public enum Objective: String, Sendable, Codable, CaseIterable {
        case predicted
        case dr
    }
    public var objective = Objective.predicted

    /// The keys `[policy]` takes.
    public static let keys = [
        "action", "propensity", "reward", "position", "positions", "evaluate", "estimators", "clip", "switch_tau",
        "logging_policy", "mips_clusters", "confidence", "missing", "seed", "learners", "candidates", "at", "top_k",
        "epsilon", "capacity", "budget", "select_learner", "step", "max_rounds", "tolerance", "l2",
        "anneal_rounds", "anneal_proposals", "objective"
    ]

    /// The policy files the job names (evaluation policies, then the logging distribution), each once.
    public var files: [Target] {
        var out: [Target] = []
        for t in evaluate + (loggingPolicy.map { [$0] } ?? []) {
            if case .file = t, !out.contains(t) { out.append(t) }
        }
        return out
    }

    /// The columns of the data rows the evaluation reads.
    public var columns: [String] { [action, propensity, reward] + (position.map { [$0] } ?? []) }
}

extension PolicySpec {
    /// Reads `[policy]`.
    /// - Parameters:
    ///   - table: the table.
    ///   - outcome: the model's outcome column, the default reward (nil when the outcome is an expression).
    ///   - resolve: resolves a path against the job file's folder.
    ///   - fail: an input error at a key of `[policy]`.
    /// - Throws: `InputError` for unknown keys, wrong types and values out of range.
    static func parse(
        _ table: TOMLTable, outcome: String?, isSEM: Bool = false, resolve: (String) -> String,
        locate: (String) -> JobSpec.SourceLocation?, fail: (String?, String) -> InputError
    ) throws -> PolicySpec {
        for k in table.keys where !keys.contains(k) {
            throw fail(k, "unknown key '\(k)' in [policy] (expected one of: \(keys.joined(separator: ", ")))")
        }
        func string(_ key: String) throws -> String? {
            guard let v = table[key] else { return nil }
            guard let s = v.string, !s.isEmpty else { throw fail(key, "'policy.\(key)' must be a non-empty string") }
            return s
        }
        func number(_ key: String) throws -> Double? {
            guard let v = table[key] else { return nil }
            guard let x = v.double ?? v.int.map(Double.init), x.isFinite else {
                throw fail(key, "'policy.\(key)' must be a number")
            }
            return x
        }
        guard let action = try string("action") else {
            throw fail(nil, "missing key 'action' in [policy] (the column naming the logged item)")
        }
        guard let propensity = try string("propensity") else {
            throw fail(nil, "missing key 'propensity' in [policy] (the column of the logging policy's probabilities)")
        }
        let rewardKey = try string("reward")
        guard let reward = rewardKey ?? outcome else {
            throw fail(
                nil,
                isSEM
                    ? "a sem model has no outcome, so [policy] needs 'reward' (the column of rewards)"
                    : "the model's outcome is an expression, so [policy] needs 'reward' (the column of rewards)")
        }
        func target(_ key: String, _ text: String) -> Target {
            switch text {
            case "logging": return .logging
            case "uniform": return .uniform
            default: return .file(written: text, resolved: resolve(text))
            }
        }
        var spec = PolicySpec(
            action: action, propensity: propensity, reward: reward, position: try string("position"), positions: nil,
            evaluate: [.logging, .uniform], estimators: nil, rule: WeightRule())
        if let v = table["positions"] {
            guard let a = v.array, a.count > 0 else {
                throw fail("positions", "'policy.positions' must be a non-empty array of positions, e.g. [1]")
            }
            var list: [Int] = []
            for item in a {
                guard let i = item.int, i >= 0 else {
                    throw fail("positions", "'policy.positions' must hold whole numbers ≥ 0 (positions as in the data)")
                }
                guard !list.contains(i) else { throw fail("positions", "'policy.positions' names \(i) twice") }
                list.append(i)
            }
            guard spec.position != nil else {
                throw fail("positions", "'policy.positions' needs 'policy.position' (the column of positions)")
            }
            spec.positions = list
        }
        if let v = table["evaluate"] {
            guard let a = v.array, a.count > 0 else {
                throw fail(
                    "evaluate",
                    "'policy.evaluate' must be a non-empty array of policies: \"logging\", \"uniform\" or policy files")
            }
            var list: [Target] = []
            for item in a {
                guard let s = item.string, !s.isEmpty else {
                    throw fail("evaluate", "'policy.evaluate' must be an array of strings")
                }
                let t = target("evaluate", s)
                guard !list.contains(t) else { throw fail("evaluate", "'policy.evaluate' names \"\(s)\" twice") }
                list.append(t)
            }
            spec.evaluate = list
        }
        if let v = table["estimators"] {
            guard let a = v.array, a.count > 0 else {
                throw fail("estimators", "'policy.estimators' must be a non-empty array of estimator names")
            }
            var list: [OffPolicyEstimator] = []
            for item in a {
                let names = OffPolicyEstimator.allCases.map(\.rawValue).joined(separator: ", ")
                guard let s = item.string, let e = OffPolicyEstimator(rawValue: s) else {
                    throw fail(
                        "estimators", "unknown estimator \(item.string.map { "'\($0)'" } ?? "") (expected: \(names))")
                }
                guard !list.contains(e) else { throw fail("estimators", "'policy.estimators' names '\(s)' twice") }
                list.append(e)
            }
            spec.estimators = list
        }
        if let clip = try number("clip") {
            guard clip > 0 else {
                throw fail("clip", "'policy.clip' must be positive (weights above it are set to it)")
            }
            spec.rule = WeightRule(clip: clip)
        }
        if let tau = try number("switch_tau") {
            guard tau >= 0 else { throw fail("switch_tau", "'policy.switch_tau' must be ≥ 0") }
            spec.switchTau = tau
        }
        if let s = try string("logging_policy") {
            guard s != "logging" else {
                throw fail(
                    "logging_policy",
                    "'policy.logging_policy' gives the logging policy's distribution: \"uniform\" or a policy file")
            }
            spec.loggingPolicy = target("logging_policy", s)
        }
        if let v = table["mips_clusters"] {
            guard let k = v.int, (1...10_000).contains(k) else {
                throw fail("mips_clusters", "'policy.mips_clusters' must be a whole number in 1...10000")
            }
            spec.mipsClusters = k
        }
        if let c = try number("confidence") {
            guard c > 0, c < 1 else {
                throw fail("confidence", "'policy.confidence' must be between 0 and 1, got \(c)")
            }
            spec.confidence = c
        }
        if let m = try string("missing") {
            guard let missing = Missing(rawValue: m) else {
                throw fail("missing", "unknown policy.missing '\(m)' (expected \"error\" or \"uniform\")")
            }
            spec.missing = missing
        }
        if let v = table["seed"] {
            guard let s = v.int, s >= 0 else { throw fail("seed", "'policy.seed' must be a whole number ≥ 0") }
            spec.seed = UInt64(s)
        }
        if let v = table["learners"] {
            let names = Learner.allCases.map(\.rawValue).joined(separator: ", ")
            guard let a = v.array, a.count > 0 else {
                throw fail("learners", "'policy.learners' must be a non-empty array of learners (\(names))")
            }
            for item in a {
                guard let s = item.string, let l = Learner(rawValue: s) else {
                    let shown = item.string.map { "'\($0)'" } ?? "a value that is not a string"
                    let later = ""
                    throw fail("learners", "unknown learner \(shown)\(later) (expected: \(names))")
                }
                guard !spec.learners.contains(l) else { throw fail("learners", "'policy.learners' names '\(s)' twice") }
                spec.learners.append(l)
            }
        }
        if let c = try string("candidates") {
            guard let candidates = Candidates(rawValue: c) else {
                throw fail("candidates", "unknown policy.candidates '\(c)' (expected \"items\" or \"logged\")")
            }
            spec.candidates = candidates
        }
        if let v = table["at"] {
            guard let t = v.table else {
                throw fail("at", "'policy.at' must be an inline table of column values, e.g. { position = 1 }")
            }
            for key in t.keys.sorted() {
                let value = t[key]!
                if let x = value.int {
                    spec.at[key] = String(x)
                } else if let x = value.double, x.isFinite {
                    spec.at[key] = "\(x)"
                } else if let x = value.string {
                    spec.at[key] = x
                } else if let b = value.bool {
                    spec.at[key] = b ? "True" : "False"
                } else {
                    throw fail("at", "'policy.at.\(key)' must be a number, a string or true/false")
                }
            }
        }
        if let v = table["top_k"] {
            guard let k = v.int, (1...1000).contains(k) else {
                throw fail("top_k", "'policy.top_k' must be a whole number in 1...1000")
            }
            spec.topK = k
        }
        if let e = try number("epsilon") {
            guard e >= 0, e < 1 else { throw fail("epsilon", "'policy.epsilon' must be in [0, 1), got \(e)") }
            spec.epsilon = e
        }
        if let c = try number("capacity") {
            guard c > 0, c <= 1 else { throw fail("capacity", "'policy.capacity' must be in (0, 1], got \(c)") }
            spec.capacity = c
        }
        if let v = table["budget"] {
            guard let t = v.table, let column = t["column"]?.string, !column.isEmpty,
                let max = t["max_mean"].flatMap({ $0.double ?? $0.int.map(Double.init) }), max.isFinite,
                t.keys.allSatisfy({ ["column", "max_mean"].contains($0) })
            else {
                throw fail(
                    "budget",
                    "'policy.budget' must be an inline table { column = \"price\", max_mean = 60 } (a numeric column of the items file and the largest mean cost per user)"
                )
            }
            spec.budget = Budget(column: column, maxMean: max)
        }
        if let x = try number("step") {
            guard x > 0 else { throw fail("step", "'policy.step' must be positive") }
            spec.step = x
        }
        if let v = table["max_rounds"] {
            guard let n = v.int, (1...100_000).contains(n) else {
                throw fail("max_rounds", "'policy.max_rounds' must be a whole number in 1...100000")
            }
            spec.maxRounds = n
        }
        if let x = try number("tolerance") {
            guard x > 0 else { throw fail("tolerance", "'policy.tolerance' must be positive") }
            spec.tolerance = x
        }
        for (key, range) in [("anneal_rounds", 1...100_000), ("anneal_proposals", 1...100_000)] {
            guard let v = table[key] else { continue }
            guard let n = v.int, range.contains(n) else {
                throw fail(key, "'policy.\(key)' must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            if key == "anneal_rounds" { spec.annealRounds = n } else { spec.annealProposals = n }
        }
        if let o = try string("objective") {
            guard let objective = Objective(rawValue: o) else {
                throw fail("objective", "unknown policy.objective '\(o)' (expected \"predicted\" or \"dr\")")
            }
            spec.objective = objective
        }
        if let x = try number("l2") {
            guard x >= 0 else { throw fail("l2", "'policy.l2' must be ≥ 0") }
            spec.l2 = x
        }
        if let s = try string("select_learner") {
            guard s == "best_lcb" || spec.learners.contains(where: { $0.rawValue == s }) else {
                throw fail(
                    "select_learner",
                    "'policy.select_learner' must be \"best_lcb\" or one of policy.learners (\(spec.learners.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            spec.selectLearner = s
        }
        for key in [
            "candidates", "at", "top_k", "epsilon", "capacity", "budget", "select_learner", "step", "max_rounds",
            "tolerance", "l2", "anneal_rounds", "anneal_proposals", "objective"
        ]
        where table[key] != nil && spec.learners.isEmpty {
            throw fail(key, "'policy.\(key)' is about learned policies: set policy.learners")
        }
        let columns = spec.columns
        if let dup = columns.first(where: { c in columns.filter { $0 == c }.count > 1 }) {
            throw fail(nil, "[policy] names column '\(dup)' for two roles (action, propensity, reward, position)")
        }
        for k in keys { spec.positionsInJob[k] = locate(k) }
        return spec
    }
}
