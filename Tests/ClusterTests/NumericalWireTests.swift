import Foundation
import Statistics
import XCTest

@testable import Cluster
@testable import Jobs

/// The facts behind the numerical decisions (docs/DECISIONS.md, "Numerical decisions") cross the wire intact, and the
/// issue's inputs give the same answers through a running coordinator as in process.
final class NumericalWireTests: XCTestCase {
    func testMomentExtremesMeanLowAndLargeRowsRoundTrip() throws {
        let mark = { (i: Int) in MomentMatrix.RowMark(rowIndex: i, line: i + 2) }
        let big = 0x1p450
        let m = MomentMatrix(
            rows: [1, 1e9 + 1, big, 1, 1e9 + 2, -3 * big, 1, 1e9 + 4, 0.5], count: 3, dimension: 3,
            marks: [mark(4), mark(9), mark(11)])
        XCTAssertEqual(m.firstLarge[2], [mark(4), mark(4), mark(4), mark(9)])  // 2^448...2^450, then 3·2^450 ≥ 2^451
        let decoded = try Wire.moments(Wire.moments(m), dimension: 3)
        XCTAssertEqual(decoded, m)
        let empty = MomentMatrix(dimension: 2)
        XCTAssertEqual(try Wire.moments(Wire.moments(empty), dimension: 2), empty)
        let centre = DesignCentre(high: [0, 1e9, 2], low: [0, 1e-8, 0])
        let plan = JobPlan(
            jobID: "t", kind: .ols, formula: "y ~ x", folds: 0, foldBy: .row, columns: ["x", "y"],
            columnNumbers: [1, 2], levelColumns: [], outcomeColumn: "y")
        for request in [
            ResidualsRound.Request(beta: [1, 2, 3], centre: centre),
            .init(beta: [1, 2], centre: DesignCentre(high: [0, 0], low: [0, 0]))
        ] {
            let bytes = ResidualsRound.encode(request: request)
            XCTAssertEqual(try ResidualsRound.decode(request: bytes, plan: plan), request)
        }
        let newton = NewtonRound.Request(fits: [NewtonFit(fit: -1, beta: [1, 2, 3])], centre: centre)
        XCTAssertEqual(try NewtonRound.decode(request: NewtonRound.encode(request: newton), plan: plan), newton)
    }

    /// y ~ x at x = 10⁹ + 1..4 through ZeroMQ with 2 workers: slope 2.15, intercept −2150000000.25 (by hand), the
    /// in-process report; the overflow error names line 3 there too.
    func testOffsetRegressionAndOverflowRowThroughTheCluster() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("causa-wire-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let data = dir.appendingPathComponent("d.csv").path
        try "x,y\n1000000001,2\n1000000002,4\n1000000003,6\n1000000004,8.5\n".write(
            toFile: data, atomically: true, encoding: .utf8)
        let huge = dir.appendingPathComponent("h.csv").path
        try "x,y\n1,1\n1e300,2\n5,3\n2e300,4\n".write(toFile: huge, atomically: true, encoding: .utf8)
        let spec = { (path: String) in
            try JobSpec.parse(
                text:
                    "[data]\npath = \"\(path)\"\n[model]\nkind = \"ols\"\nformula = \"y ~ x\"\n[cluster]\nshards = 6\n",
                path: dir.appendingPathComponent("job.toml").path)
        }
        let coordinator = try Coordinator(bind: "tcp://127.0.0.1:*", logger: quiet)
        let workers = try WorkerThreads(count: 2, endpoint: coordinator.endpoint)
        defer {
            coordinator.shutdownWorkers()
            workers.join()
        }
        let report = try coordinator.run(job: try spec(data), minimumWorkers: 2)
        let slope = report.model.coefficients.first { $0.name == "x" }!.estimate
        let intercept = report.model.coefficients.first { $0.name == "Intercept" }!.estimate
        XCTAssertEqual(slope, 2.15, accuracy: 1e-15)
        XCTAssertEqual(intercept, -2_150_000_000.25, accuracy: 5e-7)
        let prepared = try PreparedJob(job: try spec(data), jobID: "local")
        let local = try FitDriver(prepared: prepared, logger: quiet).run(
            on: try InProcessExecutor(prepared: prepared, workers: 3))
        XCTAssertEqual(report.model, local.model)
        XCTAssertThrowsError(try coordinator.run(job: try spec(huge), minimumWorkers: 2)) { error in
            let e = error as? InputError
            XCTAssertEqual(e?.line, 3, "\(error)")
            XCTAssertTrue(
                e?.message.contains("This row (data row 2) is the first with |x| ≥ 2^508") ?? false, "\(error)")
        }
    }
}
