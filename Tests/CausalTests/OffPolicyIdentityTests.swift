import Causal
import Statistics
import XCTest

final class OffPolicyIdentityTests: XCTestCase {
    /// `merge(empty, x)` and `merge(x, empty)` give x bit for bit (`SufficientStatistic`'s identity contract).
    func testOffPolicyStatisticEmptyIsIdentity() {
        let rows = [
            [OffPolicyRow(reward: 1, propensity: 0.2, target: 0.5, directMethod: 0.3, predictedLogged: 0.25)],
            [OffPolicyRow(reward: 0, propensity: 0.4, target: 0.1)],
            [OffPolicyRow(reward: 1, propensity: 0.05, target: 0.9, directMethod: -0.0)]
        ]
        let x = OffPolicyStatistic(rows: rows, rule: WeightRule(clip: 10), switchThreshold: 5)
        XCTAssertEqual(x.count, 3)
        for (label, value) in [("statistic", x), ("empty", OffPolicyStatistic(policies: 1))] {
            var left = OffPolicyStatistic.empty(like: value)
            left.merge(value)
            XCTAssertEqual(fingerprint(left), fingerprint(value), "\(label): merge(empty, x)")
            var right = value
            right.merge(.empty(like: value))
            XCTAssertEqual(fingerprint(right), fingerprint(value), "\(label): merge(x, empty)")
        }
    }

    /// Every leaf of a value, Float64s as their bit patterns.
    func fingerprint(_ value: Any) -> [String] {
        if let x = value as? Double { return [String(x.bitPattern, radix: 16)] }
        let mirror = Mirror(reflecting: value)
        if mirror.children.isEmpty { return ["\(value)"] }
        return mirror.children.flatMap { child in fingerprint(child.value).map { "\(child.label ?? "")=\($0)" } }
    }
}
