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
            ("bayes_linear", "click ~ C(position)")
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

    /// A worker answers a round it knows by its id, and refuses an unknown id or an undecodable payload with a worker
    /// fault naming them (never with silence).
    func testWorkerAnswersByRoundIDAndRefusesUnknownRoundsAndBadPayloads() throws {
        let (worker, plan) = try assignedWorker()
        func ask(_ round: String, _ payload: [UInt8]) -> Causa_Wire_RoundReply? {
            var r = Causa_Wire_RoundRequest()
            r.round = round
            r.payload = Data(payload)
            guard
                case .roundReply(let reply)? = worker.handle(Wire.envelope(jobID: "j", round: 1, .roundRequest(r)))?
                    .body
            else { return nil }
            return reply
        }
        let summary = try XCTUnwrap(ask("summarize", SummarizeRound.encode(request: .init())))
        XCTAssertEqual(summary.round, "summarize")
        guard case .statistic(let bytes) = summary.result else { return XCTFail("no statistic: \(summary)") }
        let decoded = try SummarizeRound.decode(statistic: [UInt8](bytes), request: .init(), plan: plan)
        XCTAssertEqual(decoded.rows, 0)  // the shard was assigned, no rows were sent
        XCTAssertEqual(decoded.columns.map(\.name), plan.columns)
        guard case .failure(let unknown) = ask("no-such-round", [])?.result else {
            return XCTFail("unknown round answered")
        }
        XCTAssertTrue(unknown.internal)
        XCTAssertEqual(unknown.message, "worker w does not know the round 'no-such-round'")
        guard case .failure(let bad) = ask("moments", [0xFF, 0xFF])?.result else {
            return XCTFail("bad payload answered")
        }
        XCTAssertTrue(bad.internal && bad.message.hasPrefix("malformed moments request"), bad.message)
        XCTAssertEqual(
            Set(RoundCodecs.byID(RoundCodecs.standard).keys),
            [
                "summarize", "moments", "residuals", "newton", "embed", "features", "off_policy", "learn", "deploy",
                "gradient", "anneal"
            ])
    }

    static let obd = Fixtures.path("obd/random_10k.csv")

    static func writeJob(data: String, kind: String, formula: String, folds: Int, foldBy: String, shards: Int) throws
        -> String
    {
        try Fixtures.writeJob(data: data, kind: kind, formula: formula, folds: folds, foldBy: foldBy, shards: shards)
    }
}

extension Array {
    /// The two elements of a two-element array.
    func pair() -> (Element, Element) { (self[0], self[1]) }
}
