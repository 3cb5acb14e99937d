import CausaTestSupport
import Foundation
import Logging
import Simulation
import Tabular
import XCTest

@testable import Jobs

/// The greedy learner (issue 12): the same policy, recommendations and policy.json for any number of workers, the
/// capacity never exceeded, scores that are the reward model's, and the input errors of its acceptance 4.
final class PolicyLearningTests: XCTestCase {
    func outcome(_ text: String, in dir: URL, workers: Int = 2, predictions: String? = nil) throws
        -> FitDriver.Outcome
    {
        let path = try Fixtures.write(text, "job.toml", in: dir)
        var prepared = try PreparedJob(job: try JobSpec.load(path: path), jobID: "learn")
        prepared.predictionsPath = predictions
        let executor = try InProcessExecutor(prepared: prepared, workers: workers, encodesPayloads: true)
        return try FitDriver(prepared: prepared, logger: Logger(label: "test")).run(on: executor)
    }

    static let simulated: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "causa-learn-sim-\(ProcessInfo.processInfo.processIdentifier)")
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("impressions.csv").path) {
            try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            _ = try! Simulator.generate(SimulationConfig(users: 400, items: 25, seed: 4)).write(to: dir.path)
        }
        return dir
    }()

    func simJob(
        cv: Bool = true, policy: String, formula: String = "click ~ C(position) + np.log(price) + affinity"
    ) -> String {
        let sim = Self.simulated.path
        return """
            [data]
            path = "\(sim)/impressions.csv"
            user_key = ["user_id"]
            [model]
            kind = "logit"
            formula = "\(formula)"
            \(cv ? "[cv]\nfolds = 4\nfold_by = \"user\"" : "")
            [cluster]
            shards = 6
            [text]
            encoder = "hashing"
            users_path = "\(sim)/users.csv"
            user_text = ["profile"]
            items_path = "\(sim)/items.csv"
            item_key = "item_id"
            item_text = ["description"]
            [policy]
            action = "item_id"
            propensity = "propensity"
            position = "position"
            positions = [1]
            \(policy)
            """
    }

    /// Acceptance 1 (greedy): the report's policy and ope sections, policy.json and recommendations.csv are the same
    /// bits with 1 and 2 workers, and no item takes more than its share at position 1.
    func testGreedyUnderCapacityIsIdenticalForOneAndTwoWorkersAndRespectsCapacity() throws {
        let text = simJob(
            policy: "learners = [\"greedy\"]\nat = { position = 1 }\nepsilon = 0.05\ncapacity = 0.08\ntop_k = 3")
        let dir = try Fixtures.folder()  // one job file: policy.json names the job by a hash of it
        let runs = try [1, 2].map { try outcome(text, in: dir, workers: $0) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        XCTAssertEqual(try encoder.encode(runs[0].policy), try encoder.encode(runs[1].policy))
        XCTAssertEqual(try encoder.encode(runs[0].ope), try encoder.encode(runs[1].ope))
        XCTAssertEqual(runs[0].files, runs[1].files)
        let section = try XCTUnwrap(runs[0].policy)
        XCTAssertEqual(section.deployed, "greedy")
        XCTAssertEqual(section.users, 400)
        XCTAssertEqual(section.candidates, 25)
        let limit = try XCTUnwrap(section.item_limit)
        // ⌊(0.08 − 0.05/25) · 400 / 0.95⌋ = ⌊32.84⌋
        XCTAssertEqual(limit, 32)
        let learner = section.learners[0]
        XCTAssertLessThanOrEqual(learner.max_item_share, 0.08 + 1e-15)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(learner.lp_gap), -1e-12)  // the dual bound bounds the value
        XCTAssertEqual(Set(learner.held_out.map(\.estimator)), ["ipw", "snips", "dm", "dr", "switch_dr"])
        // recommendations.csv: 3 rows per user; rank-1 counts within the limit; a valid compact-form policy file.
        let csv = String(decoding: try XCTUnwrap(runs[0].files["recommendations.csv"]), as: UTF8.self)
        let lines = csv.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(lines[0], ["user_id", "item_id", "rank", "probability", "predicted_reward", "epsilon"])
        XCTAssertEqual(lines.count, 1 + 400 * 3)
        var firstChoices: [String: Int] = [:]
        for l in lines.dropFirst() where l[2] == "1" { firstChoices[l[1], default: 0] += 1 }
        XCTAssertEqual(firstChoices.values.reduce(0, +), 400)
        XCTAssertLessThanOrEqual(firstChoices.values.max()!, limit)
        for l in lines.dropFirst().prefix(3) {
            let total = Double(lines[1][3])! + Double(lines[2][3])! + Double(lines[3][3])! + Double(l[5])!
            XCTAssertEqual(total, 1, accuracy: 1e-12)
        }
        let document =
            try JSONSerialization.jsonObject(with: try XCTUnwrap(runs[0].files["policy.json"])) as! [String: Any]
        XCTAssertEqual(document["learner"] as? String, "greedy")
        XCTAssertEqual(document["item_limit"] as? Int, limit)
    }

    /// Issue 12, acceptance 1: greedy, gradient and annealing under capacity with [cv]: the policy and ope sections,
    /// policy.json and recommendations.csv are the same bits with 1 and 2 workers; the constrained learners never
    /// exceed the capacity, and the deployed policy keeps it.
    func testThreeLearnersUnderCapacityAreIdenticalForOneAndTwoWorkers() throws {
        let text = simJob(
            policy: """
                learners = ["greedy", "gradient", "annealing"]
                at = { position = 1 }
                epsilon = 0.05
                capacity = 0.08
                max_rounds = 40
                anneal_rounds = 20
                """)
        let dir = try Fixtures.folder()
        let runs = try [1, 2].map { try outcome(text, in: dir, workers: $0) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        XCTAssertEqual(try encoder.encode(runs[0].policy), try encoder.encode(runs[1].policy))
        XCTAssertEqual(try encoder.encode(runs[0].ope), try encoder.encode(runs[1].ope))
        XCTAssertEqual(runs[0].files, runs[1].files)
        let section = try XCTUnwrap(runs[0].policy)
        XCTAssertEqual(section.learners.map(\.learner), ["greedy", "gradient", "annealing"])
        for l in section.learners where l.learner != "gradient" {
            XCTAssertLessThanOrEqual(l.max_item_share, 0.08 * (1 + 1e-12), l.learner)
            XCTAssertEqual(Set(l.held_out.map(\.estimator)), ["ipw", "snips", "dm", "dr", "switch_dr"], l.learner)
        }
        XCTAssertNotEqual(section.deployed, "gradient")
        let annealing = section.learners[2]
        XCTAssertEqual(annealing.iterations, 20)
        // The deployed policy's rank-1 counts stay within the item limit.
        let csv = String(decoding: try XCTUnwrap(runs[0].files["recommendations.csv"]), as: UTF8.self)
        var firsts: [String: Int] = [:]
        for line in csv.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",").map(String.init)
            if f[2] == "1" { firsts[f[1], default: 0] += 1 }
        }
        XCTAssertLessThanOrEqual(firsts.values.max()!, try XCTUnwrap(section.item_limit))
    }

    /// Annealing on the doubly robust objective: the same policy for 1 and 2 workers, within the capacity, and its
    /// predicted value recomputed from the final assignment.
    func testAnnealingOnTheDoublyRobustObjective() throws {
        let text = simJob(
            cv: false,
            policy: """
                learners = ["annealing"]
                objective = "dr"
                at = { position = 1 }
                epsilon = 0
                capacity = 0.1
                anneal_rounds = 15
                """)
        let dir = try Fixtures.folder()
        let runs = try [1, 2].map { try outcome(text, in: dir, workers: $0) }
        XCTAssertEqual(runs[0].files, runs[1].files)
        let l = try XCTUnwrap(runs[0].policy?.learners.first)
        XCTAssertLessThanOrEqual(l.max_item_share, 0.1 * (1 + 1e-12))
        let csv = String(decoding: try XCTUnwrap(runs[0].files["recommendations.csv"]), as: UTF8.self)
        var total = 0.0
        var users = 0
        for line in csv.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",").map(String.init)
            if f[2] == "1" {
                total += Double(f[4])!
                users += 1
            }
        }
        assertRelative(l.predicted_value, total / Double(users), 1e-12, "predicted value of the final assignment")
    }

    /// Annealing keeps the best assignment it has seen: without constraints it starts at greedy's, which is optimal
    /// for the predicted reward, so it ends there.
    func testAnnealingNeverEndsBelowItsGreedyStart() throws {
        let text = simJob(
            cv: false,
            policy: "learners = [\"greedy\", \"annealing\"]\nat = { position = 1 }\nepsilon = 0\nanneal_rounds = 10")
        let o = try outcome(text, in: try Fixtures.folder())
        let learners = try XCTUnwrap(o.policy?.learners)
        assertRelative(learners[1].predicted_value, learners[0].predicted_value, 1e-12, "annealing vs greedy")
    }

    /// recommendations.csv's predicted rewards are the reward model's q̂: without [cv], a user's first row is at
    /// position 1, so its exported q̂ for an item (scored pair by pair by the off-policy round) equals the learner's
    /// score of that (user, item) (by matrix products: affinity, price, PC interactions) to rounding.
    func testRecommendationScoresAreTheRewardModelsPredictions() throws {
        for formula in [
            "click ~ C(position) + np.log(price) + affinity",
            "click ~ C(position) + np.log(price) + C(category) + affinity + affinity:np.log(price) + (user_pc1 + user_pc2):(item_pc1 + item_pc2)"
        ] {
            let dir = try Fixtures.folder()
            let predictions = dir.appendingPathComponent("q.csv").path
            let o = try outcome(
                simJob(
                    cv: false, policy: "learners = [\"greedy\"]\nat = { position = 1 }\nepsilon = 0", formula: formula),
                in: dir, predictions: predictions)
            var q: [String: Double] = [:]
            let table = try CSVTable(path: predictions)
            while let r = try table.next() { q[r.fields[0] + "/" + r.fields[1]] = Double(r.fields[2])! }
            var firstRow: [String: Int] = [:]
            let data = try CSVTable(path: Self.simulated.appendingPathComponent("impressions.csv").path)
            let user = data.header.firstIndex(of: "user_id")!
            while let r = try data.next() { if firstRow[r.fields[user]] == nil { firstRow[r.fields[user]] = r.index } }
            let csv = String(decoding: try XCTUnwrap(o.files["recommendations.csv"]), as: UTF8.self)
            var compared = 0
            for line in csv.split(separator: "\n").dropFirst() {
                let f = line.split(separator: ",").map(String.init)
                let expected = try XCTUnwrap(q["\(firstRow[f[0]]!)/\(f[1])"])
                assertRelative(Double(f[4])!, expected, 1e-12, "\(formula): user \(f[0]) item \(f[1])")
                compared += 1
            }
            XCTAssertEqual(compared, 400 * 3)
            // ε = 0 and no capacity: the first item is the user's best predicted item.
            XCTAssertNil(o.policy?.learners[0].lp_gap)
        }
    }

    func testLearningInputErrors() throws {
        let sim = Self.simulated.path
        let cases: [(String, String, String)] = [
            (simJob(policy: "learners = [\"greedy\"]"), "policy.learners", "position"),
            (
                simJob(policy: "learners = [\"greedy\"]\nat = { position = 1, query = \"shoes\" }"), "policy.at",
                "'query'"
            ),
            (
                simJob(policy: "learners = [\"greedy\"]\nat = { position = 1 }\nepsilon = 0\ncapacity = 0.02"),
                "policy.capacity", "no assignment respects capacity"
            ),
            (simJob(policy: "learners = [\"greedy\"]\nat = { position = 1 }\nepsilon = 1"), "policy.epsilon", "[0, 1)"),
            (
                simJob(policy: "learners = [\"greedy\"]\nat = { position = \"top\" }"), "policy.at",
                "which the model reads as a number"
            ),
            (
                simJob(policy: "learners = [\"greedy\"]\nat = { position = 7 }"), "policy.at",
                "not one of the data's levels"
            ),
            (
                simJob(policy: "learners = [\"bandit\"]"), "policy.learners", "unknown learner 'bandit'"
            ),
            (
                """
                [data]
                path = "\(sim)/impressions.csv"
                [model]
                kind = "ols"
                formula = "click ~ C(item_id)"
                [policy]
                action = "item_id"
                propensity = "propensity"
                learners = ["greedy"]
                """, "policy.learners", "data.user_key"
            ),
            (
                """
                [data]
                path = "\(sim)/impressions.csv"
                user_key = ["user_id"]
                [model]
                kind = "ols"
                formula = "click ~ C(item_id)"
                [policy]
                action = "item_id"
                propensity = "propensity"
                learners = ["greedy"]
                candidates = "items"
                """, "policy.candidates", "items file"
            )
        ]
        for (text, key, words) in cases {
            do {
                _ = try outcome(text, in: try Fixtures.folder())
                XCTFail("no error for \(key)")
            } catch let e as InputError {
                XCTAssertTrue(e.file.hasSuffix("job.toml"), "\(e)")
                XCTAssertNotNil(e.line, "\(e)")
                XCTAssertTrue(e.message.contains(key) || e.message.contains(words), "\(key): \(e.message)")
                XCTAssertTrue(e.message.contains(words), "\(key): \(e.message)")
            }
        }
    }
}

/// The gradient learner: on a context-free model it climbs to the best item, and its policy is the same for any
/// number of workers.
final class GradientLearnerTests: XCTestCase {
    func testGradientClimbsToTheBestItemAndIsIdenticalForOneAndTwoWorkers() throws {
        let dir = try Fixtures.folder()
        let text = """
            [data]
            path = "\(Fixtures.path("obd/random_10k.csv"))"
            user_key = ["user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3"]
            [model]
            kind = "ols"
            formula = "click ~ C(item_id)"
            [cluster]
            shards = 8
            [policy]
            action = "item_id"
            propensity = "propensity_score"
            learners = ["gradient"]
            epsilon = 0
            top_k = 1
            step = 0.5
            max_rounds = 300
            """
        let path = try Fixtures.write(text, "job.toml", in: dir)
        var runs: [FitDriver.Outcome] = []
        for workers in [1, 2] {
            let prepared = try PreparedJob(job: try JobSpec.load(path: path), jobID: "g")
            let executor = try InProcessExecutor(prepared: prepared, workers: workers, encodesPayloads: true)
            runs.append(try FitDriver(prepared: prepared, logger: Logger(label: "t")).run(on: executor))
        }
        XCTAssertEqual(runs[0].files, runs[1].files)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        XCTAssertEqual(try encoder.encode(runs[0].policy), try encoder.encode(runs[1].policy))
        // In-sample OLS on item dummies predicts each item's mean click and the DR correction sums to 0 per item, so
        // the objective is Σ σ_a · mean click of a: the best item is the one with the highest mean click.
        let table = try CSVTable(path: Fixtures.path("obd/random_10k.csv"))
        let item = table.header.firstIndex(of: "item_id")!
        let click = table.header.firstIndex(of: "click")!
        var sums: [String: (Double, Double)] = [:]
        while let r = try table.next() {
            let s = sums[r.fields[item]] ?? (0, 0)
            sums[r.fields[item]] = (s.0 + Double(r.fields[click])!, s.1 + 1)
        }
        let best = sums.max { $0.value.0 / $0.value.1 < $1.value.0 / $1.value.1 }!.key
        let csv = String(decoding: try XCTUnwrap(runs[0].files["recommendations.csv"]), as: UTF8.self)
        let rows = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        XCTAssertFalse(rows.isEmpty)
        for r in rows {
            XCTAssertEqual(r[4], best)
            XCTAssertGreaterThan(Double(r[6])!, 0.9, "π of the best item")
        }
        let learner = try XCTUnwrap(runs[0].policy?.learners.first)
        XCTAssertEqual(learner.learner, "gradient")
        XCTAssertGreaterThan(try XCTUnwrap(learner.iterations), 0)
        assertRelative(learner.predicted_value, sums[best]!.0 / sums[best]!.1, 0.05, "value near the best item's")
    }
}
