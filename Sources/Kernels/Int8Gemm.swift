// int8 linear layers (dynamic quantization), on CInt8Gemm (oneDNN's u8·s8→s32 matmul).
//
//   weights:     per output channel, symmetric: wscale[c] = max|W[c, :]| / 127, Wq = rint(W / wscale)
//                in -127...127, packed once at load into the layout the matmul kernel reads;
//   activations: per row, asymmetric u8 at run time (int8_quantize_rows: zero is exact);
//   products:    int32, exact; y = (acc - zero[r]·Σ_i Wq[c, i]) · scale[r] · wscale[c] + b[c].
//
// Attention, softmax, LayerNorm, activations and pooling stay FP32 (the callers'). The naive
// reference is Reference.int8Linear; KernelsTests compares the two bit for bit.
import CInt8Gemm

/// Why int8 weights could not be prepared (oneDNN could not create or pack its matmul).
public struct Int8GemmError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// The matmul kernels of one weight shape [N x K] writing output rows `outputStride` floats apart.
/// Linear layers of the same shape and output stride share one plan.
public final class Int8GemmPlan: @unchecked Sendable {
    let plan: OpaquePointer
    public let inFeatures: Int
    public let outFeatures: Int
    public let outputStride: Int

    public init(inFeatures k: Int, outFeatures n: Int, outputStride: Int) throws(Int8GemmError) {
        precondition(k > 0 && n > 0 && outputStride >= n, "Int8GemmPlan: bad dimensions K=\(k) N=\(n) ld=\(outputStride)")
        var message = [CChar](repeating: 0, count: 256)
        guard let plan = int8_gemm_plan_create(k, n, outputStride, &message, message.count) else {
            throw Int8GemmError(description: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.plan = plan
        inFeatures = k
        outFeatures = n
        self.outputStride = outputStride
    }

    deinit { int8_gemm_plan_destroy(plan) }

    /// The kernel oneDNN chose, e.g. "brg:avx512_core_vnni".
    public var implementation: String { String(cString: int8_gemm_implementation(plan)) }
}

/// One `nn.Linear` quantized for ``Int8Gemm``: weights per output channel, packed for its plan.
public final class Int8Linear: @unchecked Sendable {
    public let plan: Int8GemmPlan
    /// The weights in the plan's layout (int8_gemm_packed_size bytes, 64-byte aligned).
    let packed: UnsafeMutableRawBufferPointer
    /// wscale[c], [N].
    let scales: [Float]
    /// Σ_i Wq[c, i], [N]: the zero-point correction of every row.
    let columnSums: [Int32]
    /// b [N], nil when the caller adds the bias itself (a fused pass after the product).
    let bias: [Float]?

    public var inFeatures: Int { plan.inFeatures }
    public var outFeatures: Int { plan.outFeatures }

    /// Quantizes `weight` [N x K] (nn.Linear's [out, in]) and packs it. `bias` [N] is added by the
    /// dequantization when given.
    public init(weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?, plan: Int8GemmPlan) throws(Int8GemmError) {
        let (k, n) = (plan.inFeatures, plan.outFeatures)
        precondition(weight.count == n * k, "Int8Linear: weight holds \(weight.count) values, [N x K] = [\(n) x \(k)] needs \(n * k)")
        if let bias { precondition(bias.count == n, "Int8Linear: bias holds \(bias.count) values, expected N=\(n)") }
        let (quantized, scales) = Self.quantizeWeights(weight, outFeatures: n)
        var sums = [Int32](repeating: 0, count: n)
        for c in 0..<n {
            var s: Int32 = 0
            for i in 0..<k { s += Int32(quantized[c * k + i]) }
            sums[c] = s
        }
        let packed = UnsafeMutableRawBufferPointer.allocate(byteCount: int8_gemm_packed_size(plan.plan), alignment: 64)
        var message = [CChar](repeating: 0, count: 256)
        let status = quantized.withUnsafeBufferPointer { int8_gemm_pack(plan.plan, $0.baseAddress!, packed.baseAddress!, &message, message.count) }
        guard status == 0 else {
            packed.deallocate()
            throw Int8GemmError(description: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.plan = plan
        self.packed = packed
        self.scales = scales
        self.columnSums = sums
        self.bias = bias.map(Array.init)
    }

    deinit { packed.deallocate() }

    /// Per output channel, symmetric: wscale[c] = max|W[c, :]| / 127 (1 for an all-zero row) and
    /// Wq[c, i] = rint(W[c, i] / wscale[c]), in -127...127. Shared by the kernel and the reference:
    /// it defines the weights both multiply.
    public static func quantizeWeights(_ weight: UnsafeBufferPointer<Float>, outFeatures n: Int) -> (values: [Int8], scales: [Float]) {
        let k = weight.count / n
        var values = [Int8](repeating: 0, count: n * k)
        var scales = [Float](repeating: 1, count: n)
        for c in 0..<n {
            let row = weight[(c * k)..<((c + 1) * k)]
            let largest = row.reduce(Float(0)) { Swift.max($0, abs($1)) }
            let scale: Float = largest > 0 && largest.isFinite ? largest / 127 : 1
            scales[c] = scale
            for (i, w) in row.enumerated() {
                let q = (w / scale).rounded(.toNearestOrEven)
                values[c * k + i] = Int8(q.isNaN ? 0 : Swift.min(Swift.max(q, -127), 127))
            }
        }
        return (values, scales)
    }
}

/// One layer of ``Int8Gemm/linears(_:rows:inFeatures:_:team:contexts:)``: row r of its output
/// goes to `y + r·ldy` (ldy = its plan's output stride).
public struct Int8LinearLayer: @unchecked Sendable {
    let linear: Int8Linear
    let y: UnsafeMutablePointer<Float>

    public init(_ linear: Int8Linear, into y: UnsafeMutablePointer<Float>) {
        self.linear = linear
        self.y = y
    }
}

/// The per-thread working memory of ``Int8Gemm``: oneDNN's stream and scratchpad, and the
/// quantized rows of one block. One per thread of a forward; grows to the widest input seen.
public final class Int8Context: @unchecked Sendable {
    let context: OpaquePointer
    private var rows = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)  // [B x K] u8
    let scales: UnsafeMutableBufferPointer<Float>    // [B]
    let zeros: UnsafeMutableBufferPointer<Int32>     // [B]

    /// Rows quantized and multiplied at a time (B).
    static let blockRows = int8_gemm_max_block_rows()

    public init() {
        guard let context = int8_gemm_context_create() else { fatalError("Int8Context: oneDNN could not create a CPU stream") }
        self.context = context
        scales = .allocate(capacity: Self.blockRows)
        zeros = .allocate(capacity: Self.blockRows)
    }

    deinit {
        int8_gemm_context_destroy(context)
        rows.deallocate()
        scales.deallocate()
        zeros.deallocate()
    }

    func quantizedRows(inFeatures k: Int) -> UnsafeMutablePointer<UInt8> {
        if rows.count < Self.blockRows * k {
            rows.deallocate()
            rows = .allocate(capacity: Self.blockRows * k)
        }
        return rows.baseAddress!
    }
}

public enum Int8Gemm {
    /// Several int8 linear layers of the same input x [N x K] (e.g. Q, K and V): each block of rows
    /// is quantized once and multiplied by every layer. With a `team` of T > 1 threads, each takes
    /// a contiguous share of the rows (all of every layer's weights, a quarter of FP32's bytes)
    /// with its own context; `contexts` needs at least T.
    public static func linears(
        _ x: UnsafeBufferPointer<Float>, rows n: Int, inFeatures k: Int,
        _ layers: [Int8LinearLayer], team: ThreadTeam? = nil, contexts: [Int8Context]
    ) {
        precondition(n >= 0 && k > 0 && x.count >= n * k, "int8 linear: x holds \(x.count) values, [N x K] = [\(n) x \(k)] needs \(n * k)")
        for layer in layers { precondition(layer.linear.inFeatures == k, "int8 linear: layer of K=\(layer.linear.inFeatures) given K=\(k)") }
        guard n > 0 else { return }
        let threads = min(team?.size ?? 1, n)
        precondition(contexts.count >= threads, "int8 linear: \(threads) threads need as many contexts, \(contexts.count) given")
        if let team, threads > 1 {
            team.run(threads) { t in
                run(x.baseAddress!, rows: (n * t / threads)..<(n * (t + 1) / threads), inFeatures: k, layers, context: contexts[t])
            }
        } else {
            run(x.baseAddress!, rows: 0..<n, inFeatures: k, layers, context: contexts[0])
        }
    }

    private static func run(_ x: UnsafePointer<Float>, rows: Range<Int>, inFeatures k: Int, _ layers: [Int8LinearLayer], context: Int8Context) {
        let xq = context.quantizedRows(inFeatures: k)
        var row = rows.lowerBound
        while row < rows.upperBound {
            let b = min(Int8Context.blockRows, rows.upperBound - row)
            int8_quantize_rows(b, k, x + row * k, k, xq, context.scales.baseAddress!, context.zeros.baseAddress!)
            for layer in layers {
                let linear = layer.linear, ld = linear.plan.outputStride
                let out = layer.y + row * ld
                let status = out.withMemoryRebound(to: Int32.self, capacity: (b - 1) * ld + linear.outFeatures) {
                    int8_gemm_run(linear.plan.plan, context.context, b, xq, linear.packed.baseAddress!, $0, ld)
                }
                precondition(status == 0, "int8 linear: oneDNN's matmul failed on [\(b) x \(k)] · [\(k) x \(linear.outFeatures)]")
                linear.columnSums.withUnsafeBufferPointer { sums in
                    linear.scales.withUnsafeBufferPointer { scales in
                        if let bias = linear.bias {
                            bias.withUnsafeBufferPointer {
                                int8_dequantize(b, linear.outFeatures, out, ld, context.scales.baseAddress!, context.zeros.baseAddress!,
                                                scales.baseAddress!, sums.baseAddress!, $0.baseAddress!)
                            }
                        } else {
                            int8_dequantize(b, linear.outFeatures, out, ld, context.scales.baseAddress!, context.zeros.baseAddress!,
                                            scales.baseAddress!, sums.baseAddress!, nil)
                        }
                    }
                }
            }
            row += b
        }
    }
}
