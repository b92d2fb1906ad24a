// GEMM wrappers over OpenBLAS `cblas_sgemm` (row-major everywhere).
//
// Dimension letters used in this module:
//   N = rows (tokens of a packed batch), K = input features, M = output features,
//   L = length of one sequence, D = head dimension.
//
// PyTorch `nn.Linear` stores its weight as [out, in] = [M x K] and computes
// y = x · Wᵀ + b, so the weight is passed as stored with `CblasTrans`
// (no transposed copy, see research/performance.md §0.7).
import COpenBLAS

/// Matrix products on OpenBLAS. The only place that calls `cblas_sgemm`.
public enum Gemm {
    /// `y[N x M] = x[N x K] · W[M x K]ᵀ (+ b[M])`, PyTorch `nn.Linear` semantics.
    ///
    /// When `bias` is given it is broadcast into `y` first and the GEMM runs with
    /// beta = 1 (ONNX Runtime's Attention kernel folds its bias the same way).
    /// Pass `bias: nil` when a following fused elementwise pass adds the bias.
    public static func linear(
        _ x: UnsafeBufferPointer<Float>, rows n: Int, inFeatures k: Int,
        weight: UnsafeBufferPointer<Float>, outFeatures m: Int,
        bias: UnsafeBufferPointer<Float>?,
        into y: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(y.count >= n * m, "linear: y holds \(y.count) values, [N x M] = [\(n) x \(m)] needs \(n * m)")
        guard n > 0 else { return }
        linear(x, rows: n, inFeatures: k, weight: weight, outFeatures: m, bias: bias, into: y.baseAddress!, ldy: m)
    }

    /// As ``linear(_:rows:inFeatures:weight:outFeatures:bias:into:)`` but writing row `r` of y
    /// at `y + r·ldy` (ldy >= M): the output is a column block of a wider matrix, e.g. Q, K
    /// and V written side by side into one [N x 3H] buffer by three GEMMs on the checkpoint's
    /// own [H x H] weights, so no concatenated weight copy is needed.
    public static func linear(
        _ x: UnsafeBufferPointer<Float>, rows n: Int, inFeatures k: Int,
        weight: UnsafeBufferPointer<Float>, outFeatures m: Int,
        bias: UnsafeBufferPointer<Float>?,
        into y: UnsafeMutablePointer<Float>, ldy: Int
    ) {
        precondition(n >= 0 && k > 0 && m > 0 && ldy >= m, "linear: bad dimensions N=\(n) K=\(k) M=\(m) ldy=\(ldy)")
        precondition(x.count >= n * k, "linear: x holds \(x.count) values, [N x K] = [\(n) x \(k)] needs \(n * k)")
        precondition(weight.count == m * k, "linear: weight holds \(weight.count) values, [M x K] = [\(m) x \(k)] needs \(m * k)")
        if let bias { precondition(bias.count == m, "linear: bias holds \(bias.count) values, expected M=\(m)") }
        precondition(n <= Int(Int32.max) && k <= Int(Int32.max) && ldy <= Int(Int32.max), "linear: dimension exceeds Int32")
        guard n > 0 else { return }
        var beta: Float = 0
        if let bias {
            for r in 0..<n {
                (y + r * ldy).update(from: bias.baseAddress!, count: m)
            }
            beta = 1
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                    Int32(n), Int32(m), Int32(k),
                    1, x.baseAddress, Int32(k),
                    weight.baseAddress, Int32(k),
                    beta, y, Int32(ldy))
    }

    /// General strided product `C[m x n] = alpha · op(A) · op(B) + beta · C`, row-major,
    /// where op(A) is [m x k] and op(B) is [k x n]; `lda`/`ldb`/`ldc` are row strides
    /// in elements. Used for attention on views into the packed QKV buffer.
    public static func multiply(
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "multiply: negative dimension")
        precondition(lda >= (transposeA ? m : k) && ldb >= (transposeB ? k : n) && ldc >= n,
                     "multiply: leading dimension too small")
        precondition(max(m, n, k, lda, ldb, ldc) <= Int(Int32.max), "multiply: dimension exceeds Int32")
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }

    /// The number of threads OpenBLAS uses (OPENBLAS_NUM_THREADS or the core count).
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Sets the number of OpenBLAS threads for the whole process.
    ///
    /// Callers that run GEMMs from several threads of their own set 1: OpenBLAS's threaded
    /// level-3 calls from several application threads are serialized by a global lock and
    /// its idle threads spin, so its threads and ours must never be combined
    /// (research/performance.md §0.4).
    public static func setThreadCount(_ count: Int) {
        precondition(count >= 1, "setThreadCount: count must be at least 1")
        openblas_set_num_threads(Int32(count))
    }
}
