import Foundation
import Logging
import XCTest
import ZeroMQ

@testable import Cluster
@testable import Jobs

/// Issue 9, part 1, over real ZeroMQ: `[text]` jobs whose workers own nothing, job text parsed out of process by a
/// serving coordinator, and heartbeats to submit clients while the coordinator's thread is busy.
final class CrashSafetyClusterTests: XCTestCase {
    /// The built `causa` next to the test bundle (nil when only the tests were built).
    static var causa: String? {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("causa"),
            Bundle.main.bundleURL.appendingPathComponent("causa"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("causa")
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }?.path
    }

    /// A `[text]` job: rows of users `rowUsers` naming items i1 and i2; user texts from the data or a users file.
    static func textJob(users: String, items: Bool, shards: Int, rowUsers: [String]) throws -> String {
        try Fixtures.writeTextJob(in: Fixtures.folder(), users: users, items: items, shards: shards, rowUsers: rowUsers)
    }

    /// Text jobs on placements where some workers own no rows, users or items (rendezvous ownership, item vectors
    /// shared per worker): the cluster runs them and gives the in-process result.
    func testTextJobsWithIdleWorkersMatchInProcess() throws {
        let cases: [(String, Bool, Int, [String], Int)] = [
            ("data", false, 2, ["u1", "u2", "u3", "u4"], 1),
            ("file", true, 8, ["u1", "u2", "u3", "u1", "u2", "u3"], 3),
            ("file", true, 8, ["u1", "u2", "u3", "u1", "u2", "u3"], 4),
            ("data", true, 2, ["u1", "u2", "u3", "u4", "u5"], 4),
            ("none", true, 8, ["u1", "u2", "u3", "u4"], 4),
            ("file", false, 8, ["u1", "u2", "u3"], 4)
        ]
        for (users, items, shards, rows, workers) in cases {
            let path = try Self.textJob(users: users, items: items, shards: shards, rowUsers: rows)
            let spec = try JobSpec.load(path: path)
            let coordinator = try Coordinator(bind: "tcp://127.0.0.1:*", logger: quiet)
            let threads = try WorkerThreads(count: workers, endpoint: coordinator.endpoint, prefix: "idle")
            defer {
                coordinator.shutdownWorkers()
                threads.join()
            }
            let report = try coordinator.run(job: spec, minimumWorkers: workers, workerWait: 20)
            let prepared = try PreparedJob(job: spec, jobID: "local")
            let local = try FitDriver(prepared: prepared, logger: quiet).run(
                on: try InProcessExecutor(prepared: prepared, workers: 1))
            XCTAssertEqual(
                report.model, local.model, "users \(users), items \(items), \(shards) shards, \(workers) workers")
        }
    }

    /// Runs `serve` on a thread of its own until `stop()`.
    final class Serving: @unchecked Sendable {
        let coordinator: Coordinator
        private let lock = NSLock()
        private var stopped = false
        private var thread: Thread?
        init(_ coordinator: Coordinator) {
            self.coordinator = coordinator
            let t = Thread { [self] in try? coordinator.serve { self.isStopped } }
            thread = t
            t.start()
        }
        var isStopped: Bool {
            lock.lock()
            defer { lock.unlock() }
            return stopped
        }
        func stop() {
            lock.lock()
            stopped = true
            lock.unlock()
            while thread?.isFinished == false { usleep(5000) }
        }
    }

    /// A serving coordinator that parses in a child process (`causa parse-job`) refuses C22's job text sent straight
    /// to it (no client-side check) with its position, and serves the next jobs: the text job that used to kill it
    /// and a plain one.
    func testServingCoordinatorRefusesBadJobTextAndServesTheNext() throws {
        let causa = try XCTUnwrap(Self.causa, "build the causa executable first")
        var configuration = Coordinator.Configuration()
        configuration.parseJob = { try JobTextGuard.parseIsolated(text: $0, path: $1, executable: causa) }
        let coordinator = try Coordinator(bind: "tcp://127.0.0.1:*", configuration: configuration, logger: quiet)
        let endpoint = coordinator.endpoint
        let threads = try WorkerThreads(count: 2, endpoint: endpoint, prefix: "serve")
        let serving = Serving(coordinator)
        defer {
            serving.stop()
            coordinator.shutdownWorkers()
            threads.join()
        }
        let field = fixtures.appendingPathComponent("cases/C22_bad_table_header.toml").path
        let texts = [
            (field, try String(contentsOfFile: field, encoding: .utf8)), ("/tmp/raw.toml", "[[=\n"),
            ("/tmp/raw.toml", "[[model]\n")
        ]
        for (path, text) in texts {
            guard
                case .inputError(let message) = try SubmitClient.submit(
                    jobPath: path, jobText: text, coordinator: endpoint, timeout: 60)
            else {
                return XCTFail("\(text): not an input error")
            }
            XCTAssertTrue(message.contains("TOML syntax error") && message.contains(path + ":"), message)
        }
        XCTAssertTrue(
            try SubmitClient.submit(jobPath: "/tmp/raw.toml", jobText: "[[=\n", coordinator: endpoint, timeout: 60)
                .isInputError(at: "/tmp/raw.toml:1:3:"))
        let textJob = try Self.textJob(users: "data", items: false, shards: 2, rowUsers: ["u1", "u2", "u3", "u4"])
        let fewUsers = try Self.textJob(users: "file", items: true, shards: 8, rowUsers: ["u1", "u2", "u3", "u1"])
        for path in [textJob, fewUsers] {
            guard
                case .report = try SubmitClient.submit(
                    jobPath: path, jobText: try String(contentsOfFile: path, encoding: .utf8), coordinator: endpoint,
                    timeout: 60)
            else {
                return XCTFail("\(path): no report")
            }
        }
    }

    /// Field case C22 against a running `causa coordinator` process: the bad job text goes straight to it (no
    /// client-side check), is refused with its position, and the coordinator then serves a `[text]` job of the other
    /// crash family and a plain job, and is still running.
    func testRunningCoordinatorProcessRefusesBadJobTextAndServesTheNext() throws {
        let causa = try XCTUnwrap(Self.causa, "build the causa executable first")
        let executable = URL(fileURLWithPath: causa)
        let (coordinator, endpoint) = try CausaProcesses.startCoordinator(executable: executable)
        defer { CausaProcesses.stop([coordinator]) }
        let workers = try CausaProcesses.startWorkers(
            executable: executable, endpoint: endpoint, count: 1, prefix: "c22")
        defer { CausaProcesses.stop(workers) }
        let field = fixtures.appendingPathComponent("cases/C22_bad_table_header.toml").path
        let variants =
            ["[[[model]]", "[[[1]]]", "[[[a]]]", "[[[]]", "[[="].map { ($0 + "\n", "/tmp/c22.toml:1:3:") }
            + [("[model]]\n", "/tmp/c22.toml:1:8:"), ("[[model]\n", "/tmp/c22.toml:1:8:")]
        for (text, place) in [(try String(contentsOfFile: field, encoding: .utf8), field + ":4:3:")] + variants {
            let path = text.hasPrefix("#") ? field : "/tmp/c22.toml"
            let result = try SubmitClient.submit(jobPath: path, jobText: text, coordinator: endpoint, timeout: 60)
            XCTAssertTrue(result.isInputError(at: place), "\(text): \(result)")
            XCTAssertTrue(coordinator.isRunning, "the coordinator died on \(text)")
        }
        let textJob = try Self.textJob(users: "data", items: false, shards: 2, rowUsers: ["u1", "u2", "u3", "u4"])
        let plain = try Self.textJob(users: "file", items: true, shards: 8, rowUsers: ["u1", "u2", "u3", "u1"])
        for path in [textJob, plain] {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let result = try SubmitClient.submit(jobPath: path, jobText: text, coordinator: endpoint, timeout: 60)
            guard case .report = result else { return XCTFail("\(path): \(result)") }
        }
        XCTAssertTrue(coordinator.isRunning)
    }

    /// The coordinator's thread is busy (here: blocked for 8 s, as in a long solve) while a client waits with a
    /// 3 s silence limit: the heartbeat thread keeps the client waiting, and it gets its answer.
    func testBusyCoordinatorIsNotTakenForDead() throws {
        var configuration = Coordinator.Configuration()
        configuration.clientHeartbeatInterval = 0.5
        let coordinator = try Coordinator(bind: "tcp://127.0.0.1:*", configuration: configuration, logger: quiet)
        let endpoint = coordinator.endpoint
        final class Outcome: @unchecked Sendable {
            var result: Result<SubmitClient.Result, Error>?
            var finished: Date?
        }
        let outcome = Outcome()
        let client = Thread {
            outcome.result = Result {
                try SubmitClient.submit(
                    jobPath: "/tmp/busy.toml", jobText: "[[=\n", coordinator: endpoint, timeout: 30, silence: 3)
            }
            outcome.finished = Date()
        }
        client.start()
        let deadline = Date().addingTimeInterval(10)
        while coordinator.submits.isEmpty, Date() < deadline { try coordinator.processMessages(timeout: 0.05) }
        XCTAssertEqual(coordinator.submits.count, 1)
        let busyUntil = Date().addingTimeInterval(8)
        sleep(8)  // busy: no pump, no answer
        let (identity, submit) = coordinator.submits.removeFirst()
        coordinator.answer(client: identity, submit: submit)
        while !client.isFinished { usleep(10_000) }
        XCTAssertGreaterThanOrEqual(outcome.finished!.timeIntervalSince(busyUntil), -0.5)
        guard case .success(.inputError(let message))? = outcome.result else {
            return XCTFail("\(String(describing: outcome.result))")
        }
        XCTAssertTrue(message.hasPrefix("/tmp/busy.toml:1:3: TOML syntax error"), message)
    }
}

/// Wire messages from a faulty or hostile peer: sizes and counts beyond any data are decode errors, not traps.
final class WireBoundsTests: XCTestCase {
    func plan() throws -> JobPlan {
        let spec = try job(kind: "ols", formula: "click ~ item_id", folds: 2, shards: 4)
        return try PreparedJob(job: spec, jobID: "wire").plan
    }

    func testCountsAndDimensionsBeyondAnyDataAreDecodeErrors() throws {
        let plan = try plan()
        // A summary whose row count does not fit Int (Int(UInt64.max) traps).
        var summary = Causa_Wire_ShardSummary()
        summary.columns = plan.columns.map {
            var c = Causa_Wire_ColumnSummary()
            c.name = $0
            return c
        }
        summary.rows = UInt64.max
        XCTAssertThrowsError(try SummarizeRound.decode(statistic: Wire.bytes(summary), request: .init(), plan: plan)) {
            XCTAssertTrue("\($0)".contains("rows"), "\($0)")
        }
        // An embed reply of dimension 4·10⁹ and no items (a d × d moment matrix would be allocated).
        var embedded = Causa_Wire_EmbedStatistic()
        embedded.dimension = 4_000_000_000
        XCTAssertThrowsError(
            try EmbedRound.decode(
                statistic: Wire.bytes(embedded), request: EmbedRequest(users: [], items: []),
                plan: plan))
        // A features request whose k × d overflows Int.
        var features = Causa_Wire_FeaturesRequest()
        features.components = UInt32.max
        features.dimension = UInt32.max
        XCTAssertThrowsError(try FeaturesRound.decode(request: Wire.bytes(features), plan: plan)) {
            XCTAssertTrue("\($0)".contains("k = "), "\($0)")
        }
        // A moment matrix whose count is NaN (the coordinator would trap in Int(count) in a message).
        var moments = Causa_Wire_MomentMatrix()
        moments.dimension = 1
        moments.count = .nan
        moments.mean = [0]
        moments.comoment = [0]
        XCTAssertThrowsError(try Wire.moments(moments, dimension: 1)) {
            XCTAssertTrue("\($0)".contains("not a count"), "\($0)")
        }
        moments.count = 3
        XCTAssertEqual(try Wire.moments(moments, dimension: 1).count, 3)
        // A packed matrix of a dimension whose d(d+1)/2 overflows.
        XCTAssertThrowsError(try Wire.unpackSymmetric([], Int.max))
        // A plan with one fold (a worker would divide by it) or without the text columns it names.
        var wirePlan = Wire.plan(plan)
        wirePlan.folds = 1
        XCTAssertThrowsError(try Wire.plan(wirePlan)) { XCTAssertTrue("\($0)".contains("1 folds"), "\($0)") }
        // Row positions beyond Int are clamped (they only name rows in messages).
        var batch = Causa_Wire_RowBatch()
        batch.rowIndex = [UInt64.max]
        batch.line = [UInt64.max]
        batch.userHash = [1]
        batch.fields = plan.columns.map { _ in "1" }
        XCTAssertEqual(try Wire.batch(batch, columns: plan.columns.count).rowIndex, [Int.max])
    }
}

extension SubmitClient.Result {
    func isInputError(at place: String) -> Bool {
        if case .inputError(let m) = self { return m.hasPrefix(place) }
        return false
    }
}
