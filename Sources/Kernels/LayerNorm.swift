// Layer normalisation over the last dimension, as torch.nn.LayerNorm:
//   y = (x - mean) / sqrt(var + eps) · gamma + beta,  var biased (divide by cols).
// Computed in two passes (mean, then the mean of squared deviations) rather than
// E[x²] - E[x]², which cancels catastrophically when |mean| >> std.
//
// Shapes: x, residual [rows x cols] row-major (rows = tokens, cols = hidden),
//         bias, gamma, beta [cols].

/// Vectorized LayerNorm kernels.
public enum LayerNorm {
    /// In place: `x[r] = LayerNorm(x[r])` for every row of x [rows x cols].
    public static func apply(
        _ x: UnsafeMutableBufferPointer<Float>, rows: Int, cols: Int,
        gamma: UnsafeBufferPointer<Float>, beta: UnsafeBufferPointer<Float>, eps: Float
    ) {
        check(x.count, rows, cols, gamma, beta)
        guard rows > 0 else { return }
        for r in 0..<rows {
            normalizeRow(x.baseAddress! + r * cols, cols, gamma.baseAddress!, beta.baseAddress!, eps)
        }
    }

    /// In place: `x[r] = LayerNorm(x[r] + bias + residual[r])`, the BertSelfOutput /
    /// BertOutput step `LayerNorm(dense(h) + input)` with the dense bias folded in
    /// (ONNX Runtime's SkipLayerNormalization). `bias` may be nil.
    public static func addBiasResidualApply(
        _ x: UnsafeMutableBufferPointer<Float>, rows: Int, cols: Int,
        bias: UnsafeBufferPointer<Float>?, residual: UnsafeBufferPointer<Float>,
        gamma: UnsafeBufferPointer<Float>, beta: UnsafeBufferPointer<Float>, eps: Float
    ) {
        check(x.count, rows, cols, gamma, beta)
        precondition(residual.count >= rows * cols, "addBiasResidualApply: residual holds \(residual.count), needs \(rows * cols)")
        if let bias { precondition(bias.count == cols, "addBiasResidualApply: bias holds \(bias.count), expected \(cols)") }
        guard rows > 0 else { return }
        let full = cols & ~7
        let tail = cols - full
        for r in 0..<rows {
            let row = x.baseAddress! + r * cols
            let res = residual.baseAddress! + r * cols
            var c = 0
            while c < full {
                var v = load8(row + c) + load8(res + c)
                if let b = bias?.baseAddress { v += load8(b + c) }
                store8(v, row + c)
                c += 8
            }
            if tail > 0 {
                var v = loadPartial(row + full, tail, fill: 0) + loadPartial(res + full, tail, fill: 0)
                if let b = bias?.baseAddress { v += loadPartial(b + full, tail, fill: 0) }
                storePartial(v, row + full, tail)
            }
            normalizeRow(row, cols, gamma.baseAddress!, beta.baseAddress!, eps)
        }
    }

    private static func check(_ count: Int, _ rows: Int, _ cols: Int,
                              _ gamma: UnsafeBufferPointer<Float>, _ beta: UnsafeBufferPointer<Float>) {
        precondition(rows >= 0 && cols > 0 && count >= rows * cols,
                     "LayerNorm: x holds \(count) values, [rows x cols] = [\(rows) x \(cols)]")
        precondition(gamma.count == cols && beta.count == cols,
                     "LayerNorm: gamma/beta hold \(gamma.count)/\(beta.count) values, expected \(cols)")
    }

    @inline(__always)
    private static func normalizeRow(_ row: UnsafeMutablePointer<Float>, _ cols: Int,
                                     _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>, _ eps: Float) {
        let full = cols & ~7
        let tail = cols - full
        var acc = SIMD8<Float>(repeating: 0)
        var c = 0
        while c < full { acc += load8(row + c); c += 8 }
        if tail > 0 { acc += loadPartial(row + full, tail, fill: 0) }
        let mean = acc.sum() / Float(cols)
        let meanV = SIMD8<Float>(repeating: mean)
        var sq = SIMD8<Float>(repeating: 0)
        c = 0
        while c < full { let d = load8(row + c) - meanV; sq += d * d; c += 8 }
        if tail > 0 { let d = zeroTail(loadPartial(row + full, tail, fill: 0) - meanV, keeping: tail); sq += d * d }
        let variance = sq.sum() / Float(cols)
        let rstd = SIMD8<Float>(repeating: 1 / (variance + eps).squareRoot())
        c = 0
        while c < full {
            let y = (load8(row + c) - meanV) * rstd * load8(gamma + c) + load8(beta + c)
            store8(y, row + c)
            c += 8
        }
        if tail > 0 {
            let y = (loadPartial(row + full, tail, fill: 0) - meanV) * rstd
                * loadPartial(gamma + full, tail, fill: 0) + loadPartial(beta + full, tail, fill: 0)
            storePartial(y, row + full, tail)
        }
    }
}
