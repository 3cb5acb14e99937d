import Foundation
import XCTest

@testable import Jobs

/// `causa partition` + `data.source = "shards"`: workers read their own rows; results equal the streamed job's.
final class ShardSourceTests: XCTestCase {
    func shardsJob(
        folder: String, kind: String, formula: String, shards: Int = 16,
        userKey: String = #"["user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3"]"#
    ) throws -> String {
        let path = try Fixtures.writeJob(
            data: folder, kind: kind, formula: formula, folds: 5, foldBy: "user", shards: shards, userKey: userKey)
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "format = \"csv\"", with: "format = \"csv\"\nsource = \"shards\"")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testShardFilesGiveTheStreamedResult() throws {
        for kind in ["ols", "logit"] {
            let formula = "click ~ C(position) + I(item_id == 49) + I(item_id == 6)"
            let fileJob = try Fixtures.writeJob(
                data: Fixtures.path("obd/random_10k.csv"), kind: kind, formula: formula, folds: 5, foldBy: "user")
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "causa-shards-\(UUID().uuidString)"
            ).path
            let manifest = try ShardPartitioner.partition(job: try JobSpec.load(path: fileJob), into: folder)
            XCTAssertEqual(manifest.rows.reduce(0, +), 10_000)
            XCTAssertEqual(manifest.shards, 16)
            let streamed = try Fixtures.run(jobPath: fileJob, workers: 2)
            let fromShards = try Fixtures.run(
                jobPath: try shardsJob(folder: folder, kind: kind, formula: formula), workers: 3)
            XCTAssertEqual(fromShards.model, streamed.model, kind)
            XCTAssertEqual(fromShards.cv, streamed.cv, kind)
            XCTAssertEqual(fromShards.data, streamed.data, kind)
        }
    }

    func testErrorsPointAtTheSourceFileAndTheManifest() throws {
        // A bad cell on line 5 of the source file is reported at line 5 of the source, not of a shard file.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var lines = try String(contentsOfFile: Fixtures.path("obd/random_300.csv"), encoding: .utf8).split(
            separator: "\n"
        ).map(String.init)
        var cells = lines[4].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        cells[2] = "middle"
        lines[4] = cells.joined(separator: ",")
        let data = dir.appendingPathComponent("data.csv").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: data, atomically: true, encoding: .utf8)
        let job = try Fixtures.writeJob(data: data, kind: "ols", formula: "click ~ position", folds: 2, shards: 4)
        let folder = dir.appendingPathComponent("shards").path
        _ = try ShardPartitioner.partition(job: try JobSpec.load(path: job), into: folder)
        XCTAssertThrowsError(
            try Fixtures.run(
                jobPath: try shardsJob(folder: folder, kind: "ols", formula: "click ~ position", shards: 4))
        ) { error in
            let e = error as! InputError
            XCTAssertEqual(e.file, URL(fileURLWithPath: data).standardizedFileURL.path)
            XCTAssertEqual([e.line, e.column], [5, 3])
            XCTAssertTrue(e.message.contains("'middle'"), e.message)
        }
        XCTAssertThrowsError(
            try Fixtures.run(jobPath: try shardsJob(folder: folder, kind: "ols", formula: "click ~ item_id", shards: 8))
        ) { error in
            XCTAssertTrue("\(error)".contains("cluster.shards = 4"), "\(error)")
        }
        XCTAssertThrowsError(
            try Fixtures.run(
                jobPath: try shardsJob(
                    folder: folder, kind: "ols", formula: "click ~ item_id", shards: 4, userKey: #"["user_feature_0"]"#)
            )
        ) { error in
            XCTAssertTrue("\(error)".contains("user key"), "\(error)")
        }
        XCTAssertThrowsError(try ShardPartitioner.partition(job: try JobSpec.load(path: job), into: folder)) { error in
            XCTAssertTrue("\(error)".contains("exists"), "\(error)")
        }
        try FileManager.default.removeItem(atPath: ShardManifest.file(folder, shard: 1))
        XCTAssertThrowsError(
            try Fixtures.run(jobPath: try shardsJob(folder: folder, kind: "ols", formula: "click ~ item_id", shards: 4))
        ) { error in
            XCTAssertTrue("\(error)".contains("shard-00001.csv"), "\(error)")
        }
    }

    func testFieldsWithCommasAndQuotesSurviveTheRoundTrip() {
        XCTAssertEqual(ShardPartitioner.csvField("a,b"), "\"a,b\"")
        XCTAssertEqual(ShardPartitioner.csvField("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(ShardPartitioner.csvField("plain"), "plain")
    }
}
