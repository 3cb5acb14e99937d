import StableRandom

/// k-means clustering by Lloyd's algorithm from k-means++ seeds, deterministic for a seed: the same points and seed
/// give the same clusters on every machine (the draws come from `Xoshiro256`, distances are summed in a fixed order).
///
/// Used to cluster items by their embeddings' principal-component scores, for MIPS's marginalised weights.
/// Source: Arthur & Vassilvitskii (2007), "k-means++: the advantages of careful seeding", SODA; Lloyd (1982).
public struct KMeans: Sendable, Equatable {
    /// Number of clusters k.
    public let clusters: Int
    /// Point dimension d.
    public let dimension: Int
    /// [k, d] row-major cluster centres.
    public let centres: [Double]
    /// [n]: the cluster of each point, 0..<k.
    public let assignment: [Int]
    /// Lloyd iterations run (≤ `maxIterations`).
    public let iterations: Int
    /// Whether the assignment stopped changing before the iteration limit.
    public let converged: Bool
    /// Σ of squared distances of points to their centres.
    public let inertia: Double

    /// Clusters `points`.
    /// - Parameters:
    ///   - points: [n, d] row-major Float64.
    ///   - count: n ≥ 1.
    ///   - dimension: d ≥ 1.
    ///   - clusters: k, 1 ≤ k ≤ n.
    ///   - seed: seeds the k-means++ draws (stream 0 of `Xoshiro256`).
    ///   - maxIterations: Lloyd iterations at most (100).
    /// - Throws: `KMeansError` when k is not in 1…n or the sizes do not match.
    /// - Note: An empty cluster is re-seeded with the point farthest from its centre (lowest index on ties), so every
    ///   cluster keeps at least one point.
    public init(
        points: [Double], count n: Int, dimension d: Int, clusters k: Int, seed: UInt64, maxIterations: Int = 100
    ) throws {
        guard n >= 1, d >= 1, points.count == n * d else {
            throw KMeansError("k-means: \(points.count) values for \(n) points of dimension \(d)")
        }
        guard k >= 1, k <= n else {
            throw KMeansError("k-means: \(k) clusters for \(n) points (need 1 ≤ k ≤ n)")
        }
        func distance2(_ i: Int, _ c: [Double], _ j: Int) -> Double {
            var s = 0.0
            for t in 0..<d {
                let x = points[i * d + t] - c[j * d + t]
                s += x * x
            }
            return s
        }
        // k-means++ seeding: the first centre uniformly, each next one with probability ∝ D(x)².
        var rng = Xoshiro256(seed: seed, stream: 0)
        var centres = [Double](repeating: 0, count: k * d)
        let first = rng.index(n)
        for t in 0..<d { centres[t] = points[first * d + t] }
        var nearest = (0..<n).map { distance2($0, centres, 0) }
        for j in 1..<max(k, 1) {
            let total = nearest.reduce(0, +)
            var chosen = 0
            if total > 0 {
                chosen = rng.weightedIndex(nearest)
            } else {
                _ = rng.next()
                chosen = j % n  // every point coincides with a centre: any point will do
            }
            for t in 0..<d { centres[j * d + t] = points[chosen * d + t] }
            for i in 0..<n { nearest[i] = min(nearest[i], distance2(i, centres, j)) }
        }
        // Lloyd iterations.
        var assignment = [Int](repeating: -1, count: n)
        var iterations = 0
        var converged = false
        while iterations < maxIterations {
            iterations += 1
            var changed = false
            for i in 0..<n {
                // The nearest centre; on a tie a point stays where it is (else the lowest index), so Lloyd stops.
                var best = max(assignment[i], 0)
                var bestD = distance2(i, centres, best)
                for j in 0..<k where j != best {
                    let dj = distance2(i, centres, j)
                    if dj < bestD || (dj == bestD && assignment[i] < 0 && j < best) {
                        best = j
                        bestD = dj
                    }
                }
                if assignment[i] != best {
                    assignment[i] = best
                    changed = true
                }
            }
            if !changed {
                converged = true
                break
            }
            var sums = [Double](repeating: 0, count: k * d)
            var counts = [Int](repeating: 0, count: k)
            for i in 0..<n {
                counts[assignment[i]] += 1
                for t in 0..<d { sums[assignment[i] * d + t] += points[i * d + t] }
            }
            for j in 0..<k where counts[j] > 0 {
                for t in 0..<d { centres[j * d + t] = sums[j * d + t] / Double(counts[j]) }
            }
            for j in 0..<k where counts[j] == 0 {
                // Re-seed an empty cluster with the point farthest from its own centre.
                var far = 0
                var farD = -1.0
                for i in 0..<n where counts[assignment[i]] > 1 {
                    let di = distance2(i, centres, assignment[i])
                    if di > farD {
                        far = i
                        farD = di
                    }
                }
                counts[assignment[far]] -= 1
                counts[j] = 1
                assignment[far] = j
                for t in 0..<d { centres[j * d + t] = points[far * d + t] }
            }
        }
        self.clusters = k
        self.dimension = d
        self.centres = centres
        self.assignment = assignment
        self.iterations = iterations
        self.converged = converged
        self.inertia = (0..<n).map { distance2($0, centres, assignment[$0]) }.reduce(0, +)
    }
}

/// k-means was asked for something impossible (k outside 1…n, sizes that do not match).
public struct KMeansError: Error, Equatable, CustomStringConvertible {
    /// What is wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}
