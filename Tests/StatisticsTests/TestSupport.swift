@_exported import StableRandom  // SplitMix64: seeded cases repeat exactly
import XCTest


/// Asserts |actual − expected| ≤ tolerance · max(1, scale) elementwise, naming the case and the index on failure.
func assertClose(_ actual: [Double], _ expected: [Double], relative tolerance: Double, scale: Double,
                 _ label: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(label()): sizes", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() where !(abs(a - e) <= tolerance * max(1, scale)) {
        XCTFail("\(label()) [\(i)]: \(a) vs expected \(e) (tolerance \(tolerance) × \(max(1, scale)))", file: file, line: line)
    }
}

/// Asserts |actual − expected| ≤ tolerance · |expected| (relative error), naming the case.
func assertRelative(_ actual: Double, _ expected: Double, _ tolerance: Double, _ label: @autoclosure () -> String,
                    file: StaticString = #filePath, line: UInt = #line) {
    if !(abs(actual - expected) <= tolerance * abs(expected)) {
        XCTFail("\(label()): \(actual) vs expected \(expected), relative error \(abs(actual - expected) / abs(expected)) > \(tolerance)",
                file: file, line: line)
    }
}

/// Every way to cut 0..<n into `parts` contiguous (possibly empty) ranges, as the cut positions.
func contiguousSplits(_ n: Int, parts: Int) -> [[Int]] {
    guard parts > 1 else { return [[]] }
    var out: [[Int]] = []
    func extend(_ cuts: [Int]) {
        if cuts.count == parts - 1 { out.append(cuts); return }
        for c in (cuts.last ?? 0)...n { extend(cuts + [c]) }
    }
    extend([])
    return out
}

/// The ranges delimited by cut positions: [0, c₁), [c₁, c₂), …, [c_last, n).
func ranges(_ n: Int, cuts: [Int]) -> [Range<Int>] {
    let bounds = [0] + cuts + [n]
    return (0..<(bounds.count - 1)).map { bounds[$0]..<bounds[$0 + 1] }
}
