import Jobs

/// The summarize round on the wire: an empty `SummarizeRequest`; a `ShardSummary` message.
extension SummarizeRound: RoundCodec {
    public static func encode(request: Request) -> [UInt8] { Wire.bytes(Causa_Wire_SummarizeRequest()) }

    public static func decode(request bytes: [UInt8], plan: JobPlan) throws -> Request {
        _ = try Wire.message(Causa_Wire_SummarizeRequest.self, bytes)
        return Request()
    }

    public static func encode(statistic s: ShardSummary) -> [UInt8] {
        var m = Causa_Wire_ShardSummary()
        m.rows = UInt64(s.rows)
        m.users = UInt64(s.users)
        m.columns = s.columns.map { c in
            var x = Causa_Wire_ColumnSummary()
            x.name = c.name
            x.numericCount = UInt64(c.numericCount)
            x.nonNumericCount = UInt64(c.nonNumericCount)
            x.allIntegral = c.allIntegral
            if let r = c.firstMissing { x.firstMissing = Wire.cell(r) }
            if let r = c.firstNonNumeric { x.firstNonNumeric = Wire.cell(r) }
            if let r = c.firstNonBinary { x.firstNonBinary = Wire.cell(r) }
            x.levels = c.levels
            x.levelsTruncated = c.levelsTruncated
            return x
        }
        m.itemKeys = s.itemKeys.map { k in
            var x = Causa_Wire_KeyOccurrence()
            x.key = k.key
            x.first = Wire.cell(k.first)
            return x
        }
        return Wire.bytes(m)
    }

    public static func decode(statistic bytes: [UInt8], request: Request, plan: JobPlan) throws -> ShardSummary {
        let m = try Wire.message(Causa_Wire_ShardSummary.self, bytes)
        guard m.columns.map(\.name) == plan.columns else {
            throw Wire.DecodeError(message: "summary for other columns")
        }
        var s = ShardSummary(
            columns: try m.columns.map { c in
                var x = ColumnSummary(name: c.name)
                x.numericCount = try Wire.count(c.numericCount, "numeric cells")
                x.nonNumericCount = try Wire.count(c.nonNumericCount, "non-numeric cells")
                x.allIntegral = c.allIntegral
                x.firstMissing = Wire.cell(c.hasFirstMissing, c.firstMissing)
                x.firstNonNumeric = Wire.cell(c.hasFirstNonNumeric, c.firstNonNumeric)
                x.firstNonBinary = Wire.cell(c.hasFirstNonBinary, c.firstNonBinary)
                x.levels = c.levels
                x.levelsTruncated = c.levelsTruncated
                return x
            })
        s.rows = try Wire.count(m.rows, "rows")
        s.users = try Wire.count(m.users, "users")
        s.itemKeys = m.itemKeys.map { KeyOccurrence(key: $0.key, first: Wire.cell(true, $0.first)!) }
        return s
    }
}
