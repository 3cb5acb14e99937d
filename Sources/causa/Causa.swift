import ArgumentParser
import Cluster
import Foundation
import Jobs
import Logging

@main
struct Causa: ParsableCommand {
    /// Like `ParsableCommand.main()`, but command-line mistakes (unknown option, bad value, failed validation) exit
    /// with 2, the code of every other input error, instead of argument-parser's 64.
    static func main() {
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
        subcommands: [Local.self, Coordinator.self, Worker.self, Submit.self, Embed.self])
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
    do { try body() } catch let e as ExitCode { throw e } catch let e as CleanExit { throw e } catch { throw exitCodeFor(error) }
}

/// Set by SIGINT/SIGTERM handlers; polled by long-running loops.
nonisolated(unsafe) var stopRequested = false

func installStopHandlers() {
    signal(SIGINT) { _ in stopRequested = true }
    signal(SIGTERM) { _ in stopRequested = true }
}
