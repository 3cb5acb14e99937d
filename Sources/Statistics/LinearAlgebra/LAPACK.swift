import COpenBLAS
/// Dense symmetric linear algebra on row-major Float64 matrices, through OpenBLAS and LAPACKE.
///
/// Every factorisation is LAPACK's; nothing here is hand-written numerics. Matrices are `[Double]` of
/// length n·n, row-major. Symmetric inputs are read from their upper triangle (LAPACK `uplo = 'U'` in
/// row-major layout).
///
/// - Note: OpenBLAS runs on the calling thread when `LinearAlgebra.setThreads(1)` was called (workers do
///   this at start-up; a cluster scales by processes).
import Foundation

public enum LinearAlgebra {
    /// Sets the number of OpenBLAS threads for this process.
    /// - Parameter count: threads, ≥ 1.
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// Eigen-decomposition of a symmetric matrix (LAPACK `dsyevd`).
    /// - Parameter matrix: [n, n] row-major Float64, symmetric.
    /// - Returns: eigenvalues in ascending order and eigenvectors as the columns of an [n, n] row-major matrix.
    /// - Throws: `LinearAlgebraError.lapack(function:info:)` when LAPACK reports failure.
    /// - Complexity: O(n³).
    public static func symmetricEigen(_ matrix: [Double], n: Int) throws -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == n * n, "symmetricEigen: \(matrix.count) values for a \(n)×\(n) matrix")
        if n == 0 { return ([], []) }
        var a = matrix
        var w = [Double](repeating: 0, count: n)
        let info = LAPACKE_dsyevd(
            LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")),
            Int32(n), &a, Int32(n), &w)
        guard info == 0 else { throw LinearAlgebraError.lapack(function: "dsyevd", info: Int(info)) }
        return (w, a)
    }

    /// Cholesky factor of a symmetric positive-definite matrix (LAPACK `dpotrf`), upper triangle.
    /// - Parameter matrix: [n, n] row-major Float64.
    /// - Returns: the factor U with UᵀU = A, row-major, lower triangle zeroed.
    /// - Throws: `LinearAlgebraError.notPositiveDefinite(order:)` with LAPACK's leading-minor order.
    /// - Complexity: O(n³/3).
    public static func cholesky(_ matrix: [Double], n: Int) throws -> [Double] {
        precondition(matrix.count == n * n, "cholesky: \(matrix.count) values for a \(n)×\(n) matrix")
        var a = matrix
        let info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), &a, Int32(n))
        if info > 0 { throw LinearAlgebraError.notPositiveDefinite(order: Int(info)) }
        guard info == 0 else { throw LinearAlgebraError.lapack(function: "dpotrf", info: Int(info)) }
        for i in 0..<n { for j in 0..<i { a[i * n + j] = 0 } }
        return a
    }

    /// Solves A x = b and returns A⁻¹ for a symmetric positive-definite A (LAPACK `dpotrf`, `dpotrs`, `dpotri`).
    /// - Parameters:
    ///   - matrix: [n, n] row-major Float64, symmetric positive definite.
    ///   - rhs: [n] right-hand side.
    /// - Returns: the solution [n] and the full symmetric inverse [n, n] row-major.
    /// - Throws: `LinearAlgebraError.notPositiveDefinite(order:)`.
    /// - Complexity: O(n³).
    public static func solveSPD(_ matrix: [Double], _ rhs: [Double], n: Int) throws -> (
        solution: [Double], inverse: [Double]
    ) {
        precondition(rhs.count == n, "solveSPD: right-hand side has \(rhs.count) values, expected \(n)")
        let u = try cholesky(matrix, n: n)
        var x = rhs
        var factor = u
        let info = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), 1, &factor, Int32(n), &x, 1)
        guard info == 0 else { throw LinearAlgebraError.lapack(function: "dpotrs", info: Int(info)) }
        var inv = u
        let info2 = LAPACKE_dpotri(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), &inv, Int32(n))
        guard info2 == 0 else { throw LinearAlgebraError.lapack(function: "dpotri", info: Int(info2)) }
        for i in 0..<n { for j in 0..<i { inv[i * n + j] = inv[j * n + i] } }
        return (x, inv)
    }

    /// C ← α·AᵀA + β·C for the upper triangle, then mirrored (BLAS `dsyrk`).
    /// - Parameters:
    ///   - a: [rows, n] row-major Float64.
    ///   - c: [n, n] row-major accumulator, updated in place and kept symmetric.
    /// - Complexity: O(rows · n²).
    public static func addGram(_ a: UnsafePointer<Double>, rows: Int, n: Int, alpha: Double = 1, into c: inout [Double])
    {
        precondition(c.count == n * n, "addGram: accumulator has \(c.count) values, expected \(n * n)")
        guard rows > 0, n > 0 else { return }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(n), Int32(rows), alpha, a, Int32(n), 1.0, &c, Int32(n))
        for i in 0..<n { for j in 0..<i { c[i * n + j] = c[j * n + i] } }
    }

    /// y ← A x for a row-major [rows, n] matrix A (BLAS `dgemv`).
    /// - Complexity: O(rows · n).
    public static func multiply(_ a: UnsafePointer<Double>, rows: Int, n: Int, _ x: [Double]) -> [Double] {
        precondition(x.count == n, "multiply: vector has \(x.count) values, expected \(n)")
        var y = [Double](repeating: 0, count: rows)
        guard rows > 0, n > 0 else { return y }
        cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(n), 1.0, a, Int32(n), x, 1, 0.0, &y, 1)
        return y
    }

    /// Symmetric product B·M·B for [n, n] row-major matrices (BLAS `dgemm`), used for sandwich covariances.
    /// - Complexity: O(n³).
    public static func sandwich(bread: [Double], meat: [Double], n: Int) -> [Double] {
        var tmp = [Double](repeating: 0, count: n * n)
        var out = [Double](repeating: 0, count: n * n)
        guard n > 0 else { return out }
        cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, bread, Int32(n), meat, Int32(n),
            0, &tmp, Int32(n))
        cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, tmp, Int32(n), bread, Int32(n),
            0, &out, Int32(n))
        return out
    }
}

/// Failures of a dense factorisation.
public enum LinearAlgebraError: Error, Equatable, CustomStringConvertible {
    /// The leading minor of this order (1-based) is not positive definite.
    case notPositiveDefinite(order: Int)
    /// A LAPACK routine returned a non-zero `info`.
    case lapack(function: String, info: Int)

    public var description: String {
        switch self {
        case .notPositiveDefinite(let order): return "matrix is not positive definite (leading minor \(order))"
        case .lapack(let function, let info): return "LAPACK \(function) failed (info \(info))"
        }
    }
}

extension LinearAlgebra {
    /// The OpenBLAS kernel family this process runs (e.g. `Prescott`, `Haswell`, `SkylakeX`).
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The kernel family this CPU supports when OpenBLAS's own detection fell back to a generic one, or nil.
    ///
    /// Debian's OpenBLAS 0.3.21 does not recognise some current (and virtualised) Intel CPUs and falls back to its
    /// SSE3 `Prescott` kernels, 2–3× slower than the AVX2/AVX-512 ones the CPU has. This reads the CPU flags from
    /// /proc/cpuinfo: AVX-512 (F, BW, VL, DQ) → `SkylakeX`; AVX2 and FMA → `Haswell`. OpenBLAS reads the choice only
    /// from the environment variable `OPENBLAS_CORETYPE` at load time, so the caller re-executes itself with it set.
    /// Nil when OPENBLAS_CORETYPE is already set (the machine's administrator chose), when OpenBLAS already uses a
    /// modern kernel, or when the flags cannot be read.
    public static func preferredCoreType(environment: [String: String]) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil, environment["CAUSA_KEEP_OPENBLAS_CORE"] == nil else {
            return nil
        }
        let generic = [
            "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine", "Northwood",
            "Banias"
        ]
        guard generic.contains(where: { coreName.caseInsensitiveCompare($0) == .orderedSame }) else { return nil }
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }
}
