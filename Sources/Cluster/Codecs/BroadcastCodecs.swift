import Jobs

/// The job-level broadcasts a worker takes, by name: every built-in broadcast with its codec.
public enum BroadcastCodecs {
    public static let standard: [any BroadcastCodec.Type] = [ItemVectorBroadcast.self, OffPolicyBroadcast.self]

    /// `broadcasts` by name.
    /// - Precondition: names are unique.
    static func byName(_ broadcasts: [any BroadcastCodec.Type]) -> [String: any BroadcastCodec.Type] {
        Dictionary(
            broadcasts.map { ($0.name, $0) },
            uniquingKeysWith: { a, _ in preconditionFailure("two broadcasts named \(a.name)") })
    }
}

/// The item vectors on the wire: an `ItemVectors` message (dimension, keys, [keys, d] Float32 row-major).
extension ItemVectorBroadcast: BroadcastCodec {
    public func encode() -> [UInt8] {
        var m = Causa_Wire_ItemVectors()
        m.dimension = UInt32(table.dimension)
        m.keys = keys
        m.unitVectors = table.rows(for: keys)
        return Wire.bytes(m)
    }

    public static func decode(_ bytes: [UInt8], plan: JobPlan) throws -> ItemVectorBroadcast {
        let m = try Wire.message(Causa_Wire_ItemVectors.self, bytes)
        let d = Int(m.dimension)
        // Bounds first, so that the product below cannot overflow.
        guard (1...Wire.maximumDimension).contains(d), m.unitVectors.count == m.keys.count * d else {
            throw Wire.DecodeError(
                message: "item vectors with \(m.unitVectors.count) values for \(m.keys.count) keys of dimension \(d)")
        }
        return ItemVectorBroadcast(
            table: ItemVectorTable(keys: m.keys, rows: m.unitVectors, dimension: d), keys: m.keys, needs: [])
    }
}
