import ArgumentParser
import Cluster
import Foundation
import Jobs
import Logging

struct Local: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a job on this machine: a coordinator and N worker processes over TCP on 127.0.0.1.",
        discussion:
            "Writes DIR/report.json and prints the coefficient table. Every process started is stopped before exit.")

    @Option(help: ArgumentHelp("The job file (TOML).", valueName: "JOB.toml")) var job: String
    @Option(help: "Worker processes to start (1...64).") var workers = 2
    @Option(help: ArgumentHelp("Folder for report.json (created if missing).", valueName: "DIR")) var out: String
    @Option(help: "Seconds of silence after which a worker counts as lost.") var heartbeatTimeout = 5.0
    @Option(
        help: ArgumentHelp(
            "[policy] jobs: write the reward model's q̂ for every valued row and catalogue item to FILE (CSV: row, item_id, q_hat).",
            valueName: "FILE"))
    var exportPredictions: String?
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be in 1...64, got \(workers).") }
        try validateSeconds(heartbeatTimeout, "--heartbeat-timeout")
    }

    func run() throws {
        let logger = common.bootstrap()
        try guarded {
            let spec = try loadJob(job)
            var prepared = try PreparedJob(job: spec, jobID: "job-1")  // input errors before any process starts
            if let exportPredictions {
                guard let policy = spec.policy else {
                    throw InputError(file: job, "--export-predictions needs a job with a [policy] table")
                }
                guard spec.kind != .sem, policy.reward == prepared.plan.outcomeColumn else {
                    throw InputError(
                        file: job,
                        "--export-predictions writes the reward model's q̂, and this job has none (a sem model, or a reward other than the model's outcome)"
                    )
                }
                let target = URL(fileURLWithPath: exportPredictions).standardizedFileURL.path
                let outputs = ["report.json", "policy.json", "recommendations.csv"].map {
                    URL(fileURLWithPath: out).appendingPathComponent($0).standardizedFileURL.path
                }
                guard !outputs.contains(target) else {
                    throw InputError(
                        file: job,
                        "--export-predictions \(exportPredictions) is one of the report's own files in \(out)")
                }
                prepared.predictionsPath = exportPredictions
            }
            var configuration = Cluster.Coordinator.Configuration()
            configuration.heartbeatTimeout = heartbeatTimeout
            let coordinator = try Cluster.Coordinator(
                bind: "tcp://127.0.0.1:*", configuration: configuration, logger: logger)
            let processes = try spawnWorkers(endpoint: coordinator.endpoint, logger: logger)
            defer { stop(processes, coordinator: coordinator) }
            try waitForWorkers(coordinator, processes)
            let report = try coordinator.run(prepared: prepared, minimumWorkers: workers)
            let path = try report.write(toDirectory: out)
            print(report.table(), terminator: "")
            print("report: \(path)")
        }
    }

    func spawnWorkers(endpoint: String, logger: Logger) throws -> [Process] {
        let executable = selfExecutable()
        let level = common.logLevel <= .info ? common.logLevel.rawValue : "warning"
        return try (0..<workers).map { i in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = [
                "worker", "--connect", endpoint, "--name", "local-\(i + 1)", "--exit-on-coordinator-loss",
                "--coordinator-timeout", "60", "--log-level", level
            ]
            do { try p.run() } catch { throw RunError("cannot start worker process \(executable): \(error)") }
            return p
        }
    }

    func waitForWorkers(_ coordinator: Cluster.Coordinator, _ processes: [Process]) throws {
        let deadline = Date().addingTimeInterval(60)
        while coordinator.workerNames.count < workers {
            if let dead = processes.first(where: { !$0.isRunning }) {
                throw RunError("a worker process exited during start-up (status \(dead.terminationStatus))")
            }
            if Date() > deadline {
                throw RunError("only \(coordinator.workerNames.count) of \(workers) workers joined within 60 s")
            }
            try coordinator.processMessages(timeout: 0.2)
        }
    }

    func stop(_ processes: [Process], coordinator: Cluster.Coordinator) {
        coordinator.shutdownWorkers()
        let deadline = Date().addingTimeInterval(3)
        while processes.contains(where: \.isRunning), Date() < deadline { usleep(20_000) }
        for p in processes where p.isRunning { p.terminate() }
        for p in processes { p.waitUntilExit() }
    }
}
