import Statistics

/// OLS's third round: each shard's residual sums at the fitted β (exact SSE and the HC0 meat), merged in shard order.
public struct ResidualsRound: Round {
    public static let id = "residuals"
    /// β in coordinates where `centre` is subtracted from the design columns first (e = y − (x − centre)ᵀβ; a zero
    /// centre for none; see `DesignCentring`).
    public struct Request: Sendable, Equatable {
        public var beta: [Double]
        public var centre: DesignCentre
        public init(beta: [Double], centre: DesignCentre) {
            self.beta = beta
            self.centre = centre
        }
    }
    public var request: Request
    public init(beta: [Double], centre: DesignCentre) { request = Request(beta: beta, centre: centre) }
    public func request(shard: Int) -> Request { request }
    public func accepts(_ statistic: ResidualStatistic, shard: Int) -> Bool {
        statistic.meat.count == request.beta.count * request.beta.count
    }
    public static func compute(_ request: Request, shard: Int, in workspace: ShardWorkspace) throws -> ResidualStatistic {
        try workspace.residuals(shard: shard, beta: request.beta, centre: request.centre)
    }
}

/// OLS residual sums at one β: Σ e², and the HC0 meat Σ e² x xᵀ.
public struct ResidualStatistic: SufficientStatistic, Equatable {
    public var count: Double = 0
    public var sumOfSquares: Double = 0
    /// [p, p] row-major.
    public var meat: [Double]
    public init(dimension p: Int) { meat = [Double](repeating: 0, count: p * p) }
    public init(count: Double, sumOfSquares: Double, meat: [Double]) {
        self.count = count
        self.sumOfSquares = sumOfSquares
        self.meat = meat
    }
    /// The sums of no rows for `other`'s dimension (the identity of `merge`, bit for bit).
    public static func empty(like other: ResidualStatistic) -> ResidualStatistic {
        ResidualStatistic(count: 0, sumOfSquares: 0, meat: [Double](repeating: 0, count: other.meat.count))
    }
    /// Whether these are the sums of no rows (every field +0, bit for bit).
    public var isEmpty: Bool {
        count.bitPattern == 0 && sumOfSquares.bitPattern == 0 && meat.allSatisfy { $0.bitPattern == 0 }
    }
    public mutating func merge(_ other: ResidualStatistic) {
        precondition(other.meat.count == meat.count, "merge: meat sizes differ")
        // The empty statistic is the identity bit for bit (adding +0 would turn a −0 into +0).
        guard !other.isEmpty else { return }
        guard !isEmpty else {
            self = other
            return
        }
        count += other.count
        sumOfSquares += other.sumOfSquares
        for i in meat.indices { meat[i] += other.meat[i] }
    }
}

extension ShardWorkspace {
    func residuals(shard: Int, beta: [Double], centre: DesignCentre) throws -> ResidualStatistic {
        let d = try designOf(shard: shard)
        let p = beta.count, n = d.y.count
        var s = ResidualStatistic(dimension: p)
        guard n > 0 else { return s }
        guard d.x.count == n * p else { throw Self.wrongWidth(p, design: d) }
        let x = Self.centred(d.x, columns: p, centre: centre)
        let fitted = x.withUnsafeBufferPointer { LinearAlgebra.multiply($0.baseAddress!, rows: n, n: p, beta) }
        var scaled = [Double](repeating: 0, count: n * p)
        for i in 0..<n {
            let e = d.y[i] - fitted[i]
            s.sumOfSquares += e * e
            for j in 0..<p { scaled[i * p + j] = e * x[i * p + j] }
        }
        s.count = Double(n)
        scaled.withUnsafeBufferPointer { LinearAlgebra.addGram($0.baseAddress!, rows: n, n: p, into: &s.meat) }
        return s
    }
}
