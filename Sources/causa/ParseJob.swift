import ArgumentParser
import Foundation
import Jobs

/// `causa parse-job` (hidden): the child process in which job-file text is parsed, so that an abort inside the TOML
/// library ends this process and not the coordinator (see `JobTextGuard`). Reads the text on stdin and writes the
/// validated job, or its input error, as JSON on stdout; exit 0 either way.
struct ParseJob: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: JobTextGuard.subcommand,
        abstract: "Parse job-file text from stdin and write it as JSON (used by the coordinator, local and submit).",
        shouldDisplay: false)

    @Option(help: ArgumentHelp("The job file's path, for messages and to resolve relative paths.", valueName: "PATH"))
    var path: String
    @Flag(help: "Read job texts separated by NUL bytes; write a line per text: 'ok' or 'error LINE COLUMN' (fuzzing).")
    var batch = false
    @Flag(help: .hidden) var noPrescan = false

    func run() throws {
        JobTextGuard.limitThisProcess(JobTextGuard.Limits())
        let input = FileHandle.standardInput.readDataToEndOfFile()
        if batch {
            var out = ""
            for piece in input.split(separator: 0, omittingEmptySubsequences: false) {
                do {
                    guard let text = String(data: Data(piece), encoding: .utf8) else {
                        out += "error 1 -\n"
                        continue
                    }
                    _ =
                        noPrescan
                        ? try JobSpec.parseUnchecked(text: text, path: path)
                        : try JobTextGuard.parseInProcess(text: text, path: path)
                    out += "ok\n"
                } catch let e as InputError {
                    out += "error \(e.line.map(String.init) ?? "-") \(e.column.map(String.init) ?? "-")\n"
                } catch {
                    out += "error - -\n"
                }
            }
            FileHandle.standardOutput.write(Data(out.utf8))
            return
        }
        FileHandle.standardOutput.write(JobTextGuard.childAnswer(input: input, path: path, prescan: !noPrescan))
    }
}

/// This executable's path, for child processes (`causa worker`, `causa parse-job`).
func selfExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

/// Reads and parses a job file in a child process (`JobTextGuard.loadIsolated`).
/// - Throws: `InputError`, `RunError`.
func loadJob(_ path: String) throws -> JobSpec {
    try JobTextGuard.loadIsolated(path: path, executable: selfExecutable())
}
