import Foundation
import Statistics

/// How the reward model's columns split between the user and the item, for scoring users × items as matrix products:
/// every design column is a product of factors; a factor reads only the user's context (user side), only the item's
/// columns (item side: the action column, items-file columns, `item_pc*`), or is `affinity` (the dot product of the
/// user's and the item's unit vectors). Then x_j(u, a) = U_j(u)·I_j(a) (times affinity(u, a) for columns with that
/// factor), and η = (U ∘ β)·Iᵀ + Σ_{j ∋ affinity} β_j (U_j·unit_U)(I_j·unit_A)ᵀ: OpenBLAS products instead of a
/// design row per pair. A factor that mixes both sides (`I(item_id == user_id)`, `np.log(affinity)`) makes the model
/// not separable, and scoring goes pair by pair.
struct SeparableDesign {
    /// Per factor: true for the user side.
    var userSide: [Bool]
    /// Per factor: true for the item side.
    var itemSide: [Bool]
    /// Columns with the affinity factor (once).
    var affinityColumns: [Int]

    /// The split of `spec`, or nil with the name of a factor that mixes both sides.
    static func split(_ spec: DesignMatrixSpec, itemNames: Set<String>, features: Set<String>) -> (
        SeparableDesign?, mixed: String?
    ) {
        var user: [Bool] = []
        var item: [Bool] = []
        var affinity = Set<Int>()
        for (f, factor) in spec.factors.enumerated() {
            let columns = factor.expression.columns
            let isItem = { (c: String) in itemNames.contains(c) || (features.contains(c) && c.hasPrefix("item_pc")) }
            if case .column("affinity") = factor.expression, features.contains("affinity") {
                affinity.insert(f)
                user.append(false)
                item.append(false)
            } else if columns.contains("affinity") && features.contains("affinity") {
                return (nil, factor.name)
            } else if !columns.isEmpty, columns.allSatisfy(isItem) {
                user.append(false)
                item.append(true)
            } else if !columns.contains(where: isItem) {
                user.append(true)
                item.append(false)
            } else {
                return (nil, factor.name)
            }
        }
        var affinityColumns: [Int] = []
        for (j, column) in spec.columns.enumerated() {
            let count = column.factorIndices.filter(affinity.contains).count
            if count > 1 { return (nil, spec.columns[j].name) }
            if count == 1 { affinityColumns.append(j) }
        }
        return (SeparableDesign(userSide: user, itemSide: item, affinityColumns: affinityColumns), nil)
    }
}

extension CandidateScorer {
    /// q̂ for users × candidates by matrix products (`SeparableDesign`), [users, C] row-major, or nil when the
    /// design is not separable.
    /// - Parameters:
    ///   - contexts: each user's factor values (their first row with `policy.at`), and `rows` the batch positions
    ///     errors point at.
    ///   - fit: the coefficient index.
    func scoreMatrix(contexts: [[FactorValue]], rows: [Int], users: [UInt64], fit: Int, candidates: [Int32]) throws
        -> [Double]?
    {
        let featureNames = Set(
            reader.names.filter { $0.hasPrefix("item_pc") || $0 == "affinity" || $0.hasPrefix("user_pc") })
        let (split, _) = SeparableDesign.split(
            spec, itemNames: Set([broadcast.action] + broadcast.itemColumns), features: featureNames)
        guard let split, !contexts.isEmpty, !candidates.isEmpty else { return nil }
        let beta = request.coefficients[fit].isEmpty ? request.coefficients[0] : request.coefficients[fit]
        let p = spec.width
        let n = contexts.count
        let c = candidates.count
        var scratch = DesignMatrixSpec.Scratch(factors: spec.factors.count)
        var row = [Double](repeating: 0, count: p)
        let batch = data
        func fail(_ i: Int) -> (String) -> ShardFailure {
            { ShardFailure(rowIndex: batch.rowIndex[i], line: batch.line[i], column: nil, message: $0) }
        }
        // U: each user's user-side products (with the first candidate filling the item's columns).
        var left = [Double](repeating: 0, count: n * p)
        for u in 0..<n {
            var values = contexts[u]
            try setCandidate(Int(candidates[0]), in: &values, unit: nil, fail: fail(rows[u]))
            do {
                try spec.fillPartial(values: values, selected: split.userSide, row: &row, scratch: &scratch)
            } catch let e as FormulaError { throw fail(rows[u])("scoring: \(e.message)") }
            for j in 0..<p { left[u * p + j] = row[j] }
        }
        // I: each candidate's item-side products (with the first user's context).
        var right = [Double](repeating: 0, count: c * p)
        for (a, item) in candidates.enumerated() {
            var values = contexts[0]
            try setCandidate(Int(item), in: &values, unit: nil, fail: fail(rows[0]))
            do {
                try spec.fillPartial(values: values, selected: split.itemSide, row: &row, scratch: &scratch)
            } catch let e as FormulaError {
                throw fail(rows[0])("scoring item '\(printable(catalogue[Int(item)]))': \(e.message)")
            }
            for j in 0..<p { right[a * p + j] = row[j] }
        }
        let affinity = Set(split.affinityColumns)
        var weighted = left
        for u in 0..<n { for j in 0..<p { weighted[u * p + j] *= affinity.contains(j) ? 0 : beta[j] } }
        var eta = LinearAlgebra.product(weighted, right, m: n, k: p, n: c, transposeB: true)
        if !split.affinityColumns.isEmpty, let vectors = broadcast.itemVectors {
            let d = vectors.dimension
            var itemUnits = [Double](repeating: 0, count: c * d)
            for (a, item) in candidates.enumerated() {
                if let v = vectors.vector(catalogue[Int(item)]) {
                    for (l, x) in v.enumerated() { itemUnits[a * d + l] = Double(x) }
                }
            }
            for j in split.affinityColumns {
                var a = [Double](repeating: 0, count: n * d)
                for u in 0..<n {
                    guard let unit = units[users[u]] else { continue }
                    let scale = beta[j] * left[u * p + j]
                    for l in 0..<d { a[u * d + l] = scale * unit[l] }
                }
                var b = itemUnits
                for x in 0..<c { for l in 0..<d { b[x * d + l] *= right[x * p + j] } }
                let term = LinearAlgebra.product(a, b, m: n, k: d, n: c, transposeB: true)
                for i in eta.indices { eta[i] += term[i] }
            }
        }
        for i in eta.indices {
            let v = request.link == .logistic ? 1 / (1 + Foundation.exp(-eta[i])) : eta[i]
            guard v.isFinite else {
                throw fail(rows[i / c])("the reward model's prediction for an item is not finite")
            }
            eta[i] = v
        }
        return eta
    }
}
