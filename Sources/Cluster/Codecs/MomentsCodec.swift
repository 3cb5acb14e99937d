import Jobs
import Statistics

/// The moments round on the wire: a `MomentsRequest` (the schema); a `MomentList` (one matrix per fold group).
extension MomentsRound: RoundCodec {
    public static func encode(request: Request) -> [UInt8] {
        var m = Causa_Wire_MomentsRequest()
        m.schema = request.schema.map(Wire.columnSchema)
        return Wire.bytes(m)
    }

    public static func decode(request bytes: [UInt8], plan: JobPlan) throws -> Request {
        Request(schema: try Wire.message(Causa_Wire_MomentsRequest.self, bytes).schema.map(Wire.columnSchema))
    }

    public static func encode(statistic: StatisticList<MomentMatrix>) -> [UInt8] {
        var m = Causa_Wire_MomentList()
        m.folds = statistic.items.map(Wire.moments)
        return Wire.bytes(m)
    }

    public static func decode(statistic bytes: [UInt8], request: Request, plan: JobPlan) throws
        -> StatisticList<MomentMatrix>
    {
        let m = try Wire.message(Causa_Wire_MomentList.self, bytes)
        guard m.folds.count == plan.foldGroups else {
            throw Wire.DecodeError(message: "\(m.folds.count) fold moments, expected \(plan.foldGroups)")
        }
        let d = Int(m.folds.first?.dimension ?? 0)
        return StatisticList(try m.folds.map { try Wire.moments($0, dimension: d) })
    }
}
