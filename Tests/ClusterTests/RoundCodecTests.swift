import Foundation
import Logging
import XCTest

@testable import Cluster
@testable import Jobs

/// The built-in rounds' codecs (`RoundCodec`) are exact: passing every request and statistic through its bytes, in
/// process, leaves reports unchanged, bit for bit.
final class RoundCodecTests: XCTestCase {
    /// Every built-in round through its codec's bytes gives the same reports as the values themselves.
    func testBuiltInRoundsThroughTheirCodecsGiveTheSameReports() throws {
        for (kind, formula) in [
            ("ols", "click ~ C(position) + I(item_id == 49)"), ("logit", "click ~ C(position) + I(item_id == 49)"),
            ("bayes_linear", "click ~ C(position)"),
        ] {
            let job = try Self.writeJob(
                data: Self.obd, kind: kind, formula: formula,
                folds: 3, foldBy: "user", shards: 8)
            // A prepared job streams its rows once: one per executor.
            let (plain, bytes) = try [false, true].map { encodes in
                let prepared = try PreparedJob(job: try JobSpec.load(path: job), jobID: "codec")
                return try FitDriver(prepared: prepared, logger: quiet).run(
                    on: try InProcessExecutor(prepared: prepared, workers: 2, encodesPayloads: encodes))
            }.pair()
            XCTAssertEqual(bytes.model, plain.model, kind)
            XCTAssertEqual(bytes.cv, plain.cv, kind)
        }
    }

    static let obd = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/obd/random_10k.csv").path

    static func writeJob(data: String, kind: String, formula: String, folds: Int, foldBy: String, shards: Int) throws
        -> String
    {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-codec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let key = #"["user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3"]"#
        let text =
            "[data]\npath = \"\(data)\"\nuser_key = \(key)\n[model]\nkind = \"\(kind)\"\nformula = \"\(formula)\"\n"
            + "[cv]\nfolds = \(folds)\nfold_by = \"\(foldBy)\"\n[cluster]\nshards = \(shards)\n"
        let path = dir.appendingPathComponent("job.toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

extension Array {
    /// The two elements of a two-element array.
    func pair() -> (Element, Element) { (self[0], self[1]) }
}
