@_exported import CausaTestSupport
import Foundation
import Jobs
import Logging
import XCTest

/// Jobs' helpers beside the shared ones (`CausaTestSupport.Fixtures`).
extension Fixtures {
    /// Runs the job file at `jobPath` in process with `workers` workers.
    static func run(jobPath: String, workers: Int = 1) throws -> FitDriver.Outcome {
        let job = try JobSpec.load(path: jobPath)
        let prepared = try PreparedJob(job: job, jobID: "test")
        let executor = try InProcessExecutor(prepared: prepared, workers: workers)
        return try FitDriver(prepared: prepared, logger: Logger(label: "test")).run(on: executor)
    }
}

/// Asserts |a − b| ≤ rtol·|b| + atol, naming the case.
func assertClose(
    _ a: Double, _ b: Double, rtol: Double = 1e-6, atol: Double = 1e-12, _ what: @autoclosure () -> String,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssert(
        abs(a - b) <= rtol * abs(b) + atol,
        "\(what()): got \(a), expected \(b) (rel diff \(abs(a - b) / max(abs(b), 1e-300)))", file: file, line: line)
}
