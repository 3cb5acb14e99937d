import Foundation

/// Fisher scoring for the ML discrepancy: θ ← θ + s·I(θ)⁻¹(−½ ∇F(θ)), where I is the expected information per
/// observation and s ∈ {1, ½, ¼, …} is the largest step that keeps I − B invertible and Σ(θ) positive definite and does
/// not increase F (beyond rounding, 1e-13 relative). Where I is singular — e.g. at B = 0 in a feedback loop, where
/// the derivatives of Σ with respect to y1 ← y2 and y2 ← y1 coincide — the step solves (I + μ·diag(I))δ = −½∇F with
/// the smallest μ ∈ {1e-10, 1e-8, …, 1e2} that makes the matrix positive definite (Levenberg–Marquardt damping). Stops
/// when every component of the full scoring step is at most `tolerance`·max(1, |θ_k|) (the step is then taken), or
/// after `maxIterations` steps. With `==` constraints the steps are taken in the estimated parameters ψ (θ = x₀ + Kψ):
/// gradient Kᵀ∇F, information KᵀIK.
///
/// Source: Lee & Jennrich (1979), "A study of algorithms for covariance structure analysis with specific comparisons
/// using factor analysis", Psychometrika 44; lavaan's `optim.method = "GN"` is the same Gauss–Newton/scoring step.
enum SEMOptimizer {
    struct Outcome {
        var theta: [Double]
        var evaluation: SEMStructure.Evaluation
        var iterations: Int
        var converged: Bool
    }

    static func minimize(_ structure: SEMStructure, start: [Double], options: SEMOptions) throws -> Outcome {
        let rep = structure.table.reparameterization
        var psi = rep.restrict(start)
        guard var ev = structure.evaluate(rep.expand(psi)) else {
            throw SEMError.impliedCovarianceNotPositiveDefinite(
                message: "the model-implied covariance matrix is not positive definite at the starting values")
        }
        let t = psi.count
        var iterations = 0
        var converged = t == 0
        while !converged && iterations < options.maxIterations {
            let grad = rep.reduce(gradient: structure.gradient(ev))
            let info = rep.reduce(information: structure.expectedInformation(ev))
            let rhs = grad.map { -0.5 * $0 }
            guard let step = dampedSolve(info, rhs, n: t) else { break }
            let small = (0..<t).allSatisfy { abs(step[$0]) <= options.tolerance * max(1, abs(psi[$0])) }
            var s = 1.0
            var accepted = false
            for _ in 0..<60 {
                let trial = (0..<t).map { psi[$0] + s * step[$0] }
                if let next = structure.evaluate(rep.expand(trial)), next.f <= ev.f + 1e-13 * max(1, abs(ev.f)) {
                    psi = trial
                    ev = next
                    accepted = true
                    break
                }
                s *= 0.5
            }
            iterations += 1
            if small {
                converged = true
                break
            }
            if !accepted { break }
        }
        return Outcome(theta: rep.expand(psi), evaluation: ev, iterations: iterations, converged: converged)
    }

    /// I⁻¹ r by Cholesky, with Levenberg–Marquardt damping when I is not (numerically) positive definite.
    static func dampedSolve(_ info: [Double], _ rhs: [Double], n: Int) -> [Double]? {
        if let x = try? LinearAlgebra.solveSPD(info, rhs, n: n).solution, x.allSatisfy({ $0.isFinite }) { return x }
        let scale = max((0..<n).map { info[$0 * n + $0] }.max() ?? 1, 1e-300)
        var mu = 1e-10
        while mu <= 1e2 {
            var damped = info
            for i in 0..<n { damped[i * n + i] += mu * max(info[i * n + i], 1e-12 * scale) }
            if let x = try? LinearAlgebra.solveSPD(damped, rhs, n: n).solution, x.allSatisfy({ $0.isFinite }) {
                return x
            }
            mu *= 100
        }
        return nil
    }
}
