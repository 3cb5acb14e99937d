import Foundation
import StableRandom

/// Identification checks run before fitting. They are necessary conditions (and, for feedback loops with unrestricted
/// residual covariances, sufficient ones); a model that passes may still be empirically under-identified, which shows
/// as a singular information matrix (a warning of the fit).
///
/// 1. **Latent variables**: each needs a scale — a loading fixed at a non-zero value (lavaan fixes the first at 1) or a
///    fixed variance — and either three or more indicators, one indicator (its residual variance fixed at 0), or two
///    indicators plus a relation to another variable (a regression or a free covariance).
/// 2. **Feedback loops** (non-recursive blocks: strongly connected components of the graph of `~` regressions): with
///    m equations in the loop and the loop's predetermined variables X (every variable outside the loop that predicts
///    one of its equations), each equation i must satisfy
///    - the *order condition*: the number of variables of X that it excludes ≥ the number of loop variables among
///      its regressors (equivalently, it excludes ≥ m − 1 of the loop's variables and X);
///    - the *rank condition*: the coefficients of the variables it excludes, in the other m − 1 equations, form a
///      matrix of rank m − 1 (checked at generic coefficient values, by LAPACK's SVD).
/// 3. **t-rule**: free parameters ≤ sample moments (p(p+1)/2 + p, less those of the fixed exogenous covariates).
/// 4. **Singular loops**: for each strongly connected component of the path graph (regressions and loadings),
///    det(I − B) over the component at generic values of its free paths (pseudo-random in [0.5, 1.5)): if it
///    vanishes (smallest singular value ≤ 1e-12 × largest), the fixed paths make I − B singular whatever the free
///    ones are, e.g. `y1 ~ 1*y2` and `y2 ~ 1*y1` (gain product 1): Σ(θ) does not exist and the model has no solution.
///    Otherwise the same test at the starting values (free regressions 0 or `start()`, loadings 1 or `start()`)
///    names a loop that only the starting values make singular.
///
/// Source: Bollen (1989), Structural Equations with Latent Variables, ch. 4 (pp. 88–104: t-rule, recursive rule,
/// order and rank conditions) and ch. 7 (three- and two-indicator rules); Kenny, Kashy & Bolger (1998).
public enum SEMIdentification {
    /// Runs all checks in the order above.
    /// - Throws: `SEMError.notIdentified(message:)` naming every failing latent or equation (position, what it lacks),
    ///   or `SEMError.tooManyParameters(free:moments:)`.
    public static func check(_ table: SEMParameterTable) throws {
        var problems = latentProblems(table)
        if !problems.isEmpty { throw SEMError.notIdentified(message: problems.joined(separator: "; ")) }
        // A loop whose fixed gains make I − B singular has no solution at all: say that before asking for instruments.
        try checkLoopsInvertible(table)
        problems = try feedbackProblems(table)
        if !problems.isEmpty { throw SEMError.notIdentified(message: problems.joined(separator: "; ")) }
        if table.parameterCount > table.momentCount {
            throw SEMError.tooManyParameters(free: table.parameterCount, moments: table.momentCount)
        }
    }

    static func latentProblems(_ table: SEMParameterTable) -> [String] {
        var problems: [String] = []
        for lv in table.latent {
            let loadings = table.rows.filter { $0.op == .measuredBy && $0.lhs == lv }
            let position = loadings.first?.lhsPosition.map { " (\($0))" } ?? ""
            // Held at a non-zero value by a fixed value or by an `==` constraint (`a == 1`).
            let scaledByLoading = loadings.contains { (table.heldValue($0) ?? 0) != 0 }
            let scaledByVariance = table.rows.contains {
                $0.op == .covariance && $0.lhs == lv && $0.rhs == lv && (table.heldValue($0) ?? 0) != 0
            }
            if !scaledByLoading && !scaledByVariance {
                problems.append(
                    "latent variable \(lv)\(position) is not identified: it has no loading fixed at a non-zero value and no fixed variance to set its scale (scaling rule); fix one loading, e.g. 1*\(loadings.first?.rhs ?? "x"), or its variance, e.g. \(lv) ~~ 1*\(lv) (std_lv = true fixes every latent variance)"
                )
                continue
            }
            if loadings.count == 2 {
                let related = table.rows.contains {
                    ($0.op == .regression && ($0.lhs == lv || $0.rhs == lv))
                        || ($0.op == .covariance && $0.lhs != $0.rhs && ($0.lhs == lv || $0.rhs == lv) && $0.free != 0)
                }
                if !related {
                    problems.append(
                        "latent variable \(lv)\(position) is not identified: it has only 2 indicators (\(loadings.map(\.rhs).joined(separator: ", "))) and no relation to another variable (two-indicator rule); add a third indicator or let it covary with another latent variable"
                    )
                }
            }
        }
        return problems
    }

    static func feedbackProblems(_ table: SEMParameterTable) throws -> [String] {
        let regressions = table.rows.filter { $0.op == .regression }
        var order: [String] = []
        for r in regressions { for v in [r.lhs, r.rhs] where !order.contains(v) { order.append(v) } }
        let index = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        var edges = [[Int]](repeating: [], count: order.count)  // rhs → lhs
        for r in regressions { edges[index[r.rhs]!].append(index[r.lhs]!) }
        var problems: [String] = []
        for component in stronglyConnectedComponents(edges) where component.count >= 2 {
            let inLoop = Set(component.map { order[$0] })
            let equations = SEMParameterTable.unique(regressions.map(\.lhs).filter { inLoop.contains($0) })
            let predetermined = SEMParameterTable.unique(
                regressions.filter { inLoop.contains($0.lhs) && !inLoop.contains($0.rhs) }.map(\.rhs))
            let columns = equations + predetermined
            let m = equations.count
            // C = [(I − B) | −Γ] over the loop at generic values: 1 on the diagonal, a fixed value or a pseudo-random
            // value in [0.5, 1.5) for each coefficient, 0 for exclusions.
            var c = [Double](repeating: 0, count: m * columns.count)
            var present = [Bool](repeating: false, count: m * columns.count)
            var generator = SEMGenericValues()
            for (i, eq) in equations.enumerated() {
                c[i * columns.count + i] = 1
                present[i * columns.count + i] = true
                for r in regressions where r.lhs == eq {
                    let j = columns.firstIndex(of: r.rhs)!
                    c[i * columns.count + j] = -(r.free == 0 ? (r.fixedValue ?? 0) : generator.next())
                    present[i * columns.count + j] = r.free != 0 || (r.fixedValue ?? 0) != 0
                }
            }
            for (i, eq) in equations.enumerated() {
                let rows = regressions.filter { $0.lhs == eq }
                // A path fixed at a value is known, like an exclusion: it needs no instrument (y − c·m is observed).
                let endogenous = rows.filter { inLoop.contains($0.rhs) && $0.free != 0 }.map(\.rhs)
                let included = Set(rows.filter { $0.free != 0 }.map(\.rhs))
                let excluded = predetermined.filter { !included.contains($0) }
                let position = rows.first?.lhsPosition.map { " (\($0))" } ?? ""
                if excluded.count < endogenous.count {
                    let need = endogenous.count - excluded.count
                    let regressors =
                        "\(endogenous.count) endogenous \(endogenous.count == 1 ? "regressor" : "regressors") (\(endogenous.joined(separator: ", ")))"
                    let what =
                        excluded.isEmpty
                        ? "it excludes no exogenous variable that appears elsewhere"
                        : "it excludes only \(excluded.count) exogenous \(excluded.count == 1 ? "variable" : "variables") that \(excluded.count == 1 ? "appears" : "appear") elsewhere (\(excluded.joined(separator: ", ")))"
                    let add =
                        excluded.isEmpty
                        ? (need == 1 ? "add an instrument" : "add \(need) instruments")
                        : (need == 1 ? "add another instrument" : "add \(need) more instruments")
                    problems.append(
                        "equation \(eq)\(position) is not identified: \(what) but has \(regressors) (order condition); \(add)"
                    )
                    continue
                }
                // Rank condition: the restrictions on equation i (an excluded column j: φ_j = 0; a path fixed at c:
                // φ_j + c·φ_i = 0) applied to the other equations' rows must have rank m − 1.
                let excludedColumns = (0..<columns.count).filter { !present[i * columns.count + $0] }
                let fixedColumns = (0..<columns.count).filter { j in
                    j != i && present[i * columns.count + j] && rows.contains { $0.rhs == columns[j] && $0.free == 0 }
                }
                let otherRows = (0..<m).filter { $0 != i }
                guard m > 1 else { continue }
                var sub = [Double]()
                let restrictions = excludedColumns.count + fixedColumns.count
                for r in otherRows {
                    for j in excludedColumns { sub.append(c[r * columns.count + j]) }
                    for j in fixedColumns {
                        sub.append(c[r * columns.count + j] - c[i * columns.count + j] * c[r * columns.count + i])
                    }
                }
                let s = try LinearAlgebra.singularValues(sub, rows: otherRows.count, columns: restrictions)
                let rank = s.filter { $0 > 1e-9 * max(1, s.first ?? 0) }.count
                if rank < m - 1 {
                    let names = excludedColumns.map { columns[$0] }
                    problems.append(
                        "equation \(eq)\(position) is not identified: the variables it excludes (\(names.joined(separator: ", "))) do not enter the other equations of its feedback loop (\(equations.filter { $0 != eq }.joined(separator: ", "))) in \(m - 1) independent ways (rank condition: rank \(rank) < \(m - 1)); add an instrument that predicts another equation of the loop but not \(eq)"
                    )
                }
            }
        }
        return problems
    }

    /// Throws when a loop of the path graph makes I − B singular (check 4 of the type's documentation).
    /// - Throws: `SEMError.singularLoop(message:)` naming the loop, its paths and the first path's position.
    static func checkLoopsInvertible(_ table: SEMParameterTable) throws {
        let paths = table.rows.filter { $0.op == .regression || $0.op == .measuredBy }
        // Edge cause → effect; B[effect, cause].
        func ends(_ r: SEMParameterTable.Row) -> (cause: String, effect: String) {
            r.op == .regression ? (r.rhs, r.lhs) : (r.lhs, r.rhs)
        }
        var order: [String] = []
        for r in paths { for v in [r.lhs, r.rhs] where !order.contains(v) { order.append(v) } }  // as written
        let index = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        var edges = [[Int]](repeating: [], count: order.count)
        for r in paths { edges[index[ends(r).cause]!].append(index[ends(r).effect]!) }
        var generator = SEMGenericValues()
        for component in stronglyConnectedComponents(edges) where component.count >= 2 {
            let members = component.map { order[$0] }
            let position = Dictionary(uniqueKeysWithValues: members.enumerated().map { ($1, $0) })
            let loop = paths.filter { position[ends($0).cause] != nil && position[ends($0).effect] != nil }
            let m = members.count
            // Whether I − B over the loop is singular with the loop's paths at `values`.
            func singular(_ values: [Double]) throws -> Bool {
                var a = [Double](repeating: 0, count: m * m)
                for i in 0..<m { a[i * m + i] = 1 }
                for (r, v) in zip(loop, values) { a[position[ends(r).effect]! * m + position[ends(r).cause]!] -= v }
                let sv = try LinearAlgebra.singularValues(a, rows: m, columns: m)
                return (sv.last ?? 0) <= 1e-12 * (sv.first ?? 0)
            }
            func spell(_ r: SEMParameterTable.Row) -> String {
                let v = r.free == 0 ? "\(SEMParser.format(r.fixedValue ?? 0))*" : ""
                return r.op == .regression ? "\(r.lhs) ~ \(v)\(r.rhs)" : "\(r.lhs) =~ \(v)\(r.rhs)"
            }
            var name = m == 2 ? "\(members[0]) ↔ \(members[1])" : "of \(members.joined(separator: ", "))"
            if m > 2 && loop.count == m {  // a simple cycle: follow it from its first variable
                var chain = [members[0]]
                while chain.count <= m, let next = loop.first(where: { ends($0).cause == chain.last! }) {
                    chain.append(ends(next).effect)
                    if chain.last == members[0] { break }
                }
                if chain.count == m + 1 && chain.last == members[0] { name = chain.joined(separator: " → ") }
            }
            let at = loop.compactMap(\.position).first.map { " (\($0))" } ?? ""
            if try singular(loop.map { $0.free == 0 ? ($0.fixedValue ?? 0) : generator.next() }) {
                let fixed = loop.filter { $0.free == 0 }
                throw SEMError.singularLoop(
                    message: "I − B is singular for the loop \(name)\(at): its fixed paths "
                        + "(\(fixed.map(spell).joined(separator: ", "))) make det(I − B) = 0 whatever values its free paths "
                        + "take (in a two-variable loop: the gains multiply to 1), so (I − B)⁻¹ and the implied covariance "
                        + "matrix do not exist and the model has no solution; free or change one of these paths")
            }
            let starts = loop.map { $0.free == 0 ? ($0.fixedValue ?? 0) : $0.start ?? ($0.op == .measuredBy ? 1 : 0) }
            if try singular(starts) {
                throw SEMError.singularLoop(
                    message: "I − B is singular for the loop \(name)\(at) at the starting values "
                        + "(\(loop.map(spell).joined(separator: ", ")); free paths start at their start() value, else "
                        + "regressions at 0 and loadings at 1); give one of its free paths another start(), e.g. start(0.5)*x"
                )
            }
        }
    }

    /// Tarjan's strongly connected components of a directed graph given as adjacency lists; components in
    /// reverse topological order, members in discovery order.
    static func stronglyConnectedComponents(_ edges: [[Int]]) -> [[Int]] {
        let n = edges.count
        var indexOf = [Int](repeating: -1, count: n)
        var low = [Int](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n)
        var stack: [Int] = []
        var next = 0
        var out: [[Int]] = []
        func visit(_ v: Int) {
            indexOf[v] = next
            low[v] = next
            next += 1
            stack.append(v)
            onStack[v] = true
            for w in edges[v] {
                if indexOf[w] < 0 {
                    visit(w)
                    low[v] = min(low[v], low[w])
                } else if onStack[w] {
                    low[v] = min(low[v], indexOf[w])
                }
            }
            if low[v] == indexOf[v] {
                var component: [Int] = []
                while true {
                    let w = stack.removeLast()
                    onStack[w] = false
                    component.append(w)
                    if w == v { break }
                }
                out.append(component.sorted())
            }
        }
        for v in 0..<n where indexOf[v] < 0 { visit(v) }
        return out
    }
}

/// Deterministic pseudo-random coefficients in [0.5, 1.5) for generic-rank checks (SplitMix64, fixed seed).
struct SEMGenericValues {
    var generator = SplitMix64(seed: 0x5EED_0005)
    mutating func next() -> Double { 0.5 + generator.uniform() }
}
