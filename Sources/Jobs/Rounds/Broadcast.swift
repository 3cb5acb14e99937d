/// Data every worker needs once per job (item vectors today; a policy or an item table next): sent to each worker
/// once, before the round that uses it, and kept by the worker for the rest of the job (`ShardWorkspace.broadcast`).
/// Not a round: it has no per-shard answer. A worker receives the part its shards need (`part(forShards:)`).
public protocol JobBroadcast: Sendable {
    /// The broadcast's name: tags its payload on the wire and keys it in a worker's workspace. Unique among
    /// broadcasts.
    static var name: String { get }
    /// The part a worker that owns `shards` (ascending) needs; the whole value unless the broadcast says otherwise.
    func part(forShards shards: [Int]) -> Self
}

extension JobBroadcast {
    public func part(forShards shards: [Int]) -> Self { self }
}

/// A broadcast that crosses the network: its payload codec (written in Cluster, next to the wire messages).
public protocol BroadcastCodec: JobBroadcast {
    /// The payload's bytes.
    func encode() -> [UInt8]
    /// - Throws: when the bytes are not this broadcast for `plan` (sizes are checked here).
    static func decode(_ bytes: [UInt8], plan: JobPlan) throws -> Self
}

extension ShardWorkspace {
    /// Keeps `value` for the rest of the job, replacing an earlier broadcast of its name.
    public func keep<B: JobBroadcast>(_ value: B) { broadcasts[B.name] = value }

    /// Records that broadcast `name` arrived but could not be taken (the rounds that need it fail with `message`).
    public func failBroadcast(_ name: String, _ message: String) { broadcastFailures[name] = message }

    /// The broadcast of type `B` this worker was sent for the job.
    /// - Throws: `ShardFailure` (a worker fault) when it was not sent or could not be taken.
    public func broadcast<B: JobBroadcast>(_ type: B.Type) throws -> B {
        guard let value = broadcasts[B.name] as? B else {
            let why = broadcastFailures[B.name] ?? "no \(B.name) broadcast reached this worker for the job"
            throw ShardFailure(rowIndex: 0, line: 0, column: nil, message: "internal: \(why)", isInternal: true)
        }
        return value
    }
}

/// The item unit vectors `affinity` needs (zero for items with no text), as a job-level broadcast: each worker gets
/// the vectors of the items its shards' rows name (the union over its shards, in shard order), once per job.
public struct ItemVectorBroadcast: JobBroadcast, Equatable {
    public static let name = "item_vectors"
    /// The vectors, by item key.
    public var table: ItemVectorTable
    /// The keys whose vectors this value carries (on the wire: their rows of `table`).
    public var keys: [String]
    /// Per shard 0..<S: the item keys its rows name (coordinator side; empty in a worker's part).
    public var needs: [[String]]
    /// - Parameters:
    ///   - table: unit vectors of at least every key in `needs`.
    ///   - needs: per shard, the item keys its rows name.
    public init(table: ItemVectorTable, keys: [String], needs: [[String]]) {
        self.table = table
        self.keys = keys
        self.needs = needs
    }

    /// The vectors of the items `shards` name, each key once, in shard order then request order.
    public func part(forShards shards: [Int]) -> ItemVectorBroadcast {
        var seen: Set<String> = []
        var keys: [String] = []
        for s in shards { for key in needs[s] where seen.insert(key).inserted { keys.append(key) } }
        return ItemVectorBroadcast(table: table, keys: keys, needs: [])
    }
}
