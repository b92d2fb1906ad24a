// Row-wise softmax for attention scores, with optional scale and key mask:
//   p[i, j] = exp(s[i, j]·scale + m[j] - max_j) / Σ_j exp(...)
// where m[j] = 0 for kept keys and -Float.greatestFiniteMagnitude (PyTorch's
// finfo(float32).min additive mask) for masked ones.
//
// Shapes: s [rows x cols] with row stride `ld` >= cols (rows = query positions,
//         cols = key positions), keyMask [cols].

/// Vectorized softmax.
public enum Softmax {
    /// In place over the first `cols` values of each of `rows` rows spaced `ld` apart.
    public static func scaledMaskedRows(
        _ s: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int,
        scale: Float = 1, keyMask: UnsafeBufferPointer<Bool>? = nil
    ) {
        precondition(rows >= 0 && cols > 0 && ld >= cols, "softmax: bad shape rows=\(rows) cols=\(cols) ld=\(ld)")
        if let keyMask { precondition(keyMask.count == cols, "softmax: keyMask holds \(keyMask.count), expected \(cols)") }
        let full = cols & ~7
        let tail = cols - full
        let maskValue = -Float.greatestFiniteMagnitude
        for r in 0..<rows {
            let row = s + r * ld
            if scale != 1 || keyMask != nil {
                for c in 0..<cols {
                    var v = row[c] * scale
                    if let keyMask, !keyMask[c] { v += maskValue }
                    row[c] = v
                }
            }
            var mx = SIMD8<Float>(repeating: -.infinity)
            var c = 0
            while c < full { mx = VectorMath.max(mx, load8(row + c)); c += 8 }
            if tail > 0 { mx = VectorMath.max(mx, loadPartial(row + full, tail, fill: -.infinity)) }
            let maxV = SIMD8<Float>(repeating: mx.max())
            var sum = SIMD8<Float>(repeating: 0)
            c = 0
            while c < full {
                let e = VectorMath.exp(load8(row + c) - maxV)
                sum += e
                store8(e, row + c)
                c += 8
            }
            if tail > 0 {
                let e = zeroTail(VectorMath.exp(loadPartial(row + full, tail, fill: 0) - maxV), keeping: tail)
                sum += e
                storePartial(e, row + full, tail)
            }
            let inv = SIMD8<Float>(repeating: 1 / sum.sum())
            c = 0
            while c < full { store8(load8(row + c) * inv, row + c); c += 8 }
            if tail > 0 { storePartial(loadPartial(row + full, tail, fill: 0) * inv, row + full, tail) }
        }
    }
}
