import Foundation
import Logging
import Simulation
import Statistics
import XCTest

@testable import Jobs

/// Every job file in config/jobs (on committed data) and a set of the tests' own jobs, run in process: the report
/// minus `timings_s`, `network`, `cluster.workers` and the job file's path must equal the committed report in
/// Tests/Fixtures/reports to 1e-13 relative (strings, integers and booleans exactly). These guard refactors that must
/// not move a number; a change that moves numbers on purpose regenerates them (`CAUSA_WRITE_REPORT_FIXTURES=1 swift
/// test --filter ReportFixtureTests`) and says why in docs/DECISIONS.md.
final class ReportFixtureTests: XCTestCase {
    static let repository = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()

    /// A named job: its file text (data paths absolute) and the worker count to run it with.
    struct Case {
        var name: String
        var text: String
    }

    /// config/jobs/NAME.toml with its data path pointed at a committed copy of the data (the OBD sample's random log
    /// is `obd/random_10k.csv`; the simulated text job uses `causa simulate` output made here, hashing encoder).
    func configCase(_ name: String, data: String, edit: (String) -> String = { $0 }) throws -> Case {
        var text = try String(
            contentsOf: Self.repository.appendingPathComponent("config/jobs/\(name).toml"), encoding: .utf8)
        text = text.replacingOccurrences(
            of: #"path = "[^"]*""#, with: "path = \"\(data)\"", options: .regularExpression, range: nil)
        return Case(name: name, text: edit(text))
    }

    func cases() throws -> [Case] {
        let obd = Fixtures.path("obd/random_10k.csv")
        let sem = Fixtures.path("reference/sem/sem_feedback_n5000.csv")
        let latent = Fixtures.path("reference/sem/sem_latent_n2000.csv")
        let sim = try Self.simulated()
        var out: [Case] = []
        for name in ["obd-bayes", "obd-logit", "obd-ols"] { out.append(try configCase(name, data: obd)) }
        let policies = Self.repository.appendingPathComponent("config/policies").path
        out.append(
            try configCase("obd-ope", data: obd) {
                $0.replacingOccurrences(of: "\"../policies/", with: "\"\(policies)/") + "clip = 15\n"
            })
        out.append(try configCase("sem-feedback", data: sem))
        var text = try configCase("sim-text", data: "\(sim)/impressions.csv")
        text.text = text.text.replacingOccurrences(of: "encoder = \"minilm\"", with: "encoder = \"hashing\"")
            .replacingOccurrences(
                of: "users_path = \"\(sim)/impressions.csv\"", with: "users_path = \"\(sim)/users.csv\""
            )
            .replacingOccurrences(
                of: "items_path = \"\(sim)/impressions.csv\"", with: "items_path = \"\(sim)/items.csv\"")
        text.name = "sim-text-hashing"
        out.append(text)
        let key = #"["user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3"]"#
        func job(
            _ name: String, _ kind: String, _ formula: String, folds: Int, foldBy: String = "row", shards: Int = 16,
            extra: String = ""
        ) -> Case {
            let cv = folds > 0 ? "[cv]\nfolds = \(folds)\nfold_by = \"\(foldBy)\"\n" : ""
            let f = formula.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return Case(
                name: name,
                text:
                    "[data]\npath = \"\(obd)\"\nuser_key = \(key)\n[model]\nkind = \"\(kind)\"\nformula = \"\(f)\"\n\(extra)\(cv)[cluster]\nshards = \(shards)\n"
            )
        }
        out.append(
            job(
                "ols-categorical-user-cv", "ols", "click ~ C(position) + C(item_id) + user_feature_0:C(position)",
                folds: 5, foldBy: "user"))
        out.append(
            job(
                "ols-numeric-no-intercept", "ols", "click ~ 0 + position + I(position ** 2) + np.log(item_id + 1)",
                folds: 3))
        out.append(
            job(
                "logit-user-cv-7-shards", "logit",
                "click ~ C(position) + I(item_id == 49) + I(item_id == 53) + I(item_id == 6)", folds: 4, foldBy: "user",
                shards: 7))
        out.append(
            job("bayes-flat", "bayes_linear", "click ~ C(position) + item_id", folds: 5, extra: "prior = \"flat\"\n"))
        out.append(
            Case(
                name: "sem-latent",
                text: """
                    [data]
                    path = "\(latent)"
                    [model]
                    kind = "sem"
                    syntax = \"\"\"
                    sat =~ s1 + s2 + s3
                    sat ~ quality + price
                    click ~ sat + price
                    \"\"\"
                    [cluster]
                    shards = 8

                    """))
        return out
    }

    /// `causa simulate` data for the text job: 300 users, 60 items, seed 9 (deterministic to the byte).
    static func simulated() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "causa-report-fixture-sim-\(ProcessInfo.processInfo.processIdentifier)")
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("impressions.csv").path) {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            _ = try Simulator.generate(SimulationConfig(users: 300, items: 60, seed: 9)).write(to: dir.path)
        }
        return dir.path
    }

    /// The report of a job, as JSON, without what may differ between runs and machines of one kind.
    func report(_ c: Case) throws -> Any {
        let dir = try Fixtures.folder()
        let path = try Fixtures.write(c.text, "\(c.name).toml", in: dir)
        let job = try JobSpec.load(path: path)
        let prepared = try PreparedJob(job: job, jobID: "fixture")
        let executor = try InProcessExecutor(prepared: prepared, workers: 2)
        let outcome = try FitDriver(prepared: prepared, logger: Logger(label: "test")).run(on: executor)
        var report = FitReport(
            job: .init(job), cluster: .init(workers: 2, shards: job.shards), data: outcome.data, model: outcome.model,
            cv: outcome.cv, network: .init(bytes_sent: 0, bytes_received: 0), timings_s: [:])
        report.text = outcome.text
        report.sem = outcome.sem
        report.bayes = outcome.bayes
        report.ope = outcome.ope
        report.ope_info = outcome.opeInfo
        report.policy = outcome.policy
        var json = try JSONSerialization.jsonObject(with: try report.jsonData()) as! [String: Any]
        json["timings_s"] = nil
        json["network"] = nil
        var cluster = json["cluster"] as! [String: Any]
        cluster["workers"] = nil
        json["cluster"] = cluster
        var echo = json["job"] as! [String: Any]
        echo["file"] = nil
        echo["data"] = nil  // absolute paths of this checkout
        json["job"] = echo
        // Policy files are named by the paths the job gives: absolute here, so only their file names are compared.
        let file = { (s: String) in URL(fileURLWithPath: s).lastPathComponent }
        if var ope = json["ope"] as? [[String: Any]] {
            for i in ope.indices { ope[i]["policy"] = file(ope[i]["policy"] as! String) }
            json["ope"] = ope
        }
        if var info = json["ope_info"] as? [String: Any] {
            info["policies"] = (info["policies"] as! [String]).map(file)
            json["ope_info"] = info
        }
        return json
    }

    func testReportsEqualTheCommittedFixtures() throws {
        LinearAlgebra.setThreads(1)  // as the coordinator and the workers run it: the bits depend on BLAS's threads
        let folder = Fixtures.root.appendingPathComponent("reports")
        let write = ProcessInfo.processInfo.environment["CAUSA_WRITE_REPORT_FIXTURES"] == "1"
        for c in try cases() {
            let got = try report(c)
            let file = folder.appendingPathComponent("\(c.name).json")
            if write {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                let data = try JSONSerialization.data(withJSONObject: got, options: [.prettyPrinted, .sortedKeys])
                try data.write(to: file)
                continue
            }
            let want = try JSONSerialization.jsonObject(with: try Data(contentsOf: file))
            var differences: [String] = []
            Self.compare(got, want, path: c.name, into: &differences)
            XCTAssertTrue(differences.isEmpty, differences.prefix(10).joined(separator: "\n"))
        }
    }

    /// Numbers to 1e-13 relative (or 1e-300 absolute), everything else exactly.
    static func compare(_ a: Any, _ b: Any, path: String, into out: inout [String]) {
        switch (a, b) {
        case (let x as [String: Any], let y as [String: Any]):
            for k in Set(x.keys).union(y.keys).sorted() {
                guard let xv = x[k], let yv = y[k] else {
                    out.append("\(path).\(k): only in \(x[k] == nil ? "the fixture" : "the run")")
                    continue
                }
                compare(xv, yv, path: "\(path).\(k)", into: &out)
            }
        case (let x as [Any], let y as [Any]):
            guard x.count == y.count else { return out.append("\(path): \(x.count) elements, fixture \(y.count)") }
            for i in x.indices { compare(x[i], y[i], path: "\(path)[\(i)]", into: &out) }
        case (let x as NSNumber, let y as NSNumber):
            let u = x.doubleValue
            let v = y.doubleValue
            if !(abs(u - v) <= 1e-13 * max(abs(u), abs(v)) || abs(u - v) <= 1e-300) {
                out.append("\(path): \(u), fixture \(v) (rel \(abs(u - v) / max(abs(u), abs(v))))")
            }
        default:
            if "\(a)" != "\(b)" { out.append("\(path): \(a), fixture \(b)") }
        }
    }
}
