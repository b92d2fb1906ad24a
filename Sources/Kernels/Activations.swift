// Activation functions of BERT's intermediate (FFN) layer.
//
// Shapes: x [rows x cols] row-major (rows = tokens, cols = intermediate size), bias [cols].
//   gelu (erf):  0.5 · x · (1 + erf(x / √2))                         torch.nn.functional.gelu
//   gelu (tanh): 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))  gelu_new / gelu_pytorch_tanh
//   relu:        max(x, 0)
import CElementwise

/// The element-wise nonlinearity applied after the first FFN projection.
public enum ActivationFunction: Sendable, Equatable {
    /// Exact GELU with erf (Hugging Face "gelu").
    case geluErf
    /// GELU with the tanh approximation ("gelu_new", "gelu_pytorch_tanh").
    case geluTanh
    /// max(x, 0) ("relu").
    case relu
}

/// Fused, vectorized activations (CElementwise's kernels, 16 lanes; see VectorMath).
public enum Activations {
    /// In place: `x[r, c] = act(x[r, c] + bias[c])` (bias may be nil), x is [rows x cols], for
    /// every c in `columns` (all by default: a thread can take its own block of them). Each value
    /// is computed alone, so a block gives the same values as the whole row. One pass over memory
    /// instead of a bias pass followed by an activation pass.
    public static func addBiasApply(
        _ function: ActivationFunction,
        _ x: UnsafeMutableBufferPointer<Float>, rows: Int, cols: Int,
        bias: UnsafeBufferPointer<Float>?, columns: Range<Int>? = nil
    ) {
        precondition(rows >= 0 && cols > 0 && x.count >= rows * cols,
                     "addBiasApply: x holds \(x.count) values, [rows x cols] = [\(rows) x \(cols)]")
        if let bias { precondition(bias.count == cols, "addBiasApply: bias holds \(bias.count), expected \(cols)") }
        let columns = columns ?? 0..<cols
        precondition(columns.lowerBound >= 0 && columns.upperBound <= cols, "addBiasApply: columns \(columns) outside 0..<\(cols)")
        guard rows > 0, !columns.isEmpty else { return }
        let kind: ew_activation = switch function {
        case .geluErf: EW_GELU_ERF
        case .geluTanh: EW_GELU_TANH
        case .relu: EW_RELU
        }
        if columns.count == cols {
            ew_bias_activation(kind, x.baseAddress, rows, cols, bias?.baseAddress)
            return
        }
        for r in 0..<rows {
            ew_bias_activation(kind, x.baseAddress! + r * cols + columns.lowerBound, 1, columns.count,
                               bias.map { $0.baseAddress! + columns.lowerBound })
        }
    }
}
