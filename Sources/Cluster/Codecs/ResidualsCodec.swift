import Jobs
import Statistics

/// The residuals round on the wire: a `ResidualsRequest` (β and the centre); a `ResidualStatistic` message (the
/// meat as its packed upper triangle).
extension ResidualsRound: RoundCodec {
    public static func encode(request: Request) -> [UInt8] {
        var m = Causa_Wire_ResidualsRequest()
        m.beta = request.beta
        if request.centre.high.contains(where: { $0 != 0 }) { m.centre = request.centre.high }
        if request.centre.low.contains(where: { $0 != 0 }) { m.centreLow = request.centre.low }
        return Wire.bytes(m)
    }

    public static func decode(request bytes: [UInt8], plan: JobPlan) throws -> Request {
        let r = try Wire.message(Causa_Wire_ResidualsRequest.self, bytes)
        return Request(beta: r.beta, centre: try Wire.centre(r.centre, r.centreLow, r.beta.count))
    }

    public static func encode(statistic s: ResidualStatistic) -> [UInt8] {
        var m = Causa_Wire_ResidualStatistic()
        m.count = s.count
        m.sumOfSquares = s.sumOfSquares
        m.meat = Wire.packSymmetric(s.meat, Int(Double(s.meat.count).squareRoot()))
        return Wire.bytes(m)
    }

    public static func decode(statistic bytes: [UInt8], request: Request, plan: JobPlan) throws -> ResidualStatistic {
        let m = try Wire.message(Causa_Wire_ResidualStatistic.self, bytes)
        try Wire.checkCount(m.count, "residual count")
        return ResidualStatistic(
            count: m.count, sumOfSquares: m.sumOfSquares,
            meat: try Wire.unpackSymmetric(m.meat, request.beta.count))
    }
}
