import Foundation
import Jobs
import Logging
import XCTest

/// Paths and readers for the committed fixtures in Tests/Fixtures.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    static func json(_ relative: String) throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent(relative))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// A fresh temporary folder.
    static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes `text` to `dir/name` and returns the path.
    static func write(_ text: String, _ name: String, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Writes a job file in a fresh temporary folder and returns its path.
    static func writeJob(data: String, kind: String, formula: String, folds: Int = 5, foldBy: String = "row", shards: Int = 16,
                         userKey: String = #"["user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3"]"#) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let escaped = formula.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let text = """
        [data]
        path = "\(data)"
        format = "csv"
        user_key = \(userKey)

        [model]
        kind = "\(kind)"
        formula = "\(escaped)"

        \(folds > 0 ? "[cv]\nfolds = \(folds)\nfold_by = \"\(foldBy)\"" : "")

        [cluster]
        shards = \(shards)

        """
        let path = dir.appendingPathComponent("job.toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func run(jobPath: String, workers: Int = 1) throws -> FitDriver.Outcome {
        let job = try JobSpec.load(path: jobPath)
        let prepared = try PreparedJob(job: job, jobID: "test")
        let executor = try InProcessExecutor(prepared: prepared, workers: workers)
        return try FitDriver(prepared: prepared, logger: Logger(label: "test")).run(on: executor)
    }
}

/// Asserts |a − b| ≤ rtol·|b| + atol, naming the case.
func assertClose(_ a: Double, _ b: Double, rtol: Double = 1e-6, atol: Double = 1e-12, _ what: @autoclosure () -> String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssert(abs(a - b) <= rtol * abs(b) + atol, "\(what()): got \(a), expected \(b) (rel diff \(abs(a - b) / max(abs(b), 1e-300)))", file: file, line: line)
}
