import Jobs
import Statistics

/// The Newton round on the wire: a `NewtonRequest` (each fit's β and the centre); a `LogitList` (one statistic per
/// fit, information and meat as packed upper triangles).
extension NewtonRound: RoundCodec {
    public static func encode(request: Request) -> [UInt8] {
        var m = Causa_Wire_NewtonRequest()
        if request.centre.high.contains(where: { $0 != 0 }) { m.centre = request.centre.high }
        if request.centre.low.contains(where: { $0 != 0 }) { m.centreLow = request.centre.low }
        m.fits = request.fits.map { f in
            var n = Causa_Wire_NewtonFit()
            n.fit = Int32(f.fit)
            n.beta = f.beta
            return n
        }
        return Wire.bytes(m)
    }

    public static func decode(request bytes: [UInt8], plan: JobPlan) throws -> Request {
        let n = try Wire.message(Causa_Wire_NewtonRequest.self, bytes)
        guard let p = n.fits.first?.beta.count, n.fits.allSatisfy({ $0.beta.count == p }) else {
            throw Wire.DecodeError(message: "newton request with no fits or unequal β lengths")
        }
        return Request(
            fits: n.fits.map { NewtonFit(fit: Int($0.fit), beta: $0.beta) },
            centre: try Wire.centre(n.centre, n.centreLow, p))
    }

    public static func encode(statistic: StatisticList<LogitStatistic>) -> [UInt8] {
        var m = Causa_Wire_LogitList()
        m.fits = statistic.items.map { s in
            var x = Causa_Wire_LogitStatistic()
            x.dimension = UInt32(s.dimension)
            x.count = s.count
            x.logLikelihood = s.logLikelihood
            x.gradient = s.gradient
            x.information = Wire.packSymmetric(s.information, s.dimension)
            x.meat = Wire.packSymmetric(s.meat, s.dimension)
            x.testCount = s.testCount
            x.testSquaredError = s.testSquaredError
            x.minimumMargin = s.minimumMargin
            return x
        }
        return Wire.bytes(m)
    }

    public static func decode(statistic bytes: [UInt8], request: Request, plan: JobPlan) throws
        -> StatisticList<LogitStatistic>
    {
        let m = try Wire.message(Causa_Wire_LogitList.self, bytes)
        guard m.fits.count == request.fits.count else {
            throw Wire.DecodeError(message: "newton reply with \(m.fits.count) fits, expected \(request.fits.count)")
        }
        let p = request.fits[0].beta.count
        return StatisticList(
            try m.fits.map { x in
                guard Int(x.dimension) == p, x.gradient.count == p else {
                    throw Wire.DecodeError(message: "logit statistic of wrong size")
                }
                try Wire.checkCount(x.count, "logit count")
                try Wire.checkCount(x.testCount, "logit test count")
                return LogitStatistic(
                    dimension: p, count: x.count, logLikelihood: x.logLikelihood, gradient: x.gradient,
                    information: try Wire.unpackSymmetric(x.information, p),
                    meat: try Wire.unpackSymmetric(x.meat, p), testCount: x.testCount,
                    testSquaredError: x.testSquaredError, minimumMargin: x.minimumMargin)
            })
    }
}
