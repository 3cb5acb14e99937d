import Foundation
import XCTest

/// `causa coordinator` and `causa worker` processes for tests that run the product as a user would.
public enum CausaProcesses {
    /// Starts `causa coordinator --bind BIND` (default `tcp://127.0.0.1:*`; plus `extra`, and `--state-dir none` unless
    /// `extra` gives one) and reads the endpoint from its first line.
    /// - Returns: the running process (terminate it when done) and its endpoint, `tcp://127.0.0.1:PORT`.
    /// - Throws: when the process cannot start or prints no endpoint within 20 s.
    public static func startCoordinator(
        executable: URL, extra: [String] = [], bind: String = "tcp://127.0.0.1:*"
    ) throws -> (Process, String) {
        let coordinator = Process()
        coordinator.executableURL = executable
        coordinator.arguments =
            ["coordinator", "--bind", bind] + extra + (extra.contains("--state-dir") ? [] : ["--state-dir", "none"])
        let pipe = Pipe()
        coordinator.standardOutput = pipe
        coordinator.standardError = FileHandle.nullDevice
        try coordinator.run()
        var buffer = Data()
        let deadline = Date().addingTimeInterval(20)
        while !buffer.contains(UInt8(ascii: "\n")), Date() < deadline {
            buffer.append(pipe.fileHandleForReading.availableData)
        }
        let line = String(decoding: buffer, as: UTF8.self)
        let endpoint = try XCTUnwrap(
            line.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) },
            "no endpoint in the coordinator's first line: \(line)")
        return (coordinator, endpoint)
    }

    /// Starts `count` `causa worker`s named `prefix-0…` that connect to `endpoint` and exit when it goes away.
    public static func startWorkers(executable: URL, endpoint: String, count: Int, prefix: String) throws -> [Process] {
        try (0..<count).map { i in
            let w = Process()
            w.executableURL = executable
            w.arguments = ["worker", "--connect", endpoint, "--name", "\(prefix)-\(i)", "--exit-on-coordinator-loss"]
            try w.run()
            return w
        }
    }

    /// Terminates the processes and waits for them.
    public static func stop(_ processes: [Process]) {
        for p in processes {
            p.terminate()
            p.waitUntilExit()
        }
    }
}
