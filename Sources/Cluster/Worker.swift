import Foundation
import Jobs
import Logging
import Statistics
import ZeroMQ

/// A worker process's loop: joins a coordinator, holds the rows of the shards it owns, and answers rounds.
///
/// Heartbeats go out from a separate thread on their own socket, so a long computation never looks like a dead
/// worker. The main loop watches the coordinator's heartbeats; after `coordinatorTimeout` seconds of silence it
/// either exits (when `exitOnCoordinatorLoss`, as `causa local` uses it) or reconnects and says Hello again
/// (the ZeroMQ guide's Paranoid Pirate worker).
///
/// - Note: `run()` blocks the calling thread; use one worker per process (a cluster scales by processes).
public final class Worker {
    public struct Configuration: Sendable {
        /// Seconds between heartbeats to the coordinator.
        public var heartbeatInterval: Double = 0.5
        /// Seconds of coordinator silence before reconnecting (or exiting). Generous: a coordinator busy with a
        /// large solve sends no heartbeats meanwhile.
        public var coordinatorTimeout: Double = 60
        /// Exit instead of reconnecting when the coordinator goes silent.
        public var exitOnCoordinatorLoss = false
        public init() {}
    }

    public let endpoint: String
    public let name: String
    public let configuration: Configuration
    public let logger: Logger
    let context: ZMQContext
    var workspaces: [String: ShardWorkspace] = [:]
    /// The rounds this worker answers, by id.
    let rounds: [String: any RoundCodec.Type]
    /// The job-level broadcasts this worker takes, by name.
    let broadcasts: [String: any BroadcastCodec.Type]
    /// Jobs whose plan could not be taken: every request of theirs is answered with this fault.
    var brokenJobs: [String: String] = [:]
    /// The policy this worker serves for its users (`causa recommend`): the last one a policy job deployed here.
    public internal(set) var deployment: Deployment?
    /// The parent process at start; with `exitOnCoordinatorLoss`, a changed parent (ours died) also ends the worker.
    let parent = getppid()

    /// - Parameters:
    ///   - connect: the coordinator's endpoint, e.g. `tcp://10.0.0.5:5555`.
    ///   - name: a unique worker name; defaults to `host:pid:nonce`.
    ///   - rounds: the rounds this worker answers, each with its codec (the built-in ones unless told).
    ///   - broadcasts: the job-level broadcasts it takes, each with its codec (the built-in ones unless told).
    /// - Throws: `ClusterError(.transport)` when ZeroMQ cannot start.
    public init(
        connect: String, name: String? = nil, configuration: Configuration = .init(), logger: Logger,
        rounds: [any RoundCodec.Type] = RoundCodecs.standard,
        broadcasts: [any BroadcastCodec.Type] = BroadcastCodecs.standard
    ) throws {
        self.rounds = RoundCodecs.byID(rounds)
        self.broadcasts = BroadcastCodecs.byName(broadcasts)
        self.endpoint = connect
        self.name =
            name ?? "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UInt32.random(in: 0...UInt32.max) % 100_000)"
        self.configuration = configuration
        self.logger = logger
        // One OpenBLAS thread per worker process: a cluster scales by processes (and statistics do not depend on
        // OpenBLAS's thread partitioning).
        LinearAlgebra.setThreads(1)
        do { context = try ZMQContext() } catch { throw ClusterError(.transport, "cannot start ZeroMQ", cause: error) }
    }

    func connectSocket() throws -> ZMQSocket {
        let s = try ZMQSocket(context: context, type: .dealer)
        try s.setLinger(0)
        try s.setSendTimeout(30_000)
        try s.setSendHighWaterMark(10_000)
        try s.setReceiveHighWaterMark(10_000)
        try s.connect(endpoint)
        var hello = Causa_Wire_Hello()
        hello.workerName = name
        hello.pid = UInt32(getpid())
        hello.host = ProcessInfo.processInfo.hostName
        hello.incarnation = UInt64.random(in: 1...UInt64.max)
        _ = try s.send([Wire.encode(Wire.envelope(.hello(hello)))])
        return s
    }

    /// Runs until the coordinator says Shutdown (or goes silent, with `exitOnCoordinatorLoss`).
    /// - Throws: `ClusterError(.transport)` on socket failures.
    public func run() throws {
        let heartbeat = HeartbeatThread(
            context: context, endpoint: endpoint, name: name, interval: configuration.heartbeatInterval, logger: logger)
        heartbeat.start()
        defer { heartbeat.stop() }
        var socket = try connectSocket()
        defer { socket.close() }
        logger.info("worker started", metadata: ["worker.id": "\(name)", "coordinator": "\(endpoint)"])
        var lastHeard = Date()
        while true {
            let ready = try ZMQPoller.poll([(socket, .readable)], timeoutMilliseconds: 100)
            if ready.first?.contains(.readable) != true {
                if configuration.exitOnCoordinatorLoss, getppid() != parent {
                    logger.info("parent process ended; exiting", metadata: ["worker.id": "\(name)"])
                    return
                }
                if Date().timeIntervalSince(lastHeard) > configuration.coordinatorTimeout {
                    if configuration.exitOnCoordinatorLoss {
                        logger.info("coordinator silent; exiting", metadata: ["worker.id": "\(name)"])
                        return
                    }
                    logger.info("coordinator silent; reconnecting", metadata: ["worker.id": "\(name)"])
                    socket.close()
                    workspaces.removeAll()
                    brokenJobs.removeAll()
                    socket = try connectSocket()
                    lastHeard = Date()
                }
                continue
            }
            while let frames = try socket.receive(dontWait: true) {
                lastHeard = Date()
                guard frames.count == 1 else {
                    logger.warning("dropped a message with \(frames.count) frames")
                    continue
                }
                let envelope: Causa_Wire_Envelope
                do { envelope = try Wire.decode(frames[0]) } catch {
                    logger.warning("dropped a frame", metadata: ["reason": "\(error)"])
                    continue
                }
                if case .shutdown = envelope.body {
                    logger.info("shutdown requested", metadata: ["worker.id": "\(name)"])
                    return
                }
                if let reply = handle(envelope) { _ = try socket.send([Wire.encode(reply)]) }
            }
        }
    }

    /// Handles one message; returns the reply to send, if any.
    func handle(_ envelope: Causa_Wire_Envelope) -> Causa_Wire_Envelope? {
        let job = envelope.jobID
        switch envelope.body {
        case .heartbeat:
            return nil
        case .assignment(let a):
            do {
                if workspaces[job] == nil, brokenJobs[job] == nil {
                    workspaces[job] = try ShardWorkspace(plan: try Wire.plan(a.plan))
                }
                guard workspaces[job] != nil else { return nil }
                if a.shardFile.isEmpty {
                    workspaces[job]!.touch(shard: Int(a.shard))
                } else {
                    workspaces[job]!.load(shardFile: a.shardFile, shard: Int(a.shard))
                }
            } catch {
                logger.error("cannot take an assignment", metadata: ["job": "\(job)", "error": "\(error)"])
                brokenJobs[job] = "worker \(name) cannot take the job's plan: \(error)"
            }
            return nil
        case .rowBatch(let b):
            // Always acknowledged, so the coordinator never waits on a batch; a problem surfaces in the next round.
            if let ws = workspaces[job] {
                do { ws.add(try Wire.batch(b, columns: ws.plan.columns.count)) } catch {
                    logger.warning("bad row batch", metadata: ["reason": "\(error)"])
                    ws.fail(shard: Int(b.shard), "worker \(name) received a malformed row batch: \(error)")
                }
            } else {
                logger.warning("rows for an unknown job", metadata: ["job": "\(job)"])
            }
            var ack = Causa_Wire_BatchAck()
            ack.sequence = b.sequence
            return Wire.envelope(jobID: job, .batchAck(ack))
        case .roundRequest(let r):
            var reply = Causa_Wire_RoundReply()
            reply.shard = r.shard
            reply.round = r.round
            reply.attempt = r.attempt
            let internalFailure = { (why: String) in
                Causa_Wire_RoundReply.OneOf_Result.failure(
                    Wire.failure(ShardFailure(rowIndex: 0, line: 0, column: nil, message: why, isInternal: true)))
            }
            if let ws = workspaces[job] {
                if let round = rounds[r.round] {
                    reply.result = Self.answer(round, [UInt8](r.payload), shard: Int(r.shard), in: ws)
                } else {
                    reply.result = internalFailure("worker \(name) does not know the round '\(r.round)'")
                }
            } else {
                // Answer rather than stay silent, so the coordinator fails the job now instead of at its timeout.
                let lost = "worker \(name) has no state for job \(job) (it restarted or reconnected)"
                reply.result = internalFailure(brokenJobs[job] ?? lost)
            }
            return Wire.envelope(jobID: job, round: envelope.round, .roundReply(reply))
        case .broadcast(let b):
            // Kept for the job; a broadcast that cannot be taken fails the rounds that need it (not silence).
            if let ws = workspaces[job] {
                if let codec = broadcasts[b.name] {
                    InProcessTransport.take(codec, [UInt8](b.payload), in: ws)
                } else {
                    ws.failBroadcast(b.name, "worker \(name) does not know the broadcast '\(b.name)'")
                }
            } else {
                logger.warning("a broadcast for an unknown job", metadata: ["job": "\(job)"])
            }
            return nil
        case .jobEnd:
            if let d = workspaces[job]?.deployment {
                deployment = d
                logger.info("policy deployed", metadata: ["version": "\(d.version)", "shards": "\(d.shards.count)"])
            }
            workspaces[job] = nil
            brokenJobs[job] = nil
            return nil
        case .recommend(let r):
            var answer = Causa_Wire_Recommendation()
            answer.requestID = r.requestID
            answer.worker = name
            if let d = deployment {
                let (items, probabilities, rewards, explanations, known) = d.recommend(
                    user: UserKey.hash(r.userKey), shard: Int(r.shard), top: r.top == 0 ? Int.max : Int(r.top))
                answer.ok = true
                answer.items = items
                answer.probabilities = probabilities
                answer.explanations = explanations
                answer.predictedRewards = rewards
                answer.policyVersion = d.version
                answer.knownUser = known
            } else {
                answer.message = "worker \(name) has no deployed policy (it restarted since the policy job)"
            }
            return Wire.envelope(.recommendation(answer))
        default:
            logger.warning("dropped an unexpected message", metadata: ["job": "\(job)"])
            return nil
        }
    }
    /// Decodes a round's request, answers it for one shard and encodes the statistic (or the failure).
    static func answer<C: RoundCodec>(_ round: C.Type, _ payload: [UInt8], shard: Int, in ws: ShardWorkspace)
        -> Causa_Wire_RoundReply.OneOf_Result
    {
        let request: C.Request
        do { request = try C.decode(request: payload, plan: ws.plan) } catch {
            let f = ShardFailure(
                rowIndex: 0, line: 0, column: nil, message: "malformed \(C.id) request: \(error)",
                isInternal: true)
            return .failure(Wire.failure(f))
        }
        switch ws.answer(C.self, request, shard: shard) {
        case .success(let statistic): return .statistic(Data(C.encode(statistic: statistic)))
        case .failure(let f): return .failure(Wire.failure(f))
        }
    }
}

/// Sends `Heartbeat(sender: name)` every `interval` seconds on its own DEALER socket, from its own thread.
final class HeartbeatThread: @unchecked Sendable {
    let context: ZMQContext
    let endpoint: String
    let name: String
    let interval: Double
    let logger: Logger
    private lazy var periodic = PeriodicThread(name: "causa-heartbeat", interval: interval) { [unowned self] t in
        loop(t)
    }

    init(context: ZMQContext, endpoint: String, name: String, interval: Double, logger: Logger) {
        self.context = context
        self.endpoint = endpoint
        self.name = name
        self.interval = interval
        self.logger = logger
    }

    func start() { periodic.start() }

    func stop() { periodic.stop() }

    private func loop(_ t: PeriodicThread) {
        do {
            let s = try ZMQSocket(context: context, type: .dealer)
            defer { s.close() }
            try s.setLinger(0)
            try s.setSendHighWaterMark(4)
            try s.connect(endpoint)
            var beat = Causa_Wire_Heartbeat()
            beat.sender = name
            let frame = Wire.encode(Wire.envelope(.heartbeat(beat)))
            while !t.isStopped {
                _ = try s.send([frame], dontWait: true)
                t.pause()
            }
        } catch {
            logger.error("heartbeat thread stopped", metadata: ["error": "\(error)"])
        }
    }
}
