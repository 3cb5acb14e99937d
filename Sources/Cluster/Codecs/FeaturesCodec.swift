import Jobs

/// The features round on the wire: a `FeaturesRequest` (the projection and the shard's items; their unit vectors
/// travel in the `item_vectors` broadcast); a `FeaturesReady` message (the row count).
extension FeaturesRound: RoundCodec {
    public static func encode(request r: FeatureRequest) -> [UInt8] {
        var m = Causa_Wire_FeaturesRequest()
        m.components = UInt32(r.components)
        m.dimension = UInt32(r.dimension)
        m.userMean = r.userMean
        m.userAxes = r.userAxes
        m.itemKeys = r.itemKeys
        m.itemScores = r.itemScores
        return Wire.bytes(m)
    }

    public static func decode(request bytes: [UInt8], plan: JobPlan) throws -> FeatureRequest {
        let f = try Wire.message(Causa_Wire_FeaturesRequest.self, bytes)
        let k = Int(f.components)
        let d = Int(f.dimension)
        let m = f.itemKeys.count
        // Bounds first, so that the products below cannot overflow.
        guard (1...TextSpec.maximumComponents).contains(k), (1...Wire.maximumDimension).contains(d) else {
            throw Wire.DecodeError(message: "features request with k = \(k), d = \(d)")
        }
        guard (f.userMean.isEmpty && f.userAxes.isEmpty) || (f.userMean.count == d && f.userAxes.count == k * d),
            f.itemScores.count == m * k
        else {
            throw Wire.DecodeError(
                message: "features request with sizes that do not match k = \(k), d = \(d), \(m) items")
        }
        return FeatureRequest(
            components: k, dimension: d, userMean: f.userMean, userAxes: f.userAxes, itemKeys: f.itemKeys,
            itemScores: f.itemScores)
    }

    public static func encode(statistic: RowCount) -> [UInt8] {
        var m = Causa_Wire_FeaturesReady()
        m.rows = UInt64(statistic.rows)
        return Wire.bytes(m)
    }

    public static func decode(statistic bytes: [UInt8], request: FeatureRequest, plan: JobPlan) throws -> RowCount {
        RowCount(rows: try Wire.count(try Wire.message(Causa_Wire_FeaturesReady.self, bytes).rows, "rows"))
    }
}
