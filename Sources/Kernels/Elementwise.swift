// Simple element-wise passes. Shapes: x, y [rows x cols] row-major, bias [cols].

/// Vectorized bias and residual additions.
public enum Elementwise {
    /// In place: `x[r, c] += bias[c]`.
    public static func addBias(_ x: UnsafeMutableBufferPointer<Float>, rows: Int, cols: Int,
                               bias: UnsafeBufferPointer<Float>) {
        precondition(rows >= 0 && cols > 0 && x.count >= rows * cols, "addBias: x holds \(x.count), [\(rows) x \(cols)]")
        precondition(bias.count == cols, "addBias: bias holds \(bias.count), expected \(cols)")
        let full = cols & ~7
        let tail = cols - full
        let b = bias.baseAddress!
        for r in 0..<rows {
            let row = x.baseAddress! + r * cols
            var c = 0
            while c < full { store8(load8(row + c) + load8(b + c), row + c); c += 8 }
            if tail > 0 { storePartial(loadPartial(row + full, tail, fill: 0) + loadPartial(b + full, tail, fill: 0), row + full, tail) }
        }
    }

    /// In place: `x[i] += y[i]` for the first `count` values (residual connection).
    public static func add(_ x: UnsafeMutableBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>, count: Int) {
        precondition(count >= 0 && x.count >= count && y.count >= count, "add: buffers shorter than \(count)")
        guard count > 0 else { return }
        let full = count & ~7
        let px = x.baseAddress!, py = y.baseAddress!
        var i = 0
        while i < full { store8(load8(px + i) + load8(py + i), px + i); i += 8 }
        while i < count { px[i] += py[i]; i += 1 }
    }
}
