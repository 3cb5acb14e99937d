/// Runs every shard in this process, without sockets: the `ShardExecutor` for tests (as `EmbeddedChannel` is
/// for swift-nio) and for checking the cluster against.
public final class InProcessExecutor: ShardExecutor {
    public let shardCount: Int
    /// Shard workspaces by owner; shard s lives in workspace `owner(s)`.
    private let workspaces: [ShardWorkspace]
    private let owner: (Int) -> Int

    /// Loads the job's data into `workers` workspaces (shard s goes to s mod workers).
    /// - Throws: `InputError` from reading the data.
    public init(prepared: PreparedJob, workers: Int = 1, batchRows: Int = 256) throws {
        shardCount = prepared.job.shards
        workspaces = try (0..<workers).map { _ in try ShardWorkspace(plan: prepared.plan) }
        owner = { $0 % workers }
        let ws = workspaces, own = owner
        for s in 0..<shardCount { ws[own(s)].touch(shard: s) }
        if prepared.job.source == .shards {
            for s in 0..<shardCount { ws[own(s)].load(shardFile: prepared.shardFile(s)!, shard: s) }
        } else {
            _ = try prepared.streamRows(batchRows: batchRows) { ws[own($0.shard)].add($0) }
        }
    }

    public func run(perShard requests: [RoundRequest]) throws -> [ShardReply] {
        precondition(requests.count == shardCount, "run: \(requests.count) requests for \(shardCount) shards")
        // Shared item vectors as over the wire, so a workspace holding no rows, users or items is exercised here too.
        let requests = RoundRequest.sharingItemVectors(requests, owner: owner)
        return (0..<shardCount).map { workspaces[owner($0)].answer(requests[$0], shard: $0) }
    }
}
