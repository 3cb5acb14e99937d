import Foundation
import Logging
import Statistics
import Tabular

/// The coordinator's side of the text rounds (embed, features).
extension FitDriver {
    /// The text rounds: items named by the data are checked against the items file; every shard embeds its users'
    /// texts and the items it owns (embed round); the coordinator merges the user moments in shard order, gathers
    /// the item vectors in shard order, runs both PCAs and sends each shard the projection and the items its rows
    /// name (features round).
    func textFeatures(_ t: TextSpec, summaries: [ShardSummary], merged: ShardSummary, executor: ShardExecutor) throws
        -> (FitReport.TextInfo, ItemFeatures)
    {
        let shards = executor.shardCount
        if let items = prepared.items, let keyColumn = t.itemKey {
            let missing = merged.itemKeys.filter { items.index[$0.key] == nil }
            if let first = missing.min(by: { $0.first.rowIndex < $1.first.rowIndex }) {
                let column = plan.columnNumbers[plan.columns.firstIndex(of: keyColumn)!]
                let what = first.key.isEmpty ? "an empty item key" : "item '\(first.key)'"
                throw InputError(
                    file: prepared.dataFile, line: first.first.line, column: column,
                    "\(what) (column \(keyColumn)) is not in the items file \(items.path)\(missing.count > 1 ? "; \(missing.count) item keys of the data are missing from it" : "") (keys are compared as text: 7 and 7.0 differ)"
                )
            }
        }
        let userRecords = prepared.users?.byShard(shards) ?? [[TextEntry]](repeating: [], count: shards)
        let itemRecords = prepared.items?.byShard(shards) ?? [[TextEntry]](repeating: [], count: shards)
        let embed = EmbedRound(
            requests: (0..<shards).map { EmbedRequest(users: userRecords[$0], items: itemRecords[$0]) })
        let stats = try executor.run(embed, job: prepared)
        let identifiers = Set(stats.map(\.encoder).filter { !$0.isEmpty })
        guard identifiers.count <= 1 else {
            throw RunError(
                "workers embedded with different models (\(identifiers.sorted().joined(separator: " vs "))); give every worker the same model files"
            )
        }
        let d = stats.first?.dimension ?? 384
        guard stats.allSatisfy({ $0.dimension == d }) else {
            throw RunError("workers report different embedding dimensions")
        }
        // The encoders make 384 dimensions and k ≤ 64; a faulty worker must not reach PrincipalComponents' k ≤ d.
        guard d >= t.components else {
            throw RunError("workers report \(d)-dimensional embeddings, fewer than text.components")
        }
        if let first = stats.compactMap(\.firstUserWithoutRecord).min(by: { $0.rowIndex < $1.rowIndex }),
            let users = prepared.users
        {
            throw InputError(
                file: prepared.dataFile, line: first.line, column: prepared.userKeyColumns.first.map { $0 + 1 },
                "the user of this row (data.user_key \(job.userKey.joined(separator: ", "))) has no row in the users file \(users.path)"
            )
        }
        let k = t.components
        var warnings: [String] = []
        var info = FitReport.TextInfo(
            encoder: identifiers.first ?? "", dimension: d, components: k, features: t.featureNames,
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
                moments.merge(
                    s.userVectors.isEmpty
                        ? s.userMoments
                        : MomentMatrix(rows: s.userVectors, count: s.userVectors.count / d, dimension: d))
            }
            let with = stats.reduce(0) { $0 + $1.usersWithText }
            let without = stats.reduce(0) { $0 + $1.usersWithoutText }
            guard with > 0 else {
                throw job.textError(
                    "user_text", "no user has any text in \(t.userText.joined(separator: ", ")): every cell is empty")
            }
            let pca = try PrincipalComponents(moments: moments, k: k)
            userPCA = pca
            info.users_with_text = with
            info.users_without_text = without
            if with < k {
                warnings.append(
                    "only \(with) users have text, fewer than text.components = \(k): user_pc\(with + 1)...user_pc\(k) carry no information"
                )
            }
            info.user_explained_variance = explained(pca, moments)
            if without > 0 {
                warnings.append(
                    "\(without) of \(with + without) users have no text: their user_pc features and affinity are 0")
            }
        }
        // Items: vectors gathered in shard order (file order within a shard).
        var itemScores: [String: [Double]] = [:]
        var unitKeys: [String] = []
        var unitRows: [Float] = []
        if prepared.items != nil {
            var moments = MomentMatrix(dimension: d)
            var withText = 0
            var total = 0
            for (s, e) in stats.enumerated() {
                var block: [Double] = []
                for m in 0..<itemRecords[s].count where e.itemHasText[m] {
                    block += e.itemVectors[(m * d)..<((m + 1) * d)].map(Double.init)
                    withText += 1
                }
                total += itemRecords[s].count
                moments.merge(MomentMatrix(rows: block, count: block.count / d, dimension: d))
            }
            guard withText > 0 else {
                throw job.textError(
                    "item_text", "no item has any text in \(t.itemText.joined(separator: ", ")): every cell is empty")
            }
            if withText < k {
                warnings.append(
                    "only \(withText) items have text, fewer than text.components = \(k): item_pc\(withText + 1)...item_pc\(k) carry no information"
                )
            }
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
            if total > withText {
                warnings.append(
                    "\(total - withText) of \(total) items have no text: their item_pc features and affinity are 0")
            }
        }
        // Features: each shard gets the projection and the items its rows name; each worker, once, the unit vectors of
        // the items its shards' rows name (for affinity, which needs users and items).
        let needs = (0..<shards).map { t.itemsPath == nil ? [] : summaries[$0].itemKeys.map(\.key) }
        if !t.userText.isEmpty, t.itemsPath != nil {
            let table = ItemVectorTable(keys: unitKeys, rows: unitRows, dimension: d)
            try executor.broadcast(ItemVectorBroadcast(table: table, keys: unitKeys, needs: needs))
        }
        let requests = try (0..<shards).map { s -> FeatureRequest in
            let keys = needs[s]
            var scores: [Double] = []
            for key in keys {
                // Every item key of the data was checked against the items file above.
                guard let v = itemScores[key] else {
                    throw RunError("internal: no scores for item '\(key)' of shard \(s)")
                }
                scores += v
            }
            return FeatureRequest(
                components: k, dimension: d, userMean: userPCA?.mean ?? [], userAxes: userPCA?.components ?? [],
                itemKeys: keys, itemScores: scores)
        }
        _ = try executor.run(FeaturesRound(requests: requests, rows: summaries.map(\.rows)), job: prepared)
        info.warnings = warnings
        let vectors = prepared.items == nil ? nil : ItemVectorTable(keys: unitKeys, rows: unitRows, dimension: d)
        return (info, ItemFeatures(components: k, scores: itemScores, vectors: vectors))
    }
}

/// Every item's text features, as the coordinator computed them for the features round: what scoring a candidate
/// item with the reward model and clustering items for MIPS need.
struct ItemFeatures {
    /// k.
    var components: Int
    /// Each item's `item_pc*` scores by key, [k] (empty without an items file).
    var scores: [String: [Double]]
    /// Each item's unit vector (nil without an items file).
    var vectors: ItemVectorTable?
}
