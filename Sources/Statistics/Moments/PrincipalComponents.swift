/// The top-k principal components of vectors whose moments were merged across shards (issue 4's distributed PCA).
///
/// From a `MomentMatrix` of d-dimensional vectors (count n, mean m, centred co-moments C) the covariance is C / n
/// (divisor n); its eigen-decomposition (LAPACK `dsyevd`) gives the components, largest variance first. Each
/// component's sign is fixed so that its entry of largest magnitude is positive (the first entry within 1e-9 relative
/// of the largest, so rounding noise cannot flip a tie), so the
/// result does not depend on LAPACK's arbitrary signs and is the same in every process.
/// Source: Jolliffe (2002), Principal Component Analysis, §1; the sign convention is scikit-learn's `svd_flip` idea
/// applied to loadings.
public struct PrincipalComponents: Sendable, Equatable {
    /// Dimension d of the vectors.
    public let dimension: Int
    /// Mean vector m, [d].
    public let mean: [Double]
    /// Components, [k, d] row-major, unit length, orthogonal.
    public let components: [Double]
    /// Variance along each component (eigenvalues of C / n), [k], non-increasing.
    public let variances: [Double]

    /// Number of components k.
    public var count: Int { variances.count }

    /// - Parameters:
    ///   - moments: merged moments of the vectors (dimension d, count ≥ 1).
    ///   - k: components to keep, 1 ≤ k ≤ d.
    /// - Throws: `LinearAlgebraError` when LAPACK fails; `StatisticsError.tooFewRows` without vectors.
    /// - Complexity: O(d³).
    public init(moments: MomentMatrix, k: Int) throws {
        let d = moments.dimension
        precondition(k >= 1 && k <= d, "PrincipalComponents: k = \(k) outside 1...\(d)")
        guard moments.count >= 1 else { throw StatisticsError.tooFewRows(rows: 0, coefficients: k) }
        let covariance = moments.comoment.map { $0 / moments.count }
        let (values, vectors) = try LinearAlgebra.symmetricEigen(covariance, n: d)
        var components = [Double](repeating: 0, count: k * d)
        var variances = [Double](repeating: 0, count: k)
        for c in 0..<k {
            let column = d - 1 - c  // eigenvalues come in ascending order
            variances[c] = max(0, values[column])
            var v = (0..<d).map { vectors[$0 * d + column] }
            // The first entry within rounding of the largest magnitude decides the sign (ties by index, not by noise).
            let largest = v.map(abs).max() ?? 0
            let best = v.firstIndex { abs($0) >= largest * (1 - 1e-9) } ?? 0
            if v[best] < 0 { v = v.map { -$0 } }
            for j in 0..<d { components[c * d + j] = v[j] }
        }
        self.dimension = d
        self.mean = moments.mean
        self.components = components
        self.variances = variances
    }

    /// Scores of one vector: (x − m) · componentᵢ for each component.
    /// - Parameter x: [d].
    /// - Returns: [k].
    /// - Complexity: O(k d).
    public func project<V: Collection>(_ x: V) -> [Double] where V.Element: BinaryFloatingPoint {
        precondition(x.count == dimension, "project: vector of \(x.count), expected \(dimension)")
        return score(zip(x, mean).map { Double($0) - $1 })
    }

    /// Scores of one Float32 vector (a slice of a row-major block of embeddings), as `project(_:)`.
    /// - Parameter x: [d] Float32.
    /// - Returns: [k].
    public func project(_ x: ArraySlice<Float>) -> [Double] {
        precondition(x.count == dimension, "project: vector of \(x.count), expected \(dimension)")
        var centred = [Double](repeating: 0, count: dimension)
        x.withUnsafeBufferPointer { x in
            for j in 0..<dimension { centred[j] = Double(x[j]) - mean[j] }
        }
        return score(centred)
    }

    private func score(_ centred: [Double]) -> [Double] {
        Self.scores(centred: centred, components: components, count: count)
    }

    /// Scores (x − m) · componentᵢ from a centred vector, for code that holds the components without the rest of the
    /// PCA (a worker sent the mean and axes by the coordinator).
    /// - Parameters:
    ///   - centred: [d], x − m.
    ///   - components: [k, d] row-major.
    ///   - count: k.
    /// - Returns: [k].
    public static func scores(centred: [Double], components: [Double], count k: Int) -> [Double] {
        let d = centred.count
        precondition(components.count == k * d, "scores: \(components.count) component values for k = \(k), d = \(d)")
        return components.withUnsafeBufferPointer { c in
            centred.withUnsafeBufferPointer { z in
                (0..<k).map { i in
                    var s = 0.0
                    for j in 0..<d { s += z[j] * c[i * d + j] }
                    return s
                }
            }
        }
    }
}
