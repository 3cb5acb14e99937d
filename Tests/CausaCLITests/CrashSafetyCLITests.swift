import Foundation
import XCTest

/// Issue 9, part 1, through the real executable: no input aborts a process, a running coordinator survives bad jobs,
/// and a client learns within 10 s that its coordinator died.
extension CLITests {
    /// Writes a `[text]` job on 4 to 6 rows (users u1…, items i1 and i2) and its data, users and items files.
    /// - Parameters:
    ///   - users: "file" (users.csv), "data" (a column of the data file) or "none".
    ///   - items: whether the job has an items file.
    func writeTextJob(_ name: String, users: String, items: Bool, shards: Int, rowUsers: [String]) throws -> String {
        try Fixtures.writeTextJob(
            in: dir.appendingPathComponent(name), users: users, items: items, shards: shards, rowUsers: rowUsers)
    }

    /// The coefficient estimates of a report.json, as written (text, so "equal" means bit-identical).
    func estimates(_ out: String) throws -> [String] {
        let text = try String(contentsOfFile: out + "/report.json", encoding: .utf8)
        let report = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        let coefficients = (report["model"] as! [String: Any])["coefficients"] as! [[String: Any]]
        return coefficients.map { "\($0["name"]!)=\(($0["estimate"] as! NSNumber).doubleValue.bitPattern)" }
    }

    /// The two field crashes of `[text]` jobs and their kin through `causa local`: user texts without an items file
    /// on 2 shards and 1 worker (4 rows); an items file with 3 users on 8 shards and 3 or 4 workers (workers that own
    /// only empty shards); more workers than shards. Each runs, and the report does not depend on the worker count.
    func testTextJobsOnDegeneratePlacementsThroughLocal() throws {
        let cases: [(String, String, Bool, Int, [String], [Int])] = [
            ("field-no-items", "data", false, 2, ["u1", "u2", "u3", "u4"], [1, 2]),
            ("field-items-few-users", "file", true, 8, ["u1", "u2", "u3", "u1", "u2", "u3"], [1, 3, 4]),
            ("items-only", "none", true, 8, ["u1", "u2", "u3", "u4"], [1, 4]),
            ("more-workers-than-shards", "data", true, 2, ["u1", "u2", "u3", "u4", "u5"], [1, 3])
        ]
        for (name, users, items, shards, rows, workerCounts) in cases {
            let job = try writeTextJob(name, users: users, items: items, shards: shards, rowUsers: rows)
            var first: [String]? = nil
            for workers in workerCounts {
                let out = dir.appendingPathComponent("\(name)-out-\(workers)").path
                let run = try causa(["local", "--job", job, "--workers", "\(workers)", "--out", out])
                XCTAssertEqual(run.status, 0, "\(name), \(workers) workers: \(run.stderr)")
                guard run.status == 0 else { continue }
                let beta = try estimates(out)
                XCTAssertEqual(beta.count, 2, name)
                if let first { XCTAssertEqual(beta, first, "\(name), \(workers) workers") } else { first = beta }
            }
        }
    }

    /// Field case C22: malformed table headers are input errors at their line and column (exit 2, no abort, no
    /// report), through `causa local`, `causa submit` and `causa partition`.
    func testMalformedTableHeadersAreInputErrors() throws {
        let variants: [(String, Int)] = [
            ("[[[model]]", 3), ("[[[1]]]", 3), ("[[[a]]]", 3), ("[[[]]", 3), ("[[=", 3), ("[model]]", 8),
            ("[[model]", 8)
        ]
        for (header, column) in variants {
            let job = dir.appendingPathComponent("h.toml").path
            try (header + "\n").write(toFile: job, atomically: true, encoding: .utf8)
            let run = try causa(["local", "--job", job, "--out", dir.appendingPathComponent("out").path])
            XCTAssertEqual(run.status, 2, "\(header): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains("h.toml:1:\(column): TOML syntax error"), "\(header): \(run.stderr)")
        }
        let field = Self.fixtures.appendingPathComponent("cases/C22_bad_table_header.toml").path
        for arguments in [
            ["local", "--job", field, "--out", dir.path + "/o"],
            ["submit", field, "--coordinator", "tcp://127.0.0.1:9", "--out", dir.path + "/o"],
            ["partition", "--job", field, "--out", dir.path + "/p"]
        ] {
            let run = try causa(arguments)
            XCTAssertEqual(run.status, 2, "\(arguments[0]): \(run.stderr)")
            XCTAssertTrue(
                run.stderr.contains("C22_bad_table_header.toml:4:3: TOML syntax error"),
                "\(arguments[0]): \(run.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/o/report.json"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/p"))
    }

    /// Seconds options that would overflow `Int(_:)` later (deadlines, messages) are refused up front (exit 2).
    func testSecondsOptionsOutOfRangeAreInputErrors() throws {
        for arguments in [
            ["submit", "j.toml", "--coordinator", "tcp://127.0.0.1:9", "--out", "o", "--timeout", "1e300"],
            ["submit", "j.toml", "--coordinator", "tcp://127.0.0.1:9", "--out", "o", "--silence-timeout", "nan"],
            ["coordinator", "--bind", "tcp://127.0.0.1:*", "--heartbeat-timeout", "inf"],
            ["worker", "--connect", "tcp://127.0.0.1:9", "--coordinator-timeout=-1"],
            ["local", "--job", "j.toml", "--out", "o", "--heartbeat-timeout", "1e19"]
        ] {
            let run = try causa(arguments)
            XCTAssertEqual(run.status, 2, "\(arguments): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains("must be a positive number of seconds"), "\(arguments): \(run.stderr)")
        }
    }

    /// Starts `causa coordinator` on a free port; returns the process and its endpoint.
    func startCoordinator(_ extra: [String] = []) throws -> (Process, String) {
        try CausaProcesses.startCoordinator(executable: Self.executable, extra: extra)
    }

    /// A running coordinator serves the text jobs that used to kill it, refuses a bad job file, and serves the next.
    func testRunningCoordinatorServesTextJobsAndSurvivesBadJobs() throws {
        let (coordinator, endpoint) = try startCoordinator()
        defer {
            coordinator.terminate()
            coordinator.waitUntilExit()
        }
        let workers = try CausaProcesses.startWorkers(
            executable: Self.executable, endpoint: endpoint, count: 3, prefix: "crash")
        defer { CausaProcesses.stop(workers) }
        let noItems = try writeTextJob(
            "served-no-items", users: "data", items: false, shards: 2, rowUsers: ["u1", "u2", "u3", "u4"])
        let fewUsers = try writeTextJob(
            "served-few-users", users: "file", items: true, shards: 8, rowUsers: ["u1", "u2", "u3", "u1"])
        let field = Self.fixtures.appendingPathComponent("cases/C22_bad_table_header.toml").path
        // A formula nested 20,000 levels deep overflowed the parser's stack (SIGSEGV); a NUL escape cut the formula.
        let depth = 20_000
        let nested = try writeJob(
            "nested.toml", kind: "ols",
            formula: "click ~ " + String(repeating: "(", count: depth) + "position"
                + String(repeating: ")", count: depth))
        let nul = try writeJob("nul.toml", kind: "ols", formula: "click ~ 1\\u0000 + position")
        for (job, status) in [
            (noItems, Int32(0)), (field, 2), (nested, 2), (fewUsers, 0), (nul, 2), (try writeJob(), 0)
        ] {
            let out = dir.appendingPathComponent("served-\(UUID().uuidString)").path
            let run = try causa(["submit", job, "--coordinator", endpoint, "--out", out])
            XCTAssertEqual(run.status, status, "\(job): \(run.stderr)")
            XCTAssertTrue(coordinator.isRunning, "the coordinator died on \(job)")
        }
    }

    /// A client waiting on a coordinator that is killed (SIGKILL) during a job learns it within 10 s, with a clear
    /// message and exit 1, instead of waiting out its --timeout (3600 s).
    func testSubmitLearnsWithinTenSecondsThatTheCoordinatorDied() throws {
        // No worker: the job waits for one (up to 60 s), so the coordinator is "during a job" when it is killed.
        let (coordinator, endpoint) = try startCoordinator(["--worker-wait", "60"])
        let submit = Process()
        submit.executableURL = Self.executable
        submit.arguments = [
            "submit", try writeJob(), "--coordinator", endpoint, "--out", dir.appendingPathComponent("never").path
        ]
        let err = Pipe()
        submit.standardError = err
        submit.standardOutput = FileHandle.nullDevice
        try submit.run()
        sleep(3)
        XCTAssertTrue(submit.isRunning, "submit should still be waiting on the job (heartbeats keep it)")
        kill(coordinator.processIdentifier, SIGKILL)
        let killed = Date()
        coordinator.waitUntilExit()
        while submit.isRunning, Date().timeIntervalSince(killed) < 30 { usleep(20_000) }
        let waited = Date().timeIntervalSince(killed)
        if submit.isRunning { submit.terminate() }
        submit.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertLessThan(waited, 10, message)
        XCTAssertEqual(submit.terminationStatus, 1, message)
        XCTAssertTrue(message.contains("went silent: no heartbeat for 5 s"), message)
        // No coordinator at all: the same message kind, also within 10 s.
        let started = Date()
        let none = try causa([
            "submit", try writeJob(), "--coordinator", endpoint, "--out", dir.appendingPathComponent("never").path
        ])
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertEqual(none.status, 1, none.stderr)
        XCTAssertTrue(none.stderr.contains("no answer from a coordinator at \(endpoint) within 5 s"), none.stderr)
    }
}
