import Foundation

/// What identifies one per-shard request and the reply to it: a reply is merged only when its key equals the key of
/// the request the executor is waiting on, so a reply from another job, an earlier round or an earlier attempt is
/// never merged.
public struct RoundKey: Hashable, Sendable, CustomStringConvertible {
    /// The job's id (`JobPlan.jobID`).
    public var job: String
    /// The round's number within the job, from 1.
    public var round: UInt64
    /// The shard, 0 ≤ shard < S.
    public var shard: Int
    /// The attempt at this round for this shard, from 1 (a replay on another worker is a later attempt).
    public var attempt: UInt32
    public init(job: String, round: UInt64, shard: Int, attempt: UInt32) {
        self.job = job
        self.round = round
        self.shard = shard
        self.attempt = attempt
    }
    public var description: String { "job \(job), round \(round), shard \(shard), attempt \(attempt)" }
}

/// A round's request to one shard as a transport carries it: its key, the round's id and the payload bytes written
/// by the round's `RoundCodec`.
public struct ShardRequest: Sendable, Equatable {
    public var key: RoundKey
    /// `Round.id` of the round.
    public var roundID: String
    /// The request's bytes (`RoundCodec.encode(request:)`).
    public var payload: [UInt8]
    public init(key: RoundKey, roundID: String, payload: [UInt8]) {
        self.key = key
        self.roundID = roundID
        self.payload = payload
    }
}

/// A job-level broadcast as a transport carries it (`JobBroadcast`): the job, the broadcast's name and the payload
/// bytes written by its `BroadcastCodec` (the part the receiving worker needs).
public struct BroadcastMessage: Sendable, Equatable {
    public var job: String
    /// `JobBroadcast.name`.
    public var name: String
    public var payload: [UInt8]
    public init(job: String, name: String, payload: [UInt8]) {
        self.job = job
        self.name = name
        self.payload = payload
    }
}

/// A worker's reply to a `ShardRequest`: the request's key echoed, and the statistic's bytes or the shard's failure.
public struct ShardReply: Sendable {
    public var key: RoundKey
    public var roundID: String
    /// The worker that sent it.
    public var worker: String
    /// The statistic's bytes (`RoundCodec.encode(statistic:)`), or the failure the shard found.
    public var result: Result<[UInt8], ShardFailure>
    public init(key: RoundKey, roundID: String, worker: String, result: Result<[UInt8], ShardFailure>) {
        self.key = key
        self.roundID = roundID
        self.worker = worker
        self.result = result
    }
}

/// What a transport reports while the executor waits for replies.
public enum TransportEvent: Sendable {
    /// A reply arrived (it may be a duplicate or stale: the executor checks its key).
    case reply(ShardReply)
    /// A worker is gone (no heartbeat, re-joined, unreachable, or an injected fault): `reason` says why.
    case lost(worker: String, reason: String)
}

/// The kinds of failure the executor raises for a round, for a transport to express in its own error type.
public enum TransportFault: Sendable {
    /// A worker that owns a shard of the job is gone.
    case workerLost
    /// A shard's reply did not arrive within the round timeout.
    case timeout
}

/// How the executor talks to workers: send a shard's request to a worker, receive replies and losses. The ZeroMQ
/// cluster implements it over its ROUTER socket; `InProcessTransport` implements it in memory, with injectable faults.
/// Keys, duplicates, stale replies and timeouts are the executor's (`RoundExchange`), not the transport's.
public protocol ShardTransport: AnyObject {
    /// Sends `request` to `worker`.
    /// - Throws: when the worker cannot be reached (the job fails).
    func send(_ request: ShardRequest, to worker: String) throws
    /// Sends a job-level broadcast to `worker`; it arrives before the requests sent to it later.
    /// - Throws: when the worker cannot be reached (the job fails).
    func send(_ broadcast: BroadcastMessage, to worker: String) throws
    /// Waits up to `timeout` seconds for events; returns those that arrived (possibly none).
    /// - Throws: on a transport failure that is not a worker's (a socket error).
    func receive(timeout: Double) throws -> [TransportEvent]
    /// The error a job fails with for `fault`; the default is a `RunError`.
    func error(_ fault: TransportFault, _ message: String) -> Error
}

extension ShardTransport {
    public func error(_ fault: TransportFault, _ message: String) -> Error { RunError(message) }
}

/// Runs rounds over a `ShardTransport`: keys every per-shard request with (job, round, shard, attempt), merges only
/// replies whose key, round id and worker match the request outstanding for their shard (duplicates and stale
/// replies are ignored and counted), fails the job within `roundTimeout` when a reply does not come, and at once when
/// a worker owning a shard is lost, naming the worker, round and shard. It keeps every shard's requests
/// (`replayLog`), so a shard's work can be replayed on another worker from its rows alone.
///
/// - Note: Not thread-safe: use from one thread.
public final class RoundExchange {
    /// The job's id; every key carries it.
    public let job: String
    /// The worker that owns each shard 0..<S.
    public let owners: [String]
    public let transport: any ShardTransport
    /// Seconds a round may wait for its last reply.
    public var roundTimeout: Double
    /// The number of the last round started (0 before the first).
    public private(set) var round: UInt64 = 0
    /// Per shard: every request sent to it this job, in order (job-level broadcasts are kept by the executor that
    /// sends them). Enough to replay the shard's work on another worker, once its rows are streamed there again.
    public private(set) var replayLog: [[ShardRequest]]
    /// The job-level broadcasts sent, by name, whole (a replacement worker is sent the part for its shards).
    public private(set) var broadcasts: [String: any JobBroadcast] = [:]
    /// Replies ignored so far: duplicates, stale keys (other job, earlier round or attempt), wrong round id or
    /// worker.
    public private(set) var ignoredReplies = 0
    /// Called with every ignored reply and the reason (for logs).
    public var onIgnored: ((ShardReply, String) -> Void)?
    let plan: JobPlan

    /// - Parameters:
    ///   - owners: the owner of each shard 0..<S, by worker name.
    ///   - roundTimeout: seconds a round may wait for its last reply.
    public init(plan: JobPlan, owners: [String], transport: any ShardTransport, roundTimeout: Double) {
        self.plan = plan
        self.job = plan.jobID
        self.owners = owners
        self.transport = transport
        self.roundTimeout = roundTimeout
        self.replayLog = Array(repeating: [], count: owners.count)
    }

    /// Sends each shard its request of round `R` and waits for every answer.
    /// - Throws: `RunError` when `R` has no codec or a reply does not decode; the transport's error for a lost worker
    ///   (at once) or a missing reply (after `roundTimeout`), naming the worker, round and shard.
    public func answers<R: Round>(_ round: R.Type, perShard requests: [R.Request]) throws
        -> [ShardAnswer<R.Statistic>]
    {
        guard let codec = R.self as? any RoundCodec.Type else {
            throw RunError("the \(R.id) round has no codec, so it cannot run over a transport")
        }
        return try exchange(codec, requests) as! [ShardAnswer<R.Statistic>]
    }

    private func exchange<C: RoundCodec>(_ codec: C.Type, _ sent: [Any]) throws -> Any {
        let shards = owners.count
        precondition(sent.count == shards, "run: \(sent.count) requests for \(shards) shards")
        let requests = sent.map { $0 as! C.Request }
        round += 1
        let number = round
        let keys = (0..<shards).map { RoundKey(job: job, round: number, shard: $0, attempt: 1) }
        let started = Date()
        for s in 0..<shards {
            let request = ShardRequest(key: keys[s], roundID: C.id, payload: C.encode(request: requests[s]))
            replayLog[s].append(request)
            try transport.send(request, to: owners[s])
        }
        var answers = [ShardAnswer<C.Statistic>?](repeating: nil, count: shards)
        var missing = shards
        let name = "round \(number) (\(C.id)) of job \(job)"
        while missing > 0 {
            let left = roundTimeout - Date().timeIntervalSince(started)
            if left <= 0 {
                let s = answers.firstIndex { $0 == nil }!
                throw transport.error(
                    .timeout,
                    "worker \(owners[s]) sent no reply for shard \(s) in \(name) within \(Self.seconds(roundTimeout)) s"
                        + " (\(missing) of \(shards) shards missing); the job failed")
            }
            for event in try transport.receive(timeout: min(left, 0.05)) {
                switch event {
                case .lost(let worker, let reason):
                    guard
                        let s = (0..<shards).first(where: { owners[$0] == worker && answers[$0] == nil })
                            ?? owners.firstIndex(of: worker)
                    else { continue }  // a worker that owns no shard of this job
                    let state = answers[s] == nil ? "unanswered" : "on it"
                    throw transport.error(
                        .workerLost,
                        "worker \(worker) was lost in \(name) with shard \(s) \(state): \(reason); the job failed"
                            + " (failover is not implemented yet)")
                case .reply(let r):
                    let s = r.key.shard
                    guard (0..<shards).contains(s), r.key == keys[s] else {
                        ignore(r, "stale key (\(r.key))")
                        continue
                    }
                    guard r.roundID == C.id else {
                        ignore(r, "an answer to the \(r.roundID) round")
                        continue
                    }
                    guard r.worker == owners[s] else {
                        ignore(r, "from worker \(r.worker), not the owner")
                        continue
                    }
                    guard answers[s] == nil else {
                        ignore(r, "duplicate")
                        continue
                    }
                    switch r.result {
                    case .success(let bytes):
                        do {
                            answers[s] = .success(try C.decode(statistic: bytes, request: requests[s], plan: plan))
                        } catch {
                            throw RunError("worker \(r.worker) sent a malformed \(C.id) reply for shard \(s): \(error)")
                        }
                    case .failure(let f): answers[s] = .failure(f)
                    }
                    missing -= 1
                }
            }
        }
        return answers.map { $0! }
    }

    /// Sends each worker that owns a shard the part of `value` its shards need, once, and keeps `value` for replays.
    /// - Throws: `RunError` when `B` has no codec; what the transport's `send` throws.
    public func broadcast<B: JobBroadcast>(_ value: B) throws {
        guard let codec = B.self as? any BroadcastCodec.Type else {
            throw RunError("the \(B.name) broadcast has no codec, so it cannot cross a transport")
        }
        broadcasts[B.name] = value
        var workers: [String] = []
        for w in owners where !workers.contains(w) { workers.append(w) }
        for w in workers {
            let part = value.part(forShards: owners.indices.filter { owners[$0] == w })
            try transport.send(BroadcastMessage(job: job, name: B.name, payload: Self.bytes(codec, part)), to: w)
        }
    }

    private static func bytes<C: BroadcastCodec>(_ codec: C.Type, _ value: Any) -> [UInt8] { (value as! C).encode() }

    private func ignore(_ reply: ShardReply, _ why: String) {
        ignoredReplies += 1
        onIgnored?(reply, why)
    }

    static func seconds(_ t: Double) -> String { t == t.rounded() ? "\(Int(t))" : String(format: "%.3g", t) }
}

/// A `ShardExecutor` over a `ShardTransport` (`RoundExchange`): the in-process transport's executor in tests.
public final class TransportExecutor: ShardExecutor {
    public let exchange: RoundExchange
    public var shardCount: Int { exchange.owners.count }
    public init(exchange: RoundExchange) { self.exchange = exchange }
    public func answers<R: Round>(_ round: R.Type, perShard requests: [R.Request]) throws
        -> [ShardAnswer<R.Statistic>]
    {
        try exchange.answers(round, perShard: requests)
    }
    public func broadcast<B: JobBroadcast>(_ value: B) throws { try exchange.broadcast(value) }
}
