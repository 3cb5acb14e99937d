/// Runs every shard in this process, without sockets: the `ShardExecutor` for tests (as `EmbeddedChannel` is
/// for swift-nio) and for checking the cluster against.
public final class InProcessExecutor: ShardExecutor {
    public let shardCount: Int
    /// Shard workspaces by owner; shard s lives in workspace `owner(s)`.
    private let workspaces: [ShardWorkspace]
    private let owner: (Int) -> Int
    private let plan: JobPlan
    /// Whether requests and statistics pass through their rounds' codecs (`RoundCodec`) as on the wire.
    public let encodesPayloads: Bool

    /// Loads the job's data into `workers` workspaces (shard s goes to s mod workers).
    /// - Parameter encodesPayloads: pass every request and statistic of a round that has a `RoundCodec` through its
    ///   bytes, as the cluster does (a round without one fails the job); false passes the values themselves.
    /// - Throws: `InputError` from reading the data.
    public init(prepared: PreparedJob, workers: Int = 1, batchRows: Int = 256, encodesPayloads: Bool = false) throws {
        shardCount = prepared.job.shards
        plan = prepared.plan
        self.encodesPayloads = encodesPayloads
        workspaces = try (0..<workers).map { _ in try ShardWorkspace(plan: prepared.plan) }
        owner = { $0 % workers }
        let ws = workspaces
        let own = owner
        for s in 0..<shardCount { ws[own(s)].touch(shard: s) }
        if prepared.job.source == .shards {
            for s in 0..<shardCount { ws[own(s)].load(shardFile: prepared.shardFile(s)!, shard: s) }
        } else {
            _ = try prepared.streamRows(batchRows: batchRows) { ws[own($0.shard)].add($0) }
        }
    }

    public func answers<R: Round>(_ round: R.Type, perShard requests: [R.Request]) throws
        -> [ShardAnswer<R.Statistic>]
    {
        precondition(requests.count == shardCount, "run: \(requests.count) requests for \(shardCount) shards")
        guard encodesPayloads else {
            return (0..<shardCount).map { workspaces[owner($0)].answer(R.self, requests[$0], shard: $0) }
        }
        guard let codec = R.self as? any RoundCodec.Type else { throw RunError("the \(R.id) round has no codec") }
        return try throughBytes(codec, requests) as! [ShardAnswer<R.Statistic>]
    }

    /// Gives each workspace the part of `value` its shards need (through the codec's bytes with `encodesPayloads`),
    /// as the cluster sends it to each worker, so a workspace holding no rows, users or items is exercised here too.
    public func broadcast<B: JobBroadcast>(_ value: B) throws {
        for (w, ws) in workspaces.enumerated() {
            let part = value.part(forShards: (0..<shardCount).filter { owner($0) == w })
            guard encodesPayloads else {
                ws.keep(part)
                continue
            }
            guard let codec = B.self as? any BroadcastCodec.Type else {
                throw RunError("the \(B.name) broadcast has no codec")
            }
            try Self.keep(codec, part, in: ws, plan: plan)
        }
    }

    /// `value` through the bytes of codec `C`, kept by `ws`.
    private static func keep<C: BroadcastCodec>(_ codec: C.Type, _ value: Any, in ws: ShardWorkspace, plan: JobPlan)
        throws
    {
        ws.keep(try C.decode((value as! C).encode(), plan: plan))
    }

    /// Every request and statistic encoded and decoded by `codec`, as between a coordinator and its workers.
    private func throughBytes<C: RoundCodec>(_ codec: C.Type, _ requests: [Any]) throws -> Any {
        try (0..<shardCount).map { s -> ShardAnswer<C.Statistic> in
            let sent = requests[s] as! C.Request
            let request = try C.decode(request: C.encode(request: sent), plan: plan)
            switch workspaces[owner(s)].answer(C.self, request, shard: s) {
            case .success(let statistic):
                return .success(try C.decode(statistic: C.encode(statistic: statistic), request: sent, plan: plan))
            case .failure(let f): return .failure(f)
            }
        }
    }
}
