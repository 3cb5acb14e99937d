import Foundation
import StableRandom
import XCTest

@testable import Simulation

final class SimulationTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A small RFC 4180 reader (quoted fields, doubled quotes), independent of the writer.
    static func readCSV(_ path: String) throws -> (header: [String], rows: [[String]]) {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text.unicodeScalars)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" {
                        field.unicodeScalars.append("\"")
                        chars.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field)
                field = ""
            } else if c == "\n" {
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else {
                field.unicodeScalars.append(c)
            }
        }
        XCTAssertTrue(row.isEmpty && field.isEmpty, "the file ends with a line break")
        return (rows[0], Array(rows.dropFirst()))
    }

    static func readTruth(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    static func doubles(_ any: Any?) -> [Double] { (any as! [NSNumber]).map(\.doubleValue) }
    static func matrix(_ any: Any?) -> [[Double]] { (any as! [Any]).map { doubles($0) } }

    func generate(_ users: Int, _ items: Int, seed: UInt64, n: Int = 20, p: Int = 3, into name: String) throws -> (
        SimulatedDataset, String
    ) {
        let data = try Simulator.generate(
            SimulationConfig(users: users, items: items, impressionsPerUser: n, positions: p, seed: seed))
        let folder = dir.appendingPathComponent(name).path
        try data.write(to: folder)
        return (data, folder)
    }

    func testSameArgumentsGiveByteIdenticalFilesAndAnotherSeedDiffers() throws {
        let (_, a) = try generate(120, 40, seed: 42, into: "a")
        let (_, b) = try generate(120, 40, seed: 42, into: "b")
        let (_, c) = try generate(120, 40, seed: 43, into: "c")
        for name in SimulatedDataset.fileNames {
            let fa = try Data(contentsOf: URL(fileURLWithPath: a).appendingPathComponent(name))
            XCTAssertGreaterThan(fa.count, 100, name)
            XCTAssertEqual(fa, try Data(contentsOf: URL(fileURLWithPath: b).appendingPathComponent(name)), name)
            XCTAssertNotEqual(fa, try Data(contentsOf: URL(fileURLWithPath: c).appendingPathComponent(name)), name)
        }
        // No temporary files are left behind.
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: a).sorted(), SimulatedDataset.fileNames.sorted())
        // Streams are independent: more impressions per user leave users, items and the truth matrices unchanged.
        let (_, d) = try generate(120, 40, seed: 42, n: 7, into: "d")
        for name in ["users.csv", "items.csv"] {
            XCTAssertEqual(
                try Data(contentsOf: URL(fileURLWithPath: a).appendingPathComponent(name)),
                try Data(contentsOf: URL(fileURLWithPath: d).appendingPathComponent(name)), name)
        }
        let ta = try Self.readTruth(a + "/truth.json")
        let td = try Self.readTruth(d + "/truth.json")
        XCTAssertEqual(Self.matrix(ta["click_probability_position1"]), Self.matrix(td["click_probability_position1"]))
    }

    func testRowCountsHeadersAndSlates() throws {
        let (data, folder) = try generate(50, 20, seed: 7, into: "x")
        let users = try Self.readCSV(folder + "/users.csv")
        XCTAssertEqual(users.header, ["user_id", "segment", "signup_days", "profile"])
        XCTAssertEqual(users.rows.count, 50)
        XCTAssertEqual(users.rows.map { $0[0] }, (0..<50).map(String.init))
        XCTAssertEqual(users.rows.map { $0[3] }, data.users.map(\.profile))  // quoting round-trips
        XCTAssertTrue(users.rows.allSatisfy { Vocabulary.segments.contains($0[1]) && (1...1825).contains(Int($0[2])!) })
        let items = try Self.readCSV(folder + "/items.csv")
        XCTAssertEqual(items.header, ["item_id", "category", "price", "description"])
        XCTAssertEqual(items.rows.count, 20)
        XCTAssertEqual(items.rows.map { $0[3] }, data.items.map(\.description))
        XCTAssertTrue(items.rows.allSatisfy { Vocabulary.categories.contains($0[1]) && Double($0[2])! >= 1 })
        let log = try Self.readCSV(folder + "/impressions.csv")
        XCTAssertEqual(
            log.header,
            [
                "user_id", "slate_id", "timestamp", "item_id", "position", "category", "price", "propensity", "click",
                "query"
            ])
        XCTAssertEqual(log.rows.count, 50 * 20)
        XCTAssertTrue(log.rows.allSatisfy { $0.count == 10 })
        // 20 rows per user = 6 slates of 3 and one of 2; timestamps in [0, 90) and non-decreasing per user.
        var byUser: [String: [[String]]] = [:]
        for r in log.rows { byUser[r[0], default: []].append(r) }
        XCTAssertEqual(byUser.count, 50)
        for (_, rows) in byUser {
            XCTAssertEqual(rows.map { Int($0[4])! }, [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2])
            let times = rows.map { Double($0[2])! }
            XCTAssertEqual(times, times.sorted())
            XCTAssertTrue(times.allSatisfy { (0..<90).contains($0) })
        }
        var slates: [String: [[String]]] = [:]
        for r in log.rows { slates[r[1], default: []].append(r) }
        XCTAssertEqual(slates.count, 50 * 7)
        for (_, rows) in slates {
            XCTAssertEqual(Set(rows.map { $0[3] }).count, rows.count, "an item twice in a slate")
            XCTAssertEqual(Set(rows.map { $0[0] }).count, 1)
            XCTAssertEqual(Set(rows.map { $0[9] }).count, 1, "one query per slate")
        }
        // price and category are copied from items.csv; clicks are 0/1.
        for r in log.rows {
            let item = items.rows[Int(r[3])!]
            XCTAssertEqual([r[5], r[6]], [item[1], item[2]])
            XCTAssertTrue(r[8] == "0" || r[8] == "1")
        }
        let truth = try Self.readTruth(folder + "/truth.json")
        XCTAssertEqual(Self.matrix(truth["click_probability_position1"]).map(\.count), Array(repeating: 20, count: 50))
        XCTAssertEqual(Self.matrix(truth["logging_scores"]).count, 50)
        XCTAssertEqual(truth["seed"] as? Int, 7)
    }

    /// Every logged propensity is the logging policy's probability of that choice, recomputed from truth.json:
    /// slot k of a slate is a softmax of the user's logging scores over the items not placed in slots 1..k−1, so
    /// propensity = exp(s_i) / Σ_{j available} exp(s_j). The truth matrix is the documented click model of the
    /// latents, prices and user effects, and the policy values follow from the two matrices.
    func testPropensitiesAndTruthAreRecomputableFromTheFiles() throws {
        let (_, folder) = try generate(80, 25, seed: 11, n: 10, p: 4, into: "x")
        let truth = try Self.readTruth(folder + "/truth.json")
        let scores = Self.matrix(truth["logging_scores"])
        let p1 = Self.matrix(truth["click_probability_position1"])
        let impressions = try Self.readCSV(folder + "/impressions.csv")
        var placed: [String: Set<Int>] = [:]
        var checked = 0
        for r in impressions.rows {
            let user = Int(r[0])!
            let item = Int(r[3])!
            let logged = Double(r[7])!
            XCTAssertTrue(logged > 0 && logged <= 1)
            let before = placed[r[1], default: []]
            XCTAssertEqual(before.count, Int(r[4])! - 1, "rows of a slate are in position order")
            let m = scores[user].max()!
            let total = scores[user].indices.filter { !before.contains($0) }.reduce(0.0) {
                $0 + exp(scores[user][$1] - m)
            }
            let expected = exp(scores[user][item] - m) / total
            XCTAssertEqual(logged, expected, accuracy: 1e-12 + 1e-10 * expected, "row \(checked)")
            placed[r[1], default: []].insert(item)
            checked += 1
        }
        XCTAssertEqual(checked, 800)

        let params = truth["parameters"] as! [String: Any]
        let alpha = params["alpha"] as! Double
        let beta = params["beta"] as! Double
        let delta = params["delta"] as! Double
        let effects = Self.doubles(truth["user_effects"])
        let ul = Self.matrix(truth["user_latents"])
        let il = Self.matrix(truth["item_latents"])
        let prices = try Self.readCSV(folder + "/items.csv").rows.map { Double($0[2])! }
        for u in 0..<80 {
            XCTAssertEqual(ul[u].reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-12)
            for i in 0..<25 {
                let a = zip(ul[u], il[i]).reduce(0) { $0 + $1.0 * $1.1 }
                let p = 1 / (1 + exp(-(alpha + beta * a + delta * log(prices[i]) + effects[u])))
                XCTAssertEqual(p1[u][i], p, accuracy: 1e-12)
            }
        }
        let gamma = Self.doubles(params["position_effects"])
        XCTAssertEqual(gamma.count, 4)
        XCTAssertEqual(gamma[0], 0)
        for k in 1..<4 { XCTAssertLessThan(gamma[k], gamma[k - 1]) }

        var logging = 0.0
        var uniform = 0.0
        var oracle = 0.0
        let oracleItems = (truth["oracle_items"] as! [NSNumber]).map(\.intValue)
        for u in 0..<80 {
            let m = scores[u].max()!
            let w = scores[u].map { exp($0 - m) }
            let total = w.reduce(0, +)
            logging += zip(w, p1[u]).reduce(0) { $0 + $1.0 / total * $1.1 }
            uniform += p1[u].reduce(0, +) / 25
            oracle += p1[u].max()!
            XCTAssertEqual(p1[u][oracleItems[u]], p1[u].max()!)
        }
        let values = truth["policy_values"] as! [String: Double]
        XCTAssertEqual(values["logging"]!, logging / 80, accuracy: 1e-12)
        XCTAssertEqual(values["uniform"]!, uniform / 80, accuracy: 1e-12)
        XCTAssertEqual(values["oracle"]!, oracle / 80, accuracy: 1e-12)
    }

    /// The click rate of position-1 impressions estimates the logging value: each is Bernoulli with mean
    /// m_u = Σ_i π0(i|u)·p(u,i,1), every user has the same number of them, so the mean has expectation V(π0) and
    /// variance Σ m_u(1−m_u)/n² ≤ V(1−V)/n. Inverse-propensity weighting of the same rows estimates the uniform and
    /// oracle values (standard errors from the sample).
    func testLoggedClicksMatchTheTruePolicyValues() throws {
        let data = try Simulator.generate(
            SimulationConfig(users: 5000, items: 40, impressionsPerUser: 30, positions: 3, seed: 2024))
        let first = data.impressions.filter { $0.position == 1 }
        let n = Double(first.count)
        XCTAssertEqual(first.count, 50_000)
        let v = data.policyValues
        let rate = Double(first.filter(\.click).count) / n
        let se = (v.logging * (1 - v.logging) / n).squareRoot()
        XCTAssertEqual(rate, v.logging, accuracy: 4 * se, "logging: empirical \(rate), truth \(v.logging), SE \(se)")

        func ips(_ target: (SimulatedImpression) -> Double) -> (mean: Double, se: Double) {
            let terms = first.map { ($0.click ? 1.0 : 0.0) * target($0) / $0.propensity }
            let mean = terms.reduce(0, +) / n
            let variance = terms.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
            return (mean, (variance / n).squareRoot())
        }
        let uniform = ips { _ in 1.0 / 40 }
        XCTAssertEqual(uniform.mean, v.uniform, accuracy: 4 * uniform.se, "uniform: IPS \(uniform), truth \(v.uniform)")
        let oracle = ips { $0.item == data.oracleItems[$0.user] ? 1 : 0 }
        XCTAssertEqual(oracle.mean, v.oracle, accuracy: 4 * oracle.se, "oracle: IPS \(oracle), truth \(v.oracle)")
        // Positions lower the click rate (the same policy fills every slot, so the lower slots also get worse items).
        let rates = (1...3).map { k in
            let rows = data.impressions.filter { $0.position == k }
            return Double(rows.filter(\.click).count) / Double(rows.count)
        }
        XCTAssertGreaterThan(rates[0], rates[1])
        XCTAssertGreaterThan(rates[1], rates[2])
    }

    func testOracleBeatsLoggingBeatsUniformForTheDefaults() throws {
        for seed: UInt64 in [1, 2, 3] {
            let v = try Simulator.generate(SimulationConfig(users: 400, items: 120, seed: seed)).policyValues
            XCTAssertGreaterThan(v.oracle, v.logging + 0.05, "seed \(seed): \(v)")
            XCTAssertGreaterThan(v.logging, v.uniform + 0.05, "seed \(seed): \(v)")
            XCTAssertTrue(v.uniform > 0.05 && v.oracle < 0.9, "seed \(seed): \(v)")
        }
    }

    /// Texts are varied, and written from the latent themes: a profile names a role or activity of its user's
    /// primary theme, a description uses a noun of its item's category.
    func testTextsAreVariedAndFollowTheLatentThemes() throws {
        let data = try Simulator.generate(SimulationConfig(users: 1000, items: 500, impressionsPerUser: 3, seed: 5))
        let profiles = Set(data.users.map(\.profile))
        let descriptions = Set(data.items.map(\.description))
        XCTAssertGreaterThan(Double(profiles.count) / 1000, 0.8, "\(profiles.count) distinct profiles")
        XCTAssertGreaterThan(Double(descriptions.count) / 500, 0.8, "\(descriptions.count) distinct descriptions")
        let queries = Set(data.impressions.map(\.query))
        XCTAssertGreaterThan(queries.count, 100)
        var topTwoMatch = 0
        for u in data.users {
            let own = Vocabulary.roles[u.primaryTheme] + Vocabulary.activities[u.primaryTheme]
            XCTAssertTrue(own.contains { u.profile.contains($0) }, u.profile)
            let second =
                Vocabulary.roles[u.secondaryTheme].map { Simulator.lowercasedFirst($0) }
                + Vocabulary.activities[u.secondaryTheme]
                + Vocabulary.preferences[u.secondaryTheme]
            XCTAssertTrue(second.contains { u.profile.contains($0) }, u.profile)
            let top2 = Set(u.latent.indices.sorted { u.latent[$0] > u.latent[$1] }.prefix(2))
            if top2 == [u.primaryTheme, u.secondaryTheme] { topTwoMatch += 1 }
        }
        XCTAssertGreaterThan(topTwoMatch, 990, "the two largest latent coordinates are the two written themes")
        for i in data.items {
            XCTAssertTrue(
                Vocabulary.nouns[i.category].contains { i.description.lowercased().contains($0) }, i.description)
            let second = Vocabulary.adjectives[i.secondaryTheme] + Vocabulary.tails[i.secondaryTheme]
            XCTAssertTrue(second.contains { i.description.lowercased().contains($0.lowercased()) }, i.description)
        }
        // Affinity carries the signal: same-primary-theme pairs click far more often than unrelated pairs.
        var same = 0.0
        var sameN = 0.0
        var other = 0.0
        var otherN = 0.0
        for u in data.users.prefix(200) {
            for i in data.items {
                let p = data.probability(user: u.id, item: i.id)
                if i.category == u.primaryTheme {
                    same += p
                    sameN += 1
                } else if i.category != u.secondaryTheme, i.secondaryTheme != u.primaryTheme {
                    other += p
                    otherN += 1
                }
            }
        }
        XCTAssertGreaterThan(same / sameN, 2 * other / otherN)
    }

    func testSizeProblemsNameTheFlag() {
        func problem(_ users: Int, _ items: Int, n: Int = 20, p: Int = 3) -> String? {
            SimulationConfig(users: users, items: items, impressionsPerUser: n, positions: p, seed: 0).problem()
        }
        XCTAssertNil(problem(1, 3))
        XCTAssertTrue(problem(0, 10)!.hasPrefix("--users"))
        XCTAssertTrue(problem(10, 0)!.hasPrefix("--items"))
        XCTAssertTrue(problem(10, 2)!.contains("--positions"))
        XCTAssertTrue(problem(10, 10, n: 0)!.hasPrefix("--impressions-per-user"))
        XCTAssertTrue(problem(10, 10, p: 0)!.hasPrefix("--positions"))
        XCTAssertTrue(problem(100_000, 1000)!.contains("--users × --items"))
        XCTAssertThrowsError(try Simulator.generate(SimulationConfig(users: 0, items: 5, seed: 1)))
    }

    /// SplitMix64's published first outputs for seed 0 pin the generator (and so every file) down.
    func testGeneratorIsTheDocumentedOne() {
        var sm = SplitMix64(seed: 0)
        XCTAssertEqual(sm.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(sm.next(), 0x6E78_9E6A_A1B9_65F4)
        var x = Xoshiro256(seed: 9, stream: 1)
        let u = (0..<10_000).map { _ in x.uniform() }
        XCTAssertTrue(u.allSatisfy { (0..<1).contains($0) })
        XCTAssertEqual(u.reduce(0, +) / 10_000, 0.5, accuracy: 0.01)
        let z = (0..<10_000).map { _ in x.normal() }
        XCTAssertEqual(z.reduce(0, +) / 10_000, 0, accuracy: 0.04)
        XCTAssertEqual(z.reduce(0) { $0 + $1 * $1 } / 10_000, 1, accuracy: 0.05)
    }
}
