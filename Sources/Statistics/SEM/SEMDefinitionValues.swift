import Foundation

/// Values and exact gradients of `:=` defined parameters, for the delta method.
///
/// Each expression is evaluated in forward mode: every node carries its value and its gradient with respect to the
/// t free parameters θ, so the Jacobian is exact (lavaan uses a complex-step Jacobian, exact to rounding as well).
/// A label on a free row stands for θ[free − 1]; a label on a fixed row for its fixed value (gradient 0); a defined
/// name for its own (earlier) definition.
///
///     Var(def(θ̂)) = J Cov(θ̂) Jᵀ,  J = ∂def/∂θ at θ̂.
///
/// Source: lavaan `lav_model_vcov` / `lav_func_jacobian_complex` (delta method for `:=`); Rao (1973) §6a.2.
enum SEMDefinitionValues {
    struct Dual {
        var value: Double
        var gradient: [Double]
    }

    /// f(x) for f in `SEMExpression.functions`.
    static func apply(_ f: String, _ x: Double) -> Double {
        switch f {
        case "exp": return exp(x)
        case "log": return log(x)
        case "sqrt": return x.squareRoot()
        default: return abs(x)
        }
    }

    /// Every definition's value and gradient over θ, in the order written.
    /// - Parameters:
    ///   - table: the parameter table (labels, definitions).
    ///   - theta: [t] free parameter values.
    ///   - labelValue: overrides the value of a free label (std.all: the standardised estimate); nil keeps θ's.
    static func evaluate(
        _ table: SEMParameterTable, theta: [Double],
        labelValue: ((String) -> Double?)? = nil
    ) -> [Dual] {
        let t = theta.count
        let zero = [Double](repeating: 0, count: t)
        let labels = table.labelValues
        var defined: [String: Dual] = [:]
        func eval(_ e: SEMExpression) -> Dual {
            switch e {
            case .number(let v): return Dual(value: v, gradient: zero)
            case .label(let n, _):
                if let d = defined[n] { return d }
                switch labels[n] {
                case .free(let i)?:
                    var g = zero
                    g[i - 1] = 1
                    return Dual(value: labelValue?(n) ?? theta[i - 1], gradient: g)
                case .fixed(let v)?: return Dual(value: v, gradient: zero)
                case nil: return Dual(value: .nan, gradient: zero)
                }
            case .negate(let a):
                let x = eval(a)
                return Dual(value: -x.value, gradient: x.gradient.map { -$0 })
            case .binary(let op, let l, let r):
                let a = eval(l)
                let b = eval(r)
                func combine(_ value: Double, _ da: Double, _ db: Double) -> Dual {
                    Dual(
                        value: value,
                        gradient: (0..<t).map {
                            (da == 0 ? 0 : da * a.gradient[$0]) + (db == 0 ? 0 : db * b.gradient[$0])
                        })
                }
                switch op {
                case "+": return combine(a.value + b.value, 1, 1)
                case "-": return combine(a.value - b.value, 1, -1)
                case "*": return combine(a.value * b.value, b.value, a.value)
                case "/": return combine(a.value / b.value, 1 / b.value, -a.value / (b.value * b.value))
                default:
                    let v = Foundation.pow(a.value, b.value)
                    let exponentMoves = b.gradient.contains { $0 != 0 }
                    let da = b.value * Foundation.pow(a.value, b.value - 1)
                    return combine(v, da, exponentMoves ? v * log(a.value) : 0)
                }
            case .function(let f, let a, _):
                let x = eval(a)
                let v = apply(f, x.value)
                let d: Double
                switch f {
                case "exp": d = v
                case "log": d = 1 / x.value
                case "sqrt": d = 0.5 / v
                default: d = x.value < 0 ? -1 : 1
                }
                return Dual(value: v, gradient: x.gradient.map { $0 * d })
            }
        }
        var out: [Dual] = []
        for definition in table.definitions {
            let d = eval(definition.expression)
            defined[definition.name] = d
            out.append(d)
        }
        return out
    }
}
