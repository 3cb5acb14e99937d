import Foundation

/// What the design builder needs to know about one data column, merged over all shards.
public struct ColumnInfo: Sendable, Equatable {
    /// Every value of the column is a number (missing values are rejected before this point).
    public var isNumeric: Bool
    /// Every number is written as a whole number (`3`, not `3.0`): levels then print as `3`, as pandas int64 does.
    public var isIntegral: Bool
    /// Distinct values, sorted (numbers numerically, strings bytewise); needed for columns used as categorical.
    public var levels: [FactorValue]

    public init(isNumeric: Bool, isIntegral: Bool, levels: [FactorValue]) {
        self.isNumeric = isNumeric
        self.isIntegral = isIntegral
        self.levels = levels
    }
}

/// How one design-matrix column is made from factors: the product of numeric factor values and level indicators.
public struct DesignColumn: Sendable, Equatable {
    /// patsy's column name, e.g. `C(position)[T.2]:item_id`.
    public let name: String
    /// Index of the term (in `DesignMatrixSpec.terms`) the column belongs to.
    public let term: Int
    /// (factor index, level index or nil for a numeric factor) pairs multiplied together.
    let parts: [Part]

    struct Part: Sendable, Equatable {
        let factor: Int
        let level: Int?
    }

    /// Whether the column involves a numeric factor (a plain number or its product with indicators), not only
    /// level indicators (the intercept has neither).
    public var involvesNumericFactor: Bool { parts.contains { $0.level == nil } }

    /// The factors (indices into `DesignMatrixSpec.factors`) the column multiplies.
    public var factorIndices: [Int] { parts.map(\.factor) }
}

/// The columns of a design matrix, built from a formula and what the data says about its columns.
///
/// Follows patsy exactly, so names and column order match statsmodels:
/// terms are grouped by their set of numeric factors (the group without numeric factors first, then in order
/// of first appearance) and sorted by degree within a group; categorical factors get full-rank or Treatment
/// (reduced-rank, first level dropped) coding by patsy's redundancy rules; inside a term the left-most factor's
/// columns vary fastest.
///
/// Source: patsy `build.py` (`_make_subterm_infos`, `_column_combinations`) and `redundancy.py`
/// (`pick_contrasts_for_term`, `_simplify_subterms`).
public struct DesignMatrixSpec: Sendable {
    /// The formula the design was built from.
    public let formula: Formula
    /// Terms in design order (patsy's order, which may differ from the formula's).
    public let terms: [Term]
    /// The distinct right-hand-side factors.
    public let factors: [Factor]
    /// Per factor: its levels when categorical, nil when numeric.
    public let factorLevels: [[FactorValue]?]
    /// Design columns, in order.
    public let columns: [DesignColumn]
    /// Data columns read for a row, outcome first; `row(values:)` takes values in this order.
    public let dataColumns: [String]

    /// Number of design columns p.
    public var width: Int { columns.count }
    /// Column names, as statsmodels prints them.
    public var columnNames: [String] { columns.map(\.name) }

    private let levelIndex: [[FactorValue: Int]?]
    private let factorSlots: [FactorExpressionSlots]
    private let outcomeSlots: FactorExpressionSlots

    /// Builds the design for a formula.
    /// - Parameters:
    ///   - formula: the parsed formula.
    ///   - columns: information on every data column the formula reads.
    /// - Throws: `FormulaError` when a column is missing, the outcome is not numeric, arithmetic uses a text
    ///   column, or a Treatment reference level does not occur in the data.
    public init(formula: Formula, columns info: [String: ColumnInfo]) throws {
        self.formula = formula
        self.dataColumns = formula.columns
        for c in dataColumns where info[c] == nil {
            let f = ([formula.outcome] + formula.factors).first { $0.expression.columns.contains(c) }
            throw FormulaError("unknown column '\(c)'", at: f?.offset)
        }
        // The outcome must be numeric.
        let outcome = formula.outcome
        if outcome.forcedCategorical || outcome.expression.isBoolean {
            throw FormulaError("the outcome must be numeric, not categorical", at: outcome.offset)
        }
        for c in outcome.expression.columns where !(info[c]!.isNumeric) {
            throw FormulaError("the outcome column '\(c)' is not numeric", at: outcome.offset)
        }

        let factors = formula.factors
        self.factors = factors
        var levels: [[FactorValue]?] = []
        var integral: [Bool] = []
        // Per categorical factor: indices into its levels in sorted order, which full-rank coding uses
        // (patsy's Treatment.code_with_intercept is the identity on the sorted levels, whatever the reference).
        var sortedOrder: [[Int]] = []
        for f in factors {
            let cols = f.expression.columns
            if f.expression.isBoolean && !f.forcedCategorical {
                levels.append([.bool(false), .bool(true)])
                integral.append(false)
                sortedOrder.append([0, 1])
            } else if case .column(let c) = f.expression, f.forcedCategorical || !(info[c]!.isNumeric) {
                var lv = info[c]!.levels
                var order = Array(lv.indices)
                if let r = f.reference {
                    guard let i = lv.firstIndex(where: { Self.sameLevel($0, r) }) else {
                        throw FormulaError(
                            "reference level \(r.levelText(integral: true)) does not occur in column '\(c)'",
                            at: f.offset)
                    }
                    // The reference moves to the front, so reduced-rank coding drops it; the others keep the sorted
                    // order. Sorted level k now sits at k + 1 (k < i), 0 (k == i) or k (k > i).
                    lv = lv[i...i] + lv.enumerated().filter { $0.offset != i }.map(\.element)
                    order = lv.indices.map { $0 < i ? $0 + 1 : ($0 == i ? 0 : $0) }
                }
                levels.append(lv)
                integral.append(info[c]!.isIntegral)
                sortedOrder.append(order)
            } else if f.forcedCategorical {
                throw FormulaError("C() takes a column name, e.g. C(position)", at: f.offset)
            } else {
                for c in cols where !(info[c]!.isNumeric) {
                    throw FormulaError(
                        "column '\(c)' is text; arithmetic needs numbers (use C(\(c)) or a comparison in I(...))",
                        at: f.offset)
                }
                levels.append(nil)
                integral.append(false)
                sortedOrder.append([])
            }
        }
        self.factorLevels = levels
        self.levelIndex = levels.map { lv in
            lv.map { Dictionary(uniqueKeysWithValues: $0.enumerated().map { ($1, $0) }) }
        }

        // patsy: bucket terms by their numeric factors, the no-numeric bucket first; sort by degree in a bucket.
        let isNumeric = { (f: Factor) -> Bool in levels[factors.firstIndex(of: f)!] == nil }
        var bucketOrder: [Set<Factor>] = []
        var buckets: [Set<Factor>: [Term]] = [:]
        for t in formula.terms {
            let key = Set(t.factors.filter(isNumeric))
            if buckets[key] == nil { bucketOrder.append(key) }
            buckets[key, default: []].append(t)
        }
        if let i = bucketOrder.firstIndex(of: []) { bucketOrder.insert(bucketOrder.remove(at: i), at: 0) }
        var orderedTerms: [Term] = []
        var columns: [DesignColumn] = []
        for bucket in bucketOrder {
            let bucketTerms = Self.stableSorted(buckets[bucket]!) { $0.factors.count < $1.factors.count }
            var used = Set<Subterm>()
            for term in bucketTerms {
                let termIndex = orderedTerms.count
                orderedTerms.append(term)
                let categorical = term.factors.filter { !isNumeric($0) }
                let codings = Self.pickContrasts(categorical: categorical, used: &used)
                for coding in codings {
                    // Per factor in term order: the list of (level or nil) choices and their name pieces.
                    var choices: [[(DesignColumn.Part, String)]] = []
                    for f in term.factors {
                        let fi = factors.firstIndex(of: f)!
                        if let lv = levels[fi] {
                            guard let full = coding[f] else { continue }
                            let text = { (v: FactorValue) in v.levelText(integral: integral[fi]) }
                            if full {
                                choices.append(
                                    sortedOrder[fi].map { (.init(factor: fi, level: $0), "\(f.name)[\(text(lv[$0]))]") }
                                )
                            } else {
                                choices.append(
                                    lv.indices.dropFirst().map {
                                        (.init(factor: fi, level: $0), "\(f.name)[T.\(text(lv[$0]))]")
                                    })
                            }
                        } else {
                            choices.append([(.init(factor: fi, level: nil), f.name)])
                        }
                    }
                    if choices.isEmpty {
                        columns.append(DesignColumn(name: "Intercept", term: termIndex, parts: []))
                        continue
                    }
                    // Left-most factor varies fastest (patsy `_column_combinations`).
                    var counters = [Int](repeating: 0, count: choices.count)
                    if choices.contains(where: \.isEmpty) { continue }
                    while true {
                        let picked = counters.enumerated().map { choices[$0.offset][$0.element] }
                        columns.append(
                            DesignColumn(
                                name: picked.map(\.1).joined(separator: ":"), term: termIndex, parts: picked.map(\.0)))
                        var k = 0
                        while k < counters.count {
                            counters[k] += 1
                            if counters[k] < choices[k].count { break }
                            counters[k] = 0
                            k += 1
                        }
                        if k == counters.count { break }
                    }
                }
            }
        }
        self.terms = orderedTerms
        self.columns = columns
        let slots = Dictionary(uniqueKeysWithValues: dataColumns.enumerated().map { ($1, $0) })
        self.factorSlots = factors.map { FactorExpressionSlots($0.expression, slots: slots) }
        self.outcomeSlots = FactorExpressionSlots(outcome.expression, slots: slots)
    }

    /// Fills one design row and returns the outcome.
    /// - Parameters:
    ///   - values: the row's values of `dataColumns`, in that order (numbers for numeric columns, strings otherwise).
    ///   - row: [p] destination.
    /// - Returns: the outcome value.
    /// - Throws: `FormulaError` when an expression cannot be evaluated (e.g. arithmetic on a string), or when a
    ///   categorical value is not among the levels.
    public func fill(values: [FactorValue], row: inout [Double]) throws -> Double {
        var scratch = Scratch(factors: factors.count)
        return try fill(values: values, row: &row, scratch: &scratch)
    }

    /// Per-row working memory for `fill(values:row:scratch:)`, reused across rows to avoid allocations.
    public struct Scratch {
        var numeric: [Double]
        var level: [Int]
        /// - Parameter factors: `DesignMatrixSpec.factors.count`.
        public init(factors: Int) {
            numeric = [Double](repeating: 0, count: factors)
            level = [Int](repeating: 0, count: factors)
        }
    }

    /// `fill(values:row:)` with caller-owned working memory: the form for loops over many rows.
    public func fill(values: [FactorValue], row: inout [Double], scratch: inout Scratch) throws -> Double {
        precondition(
            row.count == columns.count, "fill: row has \(row.count) slots, design has \(columns.count) columns")
        precondition(scratch.numeric.count == factors.count, "fill: scratch made for another design")
        for (i, slots) in factorSlots.enumerated() {
            let v = try slots.evaluate(values)
            if let index = levelIndex[i] {
                guard let l = index[Self.levelKey(v)] else {
                    throw FormulaError("value \(v) of \(factors[i].name) is not among its levels")
                }
                scratch.level[i] = l
            } else {
                switch v {
                case .number(let x): scratch.numeric[i] = x
                case .bool(let b): scratch.numeric[i] = b ? 1 : 0
                case .string(let s): throw FormulaError("\(factors[i].name) is '\(s)', not a number")
                }
            }
        }
        columnProducts(scratch: scratch, selected: nil, into: &row)
        switch try outcomeSlots.evaluate(values) {
        case .number(let y): return y
        case .bool(let b): return b ? 1 : 0
        case .string(let s): throw FormulaError("the outcome is '\(s)', not a number")
        }
    }

    /// Each column's product over the parts whose factor is `selected` (parts of other factors count as 1): one side
    /// of a column that is a product of user-side and item-side factors, x_j(u, a) = U_j(u)·I_j(a). Every factor is
    /// evaluated (so `values` must be a valid row), only the selected ones enter the products.
    /// - Parameters:
    ///   - values: the factor values of a row.
    ///   - selected: [factors.count] which factors to multiply.
    ///   - row: [width] receives the products.
    /// - Throws: `FormulaError` as `fill`.
    public func fillPartial(
        values: [FactorValue], selected: [Bool], row: inout [Double], scratch: inout Scratch
    ) throws {
        _ = try fill(values: values, row: &row, scratch: &scratch)
        columnProducts(scratch: scratch, selected: selected, into: &row)
    }

    /// Each column's product of its parts from evaluated factors (only the `selected` factors' parts, when given).
    func columnProducts(scratch: Scratch, selected: [Bool]?, into row: inout [Double]) {
        for (j, column) in columns.enumerated() {
            var x = 1.0
            for part in column.parts where selected?[part.factor] ?? true {
                if let l = part.level {
                    if scratch.level[part.factor] != l {
                        x = 0
                        break
                    }
                } else {
                    x *= scratch.numeric[part.factor]
                }
            }
            row[j] = x
        }
    }

    static func levelKey(_ v: FactorValue) -> FactorValue {
        if case .number(let x) = v, x == 0 { return .number(0) }  // -0.0 and 0.0 are one level
        return v
    }

    static func sameLevel(_ a: FactorValue, _ b: FactorValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.string(let x), .number(let y)): return Double(x) == y
        case (.bool(let x), .bool(let y)): return x == y
        default: return false
        }
    }

    static func stableSorted<T>(_ a: [T], by less: (T, T) -> Bool) -> [T] {
        a.enumerated().sorted {
            less($0.element, $1.element) || (!less($1.element, $0.element) && $0.offset < $1.offset)
        }.map(\.element)
    }

    // MARK: patsy redundancy.py

    struct ExpandedFactor: Hashable {
        let includesIntercept: Bool
        let factor: Factor
    }

    struct Subterm: Hashable {
        var efactors: Set<ExpandedFactor>
        func canAbsorb(_ other: Subterm) -> Bool {
            efactors.count - other.efactors.count == 1 && efactors.isSuperset(of: other.efactors)
        }
        func absorb(_ other: Subterm) -> Subterm {
            let diff = efactors.subtracting(other.efactors).first!
            var n = other.efactors
            n.insert(ExpandedFactor(includesIntercept: true, factor: diff.factor))
            return Subterm(efactors: n)
        }
    }

    /// patsy `pick_contrasts_for_term`: for each subterm, which categorical factors get full-rank coding.
    static func pickContrasts(categorical: [Factor], used: inout Set<Subterm>) -> [[Factor: Bool]] {
        var subterms: [Subterm] = []
        for subset in sortedSubsets(categorical.count) {
            let s = Subterm(
                efactors: Set(subset.map { ExpandedFactor(includesIntercept: false, factor: categorical[$0]) }))
            if !used.contains(s) { subterms.append(s) }
        }
        used.formUnion(subterms)
        simplify: while true {
            for shortIndex in subterms.indices {
                for longIndex in subterms.index(after: shortIndex)..<subterms.endIndex
                where subterms[longIndex].canAbsorb(subterms[shortIndex]) {
                    subterms[longIndex] = subterms[longIndex].absorb(subterms[shortIndex])
                    subterms.remove(at: shortIndex)
                    continue simplify
                }
            }
            break
        }
        return subterms.map { s in
            Dictionary(uniqueKeysWithValues: s.efactors.map { ($0.factor, $0.includesIntercept) })
        }
    }

    /// Subsets of 0..<n, shortest first, ties in lexicographic order of indices (patsy `_subsets_sorted`).
    static func sortedSubsets(_ n: Int) -> [[Int]] {
        var all: [[Int]] = [[]]
        for i in 0..<n { all += all.map { $0 + [i] } }
        return all.sorted { a, b in a.count != b.count ? a.count < b.count : a.lexicographicallyPrecedes(b) }
    }
}

/// A factor expression compiled for the row loop: column reads resolved to slots of the row's value array and
/// operators to an enum, so evaluating a row does no string hashing or comparison.
struct FactorExpressionSlots: Sendable {
    indirect enum Node: Sendable {
        case slot(Int)
        case literal(FactorValue)
        case negate(Node)
        case binary(BinaryOperator, Node, Node)
        case call(Function, Node)
    }

    enum BinaryOperator: String, Sendable {
        case add = "+"
        case subtract = "-"
        case multiply = "*"
        case divide = "/"
        case floorDivide = "//"
        case modulo = "%"
        case power = "**"
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessEqual = "<="
        case greater = ">"
        case greaterEqual = ">="
    }

    enum Function: String, Sendable { case log, exp, sqrt, abs }

    let root: Node

    init(_ expression: FactorExpression, slots: [String: Int]) {
        func compile(_ e: FactorExpression) -> Node {
            switch e {
            case .column(let c): return .slot(slots[c]!)
            case .literal(let v): return .literal(v)
            case .unary(let op, let x): return op == "-" ? .negate(compile(x)) : compile(x)
            case .binary(let op, let l, let r): return .binary(BinaryOperator(rawValue: op)!, compile(l), compile(r))
            case .call(let f, let x): return .call(Function(rawValue: f)!, compile(x))
            }
        }
        root = compile(expression)
    }

    func evaluate(_ values: [FactorValue]) throws -> FactorValue {
        if case .slot(let i) = root { return values[i] }
        return try Self.evaluate(root, values)
    }

    static func number(_ v: FactorValue, _ op: String) throws -> Double {
        switch v {
        case .number(let x): return x
        case .bool(let b): return b ? 1 : 0
        case .string(let s): throw FormulaError("'\(op)' needs numbers, got the string '\(s)'")
        }
    }

    static func evaluate(_ node: Node, _ values: [FactorValue]) throws -> FactorValue {
        switch node {
        case .slot(let i): return values[i]
        case .literal(let v): return v
        case .negate(let x): return .number(-(try number(try evaluate(x, values), "-")))
        case .call(let f, let x):
            let v = try number(try evaluate(x, values), f.rawValue)
            switch f {
            case .log: return .number(Foundation.log(v))
            case .exp: return .number(Foundation.exp(v))
            case .sqrt: return .number(v.squareRoot())
            case .abs: return .number(Swift.abs(v))
            }
        case .binary(let op, let l, let r):
            let a = try evaluate(l, values)
            let b = try evaluate(r, values)
            switch op {
            case .equal, .notEqual:
                let same: Bool
                switch (a, b) {
                case (.number(let x), .number(let y)): same = x == y
                case (.string(let x), .string(let y)): same = x == y
                case (.bool(let x), .bool(let y)): same = x == y
                case (.bool(let x), .number(let y)), (.number(let y), .bool(let x)): same = (x ? 1.0 : 0.0) == y
                default: same = false
                }
                return .bool(op == .equal ? same : !same)
            default:
                let x = try number(a, op.rawValue)
                let y = try number(b, op.rawValue)
                switch op {
                case .less: return .bool(x < y)
                case .lessEqual: return .bool(x <= y)
                case .greater: return .bool(x > y)
                case .greaterEqual: return .bool(x >= y)
                case .add: return .number(x + y)
                case .subtract: return .number(x - y)
                case .multiply: return .number(x * y)
                case .divide: return .number(x / y)
                case .floorDivide: return .number((x / y).rounded(.down))
                case .modulo: return .number(x - y * (x / y).rounded(.down))
                case .power: return .number(Foundation.pow(x, y))
                case .equal, .notEqual: fatalError("unreachable")
                }
            }
        }
    }
}
