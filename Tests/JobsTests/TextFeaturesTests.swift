import Foundation
import Logging
import Simulation
import XCTest

@testable import Jobs

/// Issue 4: `[text]` jobs. Texts are embedded where their users live, the PCAs run on merged moments, and the
/// features `user_pc*`, `item_pc*` and `affinity` enter formulas like data columns.
final class TextFeaturesTests: XCTestCase {
    static let modelFolder = Fixtures.miniLMDirectory.path

    /// A simulated dataset in a fresh folder (users.csv, items.csv, impressions.csv, truth.json).
    static func simulate(users: Int, items: Int, seed: UInt64) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-text-\(UUID().uuidString)").path
        _ = try Simulator.generate(SimulationConfig(users: users, items: items, seed: seed)).write(to: dir)
        return dir
    }

    /// Writes `dir/NAME.toml` for the simulated data; `text` is the body of the [text] table (nil: no table).
    static func job(
        _ dir: String, name: String = "job", kind: String = "ols", formula: String, text: String?, shards: Int = 8,
        folds: Int = 5
    ) throws -> String {
        var body = """
            [data]
            path = "impressions.csv"
            user_key = ["user_id"]
            [model]
            kind = "\(kind)"
            formula = "\(formula)"
            [cluster]
            shards = \(shards)

            """
        if folds > 0 { body += "[cv]\nfolds = \(folds)\nfold_by = \"user\"\n" }
        if let text { body += "[text]\n" + text + "\ncache = false\n" }
        let path = dir + "/\(name).toml"
        try body.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The body of a [text] table for simulated data: users' profiles and items' descriptions, hashing encoder.
    static func profilesAndDescriptions(components: Int) -> String {
        """
        encoder = "hashing"
        components = \(components)
        users_path = "users.csv"
        user_text = ["profile"]
        items_path = "items.csv"
        item_key = "item_id"
        item_text = ["description"]
        """
    }

    var hasModel: Bool { FileManager.default.fileExists(atPath: Self.modelFolder + "/model.safetensors") }

    /// Acceptance 2: on simulated data, CV MSE with MiniLM features < with hashing features < without text features.
    /// The user texts are the search queries of the log (one per slate), combined by their mean.
    func testCrossValidatedErrorOrdersMiniLMOverHashingOverNoText() throws {
        try XCTSkipUnless(hasModel, "models/all-MiniLM-L6-v2 missing: run scripts/fetch-model.sh")
        let dir = try Self.simulate(users: 1000, items: 150, seed: 11)
        func text(_ encoder: String) -> String {
            """
            encoder = "\(encoder)"
            model_dir = "\(Self.modelFolder)"
            components = 4
            user_text = ["query"]
            items_path = "items.csv"
            item_key = "item_id"
            item_text = ["description"]
            """
        }
        let withText = "click ~ C(position) + np.log(price) + affinity"
        let minilm = try Fixtures.run(
            jobPath: try Self.job(dir, name: "minilm", formula: withText, text: text("minilm")), workers: 2)
        let hashing = try Fixtures.run(
            jobPath: try Self.job(dir, name: "hashing", formula: withText, text: text("hashing")), workers: 2)
        let none = try Fixtures.run(
            jobPath: try Self.job(dir, name: "none", formula: "click ~ C(position) + np.log(price)", text: nil),
            workers: 2)
        let (a, b, c) = (minilm.cv!.mse, hashing.cv!.mse, none.cv!.mse)
        XCTAssertLessThan(a, b, "minilm \(a) vs hashing \(b)")
        XCTAssertLessThan(b, c, "hashing \(b) vs no text \(c)")
        // The affinity the encoders recover predicts clicks, as the simulator's true affinity does (β = 2.5 > 0).
        let affinity = { (o: FitDriver.Outcome) in o.model.coefficients.first { $0.name == "affinity" }! }
        XCTAssertGreaterThan(affinity(minilm).statistic, 5)
        XCTAssertEqual(minilm.text?.encoder.hasPrefix("minilm:"), true)
        XCTAssertEqual(hashing.text?.encoder, "hashing:384:words")
        XCTAssertEqual(minilm.text?.users_with_text, 1000)
        XCTAssertEqual(minilm.text?.items, 150)
    }

    /// The features of every row do not depend on how shards are spread over workers, and the PCA and features
    /// match a computation done here from the embeddings directly.
    func testFeaturesMatchADirectComputationAndDoNotDependOnWorkers() throws {
        let dir = try Self.simulate(users: 60, items: 20, seed: 5)
        let text = Self.profilesAndDescriptions(components: 3)
        let formula = "click ~ affinity + user_pc1 + item_pc2 + user_pc1:item_pc1"
        let one = try Fixtures.run(jobPath: try Self.job(dir, formula: formula, text: text, shards: 7), workers: 1)
        let three = try Fixtures.run(jobPath: try Self.job(dir, formula: formula, text: text, shards: 7), workers: 3)
        XCTAssertEqual(one.model, three.model)
        XCTAssertEqual(one.cv, three.cv)
        XCTAssertEqual(one.text, three.text)

        // Direct: embed profiles and descriptions, PCA by eigen-decomposition here, features per row, OLS by normal
        // equations.
        let encoder = HashingEncoderReference()
        let users = try CSVRows(dir + "/users.csv")
        let items = try CSVRows(dir + "/items.csv")
        let rows = try CSVRows(dir + "/impressions.csv")
        let u = users.column("profile").map(encoder.embed)
        let v = items.column("description").map(encoder.embed)
        let userKeys = users.column("user_id")
        let itemKeys = items.column("item_id")
        let uPCA = try PCAReference(u, k: 3)
        let vPCA = try PCAReference(v, k: 3)
        var x: [[Double]] = []
        var y: [Double] = []
        for r in 0..<rows.count {
            let ui = userKeys.firstIndex(of: rows.value(r, "user_id"))!
            let vi = itemKeys.firstIndex(of: rows.value(r, "item_id"))!
            let up = uPCA.project(u[ui])
            let vp = vPCA.project(v[vi])
            let aff = cosine(u[ui], v[vi])
            x.append([1, aff, up[0], vp[1], up[0] * vp[0]])
            y.append(Double(rows.value(r, "click"))!)
        }
        let beta = try leastSquares(x, y)
        let names = ["Intercept", "affinity", "user_pc1", "item_pc2", "user_pc1:item_pc1"]
        XCTAssertEqual(one.model.coefficients.map(\.name), names)
        for (j, c) in one.model.coefficients.enumerated() {
            assertClose(c.estimate, beta[j], rtol: 1e-6, atol: 1e-9, c.name)
        }
        // Texts are embedded once per shard: distinct texts of the users with rows in the shard and the items it owns.
        var perShard = [Set<String>](repeating: [], count: 7)
        for (key, profile) in zip(userKeys, users.column("profile")) where rows.column("user_id").contains(key) {
            perShard[UserKey.shard(hash: UserKey.hash([key]), shards: 7)].insert(profile)
        }
        for (key, description) in zip(itemKeys, items.column("description")) {
            perShard[UserKey.shard(hash: UserKey.hash([key]), shards: 7)].insert(description)
        }
        XCTAssertEqual(one.text?.texts_embedded, perShard.reduce(0) { $0 + $1.count })
    }

    /// Recency weights: a user's vector is Σ wᵢ vᵢ / Σ wᵢ with wᵢ = 2^(−(t_max − tᵢ)/h). With two texts a half-life
    /// apart the weights are 1 and ½, so the user vector is (2 v_new + v_old)/3, derived by hand.
    func testRecencyWeightsHalveEveryHalfLife() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-recency-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Users a and b each have an old text (t = 0) and a new one (t = 10); half-life 10 days.
        let csv = "user,t,q,y\na,0,alpha,1\na,10,beta,0\nb,0,gamma,1\nb,10,delta,0\nc,3,alpha,1\n"
        try csv.write(toFile: dir + "/rows.csv", atomically: true, encoding: .utf8)
        let job = """
            [data]
            path = "rows.csv"
            user_key = ["user"]
            [model]
            kind = "ols"
            formula = "y ~ user_pc1"
            [cluster]
            shards = 2
            [text]
            encoder = "hashing"
            components = 1
            user_text = ["q"]
            combine = "recency"
            timestamp = "t"
            half_life_days = 10
            cache = false
            """
        try job.write(toFile: dir + "/job.toml", atomically: true, encoding: .utf8)
        let spec = try JobSpec.load(path: dir + "/job.toml")
        let prepared = try PreparedJob(job: spec, jobID: "t")
        let executor = RecordingExecutor(try InProcessExecutor(prepared: prepared, workers: 1))
        _ = try FitDriver(prepared: prepared, logger: .init(label: "t")).design(on: executor)
        // The user PCA's mean is the mean of the three user vectors: ((2β+α)/3 + (2δ+γ)/3 + α)/3.
        let e = HashingEncoderReference()
        let (alpha, beta, gamma, delta) = (e.embed("alpha"), e.embed("beta"), e.embed("gamma"), e.embed("delta"))
        let a = zip(alpha, beta).map { (2 * $1 + $0) / 3 }
        let b = zip(gamma, delta).map { (2 * $1 + $0) / 3 }
        let expected = (0..<384).map { (a[$0] + b[$0] + alpha[$0]) / 3 }
        guard let last = executor.requests.last, last.round == FeaturesRound.id,
            let request = last.perShard.first as? FeatureRequest
        else { return XCTFail("no features round") }
        let got = request.userMean
        for j in 0..<384 { XCTAssertEqual(got[j], expected[j], accuracy: 1e-7, "mean[\(j)]") }
    }

    /// Acceptance 4: duplicate keys in the users or items file, an item of the log missing from the items file, empty
    /// texts, and features the [text] table does not make.
    func testBadTextInputsAreInputErrorsWithPositions() throws {
        let dir = try Self.simulate(users: 30, items: 10, seed: 2)
        let text = Self.profilesAndDescriptions(components: 2)
        let formula = "click ~ affinity + user_pc1:item_pc1"
        var users = try String(contentsOfFile: dir + "/users.csv", encoding: .utf8).split(separator: "\n").map(
            String.init)
        var items = try String(contentsOfFile: dir + "/items.csv", encoding: .utf8).split(separator: "\n").map(
            String.init)
        let originalUsers = users
        let originalItems = items

        // Duplicate user key: line 6 repeats user 2 (line 4).
        users.insert(users[3], at: 5)
        try (users.joined(separator: "\n") + "\n").write(toFile: dir + "/users.csv", atomically: true, encoding: .utf8)
        assertInputError(
            try Fixtures.run(jobPath: try Self.job(dir, formula: formula, text: text)), file: dir + "/users.csv",
            line: 6, column: 1,
            contains: "user key '2' is also on line 4")
        try (originalUsers.joined(separator: "\n") + "\n").write(
            toFile: dir + "/users.csv", atomically: true, encoding: .utf8)

        // Duplicate item key.
        items.insert(items[1], at: 3)
        try (items.joined(separator: "\n") + "\n").write(toFile: dir + "/items.csv", atomically: true, encoding: .utf8)
        assertInputError(
            try Fixtures.run(jobPath: try Self.job(dir, formula: formula, text: text)), file: dir + "/items.csv",
            line: 4, column: 1,
            contains: "item key '0' is also on line 2")

        // An item the log shows is missing from the items file: the first row naming it is reported.
        var shortened = originalItems
        shortened.remove(at: 4)  // item 3
        try (shortened.joined(separator: "\n") + "\n").write(
            toFile: dir + "/items.csv", atomically: true, encoding: .utf8)
        let log = try CSVRows(dir + "/impressions.csv")
        let firstRow = (0..<log.count).first { log.value($0, "item_id") == "3" }!
        assertInputError(
            try Fixtures.run(jobPath: try Self.job(dir, formula: formula, text: text), workers: 2),
            file: dir + "/impressions.csv",
            line: firstRow + 2, column: log.header.firstIndex(of: "item_id")! + 1,
            contains: "item '3' (column item_id) is not in the items file")
        try (originalItems.joined(separator: "\n") + "\n").write(
            toFile: dir + "/items.csv", atomically: true, encoding: .utf8)

        // A user of the log missing from the users file.
        var fewer = originalUsers
        fewer.remove(at: 8)  // user 7
        try (fewer.joined(separator: "\n") + "\n").write(toFile: dir + "/users.csv", atomically: true, encoding: .utf8)
        let userRow = (0..<log.count).first { log.value($0, "user_id") == "7" }!
        assertInputError(
            try Fixtures.run(jobPath: try Self.job(dir, formula: formula, text: text), workers: 3),
            file: dir + "/impressions.csv",
            line: userRow + 2, column: 1, contains: "has no row in the users file")

        // Empty texts: users and items with blank text get zero features, are left out of the PCAs, and are counted.
        var blankUsers = originalUsers
        for i in [1, 2] {
            blankUsers[i] =
                blankUsers[i].split(separator: ",", maxSplits: 3).prefix(3).joined(separator: ",") + ",\"  \""
        }
        try (blankUsers.joined(separator: "\n") + "\n").write(
            toFile: dir + "/users.csv", atomically: true, encoding: .utf8)
        var blankItems = originalItems
        blankItems[1] = blankItems[1].split(separator: ",", maxSplits: 3).prefix(3).joined(separator: ",") + ","
        try (blankItems.joined(separator: "\n") + "\n").write(
            toFile: dir + "/items.csv", atomically: true, encoding: .utf8)
        let outcome = try Fixtures.run(jobPath: try Self.job(dir, formula: formula, text: text), workers: 2)
        XCTAssertEqual(outcome.text?.users_without_text, 2)
        XCTAssertEqual(outcome.text?.users_with_text, 28)
        XCTAssertEqual(outcome.text?.items_without_text, 1)
        XCTAssertEqual(outcome.text?.warnings.count, 2)
        // Every user's text empty: an error at text.user_text.
        let allBlank =
            [originalUsers[0]]
            + originalUsers.dropFirst().map {
                $0.split(separator: ",", maxSplits: 3).prefix(3).joined(separator: ",") + ","
            }
        try (allBlank.joined(separator: "\n") + "\n").write(
            toFile: dir + "/users.csv", atomically: true, encoding: .utf8)
        assertInputError(
            try Fixtures.run(jobPath: try Self.job(dir, formula: formula, text: text)), file: dir + "/job.toml",
            line: 16, column: 13,
            contains: "no user has any text")
        try (originalUsers.joined(separator: "\n") + "\n").write(
            toFile: dir + "/users.csv", atomically: true, encoding: .utf8)

        // Features the table does not make, and text settings that do not fit together.
        let noItems = "encoder = \"hashing\"\nusers_path = \"users.csv\"\nuser_text = [\"profile\"]"
        assertInputError(
            try PreparedJob(
                job: try JobSpec.load(path: try Self.job(dir, formula: "click ~ affinity", text: noItems)), jobID: "t"),
            file: dir + "/job.toml", line: 6, column: 20,
            contains: "affinity needs both text.user_text and text.items_path")
        assertInputError(
            try PreparedJob(
                job: try JobSpec.load(path: try Self.job(dir, formula: "click ~ user_pc17", text: noItems)), jobID: "t"),
            file: dir + "/job.toml", line: 6, column: 20, contains: "text.components = 16")
        assertInputError(
            try PreparedJob(
                job: try JobSpec.load(path: try Self.job(dir, formula: "click ~ user_pc1", text: nil)), jobID: "t"),
            file: dir + "/job.toml", line: 6, column: 20, contains: "need a [text] table")
        assertInputError(
            try JobSpec.load(
                path: try Self.job(dir, formula: "click ~ user_pc1", text: noItems + "\ncombine = \"recency\"")),
            file: dir + "/job.toml", line: 16, column: 11, contains: "user_text must name columns of data.path")
        assertInputError(
            try PreparedJob(
                job: try JobSpec.load(
                    path: try Self.job(
                        dir, formula: "click ~ user_pc1", text: "encoder = \"hashing\"\nuser_text = [\"profile\"]")),
                jobID: "t"),
            file: dir + "/job.toml", line: 14, column: 13, contains: "no column 'profile' in the header")
    }
}

// MARK: references computed here

/// Passes rounds to another executor and keeps every round's requests.
final class RecordingExecutor: ShardExecutor {
    let base: ShardExecutor
    /// Per round: its id and the per-shard requests.
    var requests: [(round: String, perShard: [Any])] = []
    init(_ base: ShardExecutor) { self.base = base }
    var shardCount: Int { base.shardCount }
    func answers<R: Round>(_ round: R.Type, perShard requests: [R.Request]) throws -> [ShardAnswer<R.Statistic>] {
        self.requests.append((R.id, requests))
        return try base.answers(round, perShard: requests)
    }
    func broadcast<B: JobBroadcast>(_ value: B) throws { try base.broadcast(value) }
}

func assertInputError<T>(
    _ body: @autoclosure () throws -> T, file: String, line: Int?, column: Int?, contains: String,
    sourceFile: StaticString = #filePath, sourceLine: UInt = #line
) {
    XCTAssertThrowsError(try body(), file: sourceFile, line: sourceLine) { error in
        guard let e = error as? InputError else {
            return XCTFail("not an input error: \(error)", file: sourceFile, line: sourceLine)
        }
        XCTAssertEqual(
            URL(fileURLWithPath: e.file).standardizedFileURL.path, URL(fileURLWithPath: file).standardizedFileURL.path,
            "\(e)", file: sourceFile, line: sourceLine)
        XCTAssertEqual(e.line, line, "\(e)", file: sourceFile, line: sourceLine)
        XCTAssertEqual(e.column, column, "\(e)", file: sourceFile, line: sourceLine)
        XCTAssertTrue(e.message.contains(contains), "\(e)", file: sourceFile, line: sourceLine)
    }
}

/// The hashing encoder's definition, written out: FNV-1a of lowercased letter/digit runs, ±1 by the top bit, L2 norm.
struct HashingEncoderReference {
    func embed(_ text: String) -> [Double] {
        var row = [Double](repeating: 0, count: 384)
        var word = ""
        func flush() {
            guard !word.isEmpty else { return }
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in word.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
            row[Int(h % 384)] += (h >> 63) == 0 ? 1 : -1
            word = ""
        }
        for ch in text.lowercased() { if ch.isLetter || ch.isNumber { word.append(ch) } else { flush() } }
        flush()
        let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? row.map { Double(Float($0 / norm)) } : row
    }
}

/// Top-k principal axes from the n × n centred Gram matrix G = Z Zᵀ / n (same non-zero eigenvalues as the covariance),
/// diagonalised by cyclic Jacobi rotations; axis = Zᵀ a / ‖Zᵀ a‖; signs as `PrincipalComponents`.
/// Source: Golub & Van Loan (2013), Matrix Computations, §8.5 (Jacobi methods).
struct PCAReference {
    let mean: [Double]
    let axes: [[Double]]
    init(_ x: [[Double]], k: Int) throws {
        let n = x.count
        let d = x[0].count
        let m = (0..<d).map { j in x.reduce(0) { $0 + $1[j] } / Double(n) }
        mean = m
        let z = x.map { zip($0, m).map { $0 - $1 } }
        var g = (0..<n).map { i in (0..<n).map { j in zip(z[i], z[j]).reduce(0) { $0 + $1.0 * $1.1 } / Double(n) } }
        var v = (0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0.0 } }
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<n { off += g[p][q] * g[p][q] } }
            if off < 1e-30 { break }
            for p in 0..<n {
                for q in (p + 1)..<n where abs(g[p][q]) > 1e-300 {
                    let theta = (g[q][q] - g[p][p]) / (2 * g[p][q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot()
                    let s = t * c
                    for r in 0..<n {
                        let a = g[r][p]
                        let b = g[r][q]
                        g[r][p] = c * a - s * b
                        g[r][q] = s * a + c * b
                    }
                    for r in 0..<n {
                        let a = g[p][r]
                        let b = g[q][r]
                        g[p][r] = c * a - s * b
                        g[q][r] = s * a + c * b
                    }
                    for r in 0..<n {
                        let a = v[r][p]
                        let b = v[r][q]
                        v[r][p] = c * a - s * b
                        v[r][q] = s * a + c * b
                    }
                }
            }
        }
        let order = (0..<n).sorted { g[$0][$0] > g[$1][$1] }
        axes = order.prefix(k).map { (col: Int) -> [Double] in
            var axis = (0..<d).map { j in (0..<n).reduce(0) { $0 + z[$1][j] * v[$1][col] } }
            let norm = axis.reduce(0) { $0 + $1 * $1 }.squareRoot()
            axis = axis.map { $0 / norm }
            let largest = axis.map(abs).max()!
            if axis.first(where: { abs($0) >= largest * (1 - 1e-9) })! < 0 { axis = axis.map { -$0 } }
            return axis
        }
    }
    func project(_ x: [Double]) -> [Double] {
        axes.map { a in zip(zip(x, mean).map { $0 - $1 }, a).reduce(0) { $0 + $1.0 * $1.1 } }
    }
}

func cosine(_ a: [Double], _ b: [Double]) -> Double {
    let na = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
    let nb = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return na > 0 && nb > 0 ? zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / (na * nb) : 0
}

/// Least squares by the normal equations with Gaussian elimination (partial pivoting).
func leastSquares(_ x: [[Double]], _ y: [Double]) throws -> [Double] {
    let p = x[0].count
    var a = [[Double]](repeating: [Double](repeating: 0, count: p + 1), count: p)
    for (r, yi) in zip(x, y) {
        for i in 0..<p {
            for j in 0..<p { a[i][j] += r[i] * r[j] }
            a[i][p] += r[i] * yi
        }
    }
    for col in 0..<p {
        let pivot = (col..<p).max { abs(a[$0][col]) < abs(a[$1][col]) }!
        a.swapAt(col, pivot)
        for r in 0..<p where r != col {
            let f = a[r][col] / a[col][col]
            for j in col...p { a[r][j] -= f * a[col][j] }
        }
    }
    return (0..<p).map { a[$0][p] / a[$0][$0] }
}

/// A small CSV reader for the simulator's files (quoted fields with commas), for references.
struct CSVRows {
    let header: [String]
    let rows: [[String]]
    init(_ path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var all: [[String]] = []
        for line in text.split(separator: "\n") {
            var fields: [String] = []
            var field = ""
            var quoted = false
            var chars = Array(line)[...]
            while let ch = chars.popFirst() {
                if quoted {
                    if ch == "\"" {
                        if chars.first == "\"" {
                            field.append("\"")
                            chars.removeFirst()
                        } else {
                            quoted = false
                        }
                    } else {
                        field.append(ch)
                    }
                } else if ch == "\"" {
                    quoted = true
                } else if ch == "," {
                    fields.append(field)
                    field = ""
                } else {
                    field.append(ch)
                }
            }
            fields.append(field)
            all.append(fields)
        }
        header = all[0]
        rows = Array(all.dropFirst())
    }
    var count: Int { rows.count }
    func column(_ name: String) -> [String] {
        let j = header.firstIndex(of: name)!
        return rows.map { $0[j] }
    }
    func value(_ r: Int, _ name: String) -> String { rows[r][header.firstIndex(of: name)!] }
}
