import Foundation

/// The logit log-likelihood and its derivatives over some rows, at one β: the statistic a shard returns in each
/// Newton–Raphson round.
///
///     ℓ(β) = Σ yᵢ ηᵢ − log(1 + e^{ηᵢ}),  ηᵢ = xᵢᵀβ,  pᵢ = 1 / (1 + e^{−ηᵢ})
///     g = ∇ℓ = Σ xᵢ (yᵢ − pᵢ)
///     H = −∇²ℓ = Σ pᵢ(1 − pᵢ) xᵢxᵢᵀ           (kept positive definite: the observed = expected information)
///     M = Σ (yᵢ − pᵢ)² xᵢxᵢᵀ                   (the meat of the HC0 sandwich H⁻¹ M H⁻¹)
///
/// It also carries the held-out squared error Σ (yᵢ − pᵢ)² of a cross-validation test fold, evaluated at the same β.
/// All fields are sums, so `merge` adds them (Spark's `DifferentiableLossAggregator` shape).
/// Source: statsmodels `Logit` (`loglike`, `score`, `hessian`, `cov_type='HC0'`).
public struct LogitStatistic: SufficientStatistic, Equatable {
    /// Number of coefficients p.
    public let dimension: Int
    /// Training rows summed.
    public var count: Double = 0
    /// ℓ(β).
    public var logLikelihood: Double = 0
    /// g, [p].
    public var gradient: [Double]
    /// H = X'WX, [p, p] row-major.
    public var information: [Double]
    /// M = Σ (y − p)² x xᵀ, [p, p] row-major.
    public var meat: [Double]
    /// Held-out rows (the test fold of a CV fit; zero for the full fit).
    public var testCount: Double = 0
    /// Σ (y − p)² over the held-out rows.
    public var testSquaredError: Double = 0
    /// min over the training rows of (2y − 1) η: positive when β's linear predictor splits the outcomes strictly, which
    /// proves complete separation (+∞ with no rows).
    public var minimumMargin: Double = .infinity

    /// An empty statistic for p coefficients.
    public init(dimension p: Int) {
        dimension = p
        gradient = [Double](repeating: 0, count: p)
        information = [Double](repeating: 0, count: p * p)
        meat = [Double](repeating: 0, count: p * p)
    }

    /// Rebuilds a statistic from decoded parts. The wire layer checks the sizes before calling this.
    public init(
        dimension p: Int, count: Double, logLikelihood: Double, gradient: [Double], information: [Double],
        meat: [Double], testCount: Double, testSquaredError: Double, minimumMargin: Double = .infinity
    ) {
        precondition(
            gradient.count == p && information.count == p * p && meat.count == p * p,
            "LogitStatistic: sizes do not fit p = \(p)")
        self.dimension = p
        self.count = count
        self.logLikelihood = logLikelihood
        self.gradient = gradient
        self.information = information
        self.meat = meat
        self.testCount = testCount
        self.testSquaredError = testSquaredError
        self.minimumMargin = minimumMargin
    }

    /// The statistic of the rows selected by `train`, and the held-out error of the rows selected by `test`.
    /// - Parameters:
    ///   - x: [n, p] row-major design.
    ///   - y: [n] outcomes in {0, 1}.
    ///   - beta: [p].
    ///   - train: whether row i is a training row; `test`: whether it is a held-out row.
    /// - Complexity: O(n p²), through BLAS `dsyrk`.
    public init(x: [Double], y: [Double], beta: [Double], train: (Int) -> Bool, test: (Int) -> Bool) {
        let p = beta.count
        let n = y.count
        precondition(x.count == n * p, "LogitStatistic: design has \(x.count) values, expected \(n)×\(p)")
        self.init(dimension: p)
        let eta = x.withUnsafeBufferPointer { LinearAlgebra.multiply($0.baseAddress!, rows: n, n: p, beta) }
        // Rows of √w·x and (y − p)·x for the training rows, written in place (no per-element appends).
        var weighted = [Double](repeating: 0, count: n * p)
        var scored = [Double](repeating: 0, count: n * p)
        var m = 0
        x.withUnsafeBufferPointer { xs in
            weighted.withUnsafeMutableBufferPointer { ws in
                scored.withUnsafeMutableBufferPointer { ss in
                    for i in 0..<n {
                        let e = eta[i]
                        let prob = 1 / (1 + exp(-e))
                        if train(i) {
                            // y η − log(1 + e^η), computed without overflow.
                            logLikelihood += y[i] * e - (e > 0 ? e + log1p(exp(-e)) : log1p(exp(e)))
                            minimumMargin = Swift.min(minimumMargin, y[i] == 1 ? e : -e)
                            let r = y[i] - prob
                            let w = (prob * (1 - prob)).squareRoot()
                            let src = i * p
                            let dst = m * p
                            for j in 0..<p {
                                let v = xs[src + j]
                                ws[dst + j] = w * v
                                ss[dst + j] = r * v
                                gradient[j] += v * r
                            }
                            m += 1
                        } else if test(i) {
                            testCount += 1
                            testSquaredError += (y[i] - prob) * (y[i] - prob)
                        }
                    }
                }
            }
        }
        count = Double(m)
        guard m > 0 else { return }
        weighted.withUnsafeBufferPointer { LinearAlgebra.addGram($0.baseAddress!, rows: m, n: p, into: &information) }
        scored.withUnsafeBufferPointer { LinearAlgebra.addGram($0.baseAddress!, rows: m, n: p, into: &meat) }
    }

    /// Adds another part's sums.
    /// - Precondition: equal dimensions.
    /// - Complexity: O(p²).
    /// The empty statistic of `other`'s dimension (the identity of `merge`, bit for bit).
    public static func empty(like other: LogitStatistic) -> LogitStatistic {
        LogitStatistic(dimension: other.dimension)
    }

    /// Whether this is the statistic of no rows (every sum +0 bit for bit, the margin +∞).
    public var isEmpty: Bool {
        let zero = { (x: Double) in x.bitPattern == 0 }
        return zero(count) && zero(logLikelihood) && zero(testCount) && zero(testSquaredError)
            && minimumMargin == .infinity && gradient.allSatisfy(zero) && information.allSatisfy(zero)
            && meat.allSatisfy(zero)
    }

    public mutating func merge(_ other: LogitStatistic) {
        precondition(other.dimension == dimension, "merge: dimension \(other.dimension), expected \(dimension)")
        // The empty statistic is the identity bit for bit (adding +0 would turn a −0 into +0).
        guard !other.isEmpty else { return }
        guard !isEmpty else {
            self = other
            return
        }
        count += other.count
        logLikelihood += other.logLikelihood
        for j in 0..<dimension { gradient[j] += other.gradient[j] }
        for j in 0..<(dimension * dimension) {
            information[j] += other.information[j]
            meat[j] += other.meat[j]
        }
        testCount += other.testCount
        testSquaredError += other.testSquaredError
        minimumMargin = Swift.min(minimumMargin, other.minimumMargin)
    }
}

/// Newton–Raphson for the logit, as pure functions of merged statistics.
public enum LogisticModel {
    /// Stop when |ℓₜ − ℓₜ₋₁| / |ℓₜ₋₁| < this.
    public static let relativeTolerance = 1e-10
    /// Stop after this many Newton steps.
    public static let maximumIterations = 50

    /// One Newton step: β + H⁻¹ g.
    /// - Returns: the new β and H⁻¹ (the classical covariance at the old β).
    /// - Throws: `StatisticsError.singularDesign` when H is not positive definite.
    public static func step(beta: [Double], statistic s: LogitStatistic, names: [String]) throws -> (
        beta: [Double], covariance: [Double]
    ) {
        let p = beta.count
        do {
            let (delta, inverse) = try LinearAlgebra.solveSPD(s.information, s.gradient, n: p)
            return ((0..<p).map { beta[$0] + delta[$0] }, inverse)
        } catch {
            try LinearModel.checkRank(s.information, names: names)
            throw StatisticsError.singularDesign(columns: names)
        }
    }

    /// Whether Newton has converged: relative change of the log-likelihood below `relativeTolerance`.
    /// Never true when either value is not finite (an infinite previous value would otherwise compare as converged).
    public static func converged(previous: Double, current: Double) -> Bool {
        guard previous.isFinite, current.isFinite else { return false }
        return abs(current - previous) <= relativeTolerance * max(abs(previous), Double.leastNormalMagnitude)
    }

    /// Finds a level whose rows all have the same 0/1 outcome, which makes the logit MLE infinite
    /// (quasi-complete separation), from the merged moments of [X, y].
    ///
    /// Checks every indicator column (values 0/1) and, when the model has an intercept, the reference level of
    /// each categorical main effect (its rows are those where none of the term's indicators is 1).
    /// - Parameters:
    ///   - moments: merged moments of [X, y], dimension p + 1.
    ///   - design: the design the moments were made with.
    /// - Throws: `StatisticsError.separation(term:detail:)` naming the column or reference level.
    public static func checkSeparation(_ moments: MomentMatrix, design: DesignMatrixSpec) throws {
        let p = design.width
        let d = p + 1
        let raw = moments.crossProducts
        let sums = moments.sums
        // Counts of rows and of ones are integers; the moments hold them to rounding, so they are rounded (exact for
        // n < 2⁵⁰) and the decisions below are exact.
        let n = moments.count
        let clicks = sums[p].rounded()
        func describe(_ rows: Double, _ ones: Double) -> String? {
            if rows > 0 && ones == 0 { return "its \(Int(rows)) rows all have outcome 0" }
            if rows > 0 && ones == rows { return "its \(Int(rows)) rows all have outcome 1" }
            return nil
        }
        // Complete when the rows outside the level all have the other outcome (exact, from counts).
        func complete(_ rows: Double, _ ones: Double) -> Bool {
            (ones == 0 && clicks == n - rows) || (ones == rows && clicks == rows)
        }
        if n > 0, clicks == 0 || clicks == n {
            throw StatisticsError.constantOutcome(value: clicks == 0 ? 0 : 1, rows: Int(n))
        }
        for (j, column) in design.columns.enumerated() where column.parts.count == 1 && column.parts[0].level != nil {
            let rows = raw[j * d + j].rounded()
            let ones = raw[j * d + p].rounded()
            if let text = describe(rows, ones) {
                throw StatisticsError.separation(
                    term: column.name, detail: text, complete: complete(rows, ones),
                    numeric: false)
            }
        }
        guard design.formula.hasIntercept else { return }
        for (t, term) in design.terms.enumerated() where term.factors.count == 1 {
            guard let fi = design.factors.firstIndex(of: term.factors[0]), let levels = design.factorLevels[fi] else {
                continue
            }
            let cols = design.columns.indices.filter { design.columns[$0].term == t }
            guard cols.count == levels.count - 1 else { continue }
            var rows = n
            var ones = clicks
            for j in cols {
                rows -= raw[j * d + j]
                ones -= raw[j * d + p]
            }
            if let text = describe(rows.rounded(), ones.rounded()) {
                let name = "\(term.name) at its reference level \(levels[0].levelText(integral: true))"
                throw StatisticsError.separation(
                    term: name, detail: text,
                    complete: complete(rows.rounded(), ones.rounded()), numeric: false)
            }
        }
    }
}
