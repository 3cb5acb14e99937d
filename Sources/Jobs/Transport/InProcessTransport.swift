import Foundation

/// A `ShardTransport` in memory, without sockets: workers are `ShardWorkspace`s of this process that answer requests
/// through the rounds' codecs (bytes, as on the wire), and faults can be injected per round and shard, to test the
/// executor's handling of them (`RoundExchange`).
///
/// - Note: Not thread-safe: use from one thread.
public final class InProcessTransport: ShardTransport {
    /// A fault injected into the replies of round `round` (its number within the job, from 1).
    public enum Fault: Sendable, Equatable {
        /// Shard `shard`'s reply never arrives.
        case drop(round: UInt64, shard: Int)
        /// Shard `shard`'s reply arrives `seconds` late.
        case delay(round: UInt64, shard: Int, seconds: Double)
        /// Shard `shard`'s reply arrives twice.
        case duplicate(round: UInt64, shard: Int)
        /// Before shard `shard`'s reply, a stale reply arrives: the shard's reply to the previous round under an
        /// older key (`staleness` says which part of the key is old).
        case stale(round: UInt64, shard: Int, Staleness)
        /// Worker `worker` is lost when round `round`'s requests reach it: it never answers, and the transport reports
        /// the loss at once.
        case loseWorker(String, atRound: UInt64)
    }

    /// Which part of a stale reply's key is old.
    public enum Staleness: Sendable, Equatable {
        /// An earlier attempt at this round (attempt 0).
        case olderAttempt
        /// The previous round (round − 1).
        case olderRound
        /// Another job with the same round number.
        case otherJob
    }

    /// Worker names, "worker-0" …; shard s is owned by `owners[s]` (s mod workers).
    public let workers: [String]
    /// The owner of each shard 0..<S.
    public let owners: [String]
    public var faults: [Fault]
    private var workspaces: [String: ShardWorkspace] = [:]
    private let rounds: [String: any RoundCodec.Type]
    private let broadcastCodecs: [String: any BroadcastCodec.Type]
    /// Broadcasts received, by worker, in order.
    public private(set) var broadcastsReceived: [String: [BroadcastMessage]] = [:]
    private var lost: Set<String> = []
    private var queue: [(due: Date, event: TransportEvent)] = []
    /// Each shard's last reply bytes (for stale replies).
    private var lastReply: [Int: ShardReply] = [:]
    /// Requests received, by worker, in order (what a worker was sent).
    public private(set) var received: [String: [ShardRequest]] = [:]

    /// Loads the job's data into `workers` workspaces (shard s goes to worker s mod `workers`).
    /// - Parameters:
    ///   - rounds: the rounds the workers answer, with their codecs.
    ///   - broadcasts: the job-level broadcasts the workers take, with their codecs.
    ///   - faults: the faults to inject.
    /// - Throws: `InputError` from reading the data.
    public init(
        prepared: PreparedJob, workers count: Int, rounds: [any RoundCodec.Type],
        broadcasts: [any BroadcastCodec.Type] = [], faults: [Fault] = [], batchRows: Int = 256
    ) throws {
        broadcastCodecs = Dictionary(broadcasts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        workers = (0..<count).map { "worker-\($0)" }
        owners = (0..<prepared.job.shards).map { "worker-\($0 % count)" }
        self.faults = faults
        self.rounds = Dictionary(rounds.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for w in workers { workspaces[w] = try ShardWorkspace(plan: prepared.plan) }
        let ws = workspaces
        let own = owners
        for s in own.indices { ws[own[s]]!.touch(shard: s) }
        if prepared.job.source == .shards {
            for s in own.indices { ws[own[s]]!.load(shardFile: prepared.shardFile(s)!, shard: s) }
        } else {
            _ = try prepared.streamRows(batchRows: batchRows) { ws[own[$0.shard]]!.add($0) }
        }
    }

    public func send(_ request: ShardRequest, to worker: String) throws {
        let key = request.key
        if faults.contains(.loseWorker(worker, atRound: key.round)), lost.insert(worker).inserted {
            queue.append((Date(), .lost(worker: worker, reason: "worker \(worker) stopped (injected fault)")))
        }
        guard !lost.contains(worker), let ws = workspaces[worker] else { return }
        received[worker, default: []].append(request)
        let result: Result<[UInt8], ShardFailure>
        if let codec = rounds[request.roundID] {
            result = Self.answer(codec, request.payload, shard: key.shard, in: ws)
        } else {
            let why = "worker \(worker) does not know the round '\(request.roundID)'"
            result = .failure(ShardFailure(rowIndex: 0, line: 0, column: nil, message: why, isInternal: true))
        }
        let reply = ShardReply(key: key, roundID: request.roundID, worker: worker, result: result)
        defer { lastReply[key.shard] = reply }
        var due = Date()
        for fault in faults {
            switch fault {
            case .drop(key.round, key.shard): return
            case .delay(key.round, key.shard, let seconds): due = due.addingTimeInterval(seconds)
            case .stale(key.round, key.shard, let staleness):
                guard var old = lastReply[key.shard] else { continue }
                old.key = key
                switch staleness {
                case .olderAttempt: old.key.attempt = key.attempt - 1
                case .olderRound: old.key.round = key.round - 1
                case .otherJob: old.key.job = key.job + "-other"
                }
                old.roundID = request.roundID
                queue.append((Date(), .reply(old)))
            default: continue
            }
        }
        queue.append((due, .reply(reply)))
        if faults.contains(.duplicate(round: key.round, shard: key.shard)) { queue.append((due, .reply(reply))) }
    }

    public func send(_ broadcast: BroadcastMessage, to worker: String) throws {
        guard !lost.contains(worker), let ws = workspaces[worker] else { return }
        broadcastsReceived[worker, default: []].append(broadcast)
        guard let codec = broadcastCodecs[broadcast.name] else {
            return ws.failBroadcast(broadcast.name, "worker \(worker) does not know the broadcast '\(broadcast.name)'")
        }
        Self.take(codec, broadcast.payload, in: ws)
    }

    /// Decodes a broadcast and keeps it in `ws` (or records why it could not), as a worker does.
    public static func take<C: BroadcastCodec>(_ codec: C.Type, _ payload: [UInt8], in ws: ShardWorkspace) {
        do { ws.keep(try C.decode(payload, plan: ws.plan)) } catch {
            ws.failBroadcast(C.name, "malformed \(C.name) broadcast: \(error)")
        }
    }

    public func receive(timeout: Double) throws -> [TransportEvent] {
        let limit = Date().addingTimeInterval(timeout)
        if let next = queue.map(\.due).min(), next > Date() {
            Thread.sleep(until: min(next, limit))
        } else if queue.isEmpty {
            Thread.sleep(until: limit)
        }
        let now = Date()
        let due = queue.filter { $0.due <= now }.map(\.event)
        queue.removeAll { $0.due <= now }
        return due
    }

    /// Decodes a round's request, answers it for one shard and encodes the statistic (or the failure), as a worker
    /// does.
    public static func answer<C: RoundCodec>(_ round: C.Type, _ payload: [UInt8], shard: Int, in ws: ShardWorkspace)
        -> Result<[UInt8], ShardFailure>
    {
        let request: C.Request
        do { request = try C.decode(request: payload, plan: ws.plan) } catch {
            let message = "malformed \(C.id) request: \(error)"
            return .failure(ShardFailure(rowIndex: 0, line: 0, column: nil, message: message, isInternal: true))
        }
        return ws.answer(C.self, request, shard: shard).map(C.encode(statistic:))
    }
}
