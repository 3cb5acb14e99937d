import Foundation
import Logging
import XCTest

@testable import Cluster
@testable import Jobs

/// The executor over a transport (`RoundExchange`) against injected faults, in process, without sockets: a dropped
/// reply and a reply past the timeout fail the job within the round timeout, a lost worker fails it at once, each
/// naming worker, round and shard; duplicate and stale replies are ignored, counted, and leave the report unchanged.
final class TransportFaultTests: XCTestCase {
    /// OLS with 3-fold CV on 8 shards and 2 workers: round 1 summarize, 2 moments, 3 residuals.
    static func spec() throws -> JobSpec {
        try job(kind: "ols", formula: "click ~ C(position) + item_id", folds: 3, shards: 8)
    }

    /// The outcome without faults, through the values (no codecs, no transport).
    static let clean: Result<FitDriver.Outcome, Error> = Result {
        let prepared = try PreparedJob(job: try spec(), jobID: "faults")
        return try FitDriver(prepared: prepared, logger: quiet).run(
            on: try InProcessExecutor(prepared: prepared, workers: 2))
    }

    /// Runs the job over an in-process transport with `faults`; returns the outcome or error, the exchange, the
    /// transport and the seconds the run took.
    func run(_ faults: [InProcessTransport.Fault], timeout: Double = 0.3)
        throws -> (Result<FitDriver.Outcome, Error>, RoundExchange, InProcessTransport, Double)
    {
        let prepared = try PreparedJob(job: try Self.spec(), jobID: "faults")
        let transport = try InProcessTransport(
            prepared: prepared, workers: 2, rounds: RoundCodecs.standard, faults: faults)
        let exchange = RoundExchange(
            plan: prepared.plan, owners: transport.owners, transport: transport, roundTimeout: timeout)
        let start = Date()
        let outcome = Result {
            try FitDriver(prepared: prepared, logger: quiet).run(on: TransportExecutor(exchange: exchange))
        }
        return (outcome, exchange, transport, Date().timeIntervalSince(start))
    }

    func assertUnchanged(_ outcome: Result<FitDriver.Outcome, Error>, _ what: String, line: UInt = #line) throws {
        let clean = try Self.clean.get()
        guard case .success(let got) = outcome else { return XCTFail("\(what): \(outcome)", line: line) }
        XCTAssertEqual(got.model, clean.model, what, line: line)
        XCTAssertEqual(got.cv, clean.cv, what, line: line)
        XCTAssertEqual(got.data, clean.data, what, line: line)
    }

    func assertFails(_ outcome: Result<FitDriver.Outcome, Error>, naming parts: [String], line: UInt = #line) {
        guard case .failure(let error) = outcome else { return XCTFail("the job did not fail", line: line) }
        XCTAssertTrue(error is RunError, "\(error)", line: line)
        for part in parts { XCTAssertTrue("\(error)".contains(part), "\(part) not in: \(error)", line: line) }
    }

    /// Without faults, the transport gives the same outcome as the values, and ignores nothing.
    func testNoFaultGivesTheSameOutcome() throws {
        let (outcome, exchange, _, _) = try run([])
        try assertUnchanged(outcome, "no fault")
        XCTAssertEqual(exchange.ignoredReplies, 0)
        XCTAssertEqual(exchange.round, 3)
    }

    /// A dropped reply fails the job after the round timeout (0.3 s), not before and not much later.
    func testDroppedReplyFailsWithinTheRoundTimeoutNamingWorkerRoundAndShard() throws {
        let (outcome, _, _, seconds) = try run([.drop(round: 2, shard: 5)])
        assertFails(outcome, naming: ["worker worker-1", "shard 5", "round 2 (moments)", "within 0.3 s"])
        XCTAssertGreaterThanOrEqual(seconds, 0.3)
        XCTAssertLessThan(seconds, 5)
    }

    /// A reply 30 s late fails the job at the 0.3 s round timeout (no hang until it arrives).
    func testReplyPastTheTimeoutFailsWithinTheRoundTimeout() throws {
        let (outcome, _, _, seconds) = try run([.delay(round: 3, shard: 2, seconds: 30)])
        assertFails(outcome, naming: ["worker worker-0", "shard 2", "round 3 (residuals)"])
        XCTAssertGreaterThanOrEqual(seconds, 0.3)
        XCTAssertLessThan(seconds, 5)
    }

    /// A reply late but within the timeout is merged: the outcome is unchanged.
    func testReplyDelayedWithinTheTimeoutIsMerged() throws {
        let (outcome, exchange, _, _) = try run([.delay(round: 2, shard: 6, seconds: 0.1)], timeout: 5)
        try assertUnchanged(outcome, "delayed within the timeout")
        XCTAssertEqual(exchange.ignoredReplies, 0)
    }

    /// Duplicated replies are ignored (one count each), not merged twice: the outcome is unchanged.
    func testDuplicateRepliesAreIgnoredWithoutDoubleCount() throws {
        let (outcome, exchange, _, _) = try run([
            .duplicate(round: 1, shard: 0), .duplicate(round: 2, shard: 3), .duplicate(round: 3, shard: 7)
        ])
        try assertUnchanged(outcome, "duplicates")
        XCTAssertEqual(exchange.ignoredReplies, 3)
    }

    /// A stale reply (the shard's previous statistic under an older attempt, an older round or another job's key),
    /// arriving before the real one, is ignored: the outcome is unchanged.
    func testStaleRepliesOfAnOlderAttemptRoundOrJobAreIgnored() throws {
        for staleness in [InProcessTransport.Staleness.olderAttempt, .olderRound, .otherJob] {
            let (outcome, exchange, _, _) = try run([
                .stale(round: 2, shard: 1, staleness), .stale(round: 3, shard: 4, staleness)
            ])
            try assertUnchanged(outcome, "\(staleness)")
            XCTAssertEqual(exchange.ignoredReplies, 2, "\(staleness)")
        }
    }

    /// A worker lost at round 2 fails the job at once (the round timeout is 60 s), naming it, the round and its first
    /// unanswered shard.
    func testLostWorkerFailsAtOnceNamingWorkerRoundAndShard() throws {
        let (outcome, _, _, seconds) = try run([.loseWorker("worker-1", atRound: 2)], timeout: 60)
        assertFails(outcome, naming: ["worker worker-1 was lost", "round 2 (moments)", "shard 1 unanswered"])
        XCTAssertLessThan(seconds, 5)
    }

    /// The executor keeps every shard's requests, keyed (job, round, shard, attempt), as its worker received them:
    /// what a failover replays on another worker.
    func testReplayLogHoldsEveryShardsKeyedRequests() throws {
        let (outcome, exchange, transport, _) = try run([])
        _ = try outcome.get()
        for s in 0..<8 {
            let log = exchange.replayLog[s]
            XCTAssertEqual(log.map(\.roundID), ["summarize", "moments", "residuals"])
            XCTAssertEqual(log.map(\.key), (1...3).map { RoundKey(job: "faults", round: $0, shard: s, attempt: 1) })
            XCTAssertEqual(transport.received[transport.owners[s]]!.filter { $0.key.shard == s }, log)
        }
    }

    /// Item vectors travel as a job-level broadcast: each worker is sent one `item_vectors` broadcast, before the
    /// features round, holding the vectors of the items its shards' rows name (each once); the exchange keeps it for
    /// replays; the outcome equals the in-process one.
    func testItemVectorsGoOncePerWorkerAsAJobBroadcast() throws {
        let path = try CrashSafetyClusterTests.textJob(
            users: "file", items: true, shards: 8, rowUsers: ["u1", "u2", "u3", "u4", "u1", "u2", "u5", "u6"])
        let spec = try JobSpec.load(path: path)
        let local = try Result {
            let prepared = try PreparedJob(job: spec, jobID: "text")
            return try FitDriver(prepared: prepared, logger: quiet).run(on: try InProcessExecutor(prepared: prepared))
        }.get()
        let prepared = try PreparedJob(job: spec, jobID: "text")
        let transport = try InProcessTransport(
            prepared: prepared, workers: 3, rounds: RoundCodecs.standard, broadcasts: BroadcastCodecs.standard)
        let exchange = RoundExchange(
            plan: prepared.plan, owners: transport.owners, transport: transport, roundTimeout: 5)
        let outcome = try FitDriver(prepared: prepared, logger: quiet).run(on: TransportExecutor(exchange: exchange))
        XCTAssertEqual(outcome.model, local.model)
        XCTAssertEqual(outcome.text, local.text)
        XCTAssertEqual(Array(exchange.broadcasts.keys), ["item_vectors"])
        let needs = (exchange.broadcasts["item_vectors"] as! ItemVectorBroadcast).needs
        XCTAssertEqual(Set(needs.joined()), ["i1", "i2"])
        for w in transport.workers {
            let got = transport.broadcastsReceived[w] ?? []
            XCTAssertEqual(got.map(\.name), ["item_vectors"], w)
            let part = try ItemVectorBroadcast.decode(got[0].payload, plan: prepared.plan)
            let shards = (0..<8).filter { transport.owners[$0] == w }
            var expected: [String] = []
            for s in shards { for key in needs[s] where !expected.contains(key) { expected.append(key) } }
            XCTAssertEqual(part.keys, expected, w)
            // Sent before the features round's requests to this worker, which carry no vectors.
            let features = transport.received[w]!.filter { $0.roundID == "features" }
            XCTAssertEqual(features.count, shards.count, w)
        }
    }

    /// A worker that does not take a broadcast fails the round that needs it with a worker fault naming the
    /// broadcast, not silence.
    func testAWorkerWithoutTheBroadcastFailsTheFeaturesRoundNamingIt() throws {
        let path = try CrashSafetyClusterTests.textJob(
            users: "file", items: true, shards: 4, rowUsers: ["u1", "u2", "u3", "u4"])
        let prepared = try PreparedJob(job: try JobSpec.load(path: path), jobID: "text")
        let transport = try InProcessTransport(prepared: prepared, workers: 2, rounds: RoundCodecs.standard)
        let exchange = RoundExchange(
            plan: prepared.plan, owners: transport.owners, transport: transport, roundTimeout: 5)
        let executor = TransportExecutor(exchange: exchange)
        XCTAssertThrowsError(try FitDriver(prepared: prepared, logger: quiet).run(on: executor)) {
            XCTAssertTrue("\($0)".contains("does not know the broadcast 'item_vectors'"), "\($0)")
            XCTAssertTrue("\($0)".contains("features round"), "\($0)")
        }
    }

    /// Over the wire a worker echoes the request's key: the envelope's job and round number, the shard and the
    /// attempt; it keeps a broadcast it knows and records one it does not, so the round that needs it fails naming it.
    func testWorkerEchoesTheKeyAndTakesBroadcasts() throws {
        let worker = try assignedWorker().worker
        var r = Causa_Wire_RoundRequest()
        r.round = "summarize"
        r.attempt = 7
        r.payload = Data(SummarizeRound.encode(request: .init()))
        let reply = try XCTUnwrap(worker.handle(Wire.envelope(jobID: "j", round: 4, .roundRequest(r))))
        guard case .roundReply(let answer) = reply.body else { return XCTFail("\(reply)") }
        XCTAssertEqual([reply.jobID, "\(reply.round)", "\(answer.shard)", "\(answer.attempt)"], ["j", "4", "0", "7"])

        let table = ItemVectorTable(keys: ["a", "b"], rows: [1, 0, 0, 1], dimension: 2)
        let value = ItemVectorBroadcast(table: table, keys: ["a", "b"], needs: [["b", "a"]])
        var b = Causa_Wire_Broadcast()
        b.name = ItemVectorBroadcast.name
        b.payload = Data(value.part(forShards: [0]).encode())
        XCTAssertNil(worker.handle(Wire.envelope(jobID: "j", .broadcast(b))))
        let kept = try XCTUnwrap(worker.workspaces["j"]).broadcast(ItemVectorBroadcast.self)
        XCTAssertEqual(kept.keys, ["b", "a"])
        XCTAssertEqual(Array(kept.table.vector("b")!), [0, 1])
        b.name = "no-such-broadcast"
        XCTAssertNil(worker.handle(Wire.envelope(jobID: "j", .broadcast(b))))
        let failures = try XCTUnwrap(worker.workspaces["j"]).broadcastFailures
        XCTAssertEqual(failures["no-such-broadcast"], "worker w does not know the broadcast 'no-such-broadcast'")
    }
}
