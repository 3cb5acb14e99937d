import Causal
import Foundation
import Statistics
import Tabular

/// The fitted model as a reward model q̂(x, a) for the direct-method terms.
struct RewardModel {
    /// How xβ becomes q̂.
    var link: RewardLink
    /// [p] β of the fit on all rows (raw design scale).
    var full: [Double]
    /// Per CV fold k: β of the fit without fold k ([] when that fit did not converge: its rows use `full`).
    var folds: [[Double]]
}

/// The coordinator's side of `[policy]`: the catalogue, the policy files, the off-policy round and the report's
/// `ope` section.
extension FitDriver {
    /// What the off-policy round is sent, settled after the summary round (before the fit, so a bad policy file
    /// fails the job at once).
    struct OffPolicyPlan {
        var broadcast: OffPolicyBroadcast
        /// The evaluation policies' names, in report order (logging first, learned policies last); the policies
        /// themselves are `broadcast.policies`.
        var names: [String]
        /// The estimators to report (before per-policy applicability).
        var estimators: [OffPolicyEstimator]
        /// Notes for the report.
        var notes: [String]
        /// MIPS clusters k, when clustered.
        var clusters: Int?
        /// Per shard, its rows (from the summary round).
        var rows: [Int]
    }

    /// The catalogue, the policies read against it, and the item data for scoring and MIPS.
    /// - Throws: `InputError` for a policy file that does not fit the catalogue (`PolicyTable.read`), too many
    ///   distinct logged actions without an items file.
    func offPolicyPlan(_ policy: PolicySpec, designed: Designed) throws -> OffPolicyPlan {
        // `policy.at` against the schema: a number for a numeric column, one of the data's levels for a categorical
        // one — at the job file's key, before any fit.
        for (name, text) in policy.at.sorted(by: { $0.key < $1.key }) {
            guard let info = designed.schema.first(where: { $0.name == name })?.info else { continue }
            if info.isNumeric {
                guard let v = Cell.number(text), v.isFinite else {
                    throw job.policyError(
                        "at", "policy.at gives '\(printable(text))' for '\(name)', which the model reads as a number")
                }
                let categorical = prepared.formula.factors.contains {
                    $0.forcedCategorical && $0.expression.columns == [name]
                }
                if categorical, !info.levels.contains(.number(v)) {
                    throw job.policyError(
                        "at",
                        "policy.at gives \(printable(text)) for C(\(name)), which is not one of the data's levels (\(info.levels.prefix(10).map { "\($0)" }.joined(separator: ", ")))"
                    )
                }
            } else if !info.levels.contains(.string(text)) {
                throw job.policyError(
                    "at", "policy.at gives '\(printable(text))' for '\(name)', which is not one of the data's levels")
            }
        }
        // Missing and non-numeric propensities and rewards are found by the summary: fail before the fit. (When only
        // some positions are valued, the round checks the rows it values.)
        if policy.positions == nil {
            for (column, what) in [(policy.propensity, "propensity"), (policy.reward, "reward")] {
                let s = designed.summary.columns[plan.columns.firstIndex(of: column)!]
                if let m = s.firstMissing {
                    throw dataError(m, column: column, "the \(what) is missing, not a number (column \(column))")
                }
                if let bad = s.firstNonNumeric {
                    throw dataError(
                        bad, column: column, "the \(what) '\(printable(bad.value))' is not a number (column \(column))")
                }
            }
        }
        // The catalogue: the items file's keys in file order, else the logged actions (numbers in numeric order).
        var catalogue: [String]
        if let items = prepared.items {
            catalogue = items.entries.map(\.key)
        } else {
            catalogue = designed.summary.itemKeys.map(\.key)
            let numbers = catalogue.map { Cell.number($0) }
            if numbers.allSatisfy({ $0 != nil }) {
                catalogue = zip(catalogue, numbers).sorted {
                    $0.1! != $1.1! ? $0.1! < $1.1! : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8)
                }.map(\.0)
            }
        }
        let index = Dictionary(uniqueKeysWithValues: catalogue.enumerated().map { ($1, $0) })
        var tables: [String: PolicyTable] = [:]
        for case .file(let written, let resolved) in policy.files {
            tables[written] = try PolicyTable.read(
                path: resolved, catalogue: index, policy: policy, userKey: job.userKey, delimiter: job.delimiter)
        }
        func evaluation(_ t: PolicySpec.Target) -> EvaluationPolicy {
            switch t {
            case .logging: return .logging
            case .uniform: return .uniform
            case .file(let written, _): return .table(tables[written]!)
            }
        }
        let targets =
            policy.evaluate.filter { $0 == .logging } + policy.evaluate.filter { $0 != .logging }
        let learned = policy.learners.enumerated().map {
            (name: $0.element.rawValue, policy: EvaluationPolicy.learned(learner: $0.offset, epsilon: policy.epsilon))
        }
        // The reward model predicts the model's outcome: DM and DR need it to be the reward.
        let rewardIsOutcome = plan.outcomeColumn == policy.reward
        if !rewardIsOutcome, let e = policy.estimators?.first(where: \.needsRewardModel), job.kind != .sem {
            throw job.policyError(
                "estimators",
                "\(e.rawValue) needs a reward model of the reward '\(policy.reward)', but the model's outcome is \(plan.outcomeColumn.map { "'\($0)'" } ?? "an expression"); fit the reward or leave DM, DR and switch-DR out"
            )
        }
        let hasModel = job.kind != .sem && rewardIsOutcome
        let itemsText = designed.items?.vectors != nil
        let mipsPossible = policy.loggingPolicy != nil && itemsText
        var estimators =
            policy.estimators
            ?? OffPolicyEstimator.allCases.filter {
                ($0.needsRewardModel ? hasModel : true) && ($0 == .mips ? mipsPossible : true)
            }
        estimators.sort { a, b in
            OffPolicyEstimator.allCases.firstIndex(of: a)! < OffPolicyEstimator.allCases.firstIndex(of: b)!
        }
        var notes: [String] = []
        if job.kind != .sem, !rewardIsOutcome {
            notes.append(
                "DM, DR and switch-DR are not computed: the model's outcome is not the reward '\(policy.reward)', so it is no reward model"
            )
        }
        if hasModel {
            let features = Set(plan.text?.featureNames ?? [])
            let itemFile = Set(
                (try? prepared.items.map { try CSVTable(path: $0.path, delimiter: job.delimiter).header })
                    .flatMap { $0 } ?? [])
            let dependsOnItem = designed.spec.dataColumns.contains {
                $0 == policy.action || itemFile.contains($0) || ($0.hasPrefix("item_pc") && features.contains($0))
                    || ($0 == "affinity" && features.contains($0))
            }
            if !dependsOnItem {
                notes.append(
                    "the reward model does not depend on the item (no term of the action column, an items-file column or an item text feature), so q̂ is the same for every item and DM is the same for every policy"
                )
            }
        }
        if let position = policy.position {
            notes.append(
                "the logged propensity is read as the logging policy's probability of the item at its position, and a policy's probability as π(item | context, position) (obp's convention)"
                    + (policy.positions.map {
                        "; only rows at \(position) \($0.map(String.init).joined(separator: ", ")) are valued (for slate logs whose propensities are conditional on the items above, as causa simulate writes them, only position 1 is valid)"
                    } ?? ""))
        }
        // MIPS: k-means on the items' principal-component scores.
        var clusters: [Int] = []
        var clusterCount: Int? = nil
        if estimators.contains(.mips), let items = designed.items {
            let k = items.components
            var points: [Double] = []
            points.reserveCapacity(catalogue.count * k)
            for key in catalogue { points += items.scores[key] ?? [Double](repeating: 0, count: k) }
            let count = min(policy.mipsClusters, catalogue.count)
            let fit = try KMeans(
                points: points, count: catalogue.count, dimension: k, clusters: count, seed: policy.seed)
            clusters = fit.assignment
            clusterCount = count
            if count < policy.mipsClusters {
                notes.append(
                    "policy.mips_clusters = \(policy.mipsClusters), but the catalogue has \(count) items: \(count) clusters"
                )
            }
            notes.append(
                "MIPS clusters items by k-means on their text embeddings' principal components; such clusters can violate MIPS's assumption that an item's cluster carries all of its effect on the reward, so MIPS may be biased"
            )
        }
        // Item data for scoring candidates: the items file's columns the design reads, and the text features.
        var itemColumns: [String] = []
        var itemCells: [String] = []
        if let items = prepared.items, hasModel {
            let features = Set(plan.text?.featureNames ?? [])
            let table: CSVTable
            do { table = try CSVTable(path: items.path, delimiter: job.delimiter) } catch let e as TabularError {
                throw InputError(e)
            }
            itemColumns = designed.spec.dataColumns.filter {
                $0 != policy.action && !features.contains($0) && table.header.contains($0)
            }
            if !itemColumns.isEmpty {
                let keyColumn = table.header.firstIndex(of: plan.text!.itemKey!)!
                let selection = [keyColumn] + itemColumns.map { table.header.firstIndex(of: $0)! }
                var cells: [String: [String]] = [:]
                do {
                    while let r = try table.next(selecting: selection) {
                        cells[r.fields[0]] = Array(r.fields.dropFirst())
                    }
                } catch let e as TabularError { throw InputError(e) }
                for key in catalogue { itemCells += cells[key]! }
                notes.append(
                    "candidate items are scored with their own \(itemColumns.joined(separator: ", ")) from the items file \(items.path)"
                )
            }
        }
        let usesItemPCs = designed.spec.dataColumns.contains { $0.hasPrefix("item_pc") }
        let usesAffinity = designed.spec.dataColumns.contains("affinity")
        var itemScores: [Double] = []
        if usesItemPCs, let items = designed.items {
            for key in catalogue { itemScores += items.scores[key] ?? [Double](repeating: 0, count: items.components) }
        }
        var broadcast = OffPolicyBroadcast(
            action: policy.action, propensity: policy.propensity, reward: policy.reward, position: policy.position,
            positions: policy.positions, catalogue: catalogue,
            policies: targets.map(evaluation) + learned.map(\.policy),
            logging: policy.loggingPolicy.map(evaluation), clusters: clusters, missing: policy.missing,
            rule: policy.rule, switchTau: policy.switchTau, itemColumns: itemColumns, itemCells: itemCells,
            components: usesItemPCs ? designed.items?.components ?? 0 : 0, itemScores: itemScores,
            itemVectors: usesAffinity ? designed.items?.vectors : nil, shardCount: job.shards)
        broadcast.names = targets.map(\.name) + learned.map(\.name)
        return OffPolicyPlan(
            broadcast: broadcast, names: targets.map(\.name) + learned.map(\.name), estimators: estimators,
            notes: notes,
            clusters: clusterCount,
            rows: designed.summaries.map(\.rows))
    }

    /// Runs the off-policy round and makes the report's entries.
    /// - Throws: `InputError` from the rows (propensities, rewards, actions, users missing from a per-user policy),
    ///   `RunError` when the predictions file cannot be written.
    func runOffPolicy(_ ope: OffPolicyPlan, schema: [ColumnSchema], reward: RewardModel?, executor: ShardExecutor)
        throws -> ([FitReport.OffPolicyEntry], FitReport.OffPolicyInfo)
    {
        let policy = job.policy!
        var notes = ope.notes
        let crossFit = reward != nil && job.folds > 0
        var modelText = "none"
        if let reward {
            if crossFit {
                let unconverged = reward.folds.enumerated().filter { $0.element.isEmpty }.map { "\($0.offset)" }
                modelText = "\(job.kind.rawValue), cross-fitted: rows of CV fold k scored by the fit without fold k"
                if !unconverged.isEmpty {
                    notes.append(
                        "the fit without CV fold\(unconverged.count == 1 ? "" : "s") \(unconverged.joined(separator: ", ")) did not converge: those rows are scored by the fit on all rows"
                    )
                }
            } else {
                modelText =
                    "\(job.kind.rawValue), in-sample (no [cv] table: every row is scored by the fit on all rows, which saw it)"
            }
        }
        let request = OffPolicyRequest(
            link: reward?.link ?? .none, coefficients: reward.map { [$0.full] + $0.folds } ?? [],
            crossFit: crossFit, schema: reward == nil ? [] : schema,
            exportPredictions: prepared.predictionsPath != nil && reward != nil)
        let round = OffPolicyRound(request: request, rows: ope.rows, policies: ope.names.count)
        let merged = try executor.merge(round, job: prepared)
        let stat = merged.sums
        if let path = prepared.predictionsPath, reward != nil {
            try writePredictions(merged, catalogue: ope.broadcast.catalogue, to: path)
        }
        guard stat.count > 0 else {
            throw job.policyError(
                policy.positions == nil ? nil : "positions",
                "no row is valued\(policy.positions.map { ": the data has no rows at position \($0.map(String.init).joined(separator: ", "))" } ?? "")"
            )
        }
        for (k, name) in ope.names.enumerated() where merged.fallbackRows[k] > 0 {
            guard merged.fallbackRows[k] < stat.count else {
                throw job.policyError(
                    "evaluate",
                    "no user of the data is in the policy file \(name): every valued row would be valued with the uniform policy (policy.missing = \"uniform\"); user keys are compared as text (7 and 7.0 differ)"
                )
            }
            notes.append(
                "\(name): \(merged.fallbackRows[k]) of \(stat.count) rows are of users the file does not list and were valued with the uniform policy (policy.missing = \"uniform\")"
            )
        }
        if merged.loggingMismatchRows > 0 {
            notes.append(
                "policy.logging_policy disagrees with the logged propensity on \(merged.loggingMismatchRows) of \(stat.count) rows (relative difference above 1e-6; the first is data row \(merged.firstLoggingMismatch! + 1)): MIPS assumes logging_policy is the policy that logged the data"
            )
        }
        if policy.estimators != nil, ope.broadcast.policies.contains(.logging),
            ope.estimators.contains(where: { $0 != .ipw && $0 != .snips })
        {
            notes.append(
                "the logging policy is valued by IPW and SNIPS only (its other estimates would need its full distribution)"
            )
        }
        if reward != nil, ope.estimators.contains(.dm) || ope.estimators.contains(.switchDR) {
            notes.append(
                "DM's interval (and switch-DR's where it falls back to DM) reflects the per-row spread of q̂ only, not the reward model's own error, so it is too narrow whenever the model is biased; with switch_tau = 1 a deterministic policy's switch-DR is its DM"
            )
        }
        var entries: [FitReport.OffPolicyEntry] = []
        for (k, name) in ope.names.enumerated() {
            for e in ope.estimators {
                if ope.broadcast.policies[k] == .logging, e != .ipw, e != .snips { continue }
                if e.needsRewardModel, reward == nil { continue }
                guard let value = stat.estimate(e, policy: k, confidence: policy.confidence) else {
                    notes.append(
                        "\(name): \(e.rawValue) is undefined: the policy's weights are 0 on every valued row (it has no support in the log)"
                    )
                    continue
                }
                let numbers = [
                    value.estimate, value.standardError, value.ciLow, value.ciHigh, value.effectiveSampleSize
                ]
                guard numbers.allSatisfy(\.isFinite) else {
                    throw job.policyError(
                        "evaluate",
                        "the \(e.rawValue) estimate of \(name) is not finite (weights too large for Float64); set policy.clip"
                    )
                }
                entries.append(
                    FitReport.OffPolicyEntry(
                        policy: name, estimator: e.rawValue, estimate: value.estimate,
                        se: value.standardError, ci_low: value.ciLow, ci_high: value.ciHigh,
                        ess: value.effectiveSampleSize, max_weight: value.maxWeight, clipped_rows: value.clippedRows,
                        switched_rows: e == .switchDR ? stat.switchedRows[k] : nil, n: value.count))
            }
        }
        let info = FitReport.OffPolicyInfo(
            catalogue_size: ope.broadcast.catalogue.count, rows_valued: stat.count, rows_skipped: merged.skippedRows,
            positions: policy.positions, reward_model: modelText, confidence: policy.confidence,
            clip: policy.rule.clip, switch_tau: policy.switchTau, mips_clusters: ope.clusters,
            policies: ope.names, estimators: ope.estimators.map(\.rawValue),
            logging_policy: policy.loggingPolicy?.name, missing: policy.missing.rawValue, seed: Int(policy.seed),
            notes: notes)
        return (entries, info)
    }

    /// Writes `row,item_id,q_hat` for every valued row (data order) and catalogue item, through a temporary file
    /// written in chunks (the file has rows × items lines).
    func writePredictions(_ s: OffPolicyShardStatistic, catalogue: [String], to path: String) throws {
        let a = catalogue.count
        let order = s.predictionRows.indices.sorted { s.predictionRows[$0] < s.predictionRows[$1] }
        let keys = catalogue.map(ShardPartitioner.csvField)
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: tmp.path, contents: nil) else {
                throw RunError("cannot create \(tmp.path)")
            }
            let handle = try FileHandle(forWritingTo: tmp)
            defer { try? handle.close() }
            var chunk = "row,item_id,q_hat\n"
            for i in order {
                let row = String(s.predictionRows[i])
                for j in 0..<a { chunk += "\(row),\(keys[j]),\(s.predictions[i * a + j])\n" }
                if chunk.utf8.count > 1 << 20 {
                    try handle.write(contentsOf: Data(chunk.utf8))
                    chunk = ""
                }
            }
            try handle.write(contentsOf: Data(chunk.utf8))
        } catch let e as RunError { throw e } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw RunError("cannot write \(tmp.path): \(error.localizedDescription)")
        }
        if rename(tmp.path, url.path) != 0 {
            try? FileManager.default.removeItem(at: tmp)
            throw RunError("cannot rename \(tmp.path) to \(url.path): \(String(cString: strerror(errno)))")
        }
    }
}
