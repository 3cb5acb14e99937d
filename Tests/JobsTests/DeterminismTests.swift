import Foundation
import Jobs
import StableRandom
import XCTest

/// Statistics are merged in shard order, so the result does not depend on how shards are spread over workers.
final class DeterminismTests: XCTestCase {
    func testOutcomeIsBitIdenticalForAnyWorkerCount() throws {
        for kind in ["ols", "logit"] {
            let job = try Fixtures.writeJob(
                data: Fixtures.path("obd/random_10k.csv"), kind: kind,
                formula: "click ~ C(position) + I(item_id == 49) + I(item_id == 53)", folds: 3, foldBy: "user",
                shards: 32)
            let one = try Fixtures.run(jobPath: job, workers: 1)
            for workers in [2, 3, 7] {
                let other = try Fixtures.run(jobPath: job, workers: workers)
                XCTAssertEqual(other.model, one.model, "\(kind) with \(workers) workers")
                XCTAssertEqual(other.cv, one.cv, "\(kind) with \(workers) workers")
                XCTAssertEqual(other.data, one.data)
            }
        }
    }

    func testUserHashAndFoldsMatchTheReferenceScript() throws {
        let reference = try Fixtures.json("reference/obd_models.json")
        for example in reference["user_hash_examples"] as! [[String: Any]] {
            let features = example["user_features"] as! [String]
            let h = UserKey.hash(features)
            XCTAssertEqual(String(h), example["h"] as! String)
            XCTAssertEqual(String(SplitMix64.mix(h)), example["splitmix64"] as! String)
            XCTAssertEqual(UserKey.fold(rowIndex: 0, hash: h, folds: 5, by: .user), example["fold"] as! Int)
        }
    }

    func testReportHasNoNaNAndRoundTrips() throws {
        let job = try Fixtures.writeJob(
            data: Fixtures.path("obd/random_10k.csv"), kind: "ols", formula: "click ~ C(position) + item_id", folds: 5)
        let outcome = try Fixtures.run(jobPath: job)
        let report = FitReport(
            job: .init(try JobSpec.load(path: job)), cluster: .init(workers: 1, shards: 16), data: outcome.data,
            model: outcome.model, cv: outcome.cv, network: .init(bytes_sent: 0, bytes_received: 0), timings_s: [:])
        let json = try report.jsonData()
        XCTAssertEqual(try JSONDecoder().decode(FitReport.self, from: json), report)
        XCTAssertFalse(String(decoding: json, as: UTF8.self).lowercased().contains("nan"))
    }
}
