@_exported import CausaTestSupport
import Foundation
import XCTest

/// Runs the built `causa` executable as a user would: real processes, real TCP on 127.0.0.1.
final class CLITests: XCTestCase {
    static let fixtures = Fixtures.root

    static var executable: URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("causa"),
            Bundle.main.bundleURL.appendingPathComponent("causa"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("causa")
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs causa with a time limit; the limit is there so no test can hang.
    @discardableResult
    func causa(_ arguments: [String], timeout: Double = 120) throws -> Run {
        let p = Process()
        p.executableURL = Self.executable
        p.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdoutData = Box()
        let stderrData = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            stdoutData.data = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            stderrData.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning, Date() < deadline { usleep(20_000) }
        if p.isRunning {
            p.terminate()
            XCTFail("causa \(arguments) timed out")
        }
        p.waitUntilExit()
        group.wait()
        return Run(
            status: p.terminationStatus, stdout: String(decoding: stdoutData.data, as: UTF8.self),
            stderr: String(decoding: stderrData.data, as: UTF8.self))
    }

    /// Output collected by a reader thread; read only after the thread is done (DispatchGroup.wait).
    final class Box: @unchecked Sendable { var data = Data() }

    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func writeJob(
        _ name: String = "job.toml", data: String? = nil, kind: String = "logit",
        formula: String = "click ~ C(position) + I(item_id == 49) + I(item_id == 6)"
    ) throws -> String {
        let dataPath = data ?? Self.fixtures.appendingPathComponent("obd/random_10k.csv").path
        let text = """
            [data]
            path = "\(dataPath)"
            format = "csv"
            user_key = ["user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3"]

            [model]
            kind = "\(kind)"
            formula = "\(formula)"

            [cv]
            folds = 5
            fold_by = "user"

            [cluster]
            shards = 32

            """
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Acceptance 3: report.json minus timings_s (and the worker count itself) is identical for 1, 2 and 5 workers.
    func testLocalReportIsIdenticalForOneTwoAndFiveWorkers() throws {
        let job = try writeJob()
        var reports: [[String: Any]] = []
        for n in [1, 2, 5] {
            let out = dir.appendingPathComponent("out\(n)").path
            let run = try causa(["local", "--job", job, "--workers", "\(n)", "--out", out])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stdout.contains("I(item_id == 49)[T.True]"), run.stdout)
            let data = try Data(contentsOf: URL(fileURLWithPath: out).appendingPathComponent("report.json"))
            var report = try JSONSerialization.jsonObject(with: data) as! [String: Any]
            XCTAssertEqual((report["cluster"] as! [String: Any])["workers"] as? Int, n)
            report["timings_s"] = nil
            var cluster = report["cluster"] as! [String: Any]
            cluster["workers"] = nil
            report["cluster"] = cluster
            reports.append(report)
        }
        for r in reports.dropFirst() {
            XCTAssertEqual(NSDictionary(dictionary: r), NSDictionary(dictionary: reports[0]))
        }
        let model = reports[0]["model"] as! [String: Any]
        XCTAssertEqual(model["converged"] as? Bool, true)
        XCTAssertEqual((model["coefficients"] as! [[String: Any]]).count, 5)
    }

    /// Issue 11, acceptance 1 over ZeroMQ: a `[policy]` job's report (its `ope` section included) is identical for 1, 2
    /// and 5 workers; `--export-predictions` writes q̂ for every row and item; a propensity of 0 exits 2 naming its
    /// cell and writes neither file.
    func testOffPolicyReportIsIdenticalForOneTwoAndFiveWorkers() throws {
        let data = Self.fixtures.appendingPathComponent("obd/random_10k.csv").path
        let policy = Self.fixtures.appendingPathComponent("policies/obd-top-items.csv").path
        func job(_ name: String, data: String) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try """
            [data]
            path = "\(data)"
            user_key = ["user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3"]
            [model]
            kind = "logit"
            formula = "click ~ C(position) + I(item_id == 49) + I(item_id == 6)"
            [cv]
            folds = 5
            fold_by = "user"
            [cluster]
            shards = 16
            [policy]
            action = "item_id"
            propensity = "propensity_score"
            position = "position"
            evaluate = ["logging", "uniform", "\(policy)"]
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let path = try job("ope.toml", data: data)
        var reports: [[String: Any]] = []
        for n in [1, 2, 5] {
            let out = dir.appendingPathComponent("ope\(n)")
            let predictions = out.appendingPathComponent("q.csv").path
            let run = try causa([
                "local", "--job", path, "--workers", "\(n)", "--out", out.path, "--export-predictions", predictions
            ])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stdout.contains("off-policy evaluation: 10000 rows, 80 items"), run.stdout)
            let data = try Data(contentsOf: out.appendingPathComponent("report.json"))
            var report = try JSONSerialization.jsonObject(with: data) as! [String: Any]
            report["timings_s"] = nil
            report["network"] = nil
            var cluster = report["cluster"] as! [String: Any]
            cluster["workers"] = nil
            report["cluster"] = cluster
            reports.append(report)
            let lines = try String(contentsOfFile: predictions, encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(lines.count, 1 + 10_000 * 80)
            XCTAssertEqual(lines.first, "row,item_id,q_hat")
            XCTAssertTrue(lines[1].hasPrefix("0,0,"), String(lines[1]))
        }
        for r in reports.dropFirst() {
            XCTAssertEqual(NSDictionary(dictionary: r), NSDictionary(dictionary: reports[0]))
        }
        XCTAssertEqual((reports[0]["ope"] as! [[String: Any]]).count, 2 + 5 + 5)

        var lines = try String(contentsOfFile: data, encoding: .utf8).split(separator: "\n").map(String.init)
        var cells = lines[7].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        cells[4] = "0"
        lines[7] = cells.joined(separator: ",")
        let bad = dir.appendingPathComponent("bad.csv").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: bad, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("bad-out")
        let predictions = out.appendingPathComponent("q.csv")
        let run = try causa([
            "local", "--job", try job("bad.toml", data: bad), "--workers", "2", "--out", out.path,
            "--export-predictions", predictions.path
        ])
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertTrue(run.stderr.contains("bad.csv:8:5") && run.stderr.contains("propensity"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.json").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: predictions.path))
    }

    /// Issue 4, acceptance 1: a logit on simulated data with MiniLM features (`affinity` and `user_pc*:item_pc*`) gives
    /// a bit-identical report with 1 and 2 workers: the first run fills a fresh embedding cache, the second reads it.
    func testTextJobReportIsIdenticalForOneAndTwoWorkers() throws {
        let model = Fixtures.miniLMDirectory
        try XCTSkipUnless(
            FileManager.default.fileExists(atPath: model.appendingPathComponent("model.safetensors").path),
            "run scripts/fetch-model.sh")
        let data = dir.appendingPathComponent("sim").path
        XCTAssertEqual(
            try causa(["simulate", "--out", data, "--users", "300", "--items", "60", "--seed", "7"]).status, 0)
        let job = dir.appendingPathComponent("sim/job.toml").path
        try """
        [data]
        path = "impressions.csv"
        user_key = ["user_id"]
        [model]
        kind = "logit"
        formula = "click ~ C(position) + np.log(price) + affinity + user_pc1:item_pc1 + user_pc2:item_pc2 + user_pc1:item_pc2"
        [cv]
        folds = 3
        fold_by = "user"
        [cluster]
        shards = 6
        [text]
        encoder = "minilm"
        components = 4
        users_path = "users.csv"
        user_text = ["profile"]
        items_path = "items.csv"
        item_key = "item_id"
        item_text = ["description"]
        cache_dir = "cache"
        """.write(toFile: job, atomically: true, encoding: .utf8)
        var reports: [Data] = []
        for n in [1, 2] {
            let out = dir.appendingPathComponent("out\(n)").path
            let run = try causa(["local", "--job", job, "--workers", "\(n)", "--out", out], timeout: 300)
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stdout.contains("user_pc1:item_pc2"), run.stdout)
            XCTAssertTrue(run.stdout.contains("text: encoder minilm:"), run.stdout)
            var report =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: out).appendingPathComponent("report.json")))
                as! [String: Any]
            report["timings_s"] = nil
            report["network"] = nil  // item vectors go once per worker, so bytes sent depend on the worker count
            var cluster = report["cluster"] as! [String: Any]
            XCTAssertEqual(cluster["workers"] as? Int, n)
            cluster["workers"] = nil
            report["cluster"] = cluster
            reports.append(try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]))
        }
        XCTAssertEqual(String(decoding: reports[0], as: UTF8.self), String(decoding: reports[1], as: UTF8.self))
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: dir.appendingPathComponent("sim/cache/embeddings.sqlite").path))
        let report = try JSONSerialization.jsonObject(with: reports[0]) as! [String: Any]
        let text = report["text"] as! [String: Any]
        XCTAssertEqual(text["users_with_text"] as? Int, 300)
        XCTAssertEqual(text["items"] as? Int, 60)
        XCTAssertEqual((text["features"] as? [String])?.last, "affinity")
    }

    /// Issue 5, acceptance 2 and 3: a SEM job's report is bit-identical with 1 and 3 workers; the under-identified
    /// feedback model exits 2 naming the equation and what it lacks, and writes no report.
    func testSEMReportIsIdenticalForOneAndThreeWorkersAndUnderIdentifiedModelsExitTwo() throws {
        let data = Self.fixtures.appendingPathComponent("reference/sem/sem_feedback_n5000.csv").path
        func job(_ syntax: String) throws -> String {
            let path = dir.appendingPathComponent("sem-\(UUID().uuidString).toml").path
            try
                "[data]\npath = \"\(data)\"\n[model]\nkind = \"sem\"\nsyntax = \"\"\"\n\(syntax)\n\"\"\"\n[cluster]\nshards = 12\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let good = try job("Y ~ X1 + X2 + Z3\nX1 ~ Y + Z1\nX2 ~ Y + Z2")
        var reports: [String] = []
        for n in [1, 3] {
            let out = dir.appendingPathComponent("sem\(n)").path
            let run = try causa(["local", "--job", good, "--workers", "\(n)", "--out", out])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stdout.contains("spectral radius of B"), run.stdout)
            var report =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: out).appendingPathComponent("report.json")))
                as! [String: Any]
            report["timings_s"] = nil
            var cluster = report["cluster"] as! [String: Any]
            cluster["workers"] = nil
            report["cluster"] = cluster
            XCTAssertNotNil(report["sem"])
            reports.append(
                String(
                    decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self)
            )
        }
        XCTAssertEqual(reports[0], reports[1])
        let bad = try job("Y ~ X1 + X2\nX1 ~ Y\nX2 ~ Y")
        let out = dir.appendingPathComponent("bad").path
        let run = try causa(["local", "--job", bad, "--workers", "1", "--out", out])
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertTrue(
            run.stderr.contains("\(bad):6:1: model.syntax: equation Y (line 1, column 1) is not identified"), run.stderr
        )
        XCTAssertTrue(run.stderr.contains("add an instrument"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/report.json"))
    }

    /// Acceptance 4: bad input exits 2 with file:line:column and writes no report.
    func testBadInputExitsTwoAndWritesNothing() throws {
        let source = try String(contentsOf: Self.fixtures.appendingPathComponent("obd/random_300.csv"), encoding: .utf8)
        var lines = source.split(separator: "\n").map(String.init)
        var cells = lines[3].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        cells[2] = "third"
        lines[3] = cells.joined(separator: ",")
        let badData = dir.appendingPathComponent("bad.csv").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: badData, atomically: true, encoding: .utf8)
        let cases: [(String, String, String)] = [
            (try writeJob("a.toml", data: dir.appendingPathComponent("none.csv").path), "none.csv", "no such file"),
            (
                try writeJob("b.toml", data: badData, kind: "ols", formula: "click ~ position"), "bad.csv:4:3",
                "'third' is not a number"
            ),
            (try writeJob("c.toml", formula: "click ~ C(position) +"), "c.toml:8:", "formula ends"),
            (try writeJob("d.toml", formula: "click ~ nosuch"), "d.toml:8:20", "unknown column 'nosuch'")
        ]
        for (job, place, text) in cases {
            let out = dir.appendingPathComponent("out-\(UUID().uuidString)")
            let run = try causa(["local", "--job", job, "--workers", "1", "--out", out.path])
            XCTAssertEqual(run.status, 2, "\(job): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(place) && run.stderr.contains(text), "\(job): \(run.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.json").path))
        }
        let missingJob = try causa(["local", "--job", dir.appendingPathComponent("nope.toml").path, "--out", dir.path])
        XCTAssertEqual(missingJob.status, 2)
    }

    /// The same job through `causa coordinator`, two `causa worker`s and `causa submit`.
    func testCoordinatorWorkersAndSubmit() throws {
        // The first line says where it listens.
        let (coordinator, endpoint) = try CausaProcesses.startCoordinator(executable: Self.executable)
        defer { CausaProcesses.stop([coordinator]) }
        XCTAssertTrue(endpoint.hasPrefix("tcp://127.0.0.1:"), endpoint)
        let workers = try CausaProcesses.startWorkers(
            executable: Self.executable, endpoint: endpoint, count: 2, prefix: "cli")
        defer { CausaProcesses.stop(workers) }
        let out = dir.appendingPathComponent("submitted").path
        let run = try causa(["submit", try writeJob(), "--coordinator", endpoint, "--out", out])
        XCTAssertEqual(run.status, 0, run.stderr)
        let report =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: out).appendingPathComponent("report.json")))
            as! [String: Any]
        XCTAssertEqual((report["data"] as! [String: Any])["rows"] as? Int, 10_000)
        let bad = try causa([
            "submit", try writeJob("bad.toml", formula: "click ~ nosuch"), "--coordinator", endpoint, "--out",
            out + "-bad"
        ])
        XCTAssertEqual(bad.status, 2, bad.stderr)
    }

    /// Issue 12, acceptance 3: after `causa submit` of a job that learns a policy, `causa recommend` answers from a
    /// worker with the items recommendations.csv lists for that user; an unknown user gets the no-history answer.
    func testRecommendAnswersFromTheDeployedPolicy() throws {
        let state = dir.appendingPathComponent("state").path
        var (coordinator, endpoint) = try CausaProcesses.startCoordinator(
            executable: Self.executable, extra: ["--state-dir", state])
        defer { CausaProcesses.stop([coordinator]) }
        let before = try causa(["recommend", "--coordinator", endpoint, "--user", "x"])
        XCTAssertEqual(before.status, 1)
        XCTAssertTrue(before.stderr.contains("no policy is deployed"), before.stderr)
        let workers = try CausaProcesses.startWorkers(
            executable: Self.executable, endpoint: endpoint, count: 2, prefix: "rec")
        defer { CausaProcesses.stop(workers) }
        let job = dir.appendingPathComponent("learn.toml").path
        try """
        [data]
        path = "\(Self.fixtures.appendingPathComponent("obd/random_10k.csv").path)"
        user_key = ["user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3"]
        [model]
        kind = "ols"
        formula = "click ~ C(position) + C(item_id)"
        [cluster]
        shards = 8
        [policy]
        action = "item_id"
        propensity = "propensity_score"
        position = "position"
        learners = ["greedy"]
        at = { position = 1 }
        top_k = 2
        """.write(toFile: job, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("learned")
        let run = try causa(["submit", job, "--coordinator", endpoint, "--out", out.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let csv = try String(contentsOf: out.appendingPathComponent("recommendations.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        let user = Array(rows[0][0..<4])
        let listed = rows.filter { Array($0[0..<4]) == user }.map { $0[4] }
        XCTAssertEqual(listed.count, 2)
        var args = ["recommend", "--coordinator", endpoint, "--json"]
        for k in user { args += ["--user", k] }
        let asked = try causa(args)
        XCTAssertEqual(asked.status, 0, asked.stderr)
        let answer = try JSONSerialization.jsonObject(with: Data(asked.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(answer["items"] as? [String], listed)
        XCTAssertEqual(answer["known_user"] as? Bool, true)
        let explanations = answer["explanations"] as? [String] ?? []
        XCTAssertEqual(explanations.count, 2)
        XCTAssertTrue(
            explanations[0].contains("C(item_id)[T.") && explanations[0].contains("vs the average item"), asked.stdout)
        XCTAssertTrue(["rec-0", "rec-1"].contains(answer["worker"] as? String ?? ""), asked.stdout)
        let report =
            try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json")))
            as! [String: Any]
        let version = (report["policy"] as! [String: Any])["policy_version"] as! String
        XCTAssertEqual(answer["policy_version"] as? String, version)
        let arity = try causa(["recommend", "--coordinator", endpoint, "--user", user[0]])
        XCTAssertEqual(arity.status, 1)
        XCTAssertTrue(arity.stderr.contains("give --user 4 times"), arity.stderr)
        let unknown = try causa([
            "recommend", "--coordinator", endpoint, "--json", "--user", "nobody", "--user", "x", "--user", "y",
            "--user",
            "z"
        ])
        XCTAssertEqual(unknown.status, 0, unknown.stderr)
        XCTAssertTrue(unknown.stdout.contains("\"known_user\":false"), unknown.stdout)
        // A coordinator restarted on the same address reloads the deployed policy and answers from its copy until the
        // workers are back (they reconnect after their coordinator timeout).
        CausaProcesses.stop([coordinator])
        (coordinator, _) = try CausaProcesses.startCoordinator(
            executable: Self.executable, extra: ["--state-dir", state], bind: endpoint)
        let again = try causa(args)
        XCTAssertEqual(again.status, 0, again.stderr)
        let copy = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(copy["items"] as? [String], listed)
        XCTAssertEqual(copy["worker"] as? String, "coordinator")
        XCTAssertEqual(copy["policy_version"] as? String, version)
    }

    /// Three "hosts" (network namespaces joined by a bridge): the coordinator and two workers talk over veth pairs.
    /// Needs root and iproute2 (CI has both); skipped elsewhere.
    func testClusterAcrossNetworkNamespaces() throws {
        guard getuid() == 0,
            FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
                || FileManager.default.isExecutableFile(atPath: "/sbin/ip")
        else {
            throw XCTSkip("needs root and iproute2 for network namespaces")
        }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/bin/sh")
        probe.arguments = ["-c", "ip netns add causa-probe && ip netns del causa-probe"]
        try probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else { throw XCTSkip("network namespaces are not available here") }
        let job = try writeJob()
        let script = Fixtures.repositoryRoot.appendingPathComponent("cluster/netns-cluster.sh")
        let out = dir.appendingPathComponent("netns").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [script.path, job, out]
        p.environment = ProcessInfo.processInfo.environment.merging(["CAUSA_BIN": Self.executable.path]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while p.isRunning, Date() < deadline { usleep(50_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let local = dir.appendingPathComponent("local").path
        XCTAssertEqual(try causa(["local", "--job", job, "--workers", "1", "--out", local]).status, 0)
        func model(_ folder: String) throws -> NSDictionary {
            let report =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent("report.json")))
                as! [String: Any]
            return NSDictionary(dictionary: [
                "model": report["model"]!, "cv": report["cv"]!, "network": report["network"]!
            ])
        }
        XCTAssertEqual(try model(out), try model(local))
    }

    /// `causa embed` against sentence-transformers' vectors (parity.json), through the cache, and with bad input.
    func testEmbedMatchesReferenceAndUsesTheCache() throws {
        struct Case: Decodable {
            let text: String
            let embedding: [Float]
        }
        struct Parity: Decodable { let cases: [Case] }
        let parity = try JSONDecoder().decode(
            Parity.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("minilm/parity.json")))
        // Empty, whitespace-only, short and long texts (a debug build is slow: keep the set small).
        let chosen = [0, 1, 2, 5, 10, 13, 27, 28]
        var lines = ""
        for (n, k) in chosen.enumerated() {
            let object: [String: Any] = ["id": n % 2 == 0 ? "t\(k)" as Any : k as Any, "text": parity.cases[k].text]
            lines += String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self) + "\n"
        }
        let input = dir.appendingPathComponent("texts.jsonl")
        try lines.write(to: input, atomically: true, encoding: .utf8)
        let cache = dir.appendingPathComponent("cache").path
        let out1 = dir.appendingPathComponent("v1.jsonl").path
        let out2 = dir.appendingPathComponent("v2.jsonl").path
        let first = try causa(["embed", "--encoder", "minilm", "--in", input.path, "--out", out1, "--cache-dir", cache])
        XCTAssertEqual(first.status, 0, first.stderr)
        let rows = try String(contentsOfFile: out1, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, chosen.count)
        for (n, row) in rows.enumerated() {
            let object = try JSONSerialization.jsonObject(with: Data(row.utf8)) as! [String: Any]
            if n % 2 == 0 {
                XCTAssertEqual(object["id"] as? String, "t\(chosen[n])")
            } else {
                XCTAssertEqual(object["id"] as? Int, chosen[n])
            }
            let v = (object["embedding"] as! [NSNumber]).map(\.floatValue)
            XCTAssertEqual(v.count, 384)
            XCTAssertEqual(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1, accuracy: 1e-5)
            let worst = zip(v, parity.cases[chosen[n]].embedding).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1e-4, "text \(chosen[n])")
        }
        let second = try causa(["embed", "--encoder", "minilm", "--in", input.path, "--out", out2, "--cache-dir", cache]
        )
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stderr.contains("\(chosen.count) hits, 0 misses"), second.stderr)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: out2)), try Data(contentsOf: URL(fileURLWithPath: out1)))
        // Invalid UTF-8 on line 2: exit 2, the line named, no output written.
        var bad = Data("{\"id\": 1, \"text\": \"fine\"}\n{\"id\": 2, \"text\": \"".utf8)
        bad.append(contentsOf: [0xC3, 0x28])
        bad.append(Data("\"}\n".utf8))
        let badInput = dir.appendingPathComponent("bad.jsonl")
        try bad.write(to: badInput)
        let out3 = dir.appendingPathComponent("v3.jsonl").path
        let failed = try causa(["embed", "--encoder", "hashing", "--in", badInput.path, "--out", out3, "--no-cache"])
        XCTAssertEqual(failed.status, 2, failed.stderr)
        XCTAssertTrue(failed.stderr.contains("bad.jsonl:2") && failed.stderr.contains("UTF-8"), failed.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out3))
    }

    func testHelpListsTheCommands() throws {
        let run = try causa(["--help"])
        XCTAssertEqual(run.status, 0)
        for command in ["local", "coordinator", "worker", "submit"] {
            XCTAssertTrue(run.stdout.contains(command), run.stdout)
        }
    }

    /// `causa simulate` writes its four files (byte-identical for the same arguments); a bad size exits 2 naming the
    /// flag.
    func testSimulateWritesTheDatasetAndRejectsBadSizes() throws {
        let out = dir.appendingPathComponent("sim").path
        let run = try causa(["simulate", "--out", out, "--users", "50", "--items", "20", "--seed", "7"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("1000 impressions"), run.stdout)
        for name in ["users.csv", "items.csv", "impressions.csv", "truth.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + name), name)
        }
        let lines = try String(contentsOfFile: out + "/impressions.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1 + 50 * 20)
        XCTAssertTrue(lines[0].hasPrefix("user_id,slate_id,timestamp,item_id,position,"), String(lines[0]))
        let truth =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/truth.json")))
            as! [String: Any]
        XCTAssertEqual((truth["click_probability_position1"] as! [[Double]]).count, 50)
        let again = dir.appendingPathComponent("sim2").path
        XCTAssertEqual(
            try causa(["simulate", "--out", again, "--users", "50", "--items", "20", "--seed", "7"]).status, 0)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: again + "/impressions.csv")),
            try Data(contentsOf: URL(fileURLWithPath: out + "/impressions.csv")))
        let bad = try causa([
            "simulate", "--out", dir.appendingPathComponent("bad").path, "--users", "0", "--items", "20", "--seed", "7"
        ])
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("--users"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad").path))
        let fewItems = try causa([
            "simulate", "--out", dir.appendingPathComponent("bad").path, "--users", "5", "--items", "2", "--seed", "1"
        ])
        XCTAssertEqual(fewItems.status, 2, fewItems.stderr)
        XCTAssertTrue(fewItems.stderr.contains("--positions"), fewItems.stderr)
    }
}
