import Jobs

/// The features round on the wire: a `FeaturesRequest` (the projection, the shard's items and the unit vectors of
/// `vectorKeys`); a `FeaturesReady` message (the row count).
extension FeaturesRound: RoundCodec {
    public static func encode(request r: FeatureRequest) -> [UInt8] {
        var m = Causa_Wire_FeaturesRequest()
        m.components = UInt32(r.components)
        m.dimension = UInt32(r.dimension)
        m.userMean = r.userMean
        m.userAxes = r.userAxes
        m.itemKeys = r.itemKeys
        m.itemScores = r.itemScores
        m.vectorKeys = r.vectorKeys
        m.itemUnitVectors = r.vectors.rows(for: r.vectorKeys)
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
            f.itemScores.count == m * k, f.itemUnitVectors.count == f.vectorKeys.count * d
        else {
            throw Wire.DecodeError(
                message: "features request with sizes that do not match k = \(k), d = \(d), \(m) items")
        }
        return FeatureRequest(
            components: k, dimension: d, userMean: f.userMean, userAxes: f.userAxes, itemKeys: f.itemKeys,
            itemScores: f.itemScores, vectorKeys: f.vectorKeys,
            vectors: ItemVectorTable(keys: f.vectorKeys, rows: f.itemUnitVectors, dimension: d))
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
