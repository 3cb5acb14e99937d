import XCTest

@testable import Statistics

final class KMeansTests: XCTestCase {
    /// Three separated groups: the partition is the groups' (up to labels), centres are the group means exactly
    /// (computed by hand), and the same seed gives the same result bit for bit.
    func testSeparatedGroupsAndDeterminism() throws {
        let groups: [[(Double, Double)]] = [
            [(0, 0), (1, 0), (0, 1), (1, 1)], [(10, 10), (11, 10), (10, 12)], [(-10, 5), (-12, 5)]
        ]
        var points: [Double] = []
        var label: [Int] = []
        for (g, members) in groups.enumerated() {
            for (x, y) in members {
                points += [x, y]
                label.append(g)
            }
        }
        let n = label.count
        let km = try KMeans(points: points, count: n, dimension: 2, clusters: 3, seed: 7)
        XCTAssertTrue(km.converged)
        for i in 0..<n { for j in 0..<n { XCTAssertEqual(label[i] == label[j], km.assignment[i] == km.assignment[j]) } }
        let means: [[Double]] = [[0.5, 0.5], [31.0 / 3, 32.0 / 3], [-11, 5]]
        for g in 0..<3 {
            let c = km.assignment[label.firstIndex(of: g)!]
            XCTAssertEqual(km.centres[c * 2], means[g][0], accuracy: 1e-12)
            XCTAssertEqual(km.centres[c * 2 + 1], means[g][1], accuracy: 1e-12)
        }
        // Inertia: squared distances to the group means, summed.
        var inertia = 0.0
        for i in 0..<n {
            let m = means[label[i]]
            inertia +=
                (points[2 * i] - m[0]) * (points[2 * i] - m[0]) + (points[2 * i + 1] - m[1])
                * (points[2 * i + 1] - m[1])
        }
        XCTAssertEqual(km.inertia, inertia, accuracy: 1e-12)
        XCTAssertEqual(try KMeans(points: points, count: n, dimension: 2, clusters: 3, seed: 7), km)
    }

    /// k = n puts each point alone (inertia 0); identical points still fill every cluster; k outside 1…n is refused.
    func testDegenerateCases() throws {
        let points: [Double] = [1, 2, 3, 4]
        let each = try KMeans(points: points, count: 4, dimension: 1, clusters: 4, seed: 1)
        XCTAssertEqual(Set(each.assignment).count, 4)
        XCTAssertEqual(each.inertia, 0)
        let same = try KMeans(points: [5, 5, 5], count: 3, dimension: 1, clusters: 2, seed: 3)
        XCTAssertEqual(Set(same.assignment), [0, 1], "an empty cluster is re-seeded")
        XCTAssertTrue(same.converged)
        XCTAssertThrowsError(try KMeans(points: points, count: 4, dimension: 1, clusters: 0, seed: 1))
        XCTAssertThrowsError(try KMeans(points: points, count: 4, dimension: 1, clusters: 5, seed: 1))
        XCTAssertThrowsError(try KMeans(points: points, count: 3, dimension: 1, clusters: 2, seed: 1))
    }
}
