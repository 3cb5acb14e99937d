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
    public static func compute(_ request: Request, shard: Int, in workspace: ShardWorkspace) throws -> ResidualStatistic
    {
        try workspace.residuals(shard: shard, beta: request.beta, centre: request.centre)
    }
}

extension ShardWorkspace {
    func residuals(shard: Int, beta: [Double], centre: DesignCentre) throws -> ResidualStatistic {
        let d = try designOf(shard: shard)
        let p = beta.count
        let n = d.y.count
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
