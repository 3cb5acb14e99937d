import Jobs
import Statistics

/// The embed round on the wire: an `EmbedRequest` (the shard's users- and items-file records); an `EmbedStatistic`
/// message.
extension EmbedRound: RoundCodec {
    public static func encode(request: EmbedRequest) -> [UInt8] {
        var m = Causa_Wire_EmbedRequest()
        m.users = request.users.map(Wire.entry)
        m.items = request.items.map(Wire.entry)
        return Wire.bytes(m)
    }

    public static func decode(request bytes: [UInt8], plan: JobPlan) throws -> EmbedRequest {
        let e = try Wire.message(Causa_Wire_EmbedRequest.self, bytes)
        return EmbedRequest(users: e.users.map(Wire.entry), items: e.items.map(Wire.entry))
    }

    public static func encode(statistic e: EmbedStatistic) -> [UInt8] {
        var m = Causa_Wire_EmbedStatistic()
        m.encoder = e.encoder
        m.dimension = UInt32(e.dimension)
        // Absent when the vectors carry them, or when the shard has no user with text (a d × d block of zeros).
        if e.userVectors.isEmpty, e.userMoments.count > 0 { m.userMoments = Wire.moments(e.userMoments) }
        m.usersWithText = UInt64(e.usersWithText)
        m.usersWithoutText = UInt64(e.usersWithoutText)
        if let r = e.firstUserWithoutRecord { m.firstUserWithoutRecord = Wire.cell(r) }
        m.itemVectors = e.itemVectors
        m.itemHasText = e.itemHasText
        m.textsEmbedded = UInt64(e.textsEmbedded)
        m.userVectors = e.userVectors
        return Wire.bytes(m)
    }

    public static func decode(statistic bytes: [UInt8], request r: EmbedRequest, plan: JobPlan) throws
        -> EmbedStatistic
    {
        let m = try Wire.message(Causa_Wire_EmbedStatistic.self, bytes)
        let d = Int(m.dimension)
        guard d > 0, d <= Wire.maximumDimension, m.itemHasText.count == r.items.count,
            m.itemVectors.count == r.items.count * d
        else {
            let what = "\(m.itemVectors.count) vector entries for \(r.items.count) items of dimension \(d)"
            throw Wire.DecodeError(message: "embed reply with \(what)")
        }
        var e = EmbedStatistic(
            encoder: m.encoder, dimension: d,
            userMoments: m.hasUserMoments ? try Wire.moments(m.userMoments, dimension: d) : MomentMatrix(dimension: d),
            usersWithText: try Wire.count(m.usersWithText, "users with text"),
            usersWithoutText: try Wire.count(m.usersWithoutText, "users without text"),
            firstUserWithoutRecord: Wire.cell(m.hasFirstUserWithoutRecord, m.firstUserWithoutRecord),
            itemVectors: m.itemVectors, itemHasText: m.itemHasText,
            textsEmbedded: try Wire.count(m.textsEmbedded, "texts"))
        e.userVectors = m.userVectors
        return e
    }
}
