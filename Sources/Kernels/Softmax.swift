// Row-wise softmax for attention scores, with optional scale and key mask:
//   p[i, j] = exp(s[i, j]·scale + m[j] - max_j) / Σ_j exp(...)
// where m[j] = 0 for kept keys and -Float.greatestFiniteMagnitude (PyTorch's
// finfo(float32).min additive mask) for masked ones.
//
// Shapes: s [rows x cols] with row stride `ld` >= cols (rows = query positions,
//         cols = key positions), keyMask [cols].

import CElementwise

/// Vectorized softmax (max, exp, sum and normalization on CElementwise's kernels).
public enum Softmax {
    /// In place over the first `cols` values of each of `rows` rows spaced `ld` apart.
    public static func scaledMaskedRows(
        _ s: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int,
        scale: Float = 1, keyMask: UnsafeBufferPointer<Bool>? = nil
    ) {
        precondition(rows >= 0 && cols > 0 && ld >= cols, "softmax: bad shape rows=\(rows) cols=\(cols) ld=\(ld)")
        if let keyMask { precondition(keyMask.count == cols, "softmax: keyMask holds \(keyMask.count), expected \(cols)") }
        let maskValue = -Float.greatestFiniteMagnitude
        if scale != 1 || keyMask != nil {
            for r in 0..<rows {
                let row = s + r * ld
                for c in 0..<cols {
                    var v = row[c] * scale
                    if let keyMask, !keyMask[c] { v += maskValue }
                    row[c] = v
                }
            }
        }
        ew_softmax_rows(s, rows, cols, ld)
    }
}
