import Foundation
import Jobs
import Logging
import Statistics
import ZeroMQ

/// The coordinator: a ROUTER socket that workers and submit clients connect to.
///
/// It keeps the membership table (Hello, heartbeats both ways), runs one job at a time (`run(job:)`), and in
/// daemon mode (`serve`) takes jobs from `causa submit` clients. All socket work happens on the calling thread, except
/// the heartbeats to waiting submit clients, which a thread of their own sends (`SharedRouter`).
///
/// Reliability follows the ZeroMQ guide's patterns: heartbeats both ways (Paranoid Pirate), credit-based flow
/// control for the row stream (so high-water marks are never hit and nothing is dropped), ROUTER_MANDATORY (a
/// send to a vanished peer is an error, not a silent drop), and a timeout on every wait.
///
/// - Note: Not thread-safe: use from one thread.
public final class Coordinator {
    /// Timing and sizing knobs.
    public struct Configuration: Sendable {
        /// Seconds between heartbeats the coordinator sends to each worker.
        public var heartbeatInterval: Double = 0.5
        /// Seconds of silence after which a worker is considered gone.
        public var heartbeatTimeout: Double = 5
        /// Seconds a round may take before the job fails.
        public var roundTimeout: Double = 600
        /// Rows per batch in the row stream.
        public var batchRows = 256
        /// Unacknowledged batches allowed per worker (credit window).
        public var creditWindow = 16
        /// Seconds a submitted job waits for a first worker when none has joined.
        public var workerWait: Double = 30
        /// Seconds between heartbeats to waiting submit clients (sent from a thread of their own).
        public var clientHeartbeatInterval: Double = 1
        /// Parses a submitted job's text (text, path). The default pre-scans and parses in this process; `causa
        /// coordinator` parses in a child process (`JobTextGuard.parseIsolated`), so no job text can abort it.
        public var parseJob: @Sendable (String, String) throws -> JobSpec = {
            try JobTextGuard.parseInProcess(text: $0, path: $1)
        }
        /// Where the coordinator keeps the last deployed policy (routing and its copy of the lists), so a restarted
        /// coordinator on the same address answers `causa recommend` again; nil keeps nothing.
        public var stateDirectory: String?
        public init() {}
    }

    struct Member {
        var name: String
        var identity: [UInt8]
        var pid: UInt32
        var host: String
        var lastSeen: Date
        /// When this incarnation joined; a worker that re-joins under its name during a job has lost the job's state.
        var joined: Date
        var incarnation: UInt64
    }

    /// A message from a worker that belongs to a job.
    struct JobMessage {
        var worker: String
        var envelope: Causa_Wire_Envelope
        var bytes: Int
    }

    public let configuration: Configuration
    public let logger: Logger
    /// The bound endpoint, with the real port (e.g. `tcp://127.0.0.1:41234`).
    public let endpoint: String
    let context: ZMQContext
    /// The ROUTER socket, shared with the client-heartbeat thread: use it only through `router.withSocket`.
    let router: SharedRouter
    var members: [String: Member] = [:]
    var joinOrder: [String] = []
    var nameByIdentity: [[UInt8]: String] = [:]
    var submits: [([UInt8], Causa_Wire_Submit)] = []
    var jobMessages: [JobMessage] = []
    /// The policy the last policy job deployed (`causa recommend` is routed by it).
    var deployed: DeployedPolicy?
    /// Recommend requests forwarded to workers and not yet answered: request id → client identity and request.
    var pendingRecommends: [UInt64: ([UInt8], Causa_Wire_Recommend)] = [:]
    var recommendCounter: UInt64 = 0
    var lastHeartbeat = Date.distantPast
    var jobCounter = 0

    /// Binds the ROUTER socket.
    /// - Parameter bind: a ZeroMQ endpoint; `tcp://127.0.0.1:*` picks a free port.
    /// - Throws: `ClusterError` (`.transport`) when the endpoint cannot be bound.
    public init(bind: String, configuration: Configuration = .init(), logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        // One OpenBLAS thread: the coordinator's products are small (p × p solves, one d × d eigen-decomposition per
        // text job), and idle OpenBLAS threads spin on the cores the workers need.
        LinearAlgebra.setThreads(1)
        let socket: ZMQSocket
        do {
            context = try ZMQContext()
            socket = try ZMQSocket(context: context, type: .router)
            try socket.setLinger(0)
            try socket.setRouterMandatory(true)
            try socket.setSendTimeout(30_000)
            try socket.setSendHighWaterMark(10_000)
            try socket.setReceiveHighWaterMark(10_000)
            try socket.bind(bind)
            endpoint = try socket.lastEndpoint
        } catch {
            throw ClusterError(.transport, "cannot bind the coordinator to \(bind)", cause: error)
        }
        router = SharedRouter(socket: socket, interval: configuration.clientHeartbeatInterval, logger: logger)
        router.start()
        logger.info("coordinator listening", metadata: ["endpoint": "\(endpoint)"])
        reloadDeployment()
    }

    deinit {
        router.stop()
        router.socket.close()
    }

    /// Workers currently alive, in join order.
    public var workerNames: [String] { joinOrder.filter { members[$0] != nil } }

    // MARK: socket pump

    /// Waits up to `timeout` seconds for messages, handles membership and heartbeats, queues job messages and
    /// submits. Returns after the first batch of messages or the timeout.
    func pump(timeout: Double) throws {
        // Read what is queued before judging anyone silent: after the coordinator itself was busy (a long solve, a
        // big file), workers' heartbeats are waiting in the socket.
        try drain()
        sendHeartbeatsIfDue()
        if try router.poll(timeout: timeout) { try drain() }
        evictSilentWorkers()
        sendHeartbeatsIfDue()
    }

    /// Receives every queued message: membership and heartbeats handled here, job messages and submits queued.
    func drain() throws {
        for frames in try router.receiveAll() {
            guard frames.count == 2 else {
                logger.warning("dropped a message with \(frames.count) frames")
                continue
            }
            let identity = frames[0]
            let envelope: Causa_Wire_Envelope
            do { envelope = try Wire.decode(frames[1]) } catch {
                logger.warning("dropped a frame", metadata: ["reason": "\(error)"])
                continue
            }
            if let name = nameByIdentity[identity] { members[name]?.lastSeen = Date() }
            switch envelope.body {
            case .hello(let h):
                register(h, identity: identity)
            case .heartbeat(let h):
                members[h.sender]?.lastSeen = Date()
            case .submit(let s):
                submits.append((identity, s))
            case .recommend(let r):
                routeRecommend(r, client: identity)
            case .recommendation(let r):
                if let (client, request) = pendingRecommends.removeValue(forKey: r.requestID) {
                    // A worker that restarted has lost its part of the policy: answer from the coordinator's copy.
                    if !r.ok, deployed?.copy != nil {
                        answerFromCopy(request, client: client, owner: r.worker)
                    } else {
                        _ = try? router.withSocket {
                            try $0.send([client, Wire.encode(Wire.envelope(.recommendation(r)))])
                        }
                    }
                }
            case .batchAck, .roundReply:
                if let name = nameByIdentity[identity] {
                    jobMessages.append(JobMessage(worker: name, envelope: envelope, bytes: frames[1].count))
                }
            default:
                logger.warning(
                    "dropped an unexpected message",
                    metadata: ["body": "\(String(describing: envelope.body).prefix(40))"])
            }
        }
    }

    /// Where the deployed policy lives: its version, the shard count, each shard's owner at deployment, and the
    /// coordinator's copy of the lists (to answer for a worker that has left).
    struct DeployedPolicy: Codable {
        var version: String
        var shards: Int
        var owners: [String]
        var copy: Deployment?
        /// The job's `data.user_key` columns (a request must give one value per column).
        var userKey: [String]?
    }

    /// The file the deployed policy is kept in: one per endpoint bound (`tcp://127.0.0.1:*` resolves to a port).
    var stateFile: URL? {
        guard let dir = configuration.stateDirectory else { return nil }
        let name = endpoint.map { $0.isLetter || $0.isNumber ? $0 : "_" }
        return URL(fileURLWithPath: dir).appendingPathComponent("deployed-\(String(name)).json")
    }

    /// Writes the deployed policy to `stateFile` (temporary file and rename); a failure is logged, not fatal.
    func persistDeployment() {
        guard let file = stateFile, let deployed else { return }
        do {
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            let tmp = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).tmp")
            try JSONEncoder().encode(deployed).write(to: tmp)
            if rename(tmp.path, file.path) != 0 { throw RunError(String(cString: strerror(errno))) }
            logger.info("deployed policy kept", metadata: ["file": "\(file.path)", "version": "\(deployed.version)"])
        } catch {
            logger.warning("cannot keep the deployed policy", metadata: ["file": "\(file.path)", "error": "\(error)"])
        }
    }

    /// Reads the deployed policy a previous coordinator on this address kept.
    func reloadDeployment() {
        guard let file = stateFile, let data = FileManager.default.contents(atPath: file.path) else { return }
        do {
            deployed = try JSONDecoder().decode(DeployedPolicy.self, from: data)
            logger.info(
                "deployed policy reloaded", metadata: ["file": "\(file.path)", "version": "\(deployed!.version)"])
        } catch {
            logger.warning(
                "cannot read the kept deployed policy", metadata: ["file": "\(file.path)", "error": "\(error)"])
        }
    }

    /// Sends a client's `Recommend` to the worker that owns the user's shard under the deployed policy, or answers
    /// at once when there is no deployed policy or that worker is gone.
    func routeRecommend(_ r: Causa_Wire_Recommend, client: [UInt8]) {
        func fail(_ message: String) {
            var answer = Causa_Wire_Recommendation()
            answer.message = message
            _ = try? router.withSocket { try $0.send([client, Wire.encode(Wire.envelope(.recommendation(answer)))]) }
        }
        guard let d = deployed else {
            return fail("no policy is deployed on this coordinator: submit a job with [policy] learners first")
        }
        if let key = d.userKey, key.count != r.userKey.count {
            return fail(
                "policy \(d.version) identifies a user by \(key.count) value\(key.count == 1 ? "" : "s") (\(key.joined(separator: ", "))); give --user \(key.count == 1 ? "once" : "\(key.count) times, in that order"), not \(r.userKey.count)"
            )
        }
        let shard = UserKey.shard(hash: UserKey.hash(r.userKey), shards: d.shards)
        let owner = d.owners[shard]
        guard let member = members[owner] else {
            // The owner has left (or this coordinator restarted and it has not joined yet): answer from the copy.
            guard d.copy != nil else {
                return fail(
                    "the worker that holds this user's part of policy \(d.version) (\(owner)) has left; run the policy job again to deploy on the workers alive now"
                )
            }
            return answerFromCopy(r, client: client, owner: owner)
        }
        recommendCounter += 1
        var forward = r
        forward.shard = UInt32(shard)
        forward.requestID = recommendCounter
        pendingRecommends[recommendCounter] = (client, r)
        _ = try? router.withSocket {
            try $0.send([member.identity, Wire.encode(Wire.envelope(.recommend(forward)))])
        }
    }

    /// Answers a `Recommend` from the coordinator's copy of the deployed policy (no explanations).
    func answerFromCopy(_ r: Causa_Wire_Recommend, client: [UInt8], owner: String) {
        guard let d = deployed, let copy = d.copy else { return }
        let shard = UserKey.shard(hash: UserKey.hash(r.userKey), shards: d.shards)
        let (items, probabilities, rewards, _, known) = copy.recommend(
            user: UserKey.hash(r.userKey), shard: shard, top: r.top == 0 ? Int.max : Int(r.top))
        var answer = Causa_Wire_Recommendation()
        answer.ok = true
        answer.items = items
        answer.probabilities = probabilities
        answer.predictedRewards = rewards
        answer.explanations = items.map { _ in
            "(answered by the coordinator from its copy of the policy: \(owner), which holds this shard, cannot answer; no explanation)"
        }
        answer.worker = "coordinator"
        answer.policyVersion = copy.version
        answer.knownUser = known
        _ = try? router.withSocket { try $0.send([client, Wire.encode(Wire.envelope(.recommendation(answer)))]) }
    }

    /// Forgets workers silent for twice the heartbeat timeout (outside jobs; jobs check their own workers).
    func evictSilentWorkers() {
        let now = Date()
        for name in workerNames
        where now.timeIntervalSince(members[name]!.lastSeen) > 2 * configuration.heartbeatTimeout {
            logger.info("worker left (no heartbeat)", metadata: ["worker.id": "\(name)"])
            forget(name)
        }
    }

    func register(_ hello: Causa_Wire_Hello, identity: [UInt8]) {
        if let old = members[hello.workerName] {
            if old.identity == identity, old.incarnation == hello.incarnation { return }  // a repeated Hello
            nameByIdentity[old.identity] = nil
            logger.info("worker re-joined (restarted or reconnected)", metadata: ["worker.id": "\(hello.workerName)"])
        }
        if members[hello.workerName] == nil {
            joinOrder.removeAll { $0 == hello.workerName }
            joinOrder.append(hello.workerName)
        }
        members[hello.workerName] = Member(
            name: hello.workerName, identity: identity, pid: hello.pid, host: hello.host, lastSeen: Date(),
            joined: Date(), incarnation: hello.incarnation)
        nameByIdentity[identity] = hello.workerName
        logger.info(
            "worker joined",
            metadata: ["worker.id": "\(hello.workerName)", "pid": "\(hello.pid)", "host": "\(hello.host)"])
    }

    func sendHeartbeatsIfDue() {
        let now = Date()
        guard now.timeIntervalSince(lastHeartbeat) >= configuration.heartbeatInterval else { return }
        lastHeartbeat = now
        var beat = Causa_Wire_Heartbeat()
        beat.sender = "coordinator"
        let frame = Wire.encode(Wire.envelope(.heartbeat(beat)))
        for name in workerNames {
            guard let m = members[name] else { continue }
            do { _ = try router.withSocket { try $0.send([m.identity, frame], dontWait: true) } } catch {
                logger.info("worker unreachable", metadata: ["worker.id": "\(name)"])
                forget(name)
            }
        }
    }

    func forget(_ name: String) {
        if let m = members.removeValue(forKey: name) { nameByIdentity[m.identity] = nil }
        joinOrder.removeAll { $0 == name }
    }

    /// Sends a job frame to a worker, counting its bytes.
    func send(_ envelope: Causa_Wire_Envelope, to name: String, counter: inout Int) throws {
        guard let m = members[name] else {
            throw ClusterError(
                .workerLost,
                "worker \(name) left the cluster during the job; the job failed (failover is not implemented yet)")
        }
        let frame = Wire.encode(envelope)
        do {
            guard try router.withSocket({ try $0.send([m.identity, frame]) }) else {
                throw ClusterError(
                    .timeout, "worker \(name) did not accept a message within 30 s (its queue is full); the job failed")
            }
        } catch let e as ZMQError {
            throw ClusterError(
                .workerLost,
                "worker \(name) (pid \(m.pid) on \(m.host)) is unreachable; the job failed (failover is not implemented yet)",
                cause: e)
        }
        counter += frame.count
    }

    /// Throws when one of `names` has been silent longer than the heartbeat timeout, or re-joined after `since`
    /// (it restarted or reconnected, and lost the job's state).
    func checkAlive(_ names: Set<String>, since: Date = .distantPast) throws {
        if let (name, reason) = lostWorker(names, since: since) {
            throw ClusterError(
                .workerLost, "worker \(name) \(reason); the job failed (failover is not implemented yet)")
        }
    }

    /// The first of `names` (sorted) that has been silent longer than the heartbeat timeout, left, or re-joined after
    /// `since`, with the reason; nil when all are alive.
    func lostWorker(_ names: Set<String>, since: Date = .distantPast) -> (String, String)? {
        let now = Date()
        for name in names.sorted() {
            guard let m = members[name] else { return (name, "left the cluster during the job") }
            if m.joined > since {
                return (
                    name,
                    "(pid \(m.pid) on \(m.host)) re-joined during the job (it restarted or reconnected and lost its shards)"
                )
            }
            let silent = now.timeIntervalSince(m.lastSeen)
            if silent > configuration.heartbeatTimeout {
                return (name, "(pid \(m.pid) on \(m.host)) sent no heartbeat for \(String(format: "%.1f", silent)) s")
            }
        }
        return nil
    }

    // MARK: membership waits

    /// Handles membership messages for up to `timeout` seconds (for callers that wait on something else too).
    public func processMessages(timeout: Double) throws { try pump(timeout: timeout) }

    /// Waits until at least `count` workers have joined.
    /// - Throws: `ClusterError(.noWorkers)` after `timeout` seconds.
    public func waitForWorkers(_ count: Int, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while workerNames.count < count {
            if Date() > deadline {
                if workerNames.isEmpty {
                    throw ClusterError(
                        .noWorkers,
                        "no worker joined the coordinator at \(endpoint) within \(Int(timeout)) s; start workers with `causa worker --connect \(endpoint)`"
                    )
                }
                throw ClusterError(
                    .noWorkers,
                    "only \(workerNames.count) of the \(count) workers the job needs joined within \(Int(timeout)) s")
            }
            try pump(timeout: 0.1)
        }
    }

    /// Asks every worker to exit.
    public func shutdownWorkers() {
        let frame = Wire.encode(Wire.envelope(.shutdown(.init())))
        for name in workerNames {
            if let m = members[name] { _ = try? router.withSocket { try $0.send([m.identity, frame], dontWait: true) } }
        }
    }

    // MARK: jobs

    /// Runs a job on the workers that are alive now.
    /// - Parameter minimumWorkers: wait up to `workerWait` seconds for this many workers first.
    /// - Returns: the report.
    /// - Throws: `InputError` (exit 2), `ClusterError` or `RunError` (exit 1).
    public func run(job: JobSpec, minimumWorkers: Int = 1, workerWait: Double = 30) throws -> FitReport {
        jobCounter += 1
        return try run(
            prepared: try PreparedJob(job: job, jobID: "job-\(jobCounter)"), minimumWorkers: minimumWorkers,
            workerWait: workerWait)
    }

    /// Runs a job whose data file was already opened and checked (`PreparedJob`), on the workers alive now.
    /// - Throws: as `run(job:minimumWorkers:workerWait:)`.
    public func run(prepared: PreparedJob, minimumWorkers: Int = 1, workerWait: Double = 30) throws -> FitReport {
        let started = Date()
        let cpuStart = Self.processCPUSeconds()
        let job = prepared.job
        try waitForWorkers(minimumWorkers, timeout: workerWait)
        let execution = try ClusterExecution(coordinator: self, prepared: prepared)
        defer { execution.end() }
        let streamStart = Date()
        try execution.streamRows()
        let streamed = Date().timeIntervalSince(streamStart)
        let outcome = try FitDriver(prepared: prepared, logger: logger).run(on: execution)
        var timings = outcome.timings
        timings["stream"] = streamed
        timings["total"] = Date().timeIntervalSince(started)
        timings["coordinator_cpu"] = Self.processCPUSeconds() - cpuStart
        var report = FitReport(
            job: .init(job), cluster: .init(workers: execution.workers.count, shards: job.shards),
            data: outcome.data, model: outcome.model, cv: outcome.cv,
            network: .init(
                bytes_sent: execution.bytesSent, bytes_received: execution.bytesReceived,
                row_stream_bytes: execution.rowStreamBytes), timings_s: timings)
        report.text = outcome.text
        report.sem = outcome.sem
        report.bayes = outcome.bayes
        report.ope = outcome.ope
        report.ope_info = outcome.opeInfo
        report.policy = outcome.policy
        report.files = outcome.files
        if let policy = outcome.policy {
            deployed = DeployedPolicy(
                version: policy.policy_version, shards: job.shards, owners: execution.owners, copy: outcome.deployment,
                userKey: job.userKey)
            persistDeployment()
        }
        return report
    }

    /// User + system CPU seconds of this process so far (all its threads; worker processes are not counted).
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// Daemon loop: serves submitted jobs until `shouldStop` returns true (checked every 100 ms).
    public func serve(shouldStop: () -> Bool) throws {
        while !shouldStop() {
            try pump(timeout: 0.1)
            jobMessages.removeAll()  // stale messages of finished jobs
            while !submits.isEmpty {
                let (client, submit) = submits.removeFirst()
                answer(client: client, submit: submit)
            }
        }
    }

    func answer(client: [UInt8], submit: Causa_Wire_Submit) {
        var result = Causa_Wire_SubmitResult()
        do {
            let job = try configuration.parseJob(submit.jobText, submit.jobPath)
            logger.info("job submitted", metadata: ["job": "\(submit.jobPath)"])
            let report = try run(job: job, minimumWorkers: 1, workerWait: configuration.workerWait)
            result.status = .ok
            result.reportJson = Data(try report.jsonData())
            result.table = report.table()
            result.files = report.files
        } catch let e as InputError {
            result.status = .inputError
            result.message = e.description
        } catch {
            result.status = .runError
            result.message = "\(error)"
        }
        logger.info("job finished", metadata: ["status": "\(result.status)"])
        let frame = Wire.encode(Wire.envelope(.submitResult(result)))
        _ = try? router.withSocket { try $0.send([client, frame]) }
        router.answered(client)
    }
}

/// One job on the cluster: shard ownership, the row stream, and rounds. The `ShardExecutor` the fit driver runs on.
final class ClusterExecution: ShardExecutor {
    let coordinator: Coordinator
    let prepared: PreparedJob
    let workers: [String]
    /// Workers that own at least one shard: the ones whose loss fails the job.
    let involved: Set<String>
    let owners: [String]
    let started = Date()
    /// Rounds over the ZeroMQ transport: keys, duplicates, stale replies, timeouts and the replay log.
    private(set) var exchange: RoundExchange!
    var bytesSent = 0
    var bytesReceived = 0
    var rowStreamBytes = 0
    var shardCount: Int { prepared.job.shards }
    var jobID: String { prepared.plan.jobID }

    init(coordinator: Coordinator, prepared: PreparedJob) throws {
        self.coordinator = coordinator
        self.prepared = prepared
        self.workers = coordinator.workerNames
        guard !workers.isEmpty else {
            throw ClusterError(.noWorkers, "no workers have joined the coordinator at \(coordinator.endpoint)")
        }
        self.owners = Rendezvous.owners(shards: prepared.job.shards, workers: workers)
        self.involved = Set(owners)
        coordinator.jobMessages.removeAll()
        let plan = Wire.plan(prepared.plan)
        for s in 0..<shardCount {
            var a = Causa_Wire_ShardAssignment()
            a.plan = plan
            a.shard = UInt32(s)
            a.totalShards = UInt32(shardCount)
            if let file = prepared.shardFile(s) { a.shardFile = file }
            try coordinator.send(Wire.envelope(jobID: jobID, .assignment(a)), to: owners[s], counter: &bytesSent)
        }
        exchange = RoundExchange(
            plan: prepared.plan, owners: owners, transport: ZeroMQTransport(execution: self),
            roundTimeout: coordinator.configuration.roundTimeout)
        exchange.onIgnored = { [logger = coordinator.logger] reply, why in
            logger.debug(
                "ignored a reply", metadata: ["key": "\(reply.key)", "worker": "\(reply.worker)", "why": "\(why)"])
        }
        coordinator.logger.info(
            "job started", metadata: ["job": "\(jobID)", "workers": "\(workers.count)", "shards": "\(shardCount)"])
    }

    /// Streams every row to its shard's owner with a credit window per worker.
    func streamRows() throws {
        var outstanding: [String: Int] = [:]
        var sequence: UInt64 = 0
        let window = coordinator.configuration.creditWindow
        var lastProgress = Date()
        func drainAcks(until done: () -> Bool) throws {
            while !done() {
                try coordinator.pump(timeout: 0.05)
                for m in takeMessages() {
                    if case .batchAck = m.envelope.body {
                        outstanding[m.worker, default: 0] -= 1
                        lastProgress = Date()
                    }
                }
                try coordinator.checkAlive(involved, since: started)
                if Date().timeIntervalSince(lastProgress) > coordinator.configuration.roundTimeout {
                    throw ClusterError(
                        .timeout,
                        "workers stopped acknowledging rows for \(Int(coordinator.configuration.roundTimeout)) s")
                }
            }
        }
        _ = try prepared.streamRows(batchRows: coordinator.configuration.batchRows) { batch in
            let owner = owners[batch.shard]
            try drainAcks { outstanding[owner, default: 0] < window }
            sequence += 1
            let before = bytesSent
            try coordinator.send(
                Wire.envelope(jobID: jobID, .rowBatch(Wire.batch(batch, sequence: sequence))), to: owner,
                counter: &bytesSent)
            rowStreamBytes += bytesSent - before
            outstanding[owner, default: 0] += 1
        }
        try drainAcks { outstanding.values.allSatisfy { $0 <= 0 } }
    }

    func takeMessages() -> [Coordinator.JobMessage] {
        let all = coordinator.jobMessages
        coordinator.jobMessages.removeAll()
        var mine: [Coordinator.JobMessage] = []
        for m in all where m.envelope.jobID == jobID {
            bytesReceived += m.bytes
            mine.append(m)
        }
        return mine
    }

    func answers<R: Round>(_ round: R.Type, perShard requests: [R.Request]) throws -> [ShardAnswer<R.Statistic>] {
        try exchange.answers(round, perShard: requests)
    }

    func broadcast<B: JobBroadcast>(_ value: B) throws { try exchange.broadcast(value) }

    /// Tells every worker to drop the job's state (best effort).
    func end() {
        let frame = Wire.envelope(jobID: jobID, .jobEnd(.init()))
        var ignored = 0
        for w in workers where coordinator.members[w] != nil { try? coordinator.send(frame, to: w, counter: &ignored) }
    }
}

/// The ZeroMQ `ShardTransport` of one job: round requests and replies as `RoundRequest`/`RoundReply` envelopes on
/// the coordinator's ROUTER socket (job id and round number in the envelope, shard and attempt in the message);
/// losses from the membership table (heartbeats, re-joins, departures) of the workers that own a shard.
final class ZeroMQTransport: ShardTransport {
    unowned let execution: ClusterExecution
    init(execution: ClusterExecution) { self.execution = execution }

    func send(_ request: ShardRequest, to worker: String) throws {
        var r = Causa_Wire_RoundRequest()
        r.shard = UInt32(request.key.shard)
        r.round = request.roundID
        r.attempt = request.key.attempt
        r.payload = Data(request.payload)
        try execution.coordinator.send(
            Wire.envelope(jobID: request.key.job, round: request.key.round, .roundRequest(r)), to: worker,
            counter: &execution.bytesSent)
    }

    func send(_ broadcast: BroadcastMessage, to worker: String) throws {
        var b = Causa_Wire_Broadcast()
        b.name = broadcast.name
        b.payload = Data(broadcast.payload)
        try execution.coordinator.send(
            Wire.envelope(jobID: broadcast.job, .broadcast(b)), to: worker, counter: &execution.bytesSent)
    }

    func receive(timeout: Double) throws -> [TransportEvent] {
        try execution.coordinator.pump(timeout: timeout)
        var events: [TransportEvent] = []
        for m in execution.takeMessages() {
            guard case .roundReply(let r) = m.envelope.body else { continue }
            let key = RoundKey(job: m.envelope.jobID, round: m.envelope.round, shard: Int(r.shard), attempt: r.attempt)
            let result: Result<[UInt8], ShardFailure>
            switch r.result {
            case .statistic(let bytes): result = .success([UInt8](bytes))
            case .failure(let f): result = .failure(Wire.failure(f))
            case nil: throw RunError("worker \(m.worker) sent a \(r.round) reply without a result for shard \(r.shard)")
            }
            events.append(.reply(ShardReply(key: key, roundID: r.round, worker: m.worker, result: result)))
        }
        if let (worker, reason) = execution.coordinator.lostWorker(execution.involved, since: execution.started) {
            events.append(.lost(worker: worker, reason: reason))
        }
        return events
    }

    func error(_ fault: TransportFault, _ message: String) -> Error {
        switch fault {
        case .workerLost: return ClusterError(.workerLost, message)
        case .timeout: return ClusterError(.timeout, message)
        }
    }
}
