import Foundation
import Logging
import XCTest

@testable import Jobs

/// Issue 9, part 1: every combination of the `[text]` table (user texts from a users file, from data columns, or
/// none; an items file or none) on every degenerate placement (a worker with no rows, no users or no items; more
/// workers than shards; one row per shard) runs, or fails with an input error. The in-process executor shares item
/// vectors per owner as the cluster does, so a workspace that owns nothing is exercised here too.
final class TextPlacementMatrixTests: XCTestCase {
    enum Users: String, CaseIterable { case usersFile, dataColumns, dataColumnsNoUserKey, none }
    enum Items: String, CaseIterable { case itemsFile, none }

    struct Placement {
        var name: String
        var shards: Int
        var workers: [Int]
        /// User ids of the data rows, in data order.
        var rowUsers: [String]
    }

    /// User ids whose FNV-1a hashes fall in pairwise different shards of `shards` (one row per shard).
    static func usersInDistinctShards(_ shards: Int) -> [String] {
        var seen = Set<Int>()
        var out: [String] = []
        for i in 0..<10_000 where out.count < shards {
            let id = "u\(i)"
            if seen.insert(UserKey.shard(hash: UserKey.hash([id]), shards: shards)).inserted { out.append(id) }
        }
        return out
    }

    static let placements: [Placement] = [
        // The field case: 4 rows, 2 shards, 1 worker.
        Placement(name: "4 rows, 2 shards", shards: 2, workers: [1, 2], rowUsers: ["u1", "u2", "u3", "u4"]),
        // Few users on many shards: 3 or 4 workers, some owning only empty shards (no rows, no users, no items).
        Placement(
            name: "3 users, 8 shards", shards: 8, workers: [1, 3, 4], rowUsers: ["u1", "u2", "u3", "u1", "u2", "u3"]),
        // More workers than shards.
        Placement(
            name: "more workers than shards", shards: 2, workers: [1, 5], rowUsers: ["u1", "u2", "u3", "u4", "u5"]),
        // One row per shard.
        Placement(name: "one row per shard", shards: 5, workers: [1, 2, 5], rowUsers: usersInDistinctShards(5))
    ]

    static let words = [
        "alpha beta", "gamma delta epsilon", "zeta", "eta theta iota kappa", "lambda mu", "nu xi omicron",
        "pi rho", "sigma tau upsilon"
    ]

    /// Writes data.csv (user_id, item_id, y, profile), users.csv (every data user and one more), items.csv (the two
    /// items the rows name and one more) and job.toml; returns the job's path.
    func writeJob(_ p: Placement, users: Users, items: Items) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-matrix-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let distinct = p.rowUsers.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        func words(_ user: String) -> String { Self.words[(distinct.firstIndex(of: user) ?? 0) % Self.words.count] }
        var data = "user_id,item_id,y,profile\n"
        for (i, u) in p.rowUsers.enumerated() {
            let y = Double(i * i % 7) * 0.5 + Double(i) * 0.25
            data += "\(u),\(i % 2 == 0 ? "i1" : "i2"),\(y),\(words(u)) row\(i % 3)\n"
        }
        try data.write(toFile: dir + "/data.csv", atomically: true, encoding: .utf8)
        var usersFile = "user_id,profile\n"
        for u in distinct + ["u-extra"] { usersFile += "\(u),\(words(u)) file\n" }
        try usersFile.write(toFile: dir + "/users.csv", atomically: true, encoding: .utf8)
        try "item_id,description\ni1,red shoes\ni2,blue running shoes for trails\ni9,a hat\n"
            .write(toFile: dir + "/items.csv", atomically: true, encoding: .utf8)
        var text = "encoder = \"hashing\"\ncomponents = 1\ncache = false\n"
        switch users {
        case .usersFile: text += "users_path = \"users.csv\"\nuser_text = [\"profile\"]\n"
        case .dataColumns, .dataColumnsNoUserKey: text += "user_text = [\"profile\"]\n"
        case .none: break
        }
        if items == .itemsFile {
            text += "items_path = \"items.csv\"\nitem_key = \"item_id\"\nitem_text = [\"description\"]\n"
        }
        let formula = users == .none ? "y ~ item_pc1" : "y ~ user_pc1"
        let job = """
            [data]
            path = "data.csv"
            \(users == .dataColumnsNoUserKey ? "" : "user_key = [\"user_id\"]")
            [model]
            kind = "ols"
            formula = "\(formula)"
            [cluster]
            shards = \(p.shards)
            [text]
            \(text)
            """
        try job.write(toFile: dir + "/job.toml", atomically: true, encoding: .utf8)
        return dir + "/job.toml"
    }

    func run(_ path: String, workers: Int) throws -> FitDriver.Outcome {
        let prepared = try PreparedJob(
            job: try JobTextGuard.parseInProcess(text: String(contentsOfFile: path, encoding: .utf8), path: path),
            jobID: "matrix")
        let executor = try InProcessExecutor(prepared: prepared, workers: workers)
        var logger = Logger(label: "matrix")
        logger.logLevel = .warning
        return try FitDriver(prepared: prepared, logger: logger).run(on: executor)
    }

    /// Every combination on every placement: the fit runs, and its coefficients are bit-identical for every worker
    /// count at a fixed shard count, and agree with the same data on one shard (1e-6: text vectors are Float32, and
    /// the shard count changes the order in which their moments are merged).
    func testEveryTextCombinationOnEveryPlacementRunsOrFailsWithAnInputError() throws {
        for p in Self.placements {
            for users in Users.allCases {
                for items in Items.allCases {
                    let what = "\(p.name), users: \(users), items: \(items)"
                    let path = try writeJob(p, users: users, items: items)
                    if users == .none, items == .none {
                        assertInputError(
                            try run(path, workers: 1), file: path, line: 9, column: 1,
                            contains: "[text] needs user_text (user texts) or items_path (item texts)")
                        continue
                    }
                    var reference: [Double]? = nil
                    for workers in p.workers {
                        let outcome: FitDriver.Outcome
                        do { outcome = try run(path, workers: workers) } catch {
                            XCTFail("\(what), \(workers) workers: \(error)")
                            continue
                        }
                        XCTAssertEqual(outcome.model.n, p.rowUsers.count, what)
                        let beta = outcome.model.coefficients.map(\.estimate)
                        XCTAssertEqual(beta.count, 2, what)
                        XCTAssertTrue(beta.allSatisfy(\.isFinite), "\(what): \(beta)")
                        if let reference {
                            XCTAssertEqual(
                                beta.map(\.bitPattern), reference.map(\.bitPattern), "\(what), \(workers) workers")
                        } else {
                            reference = beta
                        }
                    }
                    // The same data on one shard (shard boundaries move only the merge order).
                    var one = p
                    one.shards = 1
                    let single = try run(try writeJob(one, users: users, items: items), workers: 1).model.coefficients
                        .map(\.estimate)
                    for (a, b) in zip(reference ?? [], single) {
                        assertClose(a, b, rtol: 1e-6, atol: 1e-9, "\(what) vs one shard")
                    }
                }
            }
        }
    }

    /// The field case exactly: user texts from the data file, no items file, `y ~ user_pc1`, hashing encoder,
    /// 2 shards, 1 worker, 4 rows. Right values: OLS of y on the users' first principal-component scores, computed
    /// here from the hashing vectors (`HashingEncoderReference`) and a Jacobi PCA (`PCAReference`).
    func testUserTextsWithoutItemsOnTwoShardsAndOneWorker() throws {
        let p = Self.placements[0]
        let path = try writeJob(p, users: .dataColumns, items: .none)
        let outcome = try run(path, workers: 1)
        XCTAssertEqual(outcome.model.n, 4)
        XCTAssertEqual(outcome.text?.users_with_text, 4)
        XCTAssertEqual(outcome.model.coefficients.map(\.name), ["Intercept", "user_pc1"])
        let rows = try String(
            contentsOfFile: URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("data.csv")
                .path,
            encoding: .utf8
        ).split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        let vectors = rows.map { HashingEncoderReference().embed($0[3]) }
        let pca = try PCAReference(vectors, k: 1)
        let x = vectors.map { pca.project($0)[0] }
        let y = rows.map { Double($0[2])! }
        let mx = x.reduce(0, +) / 4
        let my = y.reduce(0, +) / 4
        let slope = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        assertClose(outcome.model.coefficients[1].estimate, slope, rtol: 1e-6, "slope")
        assertClose(outcome.model.coefficients[0].estimate, my - slope * mx, rtol: 1e-6, atol: 1e-9, "intercept")
    }
}
