import ArgumentParser
import Cluster
import Foundation
import Jobs
import Logging
import Statistics

@main
struct Causa: ParsableCommand {
    /// Like `ParsableCommand.main()`, but command-line mistakes (unknown option, bad value, failed validation) exit
    /// with 2, the code of every other input error, instead of argument-parser's 64.
    static func main() {
        selectOpenBLASKernels()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "causa",
        abstract: "Distributed causal statistics over logged recommendation data.",
        discussion: "Exit codes: 0 success, 1 run failure (cluster, timeout), 2 input error (job file, data, model).",
        version: "0.1.0",
        subcommands: [
            Local.self, Coordinator.self, Worker.self, Submit.self, Embed.self, Partition.self, Simulate.self,
            ParseJob.self, Recommend.self
        ])
}

/// Re-executes this process with OPENBLAS_CORETYPE set when OpenBLAS fell back to generic kernels on a CPU that
/// has AVX2 or AVX-512 (see `LinearAlgebra.preferredCoreType`). Worker processes inherit the setting.
/// Set CAUSA_KEEP_OPENBLAS_CORE=1 (or OPENBLAS_CORETYPE yourself) to opt out.
func selectOpenBLASKernels() {
    guard let core = LinearAlgebra.preferredCoreType(environment: ProcessInfo.processInfo.environment) else { return }
    setenv("OPENBLAS_CORETYPE", core, 1)
    let args = CommandLine.arguments.map { strdup($0) } + [nil]
    execv("/proc/self/exe", args)
    // execv returns only on failure: carry on with the generic kernels.
}

/// Options every command shares.
struct CommonOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel: Logger.Level = .notice

    func bootstrap() -> Logger {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        return Logger(label: "causa")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Prints an error the way every command does and maps it to the exit code contract.
func exitCodeFor(_ error: Error) -> ExitCode {
    switch error {
    case let e as InputError:
        FileHandle.standardError.write(Data("error: \(e.description)\n".utf8))
        return ExitCode(2)
    case let e as ExitCode:
        return e
    default:
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        return ExitCode(1)
    }
}

/// Runs `body`, turning errors into the exit-code contract.
func guarded(_ body: () throws -> Void) throws {
    do { try body() } catch let e as ExitCode { throw e } catch let e as CleanExit { throw e } catch {
        throw exitCodeFor(error)
    }
}

/// Set by SIGINT/SIGTERM handlers; polled by long-running loops.
nonisolated(unsafe) var stopRequested = false

func installStopHandlers() {
    signal(SIGINT) { _ in stopRequested = true }
    signal(SIGTERM) { _ in stopRequested = true }
}

/// Checks a seconds option: finite, positive and at most 10⁷ s (about four months), so that every later use
/// (deadlines, `Int(seconds)` in messages, milliseconds for polls) stays in range.
/// - Throws: `ValidationError` naming the option.
func validateSeconds(_ value: Double, _ option: String) throws {
    guard value.isFinite, value > 0, value <= 1e7 else {
        throw ValidationError("\(option) must be a positive number of seconds up to 10000000, got \(value).")
    }
}
