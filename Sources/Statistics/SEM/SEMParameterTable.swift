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
/// The first loading of every latent is fixed at 1 (auto.fix.first); a latent with a single indicator gets that
/// indicator's residual variance fixed at 0 (auto.fix.single). A user modifier overrides a default: `0.7*x` fixes,
/// `a*x` labels, and rows with equal labels share one free parameter.
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
    /// Number of free parameters (distinct free indices).
    public var freeCount: Int

    /// Builds the table for a parsed model over the given data columns.
    /// - Parameters:
    ///   - model: parsed model.
    ///   - dataNames: the data's column names (the moment matrix's columns); the model may use a subset.
    /// - Throws: `SEMError.unknownVariable` for the first name (in text order) that is neither a data column nor a
    ///   latent; `SEMError.latentIsObserved` when a latent has a column's name; `SEMError.syntax` for an element
    ///   written twice (`y ~ x + x`; `a ~~ b` and `b ~~ a` are one) or a variable regressed on itself.
    public init(model: SEMModel, dataNames: [String]) throws {
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
        // lavaan refuses a model element written twice, and a variable regressed (or measured) on itself.
        var written: [String: SEMSourcePosition] = [:]
        for r in rels {
            if (r.op == .regression || r.op == .measuredBy), r.lhs == r.rhs {
                throw SEMError.syntax(line: r.rhsPosition.line, column: r.rhsPosition.column,
                                      message: "'\(r.lhs)' \(r.op == .regression ? "is regressed on" : "is measured by") itself")
            }
            let pair = r.op == .covariance ? [r.lhs, r.rhs].sorted() : [r.lhs, r.rhs]
            let key = r.op == .intercept ? "\(r.lhs) ~ 1" : "\(pair[0]) \(r.op.rawValue) \(pair[1])"
            if let first = written[key] {
                throw SEMError.syntax(line: r.rhsPosition.line, column: r.rhsPosition.column,
                                      message: "duplicate model element '\(key)' (also at line \(first.line), column \(first.column))")
            }
            written[key] = r.rhsPosition
        }

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
        let userMoment = Set(rels.filter { $0.op == .covariance }.flatMap { [$0.lhs, $0.rhs] }
                             + rels.filter { $0.op == .intercept }.map(\.lhs))
        let ovX = ovXOrder.filter { !userMoment.contains($0) }
        let ovXSet = Set(ovX)
        let ovNox = observed.filter { !ovXSet.contains($0) }
        let eqsYSet = Set(eqsY), eqsXSet = Set(eqsX), vIndSet = Set(vInd)
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
            var row = Row(lhs: r.lhs, op: r.op, rhs: r.rhs, label: "", user: true, free: 1, exogenous: false,
                          fixedValue: nil, position: r.rhsPosition, lhsPosition: r.lhsPosition)
            if r.op == .intercept { row.position = r.rhsPosition }
            rows.append(row)
        }
        // Defaults.
        var defaults: [Row] = []
        func add(_ lhs: String, _ op: SEMOperator, _ rhs: String) {
            guard !seen.contains(key(lhs, op, rhs)) else { return }
            seen.insert(key(lhs, op, rhs))
            defaults.append(Row(lhs: lhs, op: op, rhs: rhs, label: "", user: false, free: 1, exogenous: false,
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
        for r in rows where r.op == .measuredBy && indicatorCount[r.lhs] == 1 && indicatorUses[r.rhs] == 1
            && !latentSet.contains(r.rhs) {
            singleIndicators.insert(r.rhs)
        }
        for k in rows.indices {
            let r = rows[k]
            if r.op == .measuredBy && !firstLoadingDone.contains(r.lhs) {
                firstLoadingDone.insert(r.lhs)
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
            if !r.user && ((r.op == .covariance && ovXSet.contains(r.lhs) && ovXSet.contains(r.rhs))
                           || (r.op == .intercept && ovXSet.contains(r.lhs))) {
                rows[k].free = 0
                rows[k].exogenous = true
            }
        }
        // User modifiers override defaults.
        var modifiers: [String: SEMModifier] = [:]
        for r in rels { if let m = r.modifier, modifiers[key(r.lhs, r.op, r.rhs)] == nil { modifiers[key(r.lhs, r.op, r.rhs)] = m } }
        for k in rows.indices where rows[k].user {
            switch modifiers[key(rows[k].lhs, rows[k].op, rows[k].rhs)] {
            case .fixed(let v)?:
                rows[k].free = 0
                rows[k].fixedValue = v
            case .label(let l)?:
                rows[k].label = l  // a label does not free a fixed first loading (lavaan)
            case nil:
                break
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
    }

    /// Number of sample moments the free parameters must be identified from: p(p+1)/2 + p for the observed
    /// variables, minus those of the exogenous covariates (fixed.x), whose moments are not modelled.
    public var momentCount: Int {
        let p = observed.count, x = exogenousObserved.count
        return p * (p + 1) / 2 + p - (x * (x + 1) / 2 + x)
    }

    static func unique(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
