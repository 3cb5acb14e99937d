import COpenBLAS
import Foundation

/// General (non-symmetric) dense linear algebra on row-major Float64 matrices: products, LU inverses,
/// eigenvalues and singular values. Every factorisation is LAPACK's (`dgetrf`/`dgetri`, `dgeev`, `dgesdd`).
extension LinearAlgebra {
    /// C = op(A)·op(B) (BLAS `dgemm`), where op is the identity or the transpose.
    /// - Parameters:
    ///   - a: row-major, [m, k] (or [k, m] when `transposeA`).
    ///   - b: row-major, [k, n] (or [n, k] when `transposeB`).
    ///   - m: rows of op(A) and of C.
    ///   - k: columns of op(A), rows of op(B).
    ///   - n: columns of op(B) and of C.
    /// - Returns: C, [m, n] row-major.
    /// - Complexity: O(m k n).
    public static func product(
        _ a: [Double], _ b: [Double], m: Int, k: Int, n: Int,
        transposeA: Bool = false, transposeB: Bool = false
    ) -> [Double] {
        precondition(
            a.count == m * k && b.count == k * n, "product: sizes \(a.count), \(b.count) do not fit \(m)×\(k)×\(n)")
        var c = [Double](repeating: 0, count: m * n)
        guard m > 0, n > 0, k > 0 else { return c }
        cblas_dgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), 1, a, Int32(transposeA ? m : k), b, Int32(transposeB ? k : n),
            0, &c, Int32(n))
        return c
    }

    /// Inverse and log-determinant of a general square matrix by LU with partial pivoting (LAPACK `dgetrf`, `dgetri`).
    /// - Parameter matrix: [n, n] row-major Float64.
    /// - Returns: A⁻¹ [n, n] row-major, log |det A| and the sign of det A (±1).
    /// - Throws: `LinearAlgebraError.lapack(function: "dgetrf", info:)` with info > 0 when A is exactly singular.
    /// - Complexity: O(n³).
    public static func luInverse(_ matrix: [Double], n: Int) throws -> (
        inverse: [Double], logAbsDeterminant: Double, sign: Double
    ) {
        precondition(matrix.count == n * n, "luInverse: \(matrix.count) values for a \(n)×\(n) matrix")
        if n == 0 { return ([], 0, 1) }
        var a = matrix
        var pivots = [Int32](repeating: 0, count: n)
        let info = LAPACKE_dgetrf(LAPACK_ROW_MAJOR, Int32(n), Int32(n), &a, Int32(n), &pivots)
        guard info == 0 else { throw LinearAlgebraError.lapack(function: "dgetrf", info: Int(info)) }
        var logDet = 0.0
        var sign = 1.0
        for i in 0..<n {
            let d = a[i * n + i]
            logDet += log(abs(d))
            if d < 0 { sign = -sign }
            if Int(pivots[i]) != i + 1 { sign = -sign }
        }
        let info2 = LAPACKE_dgetri(LAPACK_ROW_MAJOR, Int32(n), &a, Int32(n), pivots)
        guard info2 == 0 else { throw LinearAlgebraError.lapack(function: "dgetri", info: Int(info2)) }
        return (a, logDet, sign)
    }

    /// Eigenvalues of a general square matrix (LAPACK `dgeev`, no eigenvectors).
    /// - Parameter matrix: [n, n] row-major Float64.
    /// - Returns: real and imaginary parts, [n] each, in LAPACK's order.
    /// - Throws: `LinearAlgebraError.lapack(function: "dgeev", info:)` when the QR algorithm fails.
    /// - Complexity: O(n³).
    public static func eigenvalues(_ matrix: [Double], n: Int) throws -> (real: [Double], imaginary: [Double]) {
        precondition(matrix.count == n * n, "eigenvalues: \(matrix.count) values for a \(n)×\(n) matrix")
        if n == 0 { return ([], []) }
        var a = matrix
        var wr = [Double](repeating: 0, count: n)
        var wi = [Double](repeating: 0, count: n)
        var vl = [Double](repeating: 0, count: 1)
        var vr = [Double](repeating: 0, count: 1)
        let info = LAPACKE_dgeev(
            LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "N")), Int32(n), &a,
            Int32(n), &wr, &wi, &vl, 1, &vr, 1)
        guard info == 0 else { throw LinearAlgebraError.lapack(function: "dgeev", info: Int(info)) }
        return (wr, wi)
    }

    /// Singular values of a general [rows, columns] matrix (LAPACK `dgesdd`, no vectors), in descending order.
    /// - Parameter matrix: [rows, columns] row-major Float64.
    /// - Throws: `LinearAlgebraError.lapack(function: "dgesdd", info:)` when the iteration fails to converge.
    /// - Complexity: O(rows · columns · min(rows, columns)).
    public static func singularValues(_ matrix: [Double], rows: Int, columns: Int) throws -> [Double] {
        precondition(matrix.count == rows * columns, "singularValues: \(matrix.count) values for \(rows)×\(columns)")
        let k = min(rows, columns)
        if k == 0 { return [] }
        var a = matrix
        var s = [Double](repeating: 0, count: k)
        // LAPACKE checks the leading dimensions even when no vectors are computed.
        var u = [Double](repeating: 0, count: rows)
        var vt = [Double](repeating: 0, count: columns)
        let info = LAPACKE_dgesdd(
            LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int32(rows), Int32(columns), &a,
            Int32(columns), &s, &u, 1, &vt, Int32(columns))
        guard info == 0 else { throw LinearAlgebraError.lapack(function: "dgesdd", info: Int(info)) }
        return s
    }
}
