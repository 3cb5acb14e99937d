import ArgumentParser
import Cluster
import Foundation
import Jobs
import Logging

struct Coordinator: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a coordinator that workers join and `causa submit` sends jobs to.",
        discussion: """
            Jobs run one at a time, on the workers alive when the job starts. SIGINT or SIGTERM: the coordinator finishes \
            the running job, answers its client and exits; workers keep running and join the next coordinator on the same address.
            """)

    @Option(help: ArgumentHelp("ZeroMQ endpoint to bind, e.g. tcp://0.0.0.0:5555.", valueName: "tcp://HOST:PORT"))
    var bind: String
    @Option(help: "Seconds of silence after which a worker counts as lost.") var heartbeatTimeout = 5.0
    @Option(help: "Seconds a submitted job waits for a first worker when none has joined.") var workerWait = 30.0
    @Option(
        help: ArgumentHelp(
            "Folder where the coordinator keeps the last deployed policy, so a restart on the same address serves it again (default: $XDG_STATE_HOME/causa or ~/.local/state/causa; \"none\" keeps nothing).",
            valueName: "DIR"))
    var stateDir: String?
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try validateSeconds(heartbeatTimeout, "--heartbeat-timeout")
        try validateSeconds(workerWait, "--worker-wait")
    }

    func run() throws {
        let logger = common.bootstrap()
        installStopHandlers()
        try guarded {
            var configuration = Cluster.Coordinator.Configuration()
            configuration.heartbeatTimeout = heartbeatTimeout
            configuration.workerWait = workerWait
            if stateDir != "none" {
                let env = ProcessInfo.processInfo.environment
                let base =
                    env["XDG_STATE_HOME"].map { $0 + "/causa" }
                    ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/state/causa").path
                configuration.stateDirectory = stateDir ?? base
            }
            let executable = selfExecutable()
            // Job text from clients is parsed in a child process: an abort in the TOML library cannot end this one.
            configuration.parseJob = { try JobTextGuard.parseIsolated(text: $0, path: $1, executable: executable) }
            let coordinator = try Cluster.Coordinator(bind: bind, configuration: configuration, logger: logger)
            print("coordinator listening on \(coordinator.endpoint)")
            fflush(stdout)
            try coordinator.serve { stopRequested }
        }
    }
}

struct Worker: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a worker that joins a coordinator, holds shards and computes their statistics.")

    @Option(help: ArgumentHelp("The coordinator's endpoint.", valueName: "tcp://HOST:PORT")) var connect: String
    @Option(help: "A unique name for this worker (default: host:pid:nonce).") var name: String?
    @Option(help: "Seconds of coordinator silence before reconnecting (or exiting).") var coordinatorTimeout = 60.0
    @Flag(help: "Exit when the coordinator goes silent (or the parent process ends) instead of reconnecting.")
    var exitOnCoordinatorLoss = false
    @OptionGroup var common: CommonOptions

    func validate() throws { try validateSeconds(coordinatorTimeout, "--coordinator-timeout") }

    func run() throws {
        let logger = common.bootstrap()
        try guarded {
            var configuration = Cluster.Worker.Configuration()
            configuration.coordinatorTimeout = coordinatorTimeout
            configuration.exitOnCoordinatorLoss = exitOnCoordinatorLoss
            try Cluster.Worker(connect: connect, name: name, configuration: configuration, logger: logger).run()
        }
    }
}

struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a job to a running coordinator, wait for it, and write DIR/report.json.",
        discussion: "Relative data paths resolve against the job file's folder; the coordinator must see the same path."
    )

    @Argument(help: ArgumentHelp("The job file (TOML).", valueName: "JOB.toml")) var job: String
    @Option(help: ArgumentHelp("The coordinator's endpoint.", valueName: "tcp://HOST:PORT")) var coordinator: String
    @Option(help: ArgumentHelp("Folder for report.json (created if missing).", valueName: "DIR")) var out: String
    @Option(help: "Seconds to wait for the result.") var timeout = 3600.0
    @Option(help: "Seconds without a heartbeat after which the coordinator counts as gone (it sends one a second).")
    var silenceTimeout = 5.0
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try validateSeconds(timeout, "--timeout")
        try validateSeconds(silenceTimeout, "--silence-timeout")
    }

    func run() throws {
        _ = common.bootstrap()
        try guarded {
            _ = try loadJob(job)  // input errors before anything is sent
            guard let text = try? String(contentsOfFile: job, encoding: .utf8) else {
                throw InputError(file: job, "cannot read the job file")
            }
            switch try SubmitClient.submit(
                jobPath: job, jobText: text, coordinator: coordinator, timeout: timeout,
                silence: silenceTimeout)
            {
            case .report(let json, let table, let files):
                let path = try FitReport.write(json: json, files: files, toDirectory: out)
                print(table, terminator: "")
                print("report: \(path)")
            case .inputError(let message):
                FileHandle.standardError.write(Data("error: \(message)\n".utf8))
                throw ExitCode(2)
            case .runError(let message):
                FileHandle.standardError.write(Data("error: \(message)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
