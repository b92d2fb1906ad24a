// Naive scalar references for every fast kernel: plain loops over [rows x cols]
// row-major arrays, the C library's expf/erff/tanhf, written to be obviously right.
// KernelsTests compares each fast kernel against these on odd shapes; the TransformerEncoder
// module's reference forward pass is built from them.
import Foundation

/// Obviously-correct scalar versions of the kernels (slow; for tests and references).
public enum Reference {
    /// `y[N x M] = x[N x K] · W[M x K]ᵀ + b[M]` by three nested loops (Double accumulator).
    public static func linear(_ x: [Float], rows n: Int, inFeatures k: Int,
                              weight: [Float], outFeatures m: Int, bias: [Float]?) -> [Float] {
        precondition(x.count == n * k && weight.count == m * k && (bias?.count ?? m) == m, "Reference.linear: bad sizes")
        var y = [Float](repeating: 0, count: n * m)
        for r in 0..<n {
            for o in 0..<m {
                var acc: Double = Double(bias?[o] ?? 0)
                for i in 0..<k { acc += Double(x[r * k + i]) * Double(weight[o * k + i]) }
                y[r * m + o] = Float(acc)
            }
        }
        return y
    }

    /// The int8 linear layer of ``PackedGemm`` by plain loops: each row of x [N x K] quantized to u8
    /// (lo = min(0, min x), hi = max(0, max x), scale = (hi - lo) / 255, zero = rint(-lo / scale),
    /// q = clamp(rint(x / scale) + zero, 0, 255), dividing as x · (1 / scale)), multiplied by the
    /// quantized weights `values` [M x K] in integers, then
    /// y = Float(Σ (q - zero) · w) · scale · wscale[o] (+ b[o]). Equal bit for bit to the kernel.
    public static func int8Linear(_ x: [Float], rows n: Int, inFeatures k: Int, values: [Int8], scales wscale: [Float],
                                  bias: [Float]?) -> [Float] {
        let m = wscale.count
        precondition(x.count == n * k && values.count == m * k && (bias?.count ?? m) == m, "Reference.int8Linear: bad sizes")
        var y = [Float](repeating: 0, count: n * m)
        for r in 0..<n {
            let row = x[(r * k)..<((r + 1) * k)]
            let lo = row.reduce(Float(0)) { Swift.min($0, $1) }
            let hi = row.reduce(Float(0)) { Swift.max($0, $1) }
            var scale = (hi - lo) / 255
            if !(scale > 0) || !scale.isFinite { scale = 1 }
            let inverse = 1 / scale
            let zero = Swift.min(Swift.max((-lo * inverse).rounded(.toNearestOrEven), 0), 255)
            let q = row.map { Int32(Swift.min(Swift.max(($0 * inverse).rounded(.toNearestOrEven) + zero, 0), 255)) }
            for o in 0..<m {
                var acc: Int32 = 0
                for i in 0..<k { acc += (q[i] - Int32(zero)) * Int32(values[o * k + i]) }
                var v = (Float(acc) * scale) * wscale[o]
                if let bias { v = v + bias[o] }
                y[r * m + o] = v
            }
        }
        return y
    }

    /// `C[m x n] = A[m x k] · B[k x n]` (both plain row-major, no strides).
    public static func matmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        precondition(a.count == m * k && b.count == k * n, "Reference.matmul: bad sizes")
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var acc: Double = 0
                for p in 0..<k { acc += Double(a[i * k + p]) * Double(b[p * n + j]) }
                c[i * n + j] = Float(acc)
            }
        }
        return c
    }

    /// torch.nn.LayerNorm over each row: mean, then biased variance of deviations.
    public static func layerNorm(_ x: [Float], rows: Int, cols: Int,
                                 gamma: [Float], beta: [Float], eps: Float) -> [Float] {
        precondition(x.count == rows * cols && gamma.count == cols && beta.count == cols, "Reference.layerNorm: bad sizes")
        var y = x
        for r in 0..<rows {
            var sum: Float = 0
            for c in 0..<cols { sum += x[r * cols + c] }
            let mean = sum / Float(cols)
            var sq: Float = 0
            for c in 0..<cols { let d = x[r * cols + c] - mean; sq += d * d }
            let variance = sq / Float(cols)
            let rstd = 1 / (variance + eps).squareRoot()
            for c in 0..<cols { y[r * cols + c] = (x[r * cols + c] - mean) * rstd * gamma[c] + beta[c] }
        }
        return y
    }

    /// 0.5 · x · (1 + erf(x / √2)).
    public static func geluErf(_ x: Float) -> Float { 0.5 * x * (1 + Foundation.erf(x / Float(2).squareRoot())) }

    /// 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))).
    public static func geluTanh(_ x: Float) -> Float {
        0.5 * x * (1 + Foundation.tanh((2 / Float.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    }

    /// max(x, 0), NaN stays NaN.
    public static func relu(_ x: Float) -> Float { x < 0 ? 0 : x }

    /// The activation applied to one value.
    public static func activation(_ function: ActivationFunction, _ x: Float) -> Float {
        switch function {
        case .geluErf: geluErf(x)
        case .geluTanh: geluTanh(x)
        case .relu: relu(x)
        }
    }

    /// `x[r, c] + bias[c]` for x [rows x cols].
    public static func addBias(_ x: [Float], rows: Int, cols: Int, bias: [Float]) -> [Float] {
        precondition(x.count == rows * cols && bias.count == cols, "Reference.addBias: bad sizes")
        var y = x
        for r in 0..<rows { for c in 0..<cols { y[r * cols + c] += bias[c] } }
        return y
    }

    /// Element-wise sum (residual connection).
    public static func add(_ x: [Float], _ y: [Float]) -> [Float] {
        precondition(x.count == y.count, "Reference.add: bad sizes")
        return zip(x, y).map { $0 + $1 }
    }

    /// Softmax of each row of `s·scale` with keys where `keyMask[j] == false` pushed to
    /// -finfo.max first (PyTorch's additive extended attention mask).
    public static func softmax(_ s: [Float], rows: Int, cols: Int,
                               scale: Float = 1, keyMask: [Bool]? = nil) -> [Float] {
        precondition(s.count == rows * cols && (keyMask?.count ?? cols) == cols, "Reference.softmax: bad sizes")
        var p = s
        for r in 0..<rows {
            var v = [Float](repeating: 0, count: cols)
            for c in 0..<cols {
                v[c] = s[r * cols + c] * scale
                if let keyMask, !keyMask[c] { v[c] += -Float.greatestFiniteMagnitude }
            }
            let mx = v.max()!
            var sum: Float = 0
            for c in 0..<cols { v[c] = Foundation.exp(v[c] - mx); sum += v[c] }
            for c in 0..<cols { p[r * cols + c] = v[c] / sum }
        }
        return p
    }
}
