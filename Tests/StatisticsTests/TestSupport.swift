@_exported import CausaTestSupport
@_exported import StableRandom  // SplitMix64: seeded cases repeat exactly
import XCTest

/// Every way to cut 0..<n into `parts` contiguous (possibly empty) ranges, as the cut positions.
func contiguousSplits(_ n: Int, parts: Int) -> [[Int]] {
    guard parts > 1 else { return [[]] }
    var out: [[Int]] = []
    func extend(_ cuts: [Int]) {
        if cuts.count == parts - 1 {
            out.append(cuts)
            return
        }
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
