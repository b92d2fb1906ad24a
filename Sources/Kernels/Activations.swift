// Activation functions of BERT's intermediate (FFN) layer.
//
// Shapes: x [rows x cols] row-major (rows = tokens, cols = intermediate size), bias [cols].
//   gelu (erf):  0.5 · x · (1 + erf(x / √2))                         torch.nn.functional.gelu
//   gelu (tanh): 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))  gelu_new / gelu_pytorch_tanh
//   relu:        max(x, 0)

/// The element-wise nonlinearity applied after the first FFN projection.
public enum ActivationFunction: Sendable, Equatable {
    /// Exact GELU with erf (Hugging Face "gelu").
    case geluErf
    /// GELU with the tanh approximation ("gelu_new", "gelu_pytorch_tanh").
    case geluTanh
    /// max(x, 0) ("relu").
    case relu
}

/// Fused, vectorized activations.
public enum Activations {
    /// In place: `x[r, c] = act(x[r, c] + bias[c])` (bias may be nil), x is [rows x cols].
    /// One pass over memory instead of a bias pass followed by an activation pass.
    public static func addBiasApply(
        _ function: ActivationFunction,
        _ x: UnsafeMutableBufferPointer<Float>, rows: Int, cols: Int,
        bias: UnsafeBufferPointer<Float>?
    ) {
        precondition(rows >= 0 && cols > 0 && x.count >= rows * cols,
                     "addBiasApply: x holds \(x.count) values, [rows x cols] = [\(rows) x \(cols)]")
        if let bias { precondition(bias.count == cols, "addBiasApply: bias holds \(bias.count), expected \(cols)") }
        guard rows > 0 else { return }
        switch function {
        case .geluErf: run(x, rows, cols, bias, geluErf8)
        case .geluTanh: run(x, rows, cols, bias, geluTanh8)
        case .relu: run(x, rows, cols, bias, relu8)
        }
    }

    @inline(__always)
    static func run(
        _ x: UnsafeMutableBufferPointer<Float>, _ rows: Int, _ cols: Int,
        _ bias: UnsafeBufferPointer<Float>?, _ f: (SIMD8<Float>) -> SIMD8<Float>
    ) {
        let base = x.baseAddress!
        let full = cols & ~7
        let tail = cols - full
        for r in 0..<rows {
            let row = base + r * cols
            var c = 0
            while c < full {
                var v = load8(row + c)
                if let b = bias?.baseAddress { v += load8(b + c) }
                store8(f(v), row + c)
                c += 8
            }
            if tail > 0 {
                var v = loadPartial(row + full, tail, fill: 0)
                if let b = bias?.baseAddress { v += loadPartial(b + full, tail, fill: 0) }
                storePartial(f(v), row + full, tail)
            }
        }
    }

    @inline(__always)
    static func geluErf8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        0.5 * x * (1 + VectorMath.erf(x * 0.707_106_781_186_547_5))
    }

    @inline(__always)
    static func geluTanh8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let inner = 0.797_884_560_802_865_4 * (x + 0.044_715 * x * x * x)
        return 0.5 * x * (1 + VectorMath.tanh(inner))
    }

    @inline(__always)
    static func relu8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        x.replacing(with: 0, where: x .< 0)
    }
}
