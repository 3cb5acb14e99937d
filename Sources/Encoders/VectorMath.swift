/// Elementwise kernels of the encoder on SIMD16<Float>: exact-to-rounding GELU and exp without libm calls, and
/// LayerNorm and softmax reductions with vector accumulators. They are the non-matrix-product share of the encoder.
enum VectorMath {
    typealias V = SIMD16<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// erf(x) in Float32, a rational minimax approximation on [−4, 4] (|error| ≈ a few ULP; erf(±4) = ±1 in Float32).
    /// Written as plain arithmetic and selects, so the loops that call it vectorise.
    /// Source: Eigen `generic_fast_erf_float` (the same coefficients as XLA's `ErfImpl32`).
    @inline(__always) static func erf(_ a: Float) -> Float {
        let x = a < -4 ? -4 : (a > 4 ? 4 : a)
        let x2 = x * x
        var p = x2 * -2.72614225801306e-10 + 2.77068142495902e-08
        p = x2 * p + -2.10102402082508e-06
        p = x2 * p + -5.69250639462346e-05
        p = x2 * p + -7.34990630326855e-04
        p = x2 * p + -2.95459980854025e-03
        p = x2 * p + -1.60960333262415e-02
        p = x * p
        var q = x2 * -1.45660718464996e-05 + -2.13374055278905e-04
        q = x2 * q + -1.68282697438203e-03
        q = x2 * q + -7.37332916720468e-03
        q = x2 * q + -1.42647390514189e-02
        return p / q
    }

    /// e^x in Float32 (softmax arguments are ≤ 0): Cody–Waite range reduction x = n ln 2 + r and a degree-6
    /// polynomial for e^r, scaled by 2^n through the exponent bits. n is rounded with the 1.5·2²³ trick, so there is
    /// no float-to-integer conversion and the calling loop vectorises. Arguments are clamped to [−87.3, 88.3].
    /// Source: Cephes `expf` (S. Moshier).
    @inline(__always) static func exp(_ a: Float) -> Float {
        let x = a < -87.3 ? -87.3 : (a > 88.3 ? 88.3 : a)
        let t = x * 1.44269504088896341 + 12582912.0
        let n = t - 12582912.0
        var r = x - n * 0.693359375
        r = r - n * -2.12194440e-4
        var y = r * 1.9875691500E-4 + 1.3981999507E-3
        y = y * r + 8.3334519073E-3
        y = y * r + 4.1665795894E-2
        y = y * r + 1.6666665459E-1
        y = y * r + 5.0000001201E-1
        y = y * (r * r) + r + 1
        // bitPattern(t) = 0x4B400000 + n, so subtracting 0x4B3FFF81 leaves n + 127, the biased exponent of 2^n.
        return y * Float(bitPattern: (t.bitPattern &- 0x4B3F_FF81) &<< 23)
    }

    /// x ← GELU(x + b) over `rows` rows of `b`'s length: ½ v (1 + erf(v / √2)) with v = x + b (the layer's bias,
    /// added here rather than in a separate pass).
    static func biasGelu(_ p: UnsafeMutablePointer<Float>, rows: Int, bias b: UnsafePointer<Float>, columns: Int) {
        for r in 0..<rows {
            let x = p + r * columns
            for i in 0..<columns {
                let v = x[i] + b[i]
                x[i] = 0.5 * v * (1 + erf(v * 0.70710678118654752))
            }
        }
    }

    /// Softmax of each of `rows` rows of `columns` values, in place: exp(x − max) / Σ.
    static func softmaxRows(_ p: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        typealias V8 = SIMD8<Float>
        for row in 0..<rows {
            let x = p + row * columns
            // Max with four independent running maxima, sum with 8-wide accumulators (a single-accumulator
            // reduction loop does not vectorise).
            var m0 = -Float.infinity, m1 = m0, m2 = m0, m3 = m0
            var j = 0
            while j + 4 <= columns {
                m0 = x[j] > m0 ? x[j] : m0
                m1 = x[j + 1] > m1 ? x[j + 1] : m1
                m2 = x[j + 2] > m2 ? x[j + 2] : m2
                m3 = x[j + 3] > m3 ? x[j + 3] : m3
                j += 4
            }
            var m = Swift.max(Swift.max(m0, m1), Swift.max(m2, m3))
            while j < columns { m = x[j] > m ? x[j] : m; j += 1 }
            for k in 0..<columns { x[k] = exp(x[k] - m) }
            var sv = V8(repeating: 0)
            j = 0
            while j + 8 <= columns { sv += UnsafeRawPointer(x + j).loadUnaligned(as: V8.self); j += 8 }
            var total = sv.sum()
            while j < columns { total += x[j]; j += 1 }
            let inv = 1 / total
            for k in 0..<columns { x[k] *= inv }
        }
    }

    /// LayerNorm of each row of `h` values (h a multiple of 16): (x − mean) / √(var + ε) · γ + β, with x ← x + add first
    /// when `add` is given (the residual connection), in one pass for the sums and one for the output.
    static func addLayerNorm(_ x: UnsafeMutablePointer<Float>, add: UnsafePointer<Float>?, bias: UnsafePointer<Float>? = nil, rows: Int, h: Int,
                             gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, epsilon: Float) {
        precondition(h % 16 == 0, "addLayerNorm: hidden size \(h) is not a multiple of 16")
        for r in 0..<rows {
            let row = x + r * h
            var s = V(repeating: 0), s2 = V(repeating: 0)
            var j = 0
            while j < h {
                var v = load(row + j)
                if let add {
                    v += load(add + r * h + j)
                    if let bias { v += load(bias + j) }
                    store(v, row + j)
                }
                s += v
                j += 16
            }
            let mean = s.sum() / Float(h)
            let mv = V(repeating: mean)
            j = 0
            while j < h {
                let d = load(row + j) - mv
                s2 += d * d
                j += 16
            }
            let inv = V(repeating: 1 / (s2.sum() / Float(h) + epsilon).squareRoot())
            j = 0
            while j < h {
                store((load(row + j) - mv) * inv * load(gamma + j) + load(beta + j), row + j)
                j += 16
            }
        }
    }
}
