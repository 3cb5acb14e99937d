@_exported import CausaTestSupport
import Foundation
import Logging
import XCTest
import ZeroMQ

@testable import Cluster
@testable import Jobs

let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
let fixtures = Fixtures.root

/// Starts workers on background threads of this process, each with its own ZeroMQ context and sockets.
final class WorkerThreads {
    var threads: [Thread] = []
    init(count: Int, endpoint: String, prefix: String = "w") throws {
        for i in 0..<count {
            var configuration = Cluster.Worker.Configuration()
            configuration.exitOnCoordinatorLoss = true
            configuration.coordinatorTimeout = 5
            let worker = try Cluster.Worker(
                connect: endpoint, name: "\(prefix)\(i)", configuration: configuration, logger: quiet)
            let t = Thread { try? worker.run() }
            threads.append(t)
            t.start()
        }
    }
    func join(timeout: Double = 10) {
        let deadline = Date().addingTimeInterval(timeout)
        while threads.contains(where: { !$0.isFinished }), Date() < deadline { usleep(10_000) }
    }
}

/// A worker (not connected) that holds job "j"'s plan (an OLS job with 2 folds on one shard): for tests that hand it
/// envelopes directly.
func assignedWorker() throws -> (worker: Cluster.Worker, plan: JobPlan) {
    let spec = try job(kind: "ols", formula: "click ~ item_id", folds: 2, shards: 1)
    let plan = try PreparedJob(job: spec, jobID: "j").plan
    let worker = try Cluster.Worker(connect: "tcp://127.0.0.1:1", name: "w", logger: quiet)
    var assignment = Causa_Wire_ShardAssignment()
    assignment.plan = Wire.plan(plan)
    assignment.totalShards = 1
    XCTAssertNil(worker.handle(Wire.envelope(jobID: "j", .assignment(assignment))))
    return (worker, plan)
}

func job(kind: String, formula: String, folds: Int = 5, foldBy: String = "row", shards: Int = 24) throws -> JobSpec {
    let text = """
        [data]
        path = "\(fixtures.appendingPathComponent("obd/random_10k.csv").path)"
        user_key = ["user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3"]
        [model]
        kind = "\(kind)"
        formula = '\(formula)'
        [cv]
        folds = \(folds)
        fold_by = "\(foldBy)"
        [cluster]
        shards = \(shards)
        """
    return try JobSpec.parse(text: text, path: "/tmp/cluster-test.toml")
}

final class ClusterTests: XCTestCase {
    /// The same job over real ZeroMQ with 1, 2 and 5 workers gives the same report but for the run facts.
    func testReportIsIdenticalWithOneTwoAndFiveWorkers() throws {
        let spec = try job(
            kind: "logit", formula: "click ~ C(position) + I(item_id == 49) + I(item_id == 6)", foldBy: "user")
        var reports: [FitReport] = []
        for n in [1, 2, 5] {
            let coordinator = try Coordinator(bind: "tcp://127.0.0.1:*", logger: quiet)
            let workers = try WorkerThreads(count: n, endpoint: coordinator.endpoint)
            defer {
                coordinator.shutdownWorkers()
                workers.join()
            }
            var report = try coordinator.run(job: spec, minimumWorkers: n, workerWait: 20)
            XCTAssertEqual(report.cluster.workers, n)
            report.timings_s = [:]
            report.cluster.workers = 0
            reports.append(report)
        }
        XCTAssertEqual(reports[1], reports[0])
        XCTAssertEqual(reports[2], reports[0])
        XCTAssertEqual(try reports[2].jsonData(), try reports[0].jsonData())
        XCTAssertGreaterThan(reports[0].network.bytes_sent, 0)
    }

    /// The cluster gives the in-process result, so the statsmodels parity of Jobs carries over.
    func testClusterMatchesInProcessExecution() throws {
        let spec = try job(kind: "ols", formula: "click ~ C(position) + C(user_feature_0) + item_id")
        let coordinator = try Coordinator(bind: "tcp://127.0.0.1:*", logger: quiet)
        let workers = try WorkerThreads(count: 2, endpoint: coordinator.endpoint)
        defer {
            coordinator.shutdownWorkers()
            workers.join()
        }
        let report = try coordinator.run(job: spec, minimumWorkers: 2)
        let prepared = try PreparedJob(job: spec, jobID: "local")
        let local = try FitDriver(prepared: prepared, logger: quiet).run(
            on: try InProcessExecutor(prepared: prepared, workers: 3))
        XCTAssertEqual(report.model, local.model)
        XCTAssertEqual(report.cv, local.cv)
        XCTAssertEqual(report.data.rows, 10_000)
    }

    /// A worker that joins and then goes silent makes the job fail with a message naming it, within the timeout.
    func testSilentWorkerFailsTheJobClearly() throws {
        var configuration = Coordinator.Configuration()
        configuration.heartbeatTimeout = 1
        let coordinator = try Coordinator(bind: "tcp://127.0.0.1:*", configuration: configuration, logger: quiet)
        let context = try ZMQContext()
        let ghost = try ZMQSocket(context: context, type: .dealer)
        defer { ghost.close() }
        try ghost.setLinger(0)
        try ghost.connect(coordinator.endpoint)
        var hello = Causa_Wire_Hello()
        hello.workerName = "ghost"
        hello.pid = 4242
        _ = try ghost.send([Wire.encode(Wire.envelope(.hello(hello)))])
        let started = Date()
        XCTAssertThrowsError(
            try coordinator.run(job: try job(kind: "ols", formula: "click ~ C(position)"), minimumWorkers: 1)
        ) { error in
            let e = error as? ClusterError
            XCTAssertEqual(e?.code, .workerLost, "\(error)")
            XCTAssertTrue("\(error)".contains("ghost"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 15)
    }

    /// Garbage and other protocol versions are logged and dropped; the coordinator keeps working.
    func testUndecodableFramesAndOtherVersionsAreDropped() throws {
        let coordinator = try Coordinator(bind: "tcp://127.0.0.1:*", logger: quiet)
        let context = try ZMQContext()
        let client = try ZMQSocket(context: context, type: .dealer)
        defer { client.close() }
        try client.setLinger(0)
        try client.connect(coordinator.endpoint)
        _ = try client.send([[0xFF, 0x00, 0x13, 0x37]])
        var future = Wire.envelope(.hello(Causa_Wire_Hello()))
        future.protocolVersion = 99
        _ = try client.send([Wire.encode(future)])
        _ = try client.send([[1], [2], [3]])
        try coordinator.processMessages(timeout: 0.3)
        XCTAssertEqual(coordinator.workerNames, [])
        XCTAssertThrowsError(try Wire.decode(Wire.encode(future)))
        let workers = try WorkerThreads(count: 1, endpoint: coordinator.endpoint)
        defer {
            coordinator.shutdownWorkers()
            workers.join()
        }
        let report = try coordinator.run(job: try job(kind: "ols", formula: "click ~ C(position)"), minimumWorkers: 1)
        XCTAssertEqual(report.data.rows, 10_000)
    }

    /// Input errors found by workers come back with the data file's line and column.
    func testWorkerFoundInputErrorsKeepTheirPosition() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-cluster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var lines = try String(contentsOf: fixtures.appendingPathComponent("obd/random_300.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        var fields = lines[200].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[3] = "yes"
        lines[200] = fields.joined(separator: ",")
        let data = dir.appendingPathComponent("bad.csv")
        try (lines.joined(separator: "\n") + "\n").write(to: data, atomically: true, encoding: .utf8)
        var spec = try job(kind: "ols", formula: "click ~ C(position)")
        spec.resolvedDataPath = data.path
        let coordinator = try Coordinator(bind: "tcp://127.0.0.1:*", logger: quiet)
        let workers = try WorkerThreads(count: 2, endpoint: coordinator.endpoint)
        defer {
            coordinator.shutdownWorkers()
            workers.join()
        }
        XCTAssertThrowsError(try coordinator.run(job: spec, minimumWorkers: 2)) { error in
            let e = error as? InputError
            XCTAssertEqual(e?.line, 201)
            XCTAssertEqual(e?.column, 4)
            XCTAssertTrue(e?.message.contains("'yes'") == true, "\(error)")
        }
    }

    func testRendezvousOwnershipIsBalancedStableAndMovesLittle() {
        let three = Rendezvous.owners(shards: 512, workers: ["a", "b", "c"])
        XCTAssertEqual(
            three, Rendezvous.owners(shards: 512, workers: ["c", "a", "b"]), "order of workers must not matter")
        for w in ["a", "b", "c"] {
            let share = three.filter { $0 == w }.count
            XCTAssert(
                (170...171).contains(share), "worker \(w) owns \(share) of 512 shards; bounded loads give 170 or 171")
        }
        for (s, n) in [(64, 2), (7, 3), (128, 5), (3, 4)] {
            let names = (1...n).map { "local-\($0)" }
            let counts = names.map { w in Rendezvous.owners(shards: s, workers: names).filter { $0 == w }.count }
            XCTAssertEqual(
                counts.max()! - counts.min()!, s % n == 0 ? 0 : 1, "\(s) shards over \(n) workers: \(counts)")
        }
        // A joining worker takes its share (128 of 512); the bound moves some more, far from a reshuffle (~384).
        let four = Rendezvous.owners(shards: 512, workers: ["a", "b", "c", "d"])
        let toNew = (0..<512).filter { four[$0] != three[$0] && four[$0] == "d" }.count
        let moved = (0..<512).filter { four[$0] != three[$0] }.count
        XCTAssertEqual(toNew, 128)
        XCTAssert(moved <= 200, "\(moved) shards moved")
    }
}

final class ClusterReliabilityTests: XCTestCase {
    /// A coordinator that was busy longer than twice the heartbeat timeout still has its workers: their heartbeats
    /// waited in the socket and are read before anyone is judged silent.
    func testCoordinatorStallDoesNotEvictLiveWorkers() throws {
        var configuration = Coordinator.Configuration()
        configuration.heartbeatTimeout = 0.4
        configuration.heartbeatInterval = 0.1
        let coordinator = try Coordinator(bind: "tcp://127.0.0.1:*", configuration: configuration, logger: quiet)
        let workers = try WorkerThreads(count: 1, endpoint: coordinator.endpoint)
        defer {
            coordinator.shutdownWorkers()
            workers.join()
        }
        try coordinator.waitForWorkers(1, timeout: 20)
        Thread.sleep(forTimeInterval: 1.2)  // busy: no pumping for 3 × the timeout
        try coordinator.processMessages(timeout: 0.05)
        XCTAssertEqual(coordinator.workerNames, ["w0"])
    }

    /// A worker that re-joins under its name during a job (restarted, lost its shards) fails the job at once.
    func testWorkerRejoiningDuringAJobFailsItQuickly() throws {
        let coordinator = try Coordinator(bind: "tcp://127.0.0.1:*", logger: quiet)
        let workers = try WorkerThreads(count: 1, endpoint: coordinator.endpoint)
        defer {
            coordinator.shutdownWorkers()
            workers.join()
        }
        try coordinator.waitForWorkers(1, timeout: 20)
        // An impostor says Hello as w0 shortly after the job starts.
        let context = try ZMQContext()
        let impostor = try ZMQSocket(context: context, type: .dealer)
        defer { impostor.close() }
        try impostor.setLinger(0)
        try impostor.connect(coordinator.endpoint)
        let sender = Thread {
            Thread.sleep(forTimeInterval: 0.3)
            var hello = Causa_Wire_Hello()
            hello.workerName = "w0"
            hello.incarnation = 99
            _ = try? impostor.send([Wire.encode(Wire.envelope(.hello(hello)))])
        }
        sender.start()
        let started = Date()
        let spec = try job(kind: "logit", formula: "click ~ C(position) + C(item_id)", folds: 5, foldBy: "user")
        XCTAssertThrowsError(try coordinator.run(job: spec, minimumWorkers: 1)) { error in
            XCTAssertEqual((error as? ClusterError)?.code, .workerLost, "\(error)")
            XCTAssertTrue("\(error)".contains("re-joined") || "\(error)".contains("no state"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 30)
        while !sender.isFinished { usleep(10_000) }
    }
}
