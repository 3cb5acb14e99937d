import Foundation

/// The parameter table of a model, built the way lavaan's `sem()` builds it (lavaan 0.6 `lavaanify` with
/// `lav_partable_flat`), for one group, continuous data, `meanstructure = TRUE` and `fixed.x = TRUE`.
///
/// ### Variables (lavaan `lav_partable_vnames`)
/// - latent: left-hand sides of `=~`, in order of appearance;
/// - observed, in lavaan's order: indicators (right-hand sides of `=~` that are not latent), then dependent variables
///   (left-hand sides of `~`), then exogenous covariates (right-hand sides of `~` that are none of these), then
///   variables mentioned only in `~~` or `~ 1`;
/// - exogenous observed (`ov.x`): right-hand sides of `~` that are not latent, not indicators and never a left-hand
///   side of `~`, unless the user wrote a `~~` or `~ 1` for them (then they are modelled like any other variable).
///
/// ### Rows: the user's, then the defaults that the user did not write
/// 1. residual variances of every observed variable that is not exogenous, then of every latent (auto.var);
/// 2. covariances between exogenous latent variables (auto.cov.lv.x: latents that are neither indicators nor
///    dependent);
/// 3. covariances between the residuals of "pure" outcomes (auto.cov.y): latent, then observed variables that are
///    dependent (`~` left-hand sides) but never a predictor nor an indicator;
/// 4. variances and covariances of the exogenous observed variables, lower triangle by columns — fixed at their
///    sample values (fixed.x), as are their means;
/// 5. intercepts of every observed variable (free; int.ov.free) and of every latent (fixed at 0).
///
/// The first loading of every latent is fixed at 1 (auto.fix.first) unless `stdLV`, which instead fixes every latent
/// (residual) variance at 1 (lavaan's std.lv = TRUE); a latent with a single indicator gets that indicator's residual
/// variance fixed at 0 (auto.fix.single). A user modifier overrides a default: `0.7*x` fixes, `NA*x` frees, `a*x`
/// labels, `start(v)*x` sets the starting value (of a fixed row: its value, as in lavaan).
///
/// ### Repeated elements and labels
/// - An element written more than once (`0.6*x2 + lam2*x2`, or chained `0.6*lam2*x2`) is one row carrying all its
///   modifiers; two different values, labels or starts for one element are refused, and so is a repetition that
///   adds no modifier (`y ~ x + x`, most likely a typo).
/// - A label names one parameter: rows with equal labels share one free parameter, and if any of them is fixed
///   (by a value or by a default such as the first loading) all are fixed at that value; two different fixed values
///   for one label are refused.
/// - `==` constraints (linear in the labels) are solved for a reparameterisation θ = x₀ + K ψ
///   (`SEMReparameterization`); `parameterCount` = free parameters − rank of the constraints.
///
/// Source: lavaan 0.6.14 `lav_partable_flat`, `lav_partable_vnames`, `sem()` defaults (Rosseel 2012, JSS 48(2)).
public struct SEMParameterTable: Sendable, Equatable, Codable {
    /// One row: `lhs op rhs`.
    public struct Row: Sendable, Equatable, Codable {
        /// Left-hand side.
        public var lhs: String
        /// Operator.
        public var op: SEMOperator
        /// Right-hand side ("" for intercepts).
        public var rhs: String
        /// The user's label, or "".
        public var label: String
        /// Written by the user (true) or added by a default (false).
        public var user: Bool
        /// 0 for a fixed parameter, otherwise the 1-based index of its free parameter (rows with equal labels share
        /// one index).
        public var free: Int
        /// A moment of an exogenous observed variable (fixed.x): fixed at its sample value.
        public var exogenous: Bool
        /// The value of a fixed, non-exogenous parameter (1 for a first loading, 0 for a latent mean, or the user's
        /// value); nil for free and exogenous rows.
        public var fixedValue: Double?
        /// Where the user wrote it (the right-hand side term), nil for defaults.
        public var position: SEMSourcePosition?
        /// Where the left-hand side of the user's statement stands, nil for defaults.
        public var lhsPosition: SEMSourcePosition?
        /// The user's `start(v)` for a free row, nil otherwise.
        public var start: Double?

        /// "lhs op rhs" as lavaan prints it ("y ~1" for an intercept).
        public var name: String { op == .intercept ? "\(lhs) ~1" : "\(lhs) \(op.rawValue) \(rhs)" }
    }

    /// All rows in lavaan's order.
    public var rows: [Row]
    /// Observed variables, in lavaan's order (the order of the model's Σ and μ).
    public var observed: [String]
    /// Latent variables, in order of appearance.
    public var latent: [String]
    /// Exogenous observed variables whose moments are fixed at their sample values (fixed.x).
    public var exogenousObserved: [String]
    /// Number of free parameters (distinct free indices), before `==` constraints.
    public var freeCount: Int
    /// `:=` definitions, checked (every name a label or an earlier definition).
    public var definitions: [SEMDefinition]
    /// `==` constraints, checked and linear.
    public var constraints: [SEMConstraint]
    /// The free parameters as functions of the estimated ones (identity without constraints).
    public var reparameterization: SEMReparameterization
    /// Parameters actually estimated: `freeCount` − rank of the `==` constraints (lavaan's npar).
    public var parameterCount: Int { reparameterization.u }
    /// Whether every latent variance was fixed at 1 and the first loadings freed (std.lv).
    public var stdLV: Bool

    /// Builds the table for a parsed model over the given data columns.
    /// - Parameters:
    ///   - model: parsed model.
    ///   - dataNames: the data's column names (the moment matrix's columns); the model may use a subset.
    ///   - stdLV: lavaan's std.lv: latent variances fixed at 1, first loadings free.
    /// - Throws: `SEMError.unknownVariable` for the first name (in text order) that is neither a data column nor a
    ///   latent; `SEMError.latentIsObserved` when a latent has a column's name; `SEMError.syntax` (positioned) for an
    ///   element repeated without a modifier (`y ~ x + x`; `a ~~ b` and `b ~~ a` are one), conflicting modifiers of
    ///   one element or one label, a variable regressed on itself, an unknown label or a clash of names in `:=`,
    ///   a non-linear or contradictory `==`.
    public init(model: SEMModel, dataNames: [String], stdLV: Bool = false) throws {
        let columns = Set(dataNames)
        let rels = model.relations
        let latent = Self.unique(rels.filter { $0.op == .measuredBy }.map(\.lhs))
        let latentSet = Set(latent)
        for r in rels where r.op == .measuredBy && columns.contains(r.lhs) {
            throw SEMError.latentIsObserved(name: r.lhs, line: r.lhsPosition.line, column: r.lhsPosition.column)
        }
        for r in rels {
            if !latentSet.contains(r.lhs) && !columns.contains(r.lhs) {
                throw SEMError.unknownVariable(name: r.lhs, line: r.lhsPosition.line, column: r.lhsPosition.column)
            }
            if r.op != .intercept && !latentSet.contains(r.rhs) && !columns.contains(r.rhs) {
                throw SEMError.unknownVariable(name: r.rhs, line: r.rhsPosition.line, column: r.rhsPosition.column)
            }
        }
        for r in rels where (r.op == .regression || r.op == .measuredBy) && r.lhs == r.rhs {
            let what = r.op == .regression ? "is regressed on" : "is measured by"
            throw SEMError.syntax(
                line: r.rhsPosition.line, column: r.rhsPosition.column,
                message: "'\(r.lhs)' \(what) itself")
        }
        let merged = try Self.mergeModifiers(rels)

        // Variable classes (lav_partable_vnames).
        let eqsY = Self.unique(rels.filter { $0.op == .regression }.map(\.lhs))
        let eqsX = Self.unique(rels.filter { $0.op == .regression }.map(\.rhs))
        let vInd = Self.unique(rels.filter { $0.op == .measuredBy }.map(\.rhs))
        let ovInd = vInd.filter { !latentSet.contains($0) }
        let ovYOrder = eqsY.filter { !latentSet.contains($0) && !ovInd.contains($0) }
        let ovXOrder = eqsX.filter { !latentSet.contains($0) && !ovInd.contains($0) && !ovYOrder.contains($0) }
        var extras: [String] = []
        for r in rels where r.op == .covariance {
            for v in [r.lhs, r.rhs] where !latentSet.contains(v) { extras.append(v) }
        }
        for r in rels where r.op == .intercept && !latentSet.contains(r.lhs) { extras.append(r.lhs) }
        var observed = ovInd + ovYOrder + ovXOrder
        for v in Self.unique(extras) where !observed.contains(v) { observed.append(v) }
        let userMoment = Set(
            rels.filter { $0.op == .covariance }.flatMap { [$0.lhs, $0.rhs] }
                + rels.filter { $0.op == .intercept }.map(\.lhs))
        let ovX = ovXOrder.filter { !userMoment.contains($0) }
        let ovXSet = Set(ovX)
        let ovNox = observed.filter { !ovXSet.contains($0) }
        let eqsYSet = Set(eqsY)
        let eqsXSet = Set(eqsX)
        let vIndSet = Set(vInd)
        let lvX = latent.filter { !vIndSet.contains($0) && !eqsYSet.contains($0) }
        let ovY = observed.filter { eqsYSet.contains($0) && !vIndSet.contains($0) && !eqsXSet.contains($0) }
        let lvY = latent.filter { eqsYSet.contains($0) && !vIndSet.contains($0) && !eqsXSet.contains($0) }

        // User rows (duplicates after the first are ignored, as lavaan does).
        var rows: [Row] = []
        func key(_ lhs: String, _ op: SEMOperator, _ rhs: String) -> String {
            if op == .covariance && rhs < lhs { return "\(rhs)\u{1F}~~\u{1F}\(lhs)" }
            return "\(lhs)\u{1F}\(op.rawValue)\u{1F}\(rhs)"
        }
        var seen = Set<String>()
        for r in rels {
            guard seen.insert(key(r.lhs, r.op, r.rhs)).inserted else { continue }
            var row = Row(
                lhs: r.lhs, op: r.op, rhs: r.rhs, label: "", user: true, free: 1, exogenous: false,
                fixedValue: nil, position: r.rhsPosition, lhsPosition: r.lhsPosition)
            if r.op == .intercept { row.position = r.rhsPosition }
            rows.append(row)
        }
        // Defaults.
        var defaults: [Row] = []
        func add(_ lhs: String, _ op: SEMOperator, _ rhs: String) {
            guard !seen.contains(key(lhs, op, rhs)) else { return }
            seen.insert(key(lhs, op, rhs))
            defaults.append(
                Row(
                    lhs: lhs, op: op, rhs: rhs, label: "", user: false, free: 1, exogenous: false,
                    fixedValue: nil, position: nil, lhsPosition: nil))
        }
        for v in ovNox + latent { add(v, .covariance, v) }
        for i in 0..<lvX.count { for j in (i + 1)..<max(i + 1, lvX.count) { add(lvX[i], .covariance, lvX[j]) } }
        let yy = lvY + ovY
        for i in 0..<yy.count { for j in (i + 1)..<max(i + 1, yy.count) { add(yy[i], .covariance, yy[j]) } }
        for j in 0..<ovX.count { for i in j..<ovX.count { add(ovX[j], .covariance, ovX[i]) } }
        for v in observed + latent { add(v, .intercept, "") }
        rows += defaults

        // Fixed defaults: first loadings, latent means, fixed.x moments, single-indicator residual variances.
        var firstLoadingDone = Set<String>()
        var indicatorCount: [String: Int] = [:]
        for r in rows where r.op == .measuredBy { indicatorCount[r.lhs, default: 0] += 1 }
        var indicatorUses: [String: Int] = [:]
        for r in rows where r.op == .measuredBy { indicatorUses[r.rhs, default: 0] += 1 }
        var singleIndicators = Set<String>()
        for r in rows
        where r.op == .measuredBy && indicatorCount[r.lhs] == 1 && indicatorUses[r.rhs] == 1
            && !latentSet.contains(r.rhs)
        {
            singleIndicators.insert(r.rhs)
        }
        for k in rows.indices {
            let r = rows[k]
            if r.op == .measuredBy && !firstLoadingDone.contains(r.lhs) && !stdLV {
                firstLoadingDone.insert(r.lhs)
                rows[k].free = 0
                rows[k].fixedValue = 1
            }
            if stdLV && r.op == .covariance && r.lhs == r.rhs && latentSet.contains(r.lhs) {
                rows[k].free = 0
                rows[k].fixedValue = 1
            }
            if !r.user && r.op == .intercept && latentSet.contains(r.lhs) {
                rows[k].free = 0
                rows[k].fixedValue = 0
            }
            if !r.user && r.op == .covariance && r.lhs == r.rhs && singleIndicators.contains(r.lhs) {
                rows[k].free = 0
                rows[k].fixedValue = 0
            }
            if !r.user
                && ((r.op == .covariance && ovXSet.contains(r.lhs) && ovXSet.contains(r.rhs))
                    || (r.op == .intercept && ovXSet.contains(r.lhs)))
            {
                rows[k].free = 0
                rows[k].exogenous = true
            }
        }
        // User modifiers override defaults.
        for k in rows.indices where rows[k].user {
            guard let m = merged[key(rows[k].lhs, rows[k].op, rows[k].rhs)] else { continue }
            if let v = m.fixed {
                rows[k].free = 0
                rows[k].fixedValue = v
            } else if m.freed {
                rows[k].free = 1
                rows[k].fixedValue = nil
            }
            if let l = m.label { rows[k].label = l }  // a label alone does not free a fixed first loading (lavaan)
            if let v = m.start {
                if rows[k].free == 0 { rows[k].fixedValue = v } else { rows[k].start = v }  // lavaan: ustart
            }
        }
        // A label names one parameter: if one of its rows is fixed, all are, at that value.
        var fixedByLabel: [String: (value: Double, row: Row)] = [:]
        for r in rows where !r.label.isEmpty && r.free == 0 {
            let v = r.fixedValue ?? 0
            if let first = fixedByLabel[r.label] {
                guard first.value == v else {
                    let at = r.position ?? SEMSourcePosition(line: 1, column: 1)
                    let where1 = first.row.position.map { " at \($0)" } ?? ""
                    throw SEMError.syntax(
                        line: at.line, column: at.column,
                        message: "label '\(r.label)' is fixed at "
                            + "\(SEMParser.format(first.value)) (\(first.row.name)\(where1)) and at \(SEMParser.format(v)) "
                            + "(\(r.name)): a label names one parameter")
                }
            } else {
                fixedByLabel[r.label] = (v, r)
            }
        }
        for k in rows.indices where !rows[k].label.isEmpty {
            if let f = fixedByLabel[rows[k].label] {
                rows[k].free = 0
                rows[k].fixedValue = f.value
                rows[k].start = nil
            }
        }
        // Number the free parameters; equal labels share one.
        var next = 0
        var byLabel: [String: Int] = [:]
        for k in rows.indices where rows[k].free != 0 {
            if !rows[k].label.isEmpty, let shared = byLabel[rows[k].label] {
                rows[k].free = shared
                continue
            }
            next += 1
            rows[k].free = next
            if !rows[k].label.isEmpty { byLabel[rows[k].label] = next }
        }
        self.rows = rows
        self.observed = observed
        self.latent = latent
        self.exogenousObserved = ovX
        self.freeCount = next
        self.stdLV = stdLV
        definitions = model.definitions
        constraints = model.constraints
        reparameterization = SEMReparameterization(identity: next)
        try checkDefinitions()
        reparameterization = try solveConstraints()
    }

    /// Number of sample moments the free parameters must be identified from: p(p+1)/2 + p for the observed
    /// variables, minus those of the exogenous covariates (fixed.x), whose moments are not modelled.
    public var momentCount: Int {
        let p = observed.count
        let x = exogenousObserved.count
        return p * (p + 1) / 2 + p - (x * (x + 1) / 2 + x)
    }

    static func unique(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}

extension SEMParameterTable {
    /// The modifiers of one element (`lhs op rhs`), merged over every term that writes it.
    struct Merged {
        var fixed: Double?
        var freed = false
        var label: String?
        var start: Double?
    }

    /// Merges the modifiers of repeated elements (lavaan: `0.6*x2 + lam2*x2` is x2 fixed at 0.6 and labelled lam2).
    /// - Throws: `SEMError.syntax` at the later term for two different values (a number or NA), labels or starts of
    ///   one element, and for a repetition that adds no modifier.
    static func mergeModifiers(_ relations: [SEMRelation]) throws -> [String: Merged] {
        func key(_ r: SEMRelation) -> String {
            if r.op == .covariance && r.rhs < r.lhs { return "\(r.rhs)\u{1F}~~\u{1F}\(r.lhs)" }
            return "\(r.lhs)\u{1F}\(r.op.rawValue)\u{1F}\(r.rhs)"
        }
        func name(_ r: SEMRelation) -> String {
            if r.op == .intercept { return "\(r.lhs) ~ 1" }
            let pair = r.op == .covariance ? [r.lhs, r.rhs].sorted() : [r.lhs, r.rhs]
            return "\(pair[0]) \(r.op.rawValue) \(pair[1])"
        }
        var out: [String: Merged] = [:]
        var firstBare: [String: SEMSourcePosition] = [:]
        for r in relations {
            let k = key(r)
            let at = r.rhsPosition
            func fail(_ message: String) -> SEMError { .syntax(line: at.line, column: at.column, message: message) }
            if r.modifiers.isEmpty {
                if let first = firstBare[k] {
                    throw fail("duplicate model element '\(name(r))' (also at \(first))")
                }
                firstBare[k] = at
            }
            var m = out[k] ?? Merged()
            for modifier in r.modifiers {
                switch modifier {
                case .fixed(let v):
                    if m.freed { throw fail("'\(name(r))' is both free (NA) and fixed at \(SEMParser.format(v))") }
                    if let old = m.fixed, old != v {
                        throw fail(
                            "'\(name(r))' is fixed at \(SEMParser.format(old)) and at \(SEMParser.format(v)): "
                                + "a parameter has one value")
                    }
                    m.fixed = v
                case .free:
                    if let old = m.fixed {
                        throw fail("'\(name(r))' is both fixed at \(SEMParser.format(old)) and free (NA)")
                    }
                    m.freed = true
                case .label(let l):
                    if let old = m.label, old != l {
                        throw fail("'\(name(r))' has two labels, '\(old)' and '\(l)': a parameter has one label")
                    }
                    m.label = l
                case .start(let v):
                    if let old = m.start, old != v {
                        throw fail(
                            "'\(name(r))' has two starting values, \(SEMParser.format(old)) and "
                                + SEMParser.format(v))
                    }
                    m.start = v
                }
            }
            out[k] = m
        }
        return out
    }

    /// The value a row is held at: its fixed value, or the constant an `==` constraint sets its free parameter to
    /// (`a == 1`); nil for a row that is estimated.
    func heldValue(_ row: Row) -> Double? {
        if row.free == 0 { return row.exogenous ? nil : row.fixedValue ?? 0 }
        let rep = reparameterization
        let i = row.free - 1
        guard !rep.isIdentity, (0..<rep.u).allSatisfy({ rep.k[i * rep.u + $0] == 0 }) else { return nil }
        return rep.x0[i]
    }

    /// The value of a label: its free index (1-based) or its fixed value.
    enum LabelValue {
        case free(Int)
        case fixed(Double)
    }

    /// Labels of the rows, first row per label.
    var labelValues: [String: LabelValue] {
        var out: [String: LabelValue] = [:]
        for r in rows where !r.label.isEmpty && out[r.label] == nil {
            out[r.label] = r.free > 0 ? .free(r.free) : .fixed(r.fixedValue ?? 0)
        }
        return out
    }

    /// Every name in a `:=` or `==` is a label or an earlier definition; definitions do not reuse a name.
    func checkDefinitions() throws {
        let labels = labelValues
        var defined = Set<String>()
        func check(_ e: SEMExpression, what: String) throws {
            for (n, p) in e.labels where labels[n] == nil && !defined.contains(n) {
                let later = definitions.contains { $0.name == n }
                let hint =
                    what == "the definition of '\(n)'"
                    ? "a definition cannot use itself"
                    : later
                        ? "it is defined later; define it before it is used"
                        : "labels are written as a*x in the model, e.g. y ~ a*x"
                throw SEMError.syntax(
                    line: p.line, column: p.column,
                    message: "unknown label '\(n)' in \(what): \(hint)")
            }
        }
        for d in definitions {
            try check(d.expression, what: "the definition of '\(d.name)'")
            if labels[d.name] != nil || defined.contains(d.name) {
                throw SEMError.syntax(
                    line: d.position.line, column: d.position.column,
                    message: "'\(d.name)' is already \(labels[d.name] != nil ? "a parameter label" : "defined"); "
                        + "a defined parameter needs a new name")
            }
            defined.insert(d.name)
        }
        for c in constraints {
            try check(c.lhs, what: "a constraint")
            try check(c.rhs, what: "a constraint")
        }
    }

    /// c·θ + c₀ for an expression linear in the free parameters, nil when it is not linear.
    func linearForm(_ e: SEMExpression) -> (coefficients: [Int: Double], constant: Double)? {
        switch e {
        case .number(let v): return ([:], v)
        case .label(let n, _):
            if let d = definitions.first(where: { $0.name == n }) { return linearForm(d.expression) }
            switch labelValues[n] {
            case .free(let i)?: return ([i - 1: 1], 0)
            case .fixed(let v)?: return ([:], v)
            case nil: return nil
            }
        case .negate(let a):
            guard let f = linearForm(a) else { return nil }
            return (f.coefficients.mapValues { -$0 }, -f.constant)
        case .binary(let op, let l, let r):
            guard let a = linearForm(l), let b = linearForm(r) else { return nil }
            switch op {
            case "+", "-":
                let s = op == "+" ? 1.0 : -1.0
                var c = a.coefficients
                for (k, v) in b.coefficients { c[k, default: 0] += s * v }
                return (c, a.constant + s * b.constant)
            case "*":
                let product = a.constant * b.constant
                if a.coefficients.isEmpty { return (b.coefficients.mapValues { $0 * a.constant }, product) }
                if b.coefficients.isEmpty { return (a.coefficients.mapValues { $0 * b.constant }, product) }
                return nil
            case "/":
                guard b.coefficients.isEmpty, b.constant != 0 else { return nil }
                return (a.coefficients.mapValues { $0 / b.constant }, a.constant / b.constant)
            default:
                guard a.coefficients.isEmpty, b.coefficients.isEmpty else { return nil }
                return ([:], Foundation.pow(a.constant, b.constant))
            }
        case .function(let f, let a, _):
            guard let x = linearForm(a), x.coefficients.isEmpty else { return nil }
            return ([:], SEMDefinitionValues.apply(f, x.constant))
        }
    }

    /// Solves the `==` constraints A θ = b by Gauss–Jordan elimination with partial pivoting (columns in free-index
    /// order; a column whose pivot is below 1e-12 of its row's scale is not a pivot): the pivot parameters become
    /// functions of the others.
    /// - Throws: `SEMError.syntax` at a constraint that is not linear in the labels, or that contradicts the others.
    func solveConstraints() throws -> SEMReparameterization {
        let t = freeCount
        guard !constraints.isEmpty else { return SEMReparameterization(identity: t) }
        var a: [[Double]] = []
        var b: [Double] = []
        for c in constraints {
            guard let l = linearForm(c.lhs), let r = linearForm(c.rhs) else {
                throw SEMError.syntax(
                    line: c.position.line, column: c.position.column,
                    message: "the constraint '\(c.text)' is not linear in the labels; only linear "
                        + "equality constraints (a == b, a == 2*b, a + b == 1) are supported")
            }
            var row = [Double](repeating: 0, count: t)
            for (k, v) in l.coefficients { row[k] += v }
            for (k, v) in r.coefficients { row[k] -= v }
            a.append(row)
            b.append(r.constant - l.constant)
        }
        let scale = a.map { row in max(row.map(abs).max() ?? 0, 1e-300) }
        var pivots: [(row: Int, column: Int)] = []
        var used = [Bool](repeating: false, count: a.count)
        for j in 0..<t {
            var best = -1
            var bestValue = 0.0
            for i in a.indices where !used[i] {
                let v = abs(a[i][j]) / scale[i]
                if v > 1e-12 && v > bestValue {
                    best = i
                    bestValue = v
                }
            }
            guard best >= 0 else { continue }
            used[best] = true
            let p = a[best][j]
            for k in 0..<t { a[best][k] /= p }
            b[best] /= p
            for i in a.indices where i != best && a[i][j] != 0 {
                let f = a[i][j]
                for k in 0..<t { a[i][k] -= f * a[best][k] }
                b[i] -= f * b[best]
            }
            pivots.append((best, j))
        }
        for (i, c) in constraints.enumerated() where !used[i] {
            // A redundant constraint holds (0 = 0); a contradictory one does not.
            if abs(b[i]) > 1e-10 * max(1, abs(b[i])) && abs(b[i]) > 1e-12 {
                throw SEMError.syntax(
                    line: c.position.line, column: c.position.column,
                    message: "the constraint '\(c.text)' contradicts the model's fixed values or "
                        + "the other constraints")
            }
        }
        let pivotColumns = Set(pivots.map(\.column))
        let freeColumns = (0..<t).filter { !pivotColumns.contains($0) }
        var k = [Double](repeating: 0, count: t * freeColumns.count)
        var x0 = [Double](repeating: 0, count: t)
        for (c, j) in freeColumns.enumerated() { k[j * freeColumns.count + c] = 1 }
        for (row, column) in pivots {
            x0[column] = b[row]
            for (c, j) in freeColumns.enumerated() { k[column * freeColumns.count + c] = -a[row][j] }
        }
        return SEMReparameterization(t: t, k: k, x0: x0, freeColumns: freeColumns)
    }
}

/// The free parameters θ (t of them) as an affine function of the estimated ones ψ (u ≤ t): θ = x₀ + K ψ, with ψ the
/// values of θ at `freeColumns` (so K has an identity block there). Without constraints K = I, x₀ = 0.
///
/// Gradient and information in ψ are Kᵀ∇ and KᵀIK; the covariance of θ̂ is K (KᵀIK)⁻¹ Kᵀ / N, which for linear
/// constraints equals lavaan's constrained information inverse.
/// Source: lavaan `lav_constraints_parse` (K, x0 for linear equality constraints), `lav_model_vcov`.
public struct SEMReparameterization: Sendable, Equatable, Codable {
    /// Free parameters before the constraints.
    public var t: Int
    /// Estimated parameters.
    public var u: Int
    /// [t, u] row-major.
    public var k: [Double]
    /// [t].
    public var x0: [Double]
    /// The u free indices (0-based) that are estimated directly.
    public var freeColumns: [Int]
    /// No constraints.
    public var isIdentity: Bool

    init(identity t: Int) {
        self.t = t
        u = t
        k = []
        x0 = [Double](repeating: 0, count: t)
        freeColumns = Array(0..<t)
        isIdentity = true
    }

    init(t: Int, k: [Double], x0: [Double], freeColumns: [Int]) {
        self.t = t
        u = freeColumns.count
        self.k = k
        self.x0 = x0
        self.freeColumns = freeColumns
        isIdentity = false
    }

    /// θ = x₀ + K ψ.
    func expand(_ psi: [Double]) -> [Double] {
        if isIdentity { return psi }
        return (0..<t).map { i in (0..<u).reduce(x0[i]) { $0 + k[i * u + $1] * psi[$1] } }
    }

    /// ψ from θ (the values at the free columns).
    func restrict(_ theta: [Double]) -> [Double] { isIdentity ? theta : freeColumns.map { theta[$0] } }

    /// Kᵀ g.
    func reduce(gradient g: [Double]) -> [Double] {
        if isIdentity { return g }
        return (0..<u).map { c in (0..<t).reduce(0) { $0 + k[$1 * u + c] * g[$1] } }
    }

    /// Kᵀ I K, [u, u].
    func reduce(information info: [Double]) -> [Double] {
        if isIdentity { return info }
        let ik = LinearAlgebra.product(info, k, m: t, k: t, n: u)
        return LinearAlgebra.product(k, ik, m: u, k: t, n: u, transposeA: true)
    }

    /// K C Kᵀ for a [u, u] matrix C, [t, t].
    func expand(covariance c: [Double]) -> [Double] {
        if isIdentity { return c }
        let kc = LinearAlgebra.product(k, c, m: t, k: u, n: u)
        return LinearAlgebra.product(kc, k, m: t, k: u, n: t, transposeB: true)
    }
}
