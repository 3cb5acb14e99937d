import CausaTestSupport
import Causal
import Foundation
import Tabular
import XCTest

/// The off-policy estimators against the field cases' independently computed values (shared/cases C11, C27, C28,
/// C30, C31, C32, C40; inputs copied to Tests/Fixtures/cases), and the merge contract: any split into shards, merged
/// in order, gives the single-shard values to rounding.
final class OffPolicyTests: XCTestCase {
    /// Rows of a fixture CSV as [column: text], with the shard column when there is one.
    func table(_ name: String) throws -> [[String: String]] {
        let path = Fixtures.path("cases/\(name)")
        let t = try CSVTable(path: path)
        var out: [[String: String]] = []
        while let r = try t.next() { out.append(Dictionary(uniqueKeysWithValues: zip(t.header, r.fields))) }
        return out
    }

    func number(_ row: [String: String], _ key: String) -> Double { Double(row[key]!)! }

    /// The statistic of `rows` split by their `shard` column, merged in shard order.
    func sharded(
        _ rows: [[String: String]], _ make: ([String: String]) -> [OffPolicyRow], rule: WeightRule = .init(),
        tau: Double = 1
    ) -> OffPolicyStatistic {
        let shards = Array(Set(rows.map { $0["shard"] ?? "A" })).sorted()
        var total = OffPolicyStatistic(policies: make(rows[0]).count)
        for s in shards {
            total.merge(
                OffPolicyStatistic(
                    rows: rows.filter { ($0["shard"] ?? "A") == s }.map(make), rule: rule, switchThreshold: tau))
        }
        return total
    }

    func close(_ a: Double?, _ b: Double, _ tol: Double = 5e-7, _ what: String, line: UInt = #line) {
        guard let a else { return XCTFail("\(what): no value", line: line) }
        XCTAssertEqual(a, b, accuracy: tol, what, line: line)
    }

    /// C11: w = 2, 1000, 0, 5; IPW 250.5, clipped at λ = 10: 3.0; SNIPS 1002/1007, clipped 12/17. The bad file's
    /// propensities (0, a log-probability, 1.2) are each refused with the reason.
    func testC11TinyAndInvalidPropensities() throws {
        let rows = try table("C11_propensities.csv")
        let make: ([String: String]) -> [OffPolicyRow] = {
            [
                OffPolicyRow(
                    reward: self.number($0, "reward"),
                    propensity: self.number($0, "pscore_logged_action"), target: self.number($0, "pi_e_logged_action"))
            ]
        }
        let plain = sharded(rows, make)
        XCTAssertEqual(plain.maxWeight, [1000])
        close(plain.estimate(.ipw, policy: 0)?.estimate, 250.5, 1e-12, "IPW")
        close(plain.estimate(.snips, policy: 0)?.estimate, 1002.0 / 1007.0, 1e-12, "SNIPS")
        let clipped = sharded(rows, make, rule: WeightRule(clip: 10))
        close(clipped.estimate(.ipw, policy: 0)?.estimate, 3.0, 1e-12, "clipped IPW")
        close(clipped.estimate(.snips, policy: 0)?.estimate, 12.0 / 17.0, 1e-12, "clipped SNIPS")
        XCTAssertEqual(clipped.estimate(.ipw, policy: 0)?.clippedRows, 1)
        let bad = try table("C11_bad_propensities.csv").map { number($0, "pscore_logged_action") }
        XCTAssertNil(LoggedPropensity.problem(bad[0]))
        for p in bad.dropFirst() {
            XCTAssertTrue(
                LoggedPropensity.problem(p)?.hasPrefix("logged propensity must be in (0, 1]") ?? false, "\(p)")
        }
        XCTAssertTrue(LoggedPropensity.problem(-0.693)!.contains("log-probability"))
        XCTAssertNotNil(LoggedPropensity.problem(.nan))
    }

    /// C27: the target probability of the logged item id, not of an array position: weights 1.4, 3.2, 3.2, 1.2, 2.4,
    /// 1.6; IPW 1.166667 (SE 0.571353), SNIPS 0.538462; the one-round case 1.95.
    func testC27ItemIdsNotPositions() throws {
        let rows = try table("C27_item_ids.csv")
        let stat = sharded(
            rows,
            { r in
                [
                    OffPolicyRow(
                        reward: self.number(r, "reward"), propensity: self.number(r, "p_logged"),
                        target: self.number(r, "pi_\(r["logged_item"]!)"))
                ]
            })
        close(stat.estimate(.ipw, policy: 0)?.estimate, 1.166667, 1e-6, "IPW")
        close(stat.estimate(.ipw, policy: 0)?.standardError, 0.571353, 1e-6, "IPW SE")
        close(stat.estimate(.snips, policy: 0)?.estimate, 0.538462, 1e-6, "SNIPS")
        XCTAssertEqual(stat.maxWeight, [3.2])
        let one = try table("C27_one_round.csv")[0]
        let single = OffPolicyStatistic(
            rows: [
                [
                    OffPolicyRow(
                        reward: number(one, "reward"), propensity: number(one, "p_logged"),
                        target: number(one, "pi_\(one["logged_action"]!)"))
                ]
            ],
            rule: .init(), switchThreshold: 1)
        close(single.estimate(.ipw, policy: 0)?.estimate, 1.95, 1e-12, "one round")
    }

    /// C28: a propensity floor of 0.02, one rule for the estimate and its interval on both shards: IPW 2.343750
    /// (SE 1.826722, CI [−1.236560, 5.924060]), SNIPS 0.593668 (delta SE 0.292267, CI [0.020835, 1.166500]); 2 rows
    /// touched. Without the floor: IPW 9.843750 (SE 9.311684), SNIPS 0.738858.
    func testC28OneClippingRuleForEstimateIntervalAndShards() throws {
        let rows = try table("C28_clipping.csv")
        let make: ([String: String]) -> [OffPolicyRow] = {
            [
                OffPolicyRow(
                    reward: self.number($0, "reward"),
                    propensity: self.number($0, "p_logged"), target: self.number($0, "pi_e_logged"))
            ]
        }
        let floored = sharded(rows, make, rule: WeightRule(propensityFloor: 0.02))
        let ipw = floored.estimate(.ipw, policy: 0)!
        close(ipw.estimate, 2.343750, 1e-12, "IPW")
        close(ipw.standardError, 1.826722, 1e-6, "IPW SE")
        close(ipw.ciLow, -1.236560, 1e-6, "IPW CI low")
        close(ipw.ciHigh, 5.924060, 1e-6, "IPW CI high")
        XCTAssertEqual(ipw.clippedRows, 2)
        let snips = floored.estimate(.snips, policy: 0)!
        close(snips.estimate, 0.593668, 1e-6, "SNIPS")
        close(snips.standardError, 0.292267, 1e-6, "SNIPS delta SE")
        close(snips.ciLow, 0.020835, 1e-6, "SNIPS CI low")
        close(snips.ciHigh, 1.166500, 1e-6, "SNIPS CI high")
        let raw = sharded(rows, make)
        close(raw.estimate(.ipw, policy: 0)?.estimate, 9.843750, 1e-12, "raw IPW")
        close(raw.estimate(.ipw, policy: 0)?.standardError, 9.311684, 1e-6, "raw IPW SE")
        close(raw.estimate(.snips, policy: 0)?.estimate, 0.738858, 1e-6, "raw SNIPS")
        XCTAssertEqual(raw.estimate(.ipw, policy: 0)?.clippedRows, 0)
    }

    /// C30: switch-DR keeps every row's DM term and adds the correction where w ≤ τ (boundary included): τ = 2 gives
    /// 0.393125 (SE 0.180082, CI [0.040171, 0.746079]) with 3 rows switched; τ = ∞ is DR, τ = 0 is DM.
    func testC30SwitchDR() throws {
        let rows = try table("C30_switch_dr.csv")
        let items = ["101", "102", "103"]
        let make: ([String: String]) -> [OffPolicyRow] = { r in
            let a = r["logged_item"]!
            let dm = items.map { self.number(r, "pi_e_\($0)") * self.number(r, "qhat_\($0)") }.reduce(0, +)
            return [
                OffPolicyRow(
                    reward: self.number(r, "reward"), propensity: self.number(r, "p_logged"),
                    target: self.number(r, "pi_e_\(a)"), directMethod: dm, predictedLogged: self.number(r, "qhat_\(a)"))
            ]
        }
        let two = sharded(rows, make, tau: 2)
        close(two.estimate(.dm, policy: 0)?.estimate, 0.418125, 1e-12, "DM")
        close(two.estimate(.dm, policy: 0)?.standardError, 0.038959, 1e-6, "DM SE")
        close(two.estimate(.ipw, policy: 0)?.estimate, 1.825, 1e-12, "IPW")
        close(two.estimate(.ipw, policy: 0)?.standardError, 0.693271, 1e-6, "IPW SE")
        close(two.estimate(.dr, policy: 0)?.estimate, 1.243125, 1e-12, "DR")
        close(two.estimate(.dr, policy: 0)?.standardError, 0.524618, 1e-6, "DR SE")
        let s = two.estimate(.switchDR, policy: 0)!
        close(s.estimate, 0.393125, 1e-12, "switch-DR")
        close(s.standardError, 0.180082, 1e-6, "switch-DR SE")
        close(s.ciLow, 0.040171, 1e-6, "switch-DR CI low")
        close(s.ciHigh, 0.746079, 1e-6, "switch-DR CI high")
        XCTAssertEqual(two.switchedRows, [3])
        // Shard sums of the τ = 2 terms: A 1.22, B 1.925.
        let a = OffPolicyStatistic(
            rows: rows.filter { $0["shard"] == "A" }.map(make), rule: .init(), switchThreshold: 2)
        close(a.estimate(.switchDR, policy: 0).map { $0.estimate * 4 }, 1.22, 1e-12, "shard A sum")
        let infinite = sharded(rows, make, tau: .infinity)
        XCTAssertEqual(infinite.estimate(.switchDR, policy: 0)?.estimate, infinite.estimate(.dr, policy: 0)?.estimate)
        let zero = sharded(rows, make, tau: 0)
        close(zero.estimate(.switchDR, policy: 0)?.estimate, 0.418125, 1e-15, "τ = 0 is DM")
    }

    /// C31: positions are context; the target's probability is of the logged item in the logged slot: 7 of 12 match,
    /// IPW per impression 1.928658, SNIPS 0.685880.
    func testC31PositionsAsContext() throws {
        let targets = Dictionary(
            uniqueKeysWithValues: try table("C31_target_top2.csv").map {
                ($0["context"]!, [$0["slot1_item"]!, $0["slot2_item"]!])
            })
        let rows = try table("C31_impressions.csv")
        let stat = sharded(
            rows,
            { r in
                let slot = Int(r["slot"]!)!
                let target = targets[r["context"]!]![slot - 1] == r["item"]! ? 1.0 : 0.0
                return [
                    OffPolicyRow(
                        reward: self.number(r, "reward"), propensity: self.number(r, "pscore_item_at_slot"),
                        target: target)
                ]
            })
        close(stat.estimate(.ipw, policy: 0)?.estimate, 1.928658, 1e-6, "IPW per impression")
        close(stat.estimate(.snips, policy: 0)?.estimate, 0.685880, 1e-6, "SNIPS")
    }

    /// C32: DR with three items, each score using only its own item's propensity: "always 101" 0.611111 (SE 0.326788),
    /// "always 102" 0.624074 (0.301195), "always 103" 0.266667 (0.338296); paired contrast 102 − 101 0.012963 (SE
    /// 0.466599, CI [−0.901554, 0.927480]); 103 − 101 −0.344444 (0.459804); stochastic (0.2, 0.5, 0.3) 0.514259
    /// (0.189468).
    func testC32DoublyRobustWithThreeItems() throws {
        let rows = try table("C32_dr_three_items.csv")
        let items = ["101", "102", "103"]
        let policies: [[Double]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.2, 0.5, 0.3]]
        let stat = sharded(
            rows,
            { r in
                let a = items.firstIndex(of: r["logged_item"]!)!
                let q = items.map { self.number(r, "qhat_\($0)") }
                let p = self.number(r, "p_\(items[a])")
                return policies.map { pi in
                    OffPolicyRow(
                        reward: self.number(r, "reward"), propensity: p, target: pi[a],
                        directMethod: zip(pi, q).map(*).reduce(0, +), predictedLogged: q[a])
                }
            })
        for (k, (value, se)) in [(0.611111, 0.326788), (0.624074, 0.301195), (0.266667, 0.338296), (0.514259, 0.189468)]
            .enumerated()
        {
            close(stat.estimate(.dr, policy: k)?.estimate, value, 1e-6, "DR policy \(k)")
            close(stat.estimate(.dr, policy: k)?.standardError, se, 1e-6, "DR SE policy \(k)")
        }
        let c = stat.contrast(.dr, 1, minus: 0)!
        close(c.estimate, 0.012963, 1e-6, "102 − 101")
        close(c.standardError, 0.466599, 1e-6, "102 − 101 SE (paired)")
        close(c.ciLow, -0.901554, 1e-6, "CI low")
        close(c.ciHigh, 0.927480, 1e-6, "CI high")
        let c3 = stat.contrast(.dr, 2, minus: 0)!
        close(c3.estimate, -0.344444, 1e-6, "103 − 101")
        close(c3.standardError, 0.459804, 1e-6, "103 − 101 SE")
        XCTAssertNil(stat.contrast(.snips, 1, minus: 0))
    }

    /// C40: job 2's values use job 2's shard-B partial only: IPW 0.488889 (SE 0.148553, CI [0.197731, 0.780047]),
    /// SNIPS 0.541538, n 9; merging a stale job-1 partial for B as well would give n 12 and SNIPS 0.733436.
    func testC40PartialsOfOneJobOnly() throws {
        let rows = try table("C40_two_jobs.csv")
        func make(_ column: String) -> ([String: String]) -> [OffPolicyRow] {
            {
                [
                    OffPolicyRow(
                        reward: self.number($0, "reward"), propensity: self.number($0, "p_logged"),
                        target: self.number($0, column))
                ]
            }
        }
        let job2 = sharded(rows, make("pi_e_job2"))
        let e = job2.estimate(.ipw, policy: 0)!
        close(e.estimate, 0.488889, 1e-6, "IPW")
        close(e.standardError, 0.148553, 1e-6, "SE")
        close(e.ciLow, 0.197731, 1e-6, "CI low")
        close(e.ciHigh, 0.780047, 1e-6, "CI high")
        close(job2.estimate(.snips, policy: 0)?.estimate, 0.541538, 1e-6, "SNIPS")
        XCTAssertEqual(e.count, 9)
        let job1 = sharded(rows, make("pi_e_job1"))
        close(job1.estimate(.ipw, policy: 0)?.estimate, 1.477778, 1e-6, "job 1 IPW")
        close(job1.estimate(.ipw, policy: 0)?.standardError, 0.535355, 1e-6, "job 1 SE")
        close(job1.estimate(.snips, policy: 0)?.estimate, 0.923611, 1e-6, "job 1 SNIPS")
        // What a stale reply would do: recognised, so that the keyed protocol's tests can tell it apart.
        var both = job2
        both.merge(
            OffPolicyStatistic(
                rows: rows.filter { $0["shard"] == "B" }.map(make("pi_e_job1")), rule: .init(), switchThreshold: 1))
        XCTAssertEqual(both.count, 12)
        close(both.estimate(.snips, policy: 0)?.estimate, 0.733436, 1e-6, "the wrong value")
    }

    /// MIPS by hand: items 1, 2 in cluster A and 3, 4 in B, a uniform logger (cluster probabilities 0.5, 0.5) and the
    /// target (0.5, 0.1, 0.3, 0.1) (clusters 0.6, 0.4): weights 1.2 for A rows and 0.8 for B rows; rewards of the
    /// logged items 1, 2, 3, 4, 2 are 1, 0, 1, 0, 1, so MIPS = (1.2 + 0 + 0.8 + 0 + 1.2) / 5 = 0.64, where IPW
    /// (weights 2, 0.4, 1.2, 0.4, 0.4) gives 3.6 / 5 = 0.72.
    func testMIPSByHand() {
        let target = [0.5, 0.1, 0.3, 0.1]
        let cluster = [0, 0, 1, 1]
        let clusterTarget = [0.6, 0.4]
        let logged = [(0, 1.0), (1, 0.0), (2, 1.0), (3, 0.0), (1, 1.0)]
        let rows = logged.map { a, r in
            [
                OffPolicyRow(
                    reward: r, propensity: 0.25, target: target[a], clusterTarget: clusterTarget[cluster[a]],
                    clusterPropensity: 0.5)
            ]
        }
        let stat = OffPolicyStatistic(rows: rows, rule: .init(), switchThreshold: 1)
        close(stat.estimate(.mips, policy: 0)?.estimate, 0.64, 1e-15, "MIPS")
        close(stat.estimate(.ipw, policy: 0)?.estimate, 0.72, 1e-15, "IPW")
        // Sample sd of (1.2, 0, 0.8, 0, 1.2) with n − 1: mean 0.64, Σ(x − m)² = 1.472, var 0.368; SE √(0.368/5).
        close(stat.estimate(.mips, policy: 0)?.standardError, (0.368 / 5).squareRoot(), 1e-15, "MIPS SE")
    }

    /// Issue 11, acceptance 3: SNIPS over many shards of very different weight sums equals the single-shard SNIPS to
    /// 1e-14 relative; the average of shard SNIPS values does not.
    func testSNIPSOverManyShardsEqualsOneShard() {
        var rng = Xoshiro256(seed: 11, stream: 0)
        var rows: [[OffPolicyRow]] = []
        for i in 0..<5000 {
            let p = i < 4000 ? 0.5 + 0.5 * rng.uniform() : 0.001 + 0.01 * rng.uniform()
            rows.append([OffPolicyRow(reward: rng.uniform() < 0.3 ? 1 : 0, propensity: p, target: rng.uniform())])
        }
        let one = OffPolicyStatistic(rows: rows, rule: .init(), switchThreshold: 1)
        let whole = one.estimate(.snips, policy: 0)!.estimate
        let cuts = [0, 7, 100, 1000, 3999, 4001, 4500, 5000]
        var merged = OffPolicyStatistic(policies: 1)
        var shardValues: [Double] = []
        for k in 0..<(cuts.count - 1) {
            let part = OffPolicyStatistic(rows: Array(rows[cuts[k]..<cuts[k + 1]]), rule: .init(), switchThreshold: 1)
            merged.merge(part)
            shardValues.append(part.estimate(.snips, policy: 0)!.estimate)
        }
        XCTAssertEqual(abs(merged.estimate(.snips, policy: 0)!.estimate - whole) / whole, 0, accuracy: 1e-14)
        XCTAssertEqual(merged.count, 5000)
        let averaged = shardValues.reduce(0, +) / Double(shardValues.count)
        XCTAssertGreaterThan(abs(averaged - whole) / whole, 1e-3, "the average of shard ratios is not SNIPS")
        // The identity: merging an empty statistic changes nothing, bit for bit.
        var withEmpty = OffPolicyStatistic(policies: 1)
        withEmpty.merge(one)
        XCTAssertEqual(withEmpty, one)
        var oneThenEmpty = one
        oneThenEmpty.merge(OffPolicyStatistic(policies: 1))
        XCTAssertEqual(oneThenEmpty, one)
    }
}

/// The capacity arithmetic of the greedy learner.
final class CapacityAllocationTests: XCTestCase {
    func testItemLimitKeepsTheExpectedShareWithinTheCapacity() {
        // (0.05 − 0.05/200) · 4000 / 0.95 = 209.47…
        XCTAssertEqual(CapacityAllocation.itemLimit(share: 0.05, users: 4000, epsilon: 0.05, catalogue: 200), 209)
        XCTAssertEqual(CapacityAllocation.itemLimit(share: 0.05, users: 4000, epsilon: 0, catalogue: 200), 200)
        XCTAssertEqual(CapacityAllocation.itemLimit(share: 0.001, users: 4000, epsilon: 0.5, catalogue: 100), 0)
        for (share, users, eps, a) in [(0.05, 4000, 0.05, 200), (0.3, 977, 0.1, 7), (1.0, 5, 0.0, 1)] {
            let n = CapacityAllocation.itemLimit(share: share, users: users, epsilon: eps, catalogue: a)
            XCTAssertLessThanOrEqual((1 - eps) * Double(n) / Double(users) + eps / Double(a), share + 1e-15)
            XCTAssertGreaterThan((1 - eps) * Double(n + 1) / Double(users) + eps / Double(a), share)
        }
    }

    func testQuotasSumToEachShardsUsersAndRespectTheLimits() {
        // Three shards all wanting item 0; limit 3 per item.
        let demand = [[4, 0, 0], [2, 1, 0], [1, 0, 1]]
        let users = [4, 3, 2]
        let q = CapacityAllocation.quotas(demand: demand, users: users, limits: [3, 3, 3])!
        // Demand first in shard order ([3,0,0], [0,1,0], [0,0,1]), then the short shards fill the spare room in order.
        XCTAssertEqual(q, [[3, 1, 0], [0, 2, 1], [0, 0, 2]])
        for s in q.indices { XCTAssertEqual(q[s].reduce(0, +), users[s]) }
        for a in 0..<3 { XCTAssertLessThanOrEqual(q.reduce(0) { $0 + $1[a] }, 3) }
        XCTAssertNil(CapacityAllocation.quotas(demand: demand, users: users, limits: [3, 3, 2]))
    }

    func testPriceStepAndDualBound() {
        let p = CapacityAllocation.step(prices: [0, 0.5], demand: [10, 0], limits: [4, 4], users: 10, step: 0.5)
        XCTAssertEqual(p, [0.3, 0.3])  // 0 + 0.5·6/10; 0.5 + 0.5·(−4)/10
        XCTAssertEqual(
            CapacityAllocation.dualBound(maximaSum: 2, prices: [0.3, 0.3], limits: [4, 4]), 4.4, accuracy: 1e-15)
    }
}
