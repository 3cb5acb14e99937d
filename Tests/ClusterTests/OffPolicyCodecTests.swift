import Causal
import Foundation
import XCTest

@testable import Cluster
@testable import Jobs

/// The off-policy broadcast and round on the wire: values survive their bytes exactly, a worker gets only its users'
/// rows of a per-user policy, and payloads whose sizes do not fit are refused.
final class OffPolicyCodecTests: XCTestCase {
    let plan = JobPlan(
        jobID: "j", kind: .ols, formula: "y ~ x", folds: 2, foldBy: .row, columns: ["y", "x"], columnNumbers: [1, 2],
        levelColumns: [], outcomeColumn: "y")

    func broadcast() -> OffPolicyBroadcast {
        let users = (0..<40).map { UserKey.hash(["user\($0)"]) }
        var groups: [PolicyTable.GroupKey: PolicyTable.Group] = [:]
        for (i, h) in users.enumerated() {
            groups[.init(user: h, position: 1)] = .init(
                items: [Int32(i % 3), 3], probabilities: [0.7, 0.2], epsilon: 0.1)
        }
        let perUser = PolicyTable(catalogueSize: 5, byUser: true, byPosition: true, groups: groups)
        let contextFree = PolicyTable(
            catalogueSize: 5, byUser: false, byPosition: false,
            groups: [
                .init(user: 0, position: 0): .init(
                    items: [0, 1, 2, 3, 4], probabilities: [0.1, 0.2, 0.3, 0.2, 0.2], epsilon: 0)
            ])
        return OffPolicyBroadcast(
            action: "item", propensity: "p", reward: "y", position: "pos", positions: [1, 2],
            catalogue: ["a", "b", "c", "d", "e"], policies: [.logging, .uniform, .table(perUser)],
            logging: .table(contextFree), clusters: [0, 1, 0, 1, 2], missing: .uniform, rule: WeightRule(clip: 12.5),
            switchTau: 2, itemColumns: ["price"], itemCells: ["1", "2.5", "3", "4", "5"], components: 1,
            itemScores: [0.1, -0.2, 0.3, 0, 1e-300],
            itemVectors: ItemVectorTable(
                keys: ["a", "b", "c", "d", "e"], rows: (0..<10).map { Float($0) / 7 }, dimension: 2),
            shardCount: 7)
    }

    func testBroadcastSurvivesItsBytesAndIsCutByShard() throws {
        let b = broadcast()
        XCTAssertEqual(try OffPolicyBroadcast.decode(b.encode(), plan: plan), b)
        // A worker owning shards 0 and 3 of 7 gets exactly the per-user groups of users hashing there.
        let part = b.part(forShards: [0, 3])
        guard case .table(let whole) = b.policies[2], case .table(let cut) = part.policies[2] else {
            return XCTFail("not a table")
        }
        let expected = whole.groups.keys.filter { [0, 3].contains(UserKey.shard(hash: $0.user, shards: 7)) }
        XCTAssertEqual(Set(cut.groups.keys), Set(expected))
        XCTAssertGreaterThan(expected.count, 0)
        XCTAssertLessThan(expected.count, 40)
        XCTAssertEqual(part.logging, b.logging)  // context-free: whole
        XCTAssertEqual(try OffPolicyBroadcast.decode(part.encode(), plan: plan), part)
    }

    func testRequestAndStatisticSurviveTheirBytes() throws {
        let request = OffPolicyRequest(
            link: .logistic, coefficients: [[1, -2.5], [], [0.5, 1e-17]], crossFit: true,
            schema: [ColumnSchema(name: "x", info: .init(isNumeric: true, isIntegral: false, levels: []))],
            exportPredictions: true)
        XCTAssertEqual(try OffPolicyRound.decode(request: OffPolicyRound.encode(request: request), plan: plan), request)
        let rows = (0..<9).map { i in
            [
                OffPolicyRow(reward: Double(i % 2), propensity: 0.25, target: 0.1 * Double(i)),
                OffPolicyRow(
                    reward: Double(i % 2), propensity: 0.25, target: 0.5, directMethod: 0.3, predictedLogged: 0.2,
                    clusterTarget: 0.4, clusterPropensity: 0.5)
            ]
        }
        let sums = OffPolicyStatistic(rows: rows, rule: WeightRule(clip: 1.5), switchThreshold: 1)
        let statistic = OffPolicyShardStatistic(
            sums: sums, skippedRows: 3, predictionRows: [4, 9], predictions: [0.1, 0.2, 0.3, 0.4],
            fallbackRows: [0, 5], loggingMismatchRows: 2, firstLoggingMismatch: 0)
        let decoded = try OffPolicyRound.decode(
            statistic: OffPolicyRound.encode(statistic: statistic), request: request, plan: plan)
        XCTAssertEqual(decoded, statistic)
        XCTAssertGreaterThan(decoded.sums.changedRows[0], 0)
        XCTAssertGreaterThan(decoded.sums.mipsMaxWeight[1], 0)
        XCTAssertEqual(decoded.fallbackRows, [0, 5])
        XCTAssertEqual(decoded.firstLoggingMismatch, 0)
    }

    func testPayloadsThatDoNotFitAreRefused() throws {
        var m = try Wire.message(Causa_Wire_OffPolicy.self, broadcast().encode())
        m.itemScores.removeLast()
        XCTAssertThrowsError(try OffPolicyBroadcast.decode(Wire.bytes(m), plan: plan))
        m = try Wire.message(Causa_Wire_OffPolicy.self, broadcast().encode())
        m.policies[2].item[0] = 5  // outside the catalogue of 5
        XCTAssertThrowsError(try OffPolicyBroadcast.decode(Wire.bytes(m), plan: plan))
        var r = try Wire.message(
            Causa_Wire_OffPolicyRequest.self,
            OffPolicyRound.encode(
                request: OffPolicyRequest(
                    link: .identity, coefficients: [[1], [1], [1]], crossFit: true, schema: [], exportPredictions: false
                )))
        r.coefficients.removeLast()  // 2 folds need 3 vectors
        XCTAssertThrowsError(try OffPolicyRound.decode(request: Wire.bytes(r), plan: plan))
        var s = Causa_Wire_OffPolicyStatistic()
        s.policies = 1
        XCTAssertThrowsError(
            try OffPolicyRound.decode(
                statistic: Wire.bytes(s),
                request: OffPolicyRequest(
                    link: .none, coefficients: [], crossFit: false, schema: [], exportPredictions: false),
                plan: plan))
    }
}
