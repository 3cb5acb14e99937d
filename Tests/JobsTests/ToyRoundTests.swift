import Foundation
import Logging
import Statistics
import XCTest

@testable import Jobs

/// Rows and the outcome's sum per fold: a statistic defined only in the tests.
struct FoldTotals: SufficientStatistic, Equatable {
    /// [K] rows per fold.
    var rows: [Int]
    /// [K] the outcome's sum per fold.
    var sums: [Double]
    static func empty(like other: FoldTotals) -> FoldTotals {
        FoldTotals(rows: other.rows.map { _ in 0 }, sums: other.sums.map { _ in 0 })
    }
    mutating func merge(_ other: FoldTotals) {
        for k in rows.indices {
            rows[k] += other.rows[k]
            sums[k] += other.sums[k]
        }
    }
}

/// A round added in the tests only: its type and its codec, nothing else in the product. Every shard counts its rows
/// and sums the outcome column per fold.
struct FoldTotalsRound: RoundCodec {
    static let id = "fold-totals"
    struct Request: Sendable, Equatable {
        /// The column summed.
        var column: String
    }
    var column: String
    var folds: Int
    func request(shard: Int) -> Request { Request(column: column) }
    func accepts(_ statistic: FoldTotals, shard: Int) -> Bool {
        statistic.rows.count == folds && statistic.sums.count == folds
    }

    static func compute(_ request: Request, shard: Int, in workspace: ShardWorkspace) throws -> FoldTotals {
        let data = try workspace.batch(of: shard)
        let plan = workspace.plan
        guard let slot = plan.columns.firstIndex(of: request.column) else {
            throw ShardFailure(
                rowIndex: 0, line: 0, column: nil, message: "no column \(request.column)", isInternal: true)
        }
        let c = plan.columns.count
        let k = plan.foldGroups
        var totals = FoldTotals(rows: [Int](repeating: 0, count: k), sums: [Double](repeating: 0, count: k))
        for i in 0..<data.count {
            guard let y = Double(data.fields[i * c + slot]) else {
                throw ShardFailure(
                    rowIndex: data.rowIndex[i], line: data.line[i], column: plan.columnNumbers[slot],
                    message: "'\(data.fields[i * c + slot])' is not a number")
            }
            let fold =
                plan.folds > 0
                ? UserKey.fold(rowIndex: data.rowIndex[i], hash: data.userHash[i], folds: plan.folds, by: plan.foldBy)
                : 0
            totals.rows[fold] += 1
            totals.sums[fold] += y
        }
        return totals
    }

    // The codec: the column's UTF-8; the statistic as K, then K counts and K sums, each 8 bytes little-endian.
    static func encode(request: Request) -> [UInt8] { Array(request.column.utf8) }
    static func decode(request bytes: [UInt8], plan: JobPlan) throws -> Request {
        Request(column: String(decoding: bytes, as: UTF8.self))
    }
    static func encode(statistic: FoldTotals) -> [UInt8] {
        let words =
            [UInt64(statistic.rows.count)] + statistic.rows.map { UInt64($0) } + statistic.sums.map(\.bitPattern)
        return words.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } }
    }
    static func decode(statistic bytes: [UInt8], request: Request, plan: JobPlan) throws -> FoldTotals {
        guard bytes.count % 8 == 0, !bytes.isEmpty else { throw RunError("fold totals of \(bytes.count) bytes") }
        let words = (0..<(bytes.count / 8)).map { w in
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[w * 8 + $1]) << (8 * $1) }
        }
        let k = Int(words[0])
        guard words.count == 1 + 2 * k else { throw RunError("fold totals of \(words.count) words for \(k) folds") }
        return FoldTotals(rows: words[1...k].map { Int($0) }, sums: words[(k + 1)...].map { Double(bitPattern: $0) })
    }
}

final class ToyRoundTests: XCTestCase {
    /// random_10k by hand: the clicks of each fold (row i in fold i mod 5), summed straight from the CSV file.
    static func expected() throws -> (rows: [Int], clicks: [Double]) {
        let text = try String(contentsOfFile: Fixtures.path("obd/random_10k.csv"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let click = lines[0].split(separator: ",", omittingEmptySubsequences: false).firstIndex(of: "click")!
        var rows = [Int](repeating: 0, count: 5)
        var clicks = [Double](repeating: 0, count: 5)
        for (i, line) in lines.dropFirst().enumerated() {
            rows[i % 5] += 1
            clicks[i % 5] += Double(line.split(separator: ",", omittingEmptySubsequences: false)[click])!
        }
        return (rows, clicks)
    }

    /// The toy round runs through the in-process executor, with and without its codec's bytes, on 1 and 3 workers:
    /// the merged totals equal the file's, bit for bit the same each way; the rows per fold equal the OLS report's.
    func testToyRoundRunsThroughTheInProcessExecutor() throws {
        let job = try Fixtures.writeJob(
            data: Fixtures.path("obd/random_10k.csv"), kind: "ols", formula: "click ~ C(position)",
            folds: 5, foldBy: "row", shards: 16)
        let round = FoldTotalsRound(column: "click", folds: 5)
        let (rows, clicks) = try Self.expected()
        XCTAssertEqual(rows.reduce(0, +), 10_000)
        var results: [FoldTotals] = []
        for (workers, bytes) in [(1, false), (3, false), (3, true)] {
            // A prepared job streams its rows once: one per executor.
            let prepared = try PreparedJob(job: try JobSpec.load(path: job), jobID: "toy")
            let executor = try InProcessExecutor(prepared: prepared, workers: workers, encodesPayloads: bytes)
            let totals = try executor.merge(round, job: prepared)
            XCTAssertEqual(totals.rows, rows, "\(workers) workers, bytes \(bytes)")
            XCTAssertEqual(totals.sums, clicks, "\(workers) workers, bytes \(bytes)")  // sums of 0/1: exact
            results.append(totals)
        }
        XCTAssertEqual(bitFingerprint(results[0]), bitFingerprint(results[1]))
        XCTAssertEqual(bitFingerprint(results[0]), bitFingerprint(results[2]))
        let outcome = try Fixtures.run(jobPath: job)
        XCTAssertEqual(outcome.cv?.fold_rows, rows)
    }

    /// The executor's checks apply to any round: a statistic of the wrong shape fails the job naming round and
    /// shard; a shard's input error becomes an `InputError` at the earliest data row; a round without a codec
    /// cannot run where payloads are bytes.
    func testExecutorChecksShapesFailuresAndCodecs() throws {
        let job = try Fixtures.writeJob(
            data: Fixtures.path("obd/random_10k.csv"), kind: "ols", formula: "click ~ C(position)",
            folds: 5, foldBy: "row", shards: 16)
        let prepared = try PreparedJob(job: try JobSpec.load(path: job), jobID: "toy")
        let executor = try InProcessExecutor(prepared: prepared, workers: 2)
        XCTAssertThrowsError(try executor.merge(FoldTotalsRound(column: "click", folds: 4), job: prepared)) { error in
            XCTAssertEqual("\(error)", "shard 0 answered the fold-totals round with the wrong statistic")
        }
        // "position" is 1...3 everywhere; a column of text fails at its first row (data row 0, line 2).
        XCTAssertThrowsError(try executor.merge(FoldTotalsRound(column: "no-such-column", folds: 5), job: prepared)) {
            XCTAssertTrue("\($0)".contains("shard 0 failed in the fold-totals round on its worker: no column"), "\($0)")
        }
        struct NoCodec: Round {
            static let id = "no-codec"
            func request(shard: Int) -> Int { shard }
            static func compute(_ request: Int, shard: Int, in workspace: ShardWorkspace) throws -> RowCount {
                RowCount(rows: try workspace.batch(of: shard).count)
            }
        }
        XCTAssertEqual(try executor.merge(NoCodec(), job: prepared).rows, 10_000)
        let again = try PreparedJob(job: try JobSpec.load(path: job), jobID: "toy")
        let bytes = try InProcessExecutor(prepared: again, workers: 2, encodesPayloads: true)
        XCTAssertThrowsError(try bytes.merge(NoCodec(), job: prepared)) {
            XCTAssertEqual("\($0)", "the no-codec round has no codec")
        }
    }

    /// Every row of column `a` of toy.csv is text, so every shard fails; the job fails at the earliest data row
    /// (line 2, column 2), which hashes to shard 15 of 16, not at shard 0's first row.
    func testFailuresAreOrderedByDataRowNotByShard() throws {
        XCTAssertEqual(
            UserKey.shard(hash: UserKey.rowHash(keyFields: [String](), rowIndex: 0, hasKey: false), shards: 16), 15)
        let text =
            "[data]\npath = \"\(Fixtures.path("toy/toy.csv"))\"\n[model]\nkind = \"ols\"\nformula = \"y ~ a\"\n"
            + "[cluster]\nshards = 16\n"
        let job = try Fixtures.write(text, "job.toml", in: try Fixtures.folder())
        for workers in [1, 3] {
            let prepared = try PreparedJob(job: try JobSpec.load(path: job), jobID: "toy")
            let executor = try InProcessExecutor(prepared: prepared, workers: workers)
            XCTAssertThrowsError(try executor.merge(FoldTotalsRound(column: "a", folds: 1), job: prepared)) { error in
                let e = error as? InputError
                XCTAssertEqual(e?.line, 2, "\(error)")
                XCTAssertEqual(e?.column, 2, "\(error)")
                XCTAssertEqual(e?.message, "'mid' is not a number", "\(error)")
            }
        }
    }
}
