// GEMM wrappers over OpenBLAS `cblas_sgemm` (row-major everywhere).
//
// Dimension letters used in this module:
//   N = rows (tokens of a packed batch), K = input features, M = output features,
//   L = length of one sequence, D = head dimension.
//
// PyTorch `nn.Linear` stores its weight as [out, in] = [M x K] and computes
// y = x · Wᵀ + b, so the weight is passed as stored with `CblasTrans`
// (no transposed copy: OpenBLAS reads the transposed operand in place).
//
// Up to `smallKernelRows` rows, linear layers run on CSmallGemm's AVX2 kernel instead: OpenBLAS
// re-packs all of W on every call, which at a few rows costs more than the arithmetic.
import COpenBLAS
import CSmallGemm

/// Matrix products on OpenBLAS and, for linear layers of few rows, CSmallGemm. The only place
/// that calls `cblas_sgemm` or `small_gemm_nt`.
public enum Gemm {
    /// Linear layers of at most this many rows use CSmallGemm's kernel when the CPU has AVX2 and
    /// FMA: up to 32 rows it beats OpenBLAS at MiniLM's shapes, at 64 it no longer does
    /// (`Scripts/bench --gemm`; figures in Scripts/BENCHMARKS.md).
    public static let smallKernelRows = 32

    /// Whether this CPU runs CSmallGemm's kernel (AVX2 and FMA); else every GEMM is OpenBLAS's.
    public static let smallKernelAvailable = small_gemm_available() != 0

    /// `y[N x M] = x[N x K] · W[M x K]ᵀ (+ b[M])`, PyTorch `nn.Linear` semantics.
    ///
    /// When `bias` is given it is broadcast into `y` first and the GEMM runs with
    /// beta = 1 (ONNX Runtime's Attention kernel folds its bias the same way).
    /// Pass `bias: nil` when a following fused elementwise pass adds the bias.
    ///
    /// A `team` of more than one thread splits the M output columns into that many blocks, each
    /// a single-threaded `cblas_sgemm` on its own rows of W on one of the team's threads (see
    /// ``columnRanges(_:threads:)``).
    /// Used for a batch that is alone on the machine, e.g. one text: OpenBLAS stays at one
    /// thread (its threads and ours must never be combined), and each thread reads only its
    /// half of the weights, which at few rows is what the GEMM waits for.
    public static func linear(
        _ x: UnsafeBufferPointer<Float>, rows n: Int, inFeatures k: Int,
        weight: UnsafeBufferPointer<Float>, outFeatures m: Int,
        bias: UnsafeBufferPointer<Float>?,
        into y: UnsafeMutableBufferPointer<Float>, team: ThreadTeam? = nil
    ) {
        precondition(y.count >= n * m, "linear: y holds \(y.count) values, [N x M] = [\(n) x \(m)] needs \(n * m)")
        guard n > 0 else { return }
        linear(x, rows: n, inFeatures: k, weight: weight, outFeatures: m, bias: bias,
               into: y.baseAddress!, ldy: m, team: team)
    }

    /// As ``linear(_:rows:inFeatures:weight:outFeatures:bias:into:team:)`` but writing row `r` of y
    /// at `y + r·ldy` (ldy >= M): the output is a column block of a wider matrix, e.g. Q, K
    /// and V written side by side into one [N x 3H] buffer by three GEMMs on the checkpoint's
    /// own [H x H] weights, so no concatenated weight copy is needed.
    public static func linear(
        _ x: UnsafeBufferPointer<Float>, rows n: Int, inFeatures k: Int,
        weight: UnsafeBufferPointer<Float>, outFeatures m: Int,
        bias: UnsafeBufferPointer<Float>?,
        into y: UnsafeMutablePointer<Float>, ldy: Int, team: ThreadTeam? = nil
    ) {
        linears(x, rows: n, inFeatures: k,
                [LinearLayer(weight: weight, outFeatures: m, bias: bias, into: y, ldy: ldy)], team: team)
    }

    /// Several linear layers of the same input x [N x K], e.g. Q, K and V, as one parallel
    /// region: with a `team` of more than one thread, part t is block t of the output columns of
    /// every layer (see ``columnRanges(_:threads:)``), run by whichever thread claims it, so the
    /// threads meet once instead of once per layer.
    ///
    /// `then(t, columns)`, when given, runs right after part t's products on the thread that ran
    /// them, `columns` being part t's output columns of the first layer: work on those columns
    /// alone (attention for the heads of Q, K and V in them, an activation) joins the region
    /// instead of running after it. Without a team it runs once, with every column.
    public static func linears(
        _ x: UnsafeBufferPointer<Float>, rows n: Int, inFeatures k: Int,
        _ layers: [LinearLayer], team: ThreadTeam? = nil, then: ((_ part: Int, _ columns: Range<Int>) -> Void)? = nil
    ) {
        precondition(n >= 0 && k > 0, "linear: bad dimensions N=\(n) K=\(k)")
        precondition(x.count >= n * k, "linear: x holds \(x.count) values, [N x K] = [\(n) x \(k)] needs \(n * k)")
        precondition(n <= Int(Int32.max) && k <= Int(Int32.max), "linear: dimension exceeds Int32")
        for layer in layers { layer.check(inFeatures: k) }
        guard n > 0 else { return }
        _ = core
        let parts = layers.map { columnRanges($0.outFeatures, threads: team?.size ?? 1) }
        let region = parts.map(\.count).max() ?? 1
        if let team, region > 1 {
            team.run(region) { t in
                for (layer, ranges) in zip(layers, parts) where t < ranges.count {
                    layer.run(x.baseAddress!, columns: ranges[t], rows: n, inFeatures: k)
                }
                if let then, t < parts[0].count { then(t, parts[0][t]) }
            }
        } else {
            for layer in layers { layer.run(x.baseAddress!, columns: 0..<layer.outFeatures, rows: n, inFeatures: k) }
            then?(0, 0..<layers[0].outFeatures)
        }
    }

    /// Output columns per thread are a multiple of this (64 bytes of floats), so two threads
    /// never write the same cache line of a row (given a 64-byte-aligned row start).
    public static let columnBlock = 16

    /// How ``linears(_:rows:inFeatures:_:team:)`` splits M
    /// output columns between `threads`: contiguous ranges, in order, covering 0..<M, each but
    /// the last a multiple of ``columnBlock`` long; fewer ranges when M is too small to share.
    public static func columnRanges(_ m: Int, threads: Int) -> [Range<Int>] {
        let parts = max(1, min(threads, m / columnBlock))
        let bounds = (0...parts).map { p in p == parts ? m : (m * p / parts) / columnBlock * columnBlock }
        return (0..<parts).map { bounds[$0]..<bounds[$0 + 1] }
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
        _ = core
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }

    /// The CPU whose kernels OpenBLAS runs (e.g. "SkylakeX"), after replacing the SSE3 kernels
    /// OpenBLAS 0.3.21 falls back to on CPU models it does not know (see
    /// `openblas_use_known_core` in COpenBLAS/shim.h). Evaluated once, before the first GEMM.
    public static let core: String = String(cString: openblas_use_known_core())

    /// The number of threads OpenBLAS uses (OPENBLAS_NUM_THREADS or the core count).
    public static var threadCount: Int { _ = core; return Int(openblas_get_num_threads()) }

    /// Sets the number of OpenBLAS threads for the whole process.
    ///
    /// Callers that run GEMMs from several threads of their own set 1: OpenBLAS's threaded
    /// level-3 calls from several application threads are serialized by a global lock and
    /// its idle threads spin, so its threads and ours must never be combined.
    public static func setThreadCount(_ count: Int) {
        precondition(count >= 1, "setThreadCount: count must be at least 1")
        _ = core
        openblas_set_num_threads(Int32(count))
    }
}

/// One linear layer for ``Gemm/linears(_:rows:inFeatures:_:team:)``: its weight W [M x K]
/// (PyTorch's [out, in]), optional bias [M], and where row r of its output goes (`y + r·ldy`).
/// The threads of one call write disjoint column blocks of y and only read the rest.
public struct LinearLayer: @unchecked Sendable {
    let weight: UnsafeBufferPointer<Float>
    let outFeatures: Int
    let bias: UnsafeBufferPointer<Float>?
    let y: UnsafeMutablePointer<Float>
    let ldy: Int

    public init(weight: UnsafeBufferPointer<Float>, outFeatures m: Int, bias: UnsafeBufferPointer<Float>?,
                into y: UnsafeMutablePointer<Float>, ldy: Int) {
        self.weight = weight
        self.outFeatures = m
        self.bias = bias
        self.y = y
        self.ldy = ldy
    }

    func check(inFeatures k: Int) {
        let m = outFeatures
        precondition(m > 0 && ldy >= m, "linear: bad dimensions M=\(m) ldy=\(ldy)")
        precondition(weight.count == m * k, "linear: weight holds \(weight.count) values, [M x K] = [\(m) x \(k)] needs \(m * k)")
        if let bias { precondition(bias.count == m, "linear: bias holds \(bias.count) values, expected M=\(m)") }
        precondition(ldy <= Int(Int32.max), "linear: dimension exceeds Int32")
    }

    /// y[:, columns] = x · W[columns, :]ᵀ (+ b[columns]), single-threaded: CSmallGemm's kernel
    /// up to ``Gemm/smallKernelRows`` rows where the CPU has it, else OpenBLAS.
    func run(_ x: UnsafePointer<Float>, columns: Range<Int>, rows n: Int, inFeatures k: Int) {
        if n <= Gemm.smallKernelRows, Gemm.smallKernelAvailable {
            runSmall(x, columns: columns, rows: n, inFeatures: k)
        } else {
            runOpenBLAS(x, columns: columns, rows: n, inFeatures: k)
        }
    }

    /// ``run(_:columns:rows:inFeatures:)`` on CSmallGemm's kernel, whatever the row count
    /// (callers check ``Gemm/smallKernelAvailable``).
    func runSmall(_ x: UnsafePointer<Float>, columns: Range<Int>, rows n: Int, inFeatures k: Int) {
        small_gemm_nt(n, columns.count, k, x, k, weight.baseAddress! + columns.lowerBound * k,
                      bias.map { $0.baseAddress! + columns.lowerBound }, y + columns.lowerBound, ldy)
    }

    /// ``run(_:columns:rows:inFeatures:)`` on OpenBLAS, whatever the row count.
    func runOpenBLAS(_ x: UnsafePointer<Float>, columns: Range<Int>, rows n: Int, inFeatures k: Int) {
        let m = columns.count
        let out = y + columns.lowerBound
        var beta: Float = 0
        if let bias {
            for r in 0..<n {
                (out + r * ldy).update(from: bias.baseAddress! + columns.lowerBound, count: m)
            }
            beta = 1
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                    Int32(n), Int32(m), Int32(k),
                    1, x, Int32(k),
                    weight.baseAddress! + columns.lowerBound * k, Int32(k),
                    beta, out, Int32(ldy))
    }
}
