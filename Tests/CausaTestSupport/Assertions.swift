import Statistics
import XCTest

/// Asserts |actual − expected| ≤ tolerance · max(1, scale) elementwise, naming the case and the index on failure.
public func assertClose(
    _ actual: [Double], _ expected: [Double], relative tolerance: Double, scale: Double,
    _ label: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "\(label()): sizes", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() where !(abs(a - e) <= tolerance * max(1, scale)) {
        XCTFail(
            "\(label()) [\(i)]: \(a) vs expected \(e) (tolerance \(tolerance) × \(max(1, scale)))", file: file,
            line: line)
    }
}

/// Asserts |actual − expected| ≤ tolerance · |expected| (relative error), naming the case.
public func assertRelative(
    _ actual: Double, _ expected: Double, _ tolerance: Double, _ label: @autoclosure () -> String,
    file: StaticString = #filePath, line: UInt = #line
) {
    if !(abs(actual - expected) <= tolerance * abs(expected)) {
        let error = abs(actual - expected) / abs(expected)
        XCTFail(
            "\(label()): \(actual) vs expected \(expected), relative error \(error) > \(tolerance)", file: file,
            line: line)
    }
}

/// Every leaf of a value, Float64s as their bit patterns (so −0.0 and +0.0 differ, and a NaN equals only itself).
public func bitFingerprint(_ value: Any) -> [String] {
    if let x = value as? Double { return [String(x.bitPattern, radix: 16)] }
    if let x = value as? Float { return [String(x.bitPattern, radix: 16)] }
    let mirror = Mirror(reflecting: value)
    if mirror.children.isEmpty { return ["\(value)"] }
    return mirror.children.flatMap { child in bitFingerprint(child.value).map { "\(child.label ?? "")=\($0)" } }
}

/// `merge(empty, x)`, `merge(x, empty)` give x and `merge(empty, empty)` gives empty, bit for bit
/// (`SufficientStatistic`'s identity contract).
public func assertIdentity<T: SufficientStatistic>(
    _ x: T, _ label: String, file: StaticString = #filePath, line: UInt = #line
) {
    var left = T.empty(like: x)
    left.merge(x)
    XCTAssertEqual(bitFingerprint(left), bitFingerprint(x), "\(label): merge(empty, x)", file: file, line: line)
    var right = x
    right.merge(T.empty(like: x))
    XCTAssertEqual(bitFingerprint(right), bitFingerprint(x), "\(label): merge(x, empty)", file: file, line: line)
    var both = T.empty(like: x)
    both.merge(T.empty(like: x))
    XCTAssertEqual(
        bitFingerprint(both), bitFingerprint(T.empty(like: x)), "\(label): merge(empty, empty)",
        file: file, line: line)
}
