import Statistics

/// Logit's repeated round: per fit, the log-likelihood, gradient and information at its β, merged fit by fit in
/// shard order. Fit −1 uses all rows; fit k (0 ≤ k < K) uses the rows outside fold k and holds fold k out. The full
/// fit and the CV fits share rounds, each stopping by its own rule (`ShardExecutor.iterate`).
public struct NewtonRound: Round {
    public static let id = "newton"
    /// Every fit's β is in coordinates where `centre` is subtracted from the design columns (zeros for none).
    public struct Request: Sendable, Equatable {
        public var fits: [NewtonFit]
        public var centre: DesignCentre
        public init(fits: [NewtonFit], centre: DesignCentre) {
            self.fits = fits
            self.centre = centre
        }
    }
    public var request: Request
    public init(fits: [NewtonFit], centre: DesignCentre) { request = Request(fits: fits, centre: centre) }
    public func request(shard: Int) -> Request { request }
    public func accepts(_ statistic: StatisticList<LogitStatistic>, shard: Int) -> Bool {
        statistic.items.count == request.fits.count
            && zip(statistic.items, request.fits).allSatisfy { $0.dimension == $1.beta.count }
    }
    public static func compute(_ request: Request, shard: Int, in workspace: ShardWorkspace) throws
        -> StatisticList<LogitStatistic>
    {
        StatisticList(try workspace.newton(shard: shard, fits: request.fits, centre: request.centre))
    }
}

/// A fit evaluated in a Newton round.
public struct NewtonFit: Sendable, Equatable {
    /// −1 for the fit on all rows, k for the fit without fold k.
    public var fit: Int
    public var beta: [Double]
    public init(fit: Int, beta: [Double]) {
        self.fit = fit
        self.beta = beta
    }
}

extension ShardWorkspace {
    func newton(shard: Int, fits: [NewtonFit], centre: DesignCentre) throws -> [LogitStatistic] {
        let d = try designOf(shard: shard)
        if let bad = fits.first(where: { !d.y.isEmpty && d.x.count != d.y.count * $0.beta.count }) {
            throw Self.wrongWidth(bad.beta.count, design: d)
        }
        let x = Self.centred(d.x, columns: centre.high.count, centre: centre)
        return fits.map { f in
            guard !d.y.isEmpty else { return LogitStatistic(dimension: f.beta.count) }
            if f.fit < 0 {
                return LogitStatistic(x: x, y: d.y, beta: f.beta, train: { _ in true }, test: { _ in false })
            }
            return LogitStatistic(
                x: x, y: d.y, beta: f.beta, train: { d.fold[$0] != f.fit },
                test: { d.fold[$0] == f.fit })
        }
    }
}
