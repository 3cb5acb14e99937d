import Foundation
import Logging
import Statistics
import Tabular

/// Runs rounds on every shard of a job. The Cluster layer implements it over ZeroMQ; `InProcessExecutor`
/// implements it in memory for tests.
public protocol ShardExecutor: AnyObject {
    /// Number of virtual shards S.
    var shardCount: Int { get }
    /// Sends `requests[s]` to shard s (S requests) and returns every shard's reply, indexed by shard id 0..<S.
    /// - Throws: `RunError` when a worker fails or a wait times out.
    func run(perShard requests: [RoundRequest]) throws -> [ShardReply]
}

extension ShardExecutor {
    /// Broadcasts `request` to every shard and returns every shard's reply, indexed by shard id 0..<S.
    /// - Throws: as `run(perShard:)`.
    public func run(_ request: RoundRequest) throws -> [ShardReply] {
        try run(perShard: [RoundRequest](repeating: request, count: shardCount))
    }
}

/// The coordinator's side of a fit: plans rounds, merges shard statistics in shard order and steps the
/// estimators. Pure computation over `ShardExecutor` replies; it knows nothing of sockets.
///
/// Rounds: summarize → moments → (OLS) residuals | (logit) Newton × t. Every merge runs over shards
/// 0..<S in order (folds in order for CV), so the result is bit-identical for any number of workers.
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
        /// Seconds per phase.
        public var timings: [String: Double]
    }

    /// Runs the fit.
    /// - Throws: `InputError` for data or model problems (with positions), `RunError` for cluster failures.
    public func run(on executor: ShardExecutor) throws -> Outcome {
        var timings: [String: Double] = [:]
        var clock = Date()
        func lap(_ name: String) { timings[name] = Date().timeIntervalSince(clock); clock = Date() }

        // Round 1: column summaries → schema → design.
        let (spec, schema, summary, text) = try design(on: executor)
        lap("summarize")
        logger.info("design built", metadata: ["columns": "\(spec.width)", "rows": "\(summary.rows)"])

        // Round 2: moments per fold, merged in shard order per fold.
        let replies = try executor.run(.moments(schema: schema))
        try throwFirstFailure(replies, round: "moments")
        let groups = plan.foldGroups
        var foldMoments = [MomentMatrix](repeating: MomentMatrix(dimension: spec.width + 1), count: groups)
        for (shard, reply) in replies.enumerated() {
            guard case .moments(let parts) = reply, parts.count == groups, parts.allSatisfy({ $0.dimension == spec.width + 1 }) else {
                throw unexpected(reply, shard: shard, round: "moments")
            }
            for g in 0..<groups { foldMoments[g].merge(parts[g]) }
        }
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
            throw InputError(file: job.jobFile, line: p?.line, column: p?.column,
                             "cv.folds = \(job.folds), but fold \(empty) (0-based) has no rows: there are too few \(job.foldBy == .user ? "users" : "rows") for \(job.folds) folds")
        }
        // A constant outcome (exact: its minimum equals its maximum) with a constant design column (the intercept)
        // leaves nothing to explain: the fit is exact whatever the rounding says. Without one it is an ordinary fit.
        let hasConstantColumn = (0..<spec.width).contains { total.isConstant($0) && total.minimum[$0] != 0 }
        if job.kind == .ols || (job.kind == .bayes_linear && job.prior.kind == "flat"), hasConstantColumn,
           total.isConstant(spec.width) {
            throw InputError(file: job.jobFile, line: job.formulaPosition?.line, column: job.formulaPosition?.column,
                             "model.formula: the outcome is \(Self.text(total.minimum[spec.width])) in all "
                                + "\(Int(total.count)) rows; a constant outcome leaves nothing to fit "
                                + "(its variance is 0, so standard errors and tests are undefined)")
        }
        lap("moments")

        let data = FitReport.DataInfo(rows: summary.rows, users: summary.users)
        let names = spec.columnNames
        let outcome: (FitReport.ModelResult, FitReport.CrossValidation?)
        var sem: FitReport.SEMSection? = nil, bayes: FitReport.BayesSection? = nil
        switch job.kind {
        case .ols: outcome = try fitOLS(total: total, folds: foldMoments, names: names, executor: executor)
        case .logit: outcome = try fitLogit(total: total, folds: foldMoments, spec: spec, executor: executor)
        case .bayes_linear:
            let fit = try fitBayes(total: total, folds: foldMoments, names: names)
            outcome = (fit.0, fit.1)
            bayes = fit.2
        case .sem:
            let fit = try fitSEM(total: total)
            outcome = (fit.0, nil)
            sem = fit.1
        }
        lap("fit")
        return Outcome(data: data, model: outcome.0, cv: outcome.1, text: text, sem: sem, bayes: bayes, timings: timings)
    }

    /// Runs the summary round (and, for `[text]` jobs, the embed and features rounds) and builds the design: what
    /// every fit starts with.
    /// - Returns: the design, the column schema broadcast to workers, the merged summary, and the text features made.
    /// - Throws: `InputError` for missing values, text in numeric columns, a bad logit outcome, formula problems, items
    ///   or users missing from their files.
    public func design(on executor: ShardExecutor) throws -> (DesignMatrixSpec, [ColumnSchema], ShardSummary, FitReport.TextInfo?) {
        let summaryReplies = try executor.run(.summarize)
        try throwFirstFailure(summaryReplies, round: "summarize")
        let summaries = try summaryReplies.enumerated().map { (shard, reply) -> ShardSummary in
            guard case .summary(let s) = reply else { throw unexpected(reply, shard: shard, round: "summarize") }
            return s
        }
        var summary = ShardSummary(columns: plan.columns.map { ColumnSummary(name: $0) })
        for s in summaries { summary.merge(s) }
        var schema = try makeSchema(summary)
        var text: FitReport.TextInfo? = nil
        if let t = plan.text {
            text = try textFeatures(t, summaries: summaries, merged: summary, executor: executor)
            schema += t.featureNames.map { ColumnSchema(name: $0, info: ColumnInfo(isNumeric: true, isIntegral: false, levels: [])) }
        }
        do {
            let spec = try DesignMatrixSpec(formula: prepared.formula, columns: Dictionary(uniqueKeysWithValues: schema.map { ($0.name, $0.info) }))
            return (spec, schema, summary, text)
        } catch let e as FormulaError { throw job.inputError(e) }
    }

    // MARK: text features

    /// The text rounds: items named by the data are checked against the items file; every shard embeds its users'
    /// texts and the items it owns (embed round); the coordinator merges the user moments in shard order, gathers
    /// the item vectors in shard order, runs both PCAs and sends each shard the projection and the items its rows
    /// name (features round).
    func textFeatures(_ t: TextSpec, summaries: [ShardSummary], merged: ShardSummary, executor: ShardExecutor) throws -> FitReport.TextInfo {
        let shards = executor.shardCount
        if let items = prepared.items, let keyColumn = t.itemKey {
            let missing = merged.itemKeys.filter { items.index[$0.key] == nil }
            if let first = missing.min(by: { $0.first.rowIndex < $1.first.rowIndex }) {
                let column = plan.columnNumbers[plan.columns.firstIndex(of: keyColumn)!]
                let what = first.key.isEmpty ? "an empty item key" : "item '\(first.key)'"
                throw InputError(file: prepared.dataFile, line: first.first.line, column: column,
                                 "\(what) (column \(keyColumn)) is not in the items file \(items.path)\(missing.count > 1 ? "; \(missing.count) item keys of the data are missing from it" : "") (keys are compared as text: 7 and 7.0 differ)")
            }
        }
        let userRecords = prepared.users?.byShard(shards) ?? [[TextEntry]](repeating: [], count: shards)
        let itemRecords = prepared.items?.byShard(shards) ?? [[TextEntry]](repeating: [], count: shards)
        let replies = try executor.run(perShard: (0..<shards).map { .embed(EmbedRequest(users: userRecords[$0], items: itemRecords[$0])) })
        try throwFirstFailure(replies, round: "embed")
        let stats = try replies.enumerated().map { (shard, reply) -> EmbedStatistic in
            guard case .embedded(let e) = reply, e.itemHasText.count == itemRecords[shard].count,
                  e.itemVectors.count == itemRecords[shard].count * e.dimension, e.userMoments.dimension == e.dimension,
                  e.userVectors.isEmpty || (e.userMoments.count == 0 && e.userVectors.count == e.usersWithText * e.dimension)
            else { throw unexpected(reply, shard: shard, round: "embed") }
            return e
        }
        let identifiers = Set(stats.map(\.encoder).filter { !$0.isEmpty })
        guard identifiers.count <= 1 else {
            throw RunError("workers embedded with different models (\(identifiers.sorted().joined(separator: " vs "))); give every worker the same model files")
        }
        let d = stats.first?.dimension ?? 384
        guard stats.allSatisfy({ $0.dimension == d }) else { throw RunError("workers report different embedding dimensions") }
        // The encoders make 384 dimensions and k ≤ 64; a faulty worker must not reach PrincipalComponents' k ≤ d.
        guard d >= t.components else { throw RunError("workers report \(d)-dimensional embeddings, fewer than text.components") }
        if let first = stats.compactMap(\.firstUserWithoutRecord).min(by: { $0.rowIndex < $1.rowIndex }), let users = prepared.users {
            throw InputError(file: prepared.dataFile, line: first.line, column: prepared.userKeyColumns.first.map { $0 + 1 },
                             "the user of this row (data.user_key \(job.userKey.joined(separator: ", "))) has no row in the users file \(users.path)")
        }
        let k = t.components
        var warnings: [String] = []
        var info = FitReport.TextInfo(encoder: identifiers.first ?? "", dimension: d, components: k, features: t.featureNames,
                                      texts_embedded: stats.reduce(0) { $0 + $1.textsEmbedded }, warnings: [])
        func explained(_ pca: PrincipalComponents, _ m: MomentMatrix) -> [Double] {
            let total = (0..<d).reduce(0.0) { $0 + m.comoment[$1 * d + $1] } / m.count
            return pca.variances.map { total > 0 ? $0 / total : 0 }
        }
        // Users: moments merged in shard order.
        var userPCA: PrincipalComponents? = nil
        if !t.userText.isEmpty {
            var moments = MomentMatrix(dimension: d)
            for s in stats {
                moments.merge(s.userVectors.isEmpty ? s.userMoments : MomentMatrix(rows: s.userVectors, count: s.userVectors.count / d, dimension: d))
            }
            let with = stats.reduce(0) { $0 + $1.usersWithText }, without = stats.reduce(0) { $0 + $1.usersWithoutText }
            guard with > 0 else { throw job.textError("user_text", "no user has any text in \(t.userText.joined(separator: ", ")): every cell is empty") }
            let pca = try PrincipalComponents(moments: moments, k: k)
            userPCA = pca
            info.users_with_text = with
            info.users_without_text = without
            if with < k { warnings.append("only \(with) users have text, fewer than text.components = \(k): user_pc\(with + 1)...user_pc\(k) carry no information") }
            info.user_explained_variance = explained(pca, moments)
            if without > 0 { warnings.append("\(without) of \(with + without) users have no text: their user_pc features and affinity are 0") }
        }
        // Items: vectors gathered in shard order (file order within a shard).
        var itemScores: [String: [Double]] = [:], unitKeys: [String] = [], unitRows: [Float] = []
        if prepared.items != nil {
            var moments = MomentMatrix(dimension: d)
            var withText = 0, total = 0
            for (s, e) in stats.enumerated() {
                var block: [Double] = []
                for m in 0..<itemRecords[s].count where e.itemHasText[m] {
                    block += e.itemVectors[(m * d)..<((m + 1) * d)].map(Double.init)
                    withText += 1
                }
                total += itemRecords[s].count
                moments.merge(MomentMatrix(rows: block, count: block.count / d, dimension: d))
            }
            guard withText > 0 else { throw job.textError("item_text", "no item has any text in \(t.itemText.joined(separator: ", ")): every cell is empty") }
            if withText < k { warnings.append("only \(withText) items have text, fewer than text.components = \(k): item_pc\(withText + 1)...item_pc\(k) carry no information") }
            let pca = try PrincipalComponents(moments: moments, k: k)
            for (s, e) in stats.enumerated() {
                for (m, record) in itemRecords[s].enumerated() {
                    unitKeys.append(record.key)
                    let v = e.itemVectors[(m * d)..<((m + 1) * d)]
                    let norm = v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                    guard e.itemHasText[m], norm > 0 else {
                        itemScores[record.key] = [Double](repeating: 0, count: k)
                        unitRows += [Float](repeating: 0, count: d)
                        continue
                    }
                    itemScores[record.key] = pca.project(v)
                    unitRows += v.map { Float(Double($0) / norm) }
                }
            }
            info.items = total
            info.items_without_text = total - withText
            info.item_explained_variance = explained(pca, moments)
            if total > withText { warnings.append("\(total - withText) of \(total) items have no text: their item_pc features and affinity are 0") }
        }
        // Features: each shard gets the projection and the items its rows name.
        let table = ItemVectorTable(keys: unitKeys, rows: unitRows, dimension: d)
        let requests = try (0..<shards).map { s -> RoundRequest in
            let keys = t.itemsPath == nil ? [] : summaries[s].itemKeys.map(\.key)
            var scores: [Double] = []
            for key in keys {
                // Every item key of the data was checked against the items file above.
                guard let v = itemScores[key] else {
                    throw RunError("internal: no scores for item '\(key)' of shard \(s)")
                }
                scores += v
            }
            return .features(FeatureRequest(components: k, dimension: d, userMean: userPCA?.mean ?? [], userAxes: userPCA?.components ?? [],
                                            itemKeys: keys, itemScores: scores, vectorKeys: keys, vectors: table))
        }
        let ready = try executor.run(perShard: requests)
        try throwFirstFailure(ready, round: "features")
        for (shard, r) in ready.enumerated() {
            guard case .featuresReady(let rows) = r, rows == summaries[shard].rows else { throw unexpected(r, shard: shard, round: "features") }
        }
        info.warnings = warnings
        return info
    }

    // MARK: summary → schema

    func dataError(_ ref: CellReference, column: String, _ message: String) -> InputError {
        let number = plan.columnNumbers[plan.columns.firstIndex(of: column)!]
        return InputError(file: prepared.dataFile, line: ref.line, column: number, message)
    }

    func makeSchema(_ summary: ShardSummary) throws -> [ColumnSchema] {
        guard summary.rows > 0 else { throw InputError(file: prepared.dataFile, line: 2, "the file has a header but no data rows") }
        let formula = prepared.formula
        // Columns read as numbers: the outcome and every column inside a factor that is not C(...).
        var numericUse = Set(formula.outcome.expression.columns)
        var categoricalUse = Set<String>()
        for f in formula.factors {
            if f.forcedCategorical { categoricalUse.formUnion(f.expression.columns) } else { numericUse.formUnion(f.expression.columns) }
        }
        var schema: [ColumnSchema] = []
        let formulaColumns = Set(formula.columns)
        for s in summary.columns where formulaColumns.contains(s.name) {
            if let m = s.firstMissing {
                throw dataError(m, column: s.name, "missing value\(m.value.isEmpty ? "" : " '\(m.value)'") in column '\(s.name)'; Causa does not drop rows: fill or remove them")
            }
            let isOutcome = s.name == plan.outcomeColumn
            if isOutcome, let bad = s.firstNonNumeric {
                throw dataError(bad, column: s.name, "the outcome '\(s.name)' must be a number, found '\(bad.value)'")
            }
            if isOutcome, job.kind == .logit, let bad = s.firstNonBinary {
                throw dataError(bad, column: s.name, "a logit outcome must be 0 or 1, found '\(bad.value)' in column '\(s.name)'")
            }
            if numericUse.contains(s.name), s.numericCount > 0, let bad = s.firstNonNumeric {
                if s.numericCount >= s.nonNumericCount {
                    throw dataError(bad, column: s.name, "'\(bad.value)' is not a number, but column '\(s.name)' is used as a number in the formula")
                }
                throw dataError(bad, column: s.name, "column '\(s.name)' mixes text (\(s.nonNumericCount) cells, the first here: '\(bad.value)') and numbers (\(s.numericCount) cells), and the formula reads it as a number; write C(\(s.name)) to treat it as categorical, or fix the cells")
            }
            let isNumeric = s.nonNumericCount == 0
            if job.kind == .sem, !isNumeric, let bad = s.firstNonNumeric {
                throw dataError(bad, column: s.name, "'\(bad.value)' is not a number: the SEM variable '\(s.name)' must be numeric (code a category as 0/1 columns)")
            }
            if (categoricalUse.contains(s.name) || !isNumeric), plan.levelColumns.contains(s.name), s.levelsTruncated {
                throw InputError(file: job.jobFile, line: job.formulaPosition?.line, column: job.formulaPosition?.column,
                                 "model.formula: column '\(s.name)' has more than \(ColumnSummary.levelLimit) distinct values; too many levels for a categorical term")
            }
            var levels: [FactorValue] = []
            if isNumeric {
                levels = Array(Set(s.levels.compactMap { Cell.number($0) })).sorted().map { FactorValue.number($0) }
            } else {
                levels = s.levels.map { FactorValue.string($0) }
            }
            schema.append(ColumnSchema(name: s.name, info: ColumnInfo(isNumeric: isNumeric, isIntegral: s.allIntegral, levels: levels)))
        }
        return schema
    }

    func unexpected(_ reply: ShardReply, shard: Int, round: String) -> Error {
        if case .failure(let f) = reply, f.isInternal {
            return RunError("shard \(shard) failed in the \(round) round on its worker: \(f.message)")
        }
        if case .failure(let f) = reply {
            // A shard file that cannot be read names itself in the message; row errors point at the source file.
            return InputError(file: f.line > 0 ? prepared.dataFile : (prepared.shardFile(shard) ?? prepared.dataFile),
                              line: f.line > 0 ? f.line : nil, column: f.column, f.message)
        }
        return RunError("shard \(shard) answered the \(round) round with the wrong statistic")
    }

    /// Throws the failure of the earliest data row among the replies (the first problem in the file, whatever the
    /// shard count); failures without a row (shard files, worker faults) come first, in shard order.
    func throwFirstFailure(_ replies: [ShardReply], round: String) throws {
        var best: (shard: Int, failure: ShardFailure)? = nil
        for (shard, r) in replies.enumerated() {
            guard case .failure(let f) = r else { continue }
            if let b = best {
                let key = { (x: ShardFailure) in x.line > 0 ? x.rowIndex : -1 }
                if key(f) < key(b.failure) { best = (shard, f) }
            } else {
                best = (shard, f)
            }
        }
        if let best { throw unexpected(.failure(best.failure), shard: best.shard, round: round) }
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
        return InputError(file: prepared.dataFile, line: row.line, column: number,
                          "\(base.message). This row (data row \(row.rowIndex + 1)) is the first with |\(name(j))| "
                            + "≥ 2^\(e) ≈ \(String(format: "%.3g", limit)) (the largest power of two ≤ √(DBL_MAX/n)/4 "
                            + "for n = \(Int(total.count)) rows)")
    }

    /// A number as a message shows it: whole numbers without ".0", others in Swift's shortest round-trip form.
    static func text(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)" }

    func modelError(_ error: StatisticsError, context: String = "") -> InputError {
        let p = job.formulaPosition
        return InputError(file: job.jobFile, line: p?.line, column: p?.column, "model.formula: \(context)\(error.description)")
    }

    // MARK: SEM

    /// Fits the SEM from the merged moments of its observed variables (design [observed[1...], observed[0]]).
    func fitSEM(total: MomentMatrix) throws -> (FitReport.ModelResult, FitReport.SEMSection) {
        let v = prepared.semVariables
        let names = Array(v.dropFirst()) + [v[0]]
        if let j = names.indices.first(where: { total.isConstant($0) }) {
            throw job.syntaxError(line: nil, column: nil,
                                  "the observed variable '\(names[j])' is \(Self.text(total.minimum[j])) in all "
                                    + "\(Int(total.count)) rows: its variance is 0, so the model-implied covariance "
                                    + "cannot fit it; drop it from the model")
        }
        let result: SEMResult
        do {
            result = try SEM.fit(model: prepared.semModel!, moments: total, names: names,
                                 options: SEMOptions(stdLV: job.stdLV))
        } catch let e as SEMError {
            throw PreparedJob.semInputError(e, job: job)
        }
        let section = FitReport.SEMSection(result, syntax: job.syntax ?? "", stdLV: job.stdLV)
        let model = FitReport.ModelResult(kind: "sem", formula: job.syntax ?? "", n: Int(total.count), df_resid: result.fit?.degreesOfFreedom ?? 0,
                                          statistic: "z", coefficients: [], log_likelihood: finite(result.fit?.logLikelihood) ?? 0,
                                          iterations: result.iterations, converged: result.converged, sigma2_mle: nil, sigma2: nil, rss: nil,
                                          warnings: section.warnings)
        return (model, section)
    }

    // MARK: Bayesian linear

    /// The job's prior for p design columns.
    /// - Throws: `InputError` at model.prior_mean when it has neither 1 nor p values.
    func prior(coefficients names: [String]) throws -> NormalInverseGammaPrior {
        let p = names.count, spec = job.prior
        if spec.kind == "flat" { return .flat(coefficients: p) }
        var mean = [Double](repeating: 0, count: p)
        if let m = spec.mean {
            guard m.count == 1 || m.count == p else {
                throw job.modelError("prior_mean", "has \(m.count) values, but the design has \(p) columns (\(names.joined(separator: ", "))); give one value or \(p)")
            }
            mean = m.count == 1 ? [Double](repeating: m[0], count: p) : m
        }
        return .isotropic(mean: mean, precisionScale: spec.precision ?? NormalInverseGammaPrior.weakPrecisionScale,
                          shape: spec.shape ?? NormalInverseGammaPrior.weakVarianceShapeScale,
                          scale: spec.scale ?? NormalInverseGammaPrior.weakVarianceShapeScale)
    }

    /// The posterior from the merged moments; CV scores the posterior mean of the training folds on each held-out fold.
    func fitBayes(total: MomentMatrix, folds: [MomentMatrix], names: [String]) throws
        -> (FitReport.ModelResult, FitReport.CrossValidation?, FitReport.BayesSection)
    {
        let p = names.count
        let prior = try prior(coefficients: names)
        let result: BayesianLinearResults
        // Extreme prior values (1e308) overflow the update: refuse them at the prior's key rather than write NaN.
        func priorOverflow() -> InputError {
            let keys = ["prior_mean", "prior_precision", "prior_shape", "prior_scale"]
            let key = keys.first { job.modelPositions[$0] != nil } ?? "prior"
            return job.modelError(key, StatisticsError.priorOverflow.description)
        }
        do { result = try BayesianLinearModel.fit(total, names: names, prior: prior, credibleLevel: job.prior.credibleLevel) } catch let e as StatisticsError {
            throw e == .priorOverflow ? priorOverflow() : modelError(e)
        }
        var section = FitReport.BayesSection(result, prior: job.prior)
        let reported = section.coefficients.flatMap { [$0.mean, $0.ci_low, $0.ci_high] }
            + [section.posterior_shape, section.posterior_scale]
        guard result.posteriorMean.allSatisfy(\.isFinite), reported.allSatisfy(\.isFinite) else { throw priorOverflow() }
        if job.prior.kind != "flat" {
            // The proper prior fits a singular design; say which directions only the prior determines.
            do { try LinearModel.checkRank(total, names: names) } catch StatisticsError.singularDesign(let columns) {
                section.warnings.append("the design is singular (\(columns.joined(separator: ", ")) \(columns.count == 1 ? "is zero or a copy of others" : "are collinear")): along that direction the posterior is the prior's, not the data's")
            }
        }
        let rss = LinearModel.sumOfSquaredResiduals(total, estimates: result.posteriorMean)
        let model = FitReport.ModelResult(kind: "bayes_linear", formula: job.formula, n: Int(total.count), df_resid: Int(total.count) - p,
                                          statistic: "t", coefficients: [], log_likelihood: finite(result.logMarginalLikelihood) ?? 0,
                                          iterations: 0, converged: true, sigma2_mle: nil, sigma2: finite(result.variance.mean), rss: rss,
                                          warnings: section.warnings)
        guard job.folds > 0 else { return (model, nil, section) }
        let cv = try linearCrossValidation(folds: folds, dimension: p + 1) { train in
            try BayesianLinearModel.fit(train, names: names, prior: prior, credibleLevel: job.prior.credibleLevel).posteriorMean
        }
        return (model, cv, section)
    }

    /// K-fold CV of a linear predictor from per-fold moments: for each fold k, β fitted on the merge of the other
    /// folds (`fit`), and the held-out SSE of fold k from its moments (`LinearModel.sumOfSquaredResiduals`).
    /// - Throws: `InputError` when a training set cannot be fitted (e.g. singular without fold k).
    func linearCrossValidation(folds: [MomentMatrix], dimension: Int, fit: (MomentMatrix) throws -> [Double]) throws -> FitReport.CrossValidation {
        var sse = [Double](), rows = [Int](), foldMSE = [Double?]()
        for k in 0..<job.folds {
            let train = MomentMatrix.merged(folds.enumerated().filter { $0.offset != k }.map(\.element), into: MomentMatrix(dimension: dimension))
            let beta: [Double]
            do { beta = try fit(train) } catch let e as StatisticsError { throw modelError(e, context: "without CV fold \(k): ") }
            let e = LinearModel.sumOfSquaredResiduals(folds[k], estimates: beta)
            sse.append(e)
            rows.append(Int(folds[k].count))
            foldMSE.append(folds[k].count > 0 ? e / folds[k].count : nil)
        }
        return FitReport.CrossValidation(folds: job.folds, fold_by: job.foldBy.rawValue, mse: sse.reduce(0, +) / Double(rows.reduce(0, +)),
                                         fold_mse: foldMSE, fold_rows: rows, fold_converged: nil)
    }

    // MARK: OLS

    func fitOLS(total: MomentMatrix, folds: [MomentMatrix], names: [String], executor: ShardExecutor) throws
        -> (FitReport.ModelResult, FitReport.CrossValidation?)
    {
        let p = names.count
        let solution: LinearModel.Solution
        do { solution = try LinearModel.solve(total, names: names) } catch let e as StatisticsError { throw modelError(e) }
        let n = total.count
        guard n > Double(p) else { throw modelError(.tooFewRows(rows: Int(n), coefficients: p)) }
        // Round 3: residuals at β̂ (exact SSE and the HC meat).
        // In centred coordinates (γ̂ and the centre), so residuals at an offset keep their accuracy.
        let centre = DesignCentre(high: solution.centring.centre, low: solution.centring.centreLow)
        let replies = try executor.run(.residuals(beta: solution.centredEstimates, centre: centre))
        try throwFirstFailure(replies, round: "residuals")
        var residual = ResidualStatistic(dimension: p)
        for (shard, r) in replies.enumerated() {
            guard case .residuals(let s) = r else { throw unexpected(r, shard: shard, round: "residuals") }
            residual.merge(s)
        }
        let rss = residual.sumOfSquares
        let dy = p + 1
        let tss = solution.centring.constantColumn == nil ? total.crossProducts[p * dy + p] : total.comoment[p * dy + p]
        guard rss > LinearModel.exactFitTolerance * tss else {
            throw InputError(file: job.jobFile, line: job.formulaPosition?.line, column: job.formulaPosition?.column,
                             "model.formula: the model fits the outcome exactly (residual sum of squares "
                                + "\(String(format: "%.3g", rss)), at most (1000 ε)² times the outcome's "
                                + "\(solution.centring.constantColumn == nil ? "" : "centred ")sum of squares "
                                + "\(String(format: "%.6g", tss))), so standard errors and tests are undefined")
        }
        let dfResid = n - Double(p)
        let sigma2 = rss / dfResid
        let classical = solution.xtxInverse.map { $0 * sigma2 }
        let centredHC0 = LinearAlgebra.sandwich(bread: solution.centredInverse, meat: residual.meat, n: p)
        let hc0 = solution.centring.rawCovariance(centredHC0)
        let hc1 = hc0.map { $0 * n / dfResid }
        let loglik = -n / 2 * (log(2 * Double.pi * rss / n) + 1)
        let tq = Distributions.studentTwoSidedQuantile(0.05, df: dfResid)
        let coefficients = (0..<p).map { j -> FitReport.Coefficient in
            let b = solution.estimates[j], se = classical[j * p + j].squareRoot(), t = b / se
            return .init(name: names[j], estimate: b, std_error: se, robust_std_error: hc1[j * p + j].squareRoot(), statistic: t,
                         p_value: Distributions.studentTwoSidedP(t, df: dfResid), ci_low: b - tq * se, ci_high: b + tq * se)
        }
        let model = FitReport.ModelResult(kind: "ols", formula: job.formula, n: Int(n), df_resid: Int(dfResid), statistic: "t",
                                          coefficients: coefficients, log_likelihood: loglik, iterations: 0, converged: true,
                                          sigma2_mle: rss / n, sigma2: sigma2, rss: rss, warnings: [])
        guard job.folds > 0 else { return (model, nil) }
        let cv = try linearCrossValidation(folds: folds, dimension: p + 1) { try LinearModel.solve($0, names: names).estimates }
        return (model, cv)
    }

    // MARK: logit

    struct NewtonState {
        var beta: [Double]
        var previous: Double?
        var iterations = 0
        var converged = false
        var done = false
        var last: LogitStatistic?
    }

    func fitLogit(total: MomentMatrix, folds: [MomentMatrix], spec: DesignMatrixSpec, executor: ShardExecutor) throws
        -> (FitReport.ModelResult, FitReport.CrossValidation?)
    {
        let names = spec.columnNames, p = names.count
        let centring: DesignCentring
        do {
            try LogisticModel.checkSeparation(total, design: spec)
            centring = try LinearModel.solve(total, names: names).centring
        } catch let e as StatisticsError { throw modelError(e) }
        // Newton runs in centred coordinates (γ, β = Tγ; `DesignCentring`): the same iterates, without the
        // ill-conditioning of predictors at an offset.
        let fitIDs = [-1] + Array(0..<job.folds)
        var states = Dictionary(uniqueKeysWithValues: fitIDs.map { ($0, NewtonState(beta: [Double](repeating: 0, count: p))) })
        var round = 0
        while fitIDs.contains(where: { !states[$0]!.done }) {
            let active = fitIDs.filter { !states[$0]!.done }
            let fits = active.map { NewtonFit(fit: $0, beta: states[$0]!.beta) }
            let centre = DesignCentre(high: centring.centre, low: centring.centreLow)
            let replies = try executor.run(.newton(fits: fits, centre: centre))
            try throwFirstFailure(replies, round: "newton")
            var merged = [LogitStatistic](repeating: LogitStatistic(dimension: p), count: active.count)
            for (shard, r) in replies.enumerated() {
                guard case .newton(let parts) = r, parts.count == active.count else { throw unexpected(r, shard: shard, round: "newton") }
                for i in active.indices { merged[i].merge(parts[i]) }
            }
            for (i, id) in active.enumerated() {
                var s = states[id]!
                let stat = merged[i]
                s.last = stat
                if let prev = s.previous, LogisticModel.converged(previous: prev, current: stat.logLikelihood) {
                    s.converged = true; s.done = true
                } else if s.iterations >= LogisticModel.maximumIterations {
                    s.done = true
                } else {
                    do {
                        s.beta = try LogisticModel.step(beta: s.beta, statistic: stat, names: names).beta
                    } catch let e as StatisticsError {
                        if id >= 0 { s.done = true; states[id] = s; continue }  // a CV fit that cannot go on: reported as not converged
                        let raw = centring.raw(s.beta)
                        let suspect = separationSuspect(beta: raw, total: total, spec: spec, last: stat)
                        throw modelError(suspect ?? e)
                    }
                    s.previous = stat.logLikelihood
                    s.iterations += 1
                }
                states[id] = s
            }
            round += 1
            logger.debug("newton round", metadata: ["round": "\(round)", "active": "\(active.count)"])
        }
        let full = states[-1]!
        let stat = full.last!
        let n = stat.count
        let beta = centring.raw(full.beta)
        let centredCov: [Double]
        do {
            centredCov = try LinearAlgebra.solveSPD(stat.information, [Double](repeating: 0, count: p), n: p).inverse
        } catch {
            let suspect = separationSuspect(beta: beta, total: total, spec: spec, last: stat)
            throw modelError(suspect ?? .singularDesign(columns: names))
        }
        let cov = centring.rawCovariance(centredCov)
        let hc0 = centring.rawCovariance(LinearAlgebra.sandwich(bread: centredCov, meat: stat.meat, n: p))
        let dfResid = n - Double(p)
        let z = Distributions.normalQuantile(0.975)
        var coefficients: [FitReport.Coefficient] = []
        for j in 0..<p {
            let b = beta[j], se = cov[j * p + j].squareRoot(), stat = b / se
            coefficients.append(.init(name: names[j], estimate: b, std_error: se, robust_std_error: (hc0[j * p + j] * n / dfResid).squareRoot(),
                                      statistic: stat, p_value: Distributions.normalTwoSidedP(stat), ci_low: b - z * se, ci_high: b + z * se))
        }
        // A coefficient that ran off to a huge value with a huge SE is separation by a numeric term (or a combination).
        // Terms before the intercept: with separation on x at an offset, the intercept (≈ −β x̄) diverges too.
        let candidates = (0..<p).filter { !total.isConstant($0) } + (0..<p).filter { total.isConstant($0) }
        if let j = candidates.first(where: {
            Self.diverges(beta[$0], standardError: coefficients[$0].std_error, spread: Self.spread(total, $0))
        }) {
            throw modelError(Self.divergence(term: names[j], complete: stat.minimumMargin > 0,
                                             numeric: Self.isNumeric(spec, j)))
        }
        var warnings: [String] = []
        if !full.converged { warnings.append("Newton-Raphson did not converge in \(LogisticModel.maximumIterations) iterations") }
        let model = FitReport.ModelResult(kind: "logit", formula: job.formula, n: Int(n), df_resid: Int(dfResid), statistic: "z",
                                          coefficients: coefficients, log_likelihood: stat.logLikelihood, iterations: full.iterations,
                                          converged: full.converged, sigma2_mle: nil, sigma2: nil, rss: nil, warnings: warnings)
        guard job.folds > 0 else { return (model, nil) }
        var sse = 0.0, count = 0.0
        var foldMSE: [Double?] = [], rows: [Int] = [], convergedFolds: [Bool] = []
        for k in 0..<job.folds {
            let s = states[k]!
            let last = s.last!
            sse += last.testSquaredError
            count += last.testCount
            foldMSE.append(last.testCount > 0 ? last.testSquaredError / last.testCount : nil)
            rows.append(Int(last.testCount))
            let diverging = Self.divergingCoefficient(beta: s.beta, information: last.information, centring: centring,
                                                      total: total)
            convergedFolds.append(s.converged && diverging == nil)
        }
        if convergedFolds.contains(false) {
            let bad = convergedFolds.enumerated().filter { !$0.element }.map { "\($0.offset)" }
            warnings.append("CV fold\(bad.count == 1 ? "" : "s") \(bad.joined(separator: ", ")) (0-based, as in cv.fold_mse) did not converge: the training rows without that fold are separated (a level or term has only one outcome there); the fold's MSE is at the last Newton iterate")
        }
        var m = model
        m.warnings = warnings
        let cv = FitReport.CrossValidation(folds: job.folds, fold_by: job.foldBy.rawValue, mse: sse / count, fold_mse: foldMSE,
                                           fold_rows: rows, fold_converged: convergedFolds)
        return (m, cv)
    }

    /// Whether a logit coefficient has run off to infinity: |β| · spread > 10 (a change of more than 10 in the log-odds
    /// across the column's range; `spread`) with |β / se| < 0.01, the sign of separation that a log-likelihood rule
    /// alone calls converged. Scale-free: rescaling or shifting a column does not change it.
    static func diverges(_ beta: Double, standardError: Double, spread: Double) -> Bool {
        abs(beta) * spread > 10 && abs(beta) / standardError < 0.01
    }

    /// The range max − min of design column j (for the constant column, its absolute value): the scale on which
    /// `diverges` judges a coefficient.
    static func spread(_ total: MomentMatrix, _ j: Int) -> Double {
        total.isConstant(j) ? abs(total.minimum[j]) : total.maximum[j] - total.minimum[j]
    }

    /// Whether design column j is a numeric term (not an indicator of a categorical level).
    static func isNumeric(_ spec: DesignMatrixSpec, _ j: Int) -> Bool {
        spec.columns[j].involvesNumericFactor
    }

    /// The index of a diverging coefficient (`diverges`) given γ and the information matrix in centred
    /// coordinates, or nil.
    static func divergingCoefficient(beta gamma: [Double], information: [Double], centring: DesignCentring,
                                     total: MomentMatrix) -> Int? {
        let p = gamma.count
        let beta = centring.raw(gamma)
        guard let inverse = try? LinearAlgebra.solveSPD(information, [Double](repeating: 0, count: p), n: p).inverse else {
            return beta.indices.max { abs(beta[$0]) * spread(total, $0) < abs(beta[$1]) * spread(total, $1) }
        }
        let cov = centring.rawCovariance(inverse)
        return (0..<p).first {
            diverges(beta[$0], standardError: cov[$0 * p + $0].squareRoot(), spread: spread(total, $0))
        }
    }

    /// A separation error when a coefficient has run off (|β| · spread > 10) while Newton could not go on; complete
    /// when the last iterate's linear predictor already splits the outcomes strictly (`LogitStatistic.minimumMargin`).
    func separationSuspect(beta: [Double], total: MomentMatrix, spec: DesignMatrixSpec, last: LogitStatistic?)
        -> StatisticsError?
    {
        let size = { (j: Int) in abs(beta[j]) * Self.spread(total, j) }
        let terms = beta.indices.filter { !total.isConstant($0) && size($0) > 10 }
        guard let j = terms.max(by: { size($0) < size($1) }) ?? beta.indices.first(where: { size($0) > 10 }) else {
            return nil
        }
        return Self.divergence(term: spec.columnNames[j], complete: (last?.minimumMargin ?? 0) > 0,
                               numeric: Self.isNumeric(spec, j))
    }

    /// Separation found by a diverging coefficient. The message carries no iterate's numbers: they depend on where
    /// Newton stopped, the decision does not.
    static func divergence(term: String, complete: Bool, numeric: Bool) -> StatisticsError {
        let detail = complete
            ? "its coefficient diverges: the outcomes are split by the linear predictor, so every row is predicted "
                + "perfectly"
            : "its coefficient diverges: the outcome is predicted perfectly except in rows tied at the boundary"
        return .separation(term: term, detail: detail, complete: complete, numeric: numeric)
    }
}
