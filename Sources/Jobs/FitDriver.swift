import Foundation
import Logging
import Statistics
import Tabular

/// The coordinator's side of a fit: plans rounds, merges shard statistics in shard order and steps the
/// estimators. Pure computation over `ShardExecutor` replies; it knows nothing of sockets.
///
/// Rounds: summarize → ([text] jobs: embed → features) → moments → (OLS) residuals | (logit) Newton × t, each sent
/// through `ShardExecutor.run(_:job:)` / `merge(_:job:)`. Every merge runs over shards 0..<S in order (folds in order
/// for CV), so the result is bit-identical for any number of workers. Each model kind's fit is in its own file
/// (Models/OLSDriver.swift, LogitDriver.swift, BayesLinearDriver.swift, SEMDriver.swift); the text rounds'
/// coordinator side is in TextFeatureRounds.swift.
public struct FitDriver {
    public let prepared: PreparedJob
    public let logger: Logger

    public init(prepared: PreparedJob, logger: Logger) {
        self.prepared = prepared
        self.logger = logger
    }

    var job: JobSpec { prepared.job }
    var plan: JobPlan { prepared.plan }

    /// What a fit produces, before run facts (workers, bytes, timings) are added.
    public struct Outcome: Sendable {
        public var data: FitReport.DataInfo
        public var model: FitReport.ModelResult
        public var cv: FitReport.CrossValidation?
        /// The text features made, for `[text]` jobs.
        public var text: FitReport.TextInfo?
        /// A `sem` job's results.
        public var sem: FitReport.SEMSection?
        /// A `bayes_linear` job's posterior.
        public var bayes: FitReport.BayesSection?
        /// Off-policy estimates (`[policy]` jobs), one per policy and estimator, logging first.
        public var ope: [FitReport.OffPolicyEntry]?
        /// What the off-policy evaluation used.
        public var opeInfo: FitReport.OffPolicyInfo?
        /// Learned policies (`policy.learners`).
        public var policy: FitReport.PolicySection?
        /// Further files of the output folder (policy.json, recommendations.csv), by name.
        public var files: [String: Data] = [:]
        /// The coordinator's copy of the deployed policy (a `[policy]` job with learners).
        public var deployment: Deployment?
        /// Seconds per phase.
        public var timings: [String: Double]
    }

    /// Runs the fit.
    /// - Throws: `InputError` for data or model problems (with positions), `RunError` for cluster failures.
    public func run(on executor: ShardExecutor) throws -> Outcome {
        var timings: [String: Double] = [:]
        var clock = Date()
        func lap(_ name: String) {
            timings[name] = Date().timeIntervalSince(clock)
            clock = Date()
        }

        // Round 1: column summaries → schema → design.
        let designed = try designed(on: executor)
        let (spec, schema, summary, text) = (designed.spec, designed.schema, designed.summary, designed.text)
        // Policy files are read and checked against the catalogue before any fit.
        let offPolicy = try job.policy.map { try offPolicyPlan($0, designed: designed) }
        lap("summarize")
        logger.info("design built", metadata: ["columns": "\(spec.width)", "rows": "\(summary.rows)"])

        // Round 2: moments per fold, merged in shard order per fold.
        let moments = MomentsRound(schema: schema, groups: plan.foldGroups, dimension: spec.width + 1)
        let foldMoments = try executor.merge(moments, job: prepared).items
        let total = MomentMatrix.merged(foldMoments, into: MomentMatrix(dimension: spec.width + 1))
        let d = spec.width + 1
        let raw = job.kind == .sem ? total.comoment : total.crossProducts  // a SEM needs only the centred moments
        let overflowing = (0..<d).filter { j in
            !total.mean[j].isFinite
                || (0..<d).contains { !total.comoment[j * d + $0].isFinite || !raw[j * d + $0].isFinite }
        }
        if !overflowing.isEmpty { throw overflowError(total, columns: overflowing, spec: spec) }
        if job.folds > 0, let empty = foldMoments.firstIndex(where: { $0.count == 0 }) {
            let p = job.cvPosition
            throw InputError(
                file: job.jobFile, line: p?.line, column: p?.column,
                "cv.folds = \(job.folds), but fold \(empty) (0-based) has no rows: there are too few \(job.foldBy == .user ? "users" : "rows") for \(job.folds) folds"
            )
        }
        // A constant outcome (exact: its minimum equals its maximum) with a constant design column (the intercept)
        // leaves nothing to explain: the fit is exact whatever the rounding says. Without one it is an ordinary fit.
        let hasConstantColumn = (0..<spec.width).contains { total.isConstant($0) && total.minimum[$0] != 0 }
        if job.kind == .ols || (job.kind == .bayesLinear && job.prior.kind == .flat), hasConstantColumn,
            total.isConstant(spec.width)
        {
            throw InputError(
                file: job.jobFile, line: job.formulaPosition?.line, column: job.formulaPosition?.column,
                "model.formula: the outcome is \(Self.text(total.minimum[spec.width])) in all "
                    + "\(Int(total.count)) rows; a constant outcome leaves nothing to fit "
                    + "(its variance is 0, so standard errors and tests are undefined)")
        }
        lap("moments")

        let data = FitReport.DataInfo(rows: summary.rows, users: summary.users)
        let names = spec.columnNames
        let outcome: (FitReport.ModelResult, FitReport.CrossValidation?)
        var sem: FitReport.SEMSection? = nil
        var bayes: FitReport.BayesSection? = nil
        var reward: RewardModel? = nil
        switch job.kind {
        case .ols:
            let fit = try fitOLS(total: total, folds: foldMoments, names: names, executor: executor)
            outcome = (fit.0, fit.1)
            reward = fit.2
        case .logit:
            let fit = try fitLogit(total: total, folds: foldMoments, spec: spec, executor: executor)
            outcome = (fit.0, fit.1)
            reward = fit.2
        case .bayesLinear:
            let fit = try fitBayes(total: total, folds: foldMoments, names: names)
            outcome = (fit.0, fit.1)
            bayes = fit.2
            reward = fit.3
        case .sem:
            let fit = try fitSEM(total: total)
            outcome = (fit.0, nil)
            sem = fit.1
        }
        lap("fit")
        var result = Outcome(
            data: data, model: outcome.0, cv: outcome.1, text: text, sem: sem, bayes: bayes, timings: timings)
        if let offPolicy {
            try executor.broadcast(offPolicy.broadcast)
            var learned: LearnedPolicies? = nil
            if let policy = job.policy, !policy.learners.isEmpty, let reward {
                learned = try learnPolicies(offPolicy, designed: designed, reward: reward, executor: executor)
                lap("learn")
            }
            let ope = try runOffPolicy(offPolicy, schema: schema, reward: reward, executor: executor)
            result.ope = ope.0
            result.opeInfo = ope.1
            lap("off_policy")
            if let learned {
                let (section, files) = try policySection(learned, entries: ope.0, names: spec.columnNames)
                result.policy = section
                result.files = files
                try deploy(learned, section: section, designed: designed, executor: executor)
                result.deployment = coordinatorCopy(learned, section: section)
                lap("deploy")
            }
            result.timings = timings
        }
        return result
    }

    /// Runs the summary round (and, for `[text]` jobs, the embed and features rounds) and builds the design: what
    /// every fit starts with.
    /// - Returns: the design, the column schema broadcast to workers, the merged summary, and the text features made.
    /// - Throws: `InputError` for missing values, text in numeric columns, a bad logit outcome, formula problems, items
    ///   or users missing from their files.
    public func design(on executor: ShardExecutor) throws -> (
        DesignMatrixSpec, [ColumnSchema], ShardSummary, FitReport.TextInfo?
    ) {
        let d = try designed(on: executor)
        return (d.spec, d.schema, d.summary, d.text)
    }

    /// What the summary (and text) rounds settle.
    struct Designed {
        var spec: DesignMatrixSpec
        var schema: [ColumnSchema]
        var summary: ShardSummary
        /// Per shard, in shard order.
        var summaries: [ShardSummary]
        var text: FitReport.TextInfo?
        var items: ItemFeatures?
    }

    func designed(on executor: ShardExecutor) throws -> Designed {
        let summaries = try executor.run(SummarizeRound(columns: plan.columns), job: prepared)
        let summary = ShardSummary.merged(
            summaries, into: ShardSummary(columns: plan.columns.map { ColumnSummary(name: $0) }))
        var schema = try makeSchema(summary)
        var text: FitReport.TextInfo? = nil
        var items: ItemFeatures? = nil
        if let t = plan.text {
            (text, items) = try textFeatures(t, summaries: summaries, merged: summary, executor: executor)
            schema += t.featureNames.map {
                ColumnSchema(name: $0, info: ColumnInfo(isNumeric: true, isIntegral: false, levels: []))
            }
        }
        do {
            let spec = try DesignMatrixSpec(
                formula: prepared.formula, columns: Dictionary(uniqueKeysWithValues: schema.map { ($0.name, $0.info) }))
            return Designed(
                spec: spec, schema: schema, summary: summary, summaries: summaries, text: text, items: items)
        } catch let e as FormulaError { throw job.inputError(e) }
    }

    // MARK: summary → schema

    func dataError(_ ref: CellReference, column: String, _ message: String) -> InputError {
        let number = plan.columnNumbers[plan.columns.firstIndex(of: column)!]
        return InputError(file: prepared.dataFile, line: ref.line, column: number, message)
    }

    func makeSchema(_ summary: ShardSummary) throws -> [ColumnSchema] {
        guard summary.rows > 0 else {
            throw InputError(file: prepared.dataFile, line: 2, "the file has a header but no data rows")
        }
        let formula = prepared.formula
        // Columns read as numbers: the outcome and every column inside a factor that is not C(...).
        var numericUse = Set(formula.outcome.expression.columns)
        var categoricalUse = Set<String>()
        for f in formula.factors {
            if f.forcedCategorical {
                categoricalUse.formUnion(f.expression.columns)
            } else {
                numericUse.formUnion(f.expression.columns)
            }
        }
        var schema: [ColumnSchema] = []
        let formulaColumns = Set(formula.columns)
        for s in summary.columns where formulaColumns.contains(s.name) {
            if let m = s.firstMissing {
                throw dataError(
                    m, column: s.name,
                    "missing value\(m.value.isEmpty ? "" : " '\(m.value)'") in column '\(s.name)'; Causa does not drop rows: fill or remove them"
                )
            }
            let isOutcome = s.name == plan.outcomeColumn
            if isOutcome, let bad = s.firstNonNumeric {
                throw dataError(bad, column: s.name, "the outcome '\(s.name)' must be a number, found '\(bad.value)'")
            }
            if isOutcome, job.kind == .logit, let bad = s.firstNonBinary {
                throw dataError(
                    bad, column: s.name, "a logit outcome must be 0 or 1, found '\(bad.value)' in column '\(s.name)'")
            }
            if numericUse.contains(s.name), s.numericCount > 0, let bad = s.firstNonNumeric {
                if s.numericCount >= s.nonNumericCount {
                    throw dataError(
                        bad, column: s.name,
                        "'\(bad.value)' is not a number, but column '\(s.name)' is used as a number in the formula")
                }
                throw dataError(
                    bad, column: s.name,
                    "column '\(s.name)' mixes text (\(s.nonNumericCount) cells, the first here: '\(bad.value)') and numbers (\(s.numericCount) cells), and the formula reads it as a number; write C(\(s.name)) to treat it as categorical, or fix the cells"
                )
            }
            let isNumeric = s.nonNumericCount == 0
            if job.kind == .sem, !isNumeric, let bad = s.firstNonNumeric {
                throw dataError(
                    bad, column: s.name,
                    "'\(bad.value)' is not a number: the SEM variable '\(s.name)' must be numeric (code a category as 0/1 columns)"
                )
            }
            if categoricalUse.contains(s.name) || !isNumeric, plan.levelColumns.contains(s.name), s.levelsTruncated {
                throw InputError(
                    file: job.jobFile, line: job.formulaPosition?.line, column: job.formulaPosition?.column,
                    "model.formula: column '\(s.name)' has more than \(ColumnSummary.levelLimit) distinct values; too many levels for a categorical term"
                )
            }
            var levels: [FactorValue] = []
            if isNumeric {
                levels = Array(Set(s.levels.compactMap { Cell.number($0) })).sorted().map { FactorValue.number($0) }
            } else {
                levels = s.levels.map { FactorValue.string($0) }
            }
            schema.append(
                ColumnSchema(
                    name: s.name, info: ColumnInfo(isNumeric: isNumeric, isIntegral: s.allIntegral, levels: levels)))
        }
        return schema
    }

    /// The overflow error, at the earliest row (in data order, across shards) with a value of an overflowing column at
    /// or above 2^e, the largest power of two not above √(DBL_MAX / n) / 4: some value exceeds that bound whenever
    /// these sums overflow (docs/DECISIONS.md, "Numerical decisions").
    func overflowError(_ total: MomentMatrix, columns: [Int], spec: DesignMatrixSpec) -> InputError {
        let name = { (j: Int) in j < spec.width ? spec.columnNames[j] : "the outcome" }
        let base = modelError(.overflow(columns: columns.map(name)))
        let bound = (Double.greatestFiniteMagnitude / max(total.count, 1)).squareRoot() / 4
        let e = Int(bound.exponent)
        guard let (j, row) = total.firstRow(atLeastPowerOfTwo: e, columns: columns) else { return base }
        let dataColumn = j < spec.width ? spec.columnNames[j] : (plan.outcomeColumn ?? "")
        let number = plan.columns.firstIndex(of: dataColumn).map { plan.columnNumbers[$0] }
        let limit = Double(sign: .plus, exponent: e, significand: 1)
        return InputError(
            file: prepared.dataFile, line: row.line, column: number,
            "\(base.message). This row (data row \(row.rowIndex + 1)) is the first with |\(name(j))| "
                + "≥ 2^\(e) ≈ \(String(format: "%.3g", limit)) (the largest power of two ≤ √(DBL_MAX/n)/4 "
                + "for n = \(Int(total.count)) rows)")
    }

    /// A number as a message shows it: whole numbers without ".0", others in Swift's shortest round-trip form.
    static func text(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)" }

    func modelError(_ error: StatisticsError, context: String = "") -> InputError {
        let p = job.formulaPosition
        return InputError(
            file: job.jobFile, line: p?.line, column: p?.column, "model.formula: \(context)\(error.description)")
    }
}
