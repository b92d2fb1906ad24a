// Linear layers on weights packed once at load, on CPackedGemm (oneDNN's matmul), in two kinds:
//
//   float32: y = x · Wᵀ (+ b), W packed as float;
//   int8 (dynamic quantization):
//     weights:     per output channel, symmetric: wscale[c] = max|W[c, :]| / 127, Wq = rint(W / wscale)
//                  in -127...127;
//     activations: per row, asymmetric u8 at run time (int8_quantize_rows: zero is exact);
//     products:    int32, exact; y = (acc - zero[r]·Σ_i Wq[c, i]) · scale[r] · wscale[c] (+ b[c]).
//
// A layer is packed as P column parts (P = the threads that will share a forward), so each
// thread of a text alone reads only its part of the weights, as Gemm.linears splits them.
// Attention, softmax, LayerNorm, activations and pooling stay FP32 (the callers'). The naive
// references are Reference.linear and Reference.int8Linear; KernelsTests/PackedGemmTests compares.
import CPackedGemm

/// Why packed weights could not be prepared (oneDNN could not create or pack its matmul).
public struct PackedGemmError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// What a packed linear layer multiplies.
public enum PackedGemmKind: Sendable {
    case float32, int8

    var c: packed_gemm_kind { self == .int8 ? PACKED_GEMM_INT8 : PACKED_GEMM_F32 }
}

/// The matmul kernels of one weight shape [N x K] writing output rows `outputStride` values
/// apart, adding the bias when `bias` (float32 only). Layers of the same shape share one plan.
public final class PackedGemmPlan: @unchecked Sendable {
    let plan: OpaquePointer
    public let kind: PackedGemmKind
    public let inFeatures: Int
    public let outFeatures: Int
    public let outputStride: Int
    public let addsBias: Bool

    public init(_ kind: PackedGemmKind, inFeatures k: Int, outFeatures n: Int, outputStride: Int, bias: Bool) throws(PackedGemmError) {
        precondition(k > 0 && n > 0 && outputStride >= n, "PackedGemmPlan: bad dimensions K=\(k) N=\(n) ld=\(outputStride)")
        var message = [CChar](repeating: 0, count: 256)
        guard let plan = packed_gemm_plan_create(kind.c, k, n, outputStride, bias ? 1 : 0, &message, message.count) else {
            throw PackedGemmError(description: Self.text(message))
        }
        self.plan = plan
        self.kind = kind
        inFeatures = k
        outFeatures = n
        self.outputStride = outputStride
        addsBias = bias && kind == .float32
    }

    deinit { packed_gemm_plan_destroy(plan) }

    /// The kernel oneDNN chose, e.g. "brg:avx512_core_vnni".
    public var implementation: String { String(cString: packed_gemm_implementation(plan)) }

    static func text(_ message: [CChar]) -> String {
        String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `values` (float or int8, [N x K] row-major) packed for this plan.
    func pack<T>(_ values: UnsafeBufferPointer<T>) throws(PackedGemmError) -> UnsafeMutableRawBufferPointer {
        let packed = UnsafeMutableRawBufferPointer.allocate(byteCount: packed_gemm_packed_size(plan), alignment: 64)
        var message = [CChar](repeating: 0, count: 256)
        guard packed_gemm_pack(plan, values.baseAddress!, packed.baseAddress!, &message, message.count) == 0 else {
            packed.deallocate()
            throw PackedGemmError(description: Self.text(message))
        }
        return packed
    }
}

/// The plans a model's layers share, one per (kind, K, N, output stride, bias).
public final class PackedGemmPlans {
    private var plans: [String: PackedGemmPlan] = [:]

    public init() {}

    public func plan(_ kind: PackedGemmKind, inFeatures k: Int, outFeatures n: Int, outputStride ld: Int, bias: Bool) throws(PackedGemmError) -> PackedGemmPlan {
        let key = "\(kind) \(k) \(n) \(ld) \(bias)"
        if let plan = plans[key] { return plan }
        let plan = try PackedGemmPlan(kind, inFeatures: k, outFeatures: n, outputStride: ld, bias: bias)
        plans[key] = plan
        return plan
    }
}

/// One `nn.Linear` packed for ``PackedGemm``, in column parts.
public final class PackedLinear: @unchecked Sendable {
    /// Output columns `columns` of the layer: their weights packed for `plan`, and for int8 their
    /// scales wscale[c], column sums Σ_i Wq[c, i] and bias (nil when not added here).
    struct Part {
        let columns: Range<Int>
        let plan: PackedGemmPlan
        let packed: UnsafeMutableRawBufferPointer
        let scales: [Float]
        let columnSums: [Int32]
        let bias: [Float]?
    }

    public let kind: PackedGemmKind
    public let inFeatures: Int
    public let outFeatures: Int
    let parts: [Part]

    /// The output columns of each part, in order.
    public var columnParts: [Range<Int>] { parts.map(\.columns) }

    /// Packs `weight` [N x K] (nn.Linear's [out, in]) as `parts` column parts (see
    /// ``Gemm/columnRanges(_:threads:)``), each output row `outputStride` apart; `bias` [N] is
    /// added by the product when given (else the caller adds it, e.g. in a fused pass).
    public init(_ kind: PackedGemmKind, weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
                outFeatures n: Int, outputStride: Int, parts: Int = 1, plans: PackedGemmPlans) throws(PackedGemmError) {
        let k = weight.count / n
        precondition(k > 0 && weight.count == n * k, "PackedLinear: weight holds \(weight.count) values, not [N x K] with N=\(n)")
        if let bias { precondition(bias.count == n, "PackedLinear: bias holds \(bias.count) values, expected N=\(n)") }
        let quantized = kind == .int8 ? Self.quantizeWeights(weight, outFeatures: n) : nil
        var built: [Part] = []
        defer { if built.count < Gemm.columnRanges(n, threads: parts).count { for part in built { part.packed.deallocate() } } }
        for columns in Gemm.columnRanges(n, threads: parts) {
            let bias = bias.map { Array($0[columns]) }
            let plan = try plans.plan(kind, inFeatures: k, outFeatures: columns.count, outputStride: outputStride,
                                      bias: kind == .float32 && bias != nil)
            let rows = (columns.lowerBound * k)..<(columns.upperBound * k)
            if let (values, scales) = quantized {
                let packed = try values[rows].withUnsafeBufferPointer { (v) throws(PackedGemmError) in try plan.pack(v) }
                let sums = columns.map { c in (0..<k).reduce(Int32(0)) { $0 + Int32(values[c * k + $1]) } }
                built.append(Part(columns: columns, plan: plan, packed: packed, scales: Array(scales[columns]),
                                  columnSums: sums, bias: bias))
            } else {
                let packed = try plan.pack(UnsafeBufferPointer(rebasing: weight[rows]))
                built.append(Part(columns: columns, plan: plan, packed: packed, scales: [], columnSums: [], bias: bias))
            }
        }
        self.kind = kind
        inFeatures = k
        outFeatures = n
        self.parts = built
    }

    deinit { for part in parts { part.packed.deallocate() } }

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

/// One layer of ``PackedGemm/linears(_:rows:inFeatures:_:team:contexts:)``: row r of its output
/// goes to `y + r·ldy` (ldy = the output stride it was packed for).
public struct PackedLinearLayer: @unchecked Sendable {
    let linear: PackedLinear
    let y: UnsafeMutablePointer<Float>

    public init(_ linear: PackedLinear, into y: UnsafeMutablePointer<Float>) {
        self.linear = linear
        self.y = y
    }
}

/// The per-thread working memory of ``PackedGemm``: oneDNN's stream and scratchpad, and for int8
/// the quantized rows of one block. One per thread of a forward; grows to the widest input seen.
public final class PackedGemmContext: @unchecked Sendable {
    let context: OpaquePointer
    private var rows = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)  // [B x K] u8
    let scales: UnsafeMutableBufferPointer<Float>    // [B]
    let zeros: UnsafeMutableBufferPointer<Int32>     // [B]

    /// Rows quantized and multiplied at a time (B).
    static let blockRows = packed_gemm_max_block_rows()

    public init() {
        guard let context = packed_gemm_context_create() else { fatalError("PackedGemmContext: oneDNN could not create a CPU stream") }
        self.context = context
        scales = .allocate(capacity: Self.blockRows)
        zeros = .allocate(capacity: Self.blockRows)
    }

    deinit {
        packed_gemm_context_destroy(context)
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

public enum PackedGemm {
    /// Several packed linear layers of the same input x [N x K] (e.g. Q, K and V) and the same
    /// number of column parts P. With a `team`, part p of every layer runs on whichever thread
    /// claims it, with `contexts[p]` (so `contexts` needs P); without, all parts run here with
    /// `contexts[0]`. int8: each part quantizes each block of rows once for all its layers.
    /// `then(p, columns)`: as in ``Gemm/linears(_:rows:inFeatures:_:team:then:)``, after part p
    /// (whose output columns of the first layer are `columns`); without a team, once after all
    /// parts, with every column (part 0).
    public static func linears(
        _ x: UnsafeBufferPointer<Float>, rows n: Int, inFeatures k: Int,
        _ layers: [PackedLinearLayer], team: ThreadTeam? = nil, contexts: [PackedGemmContext],
        then: ((_ part: Int, _ columns: Range<Int>) -> Void)? = nil
    ) {
        precondition(n >= 0 && k > 0 && x.count >= n * k, "packed linear: x holds \(x.count) values, [N x K] = [\(n) x \(k)] needs \(n * k)")
        guard let first = layers.first?.linear, n > 0 else { return }
        for layer in layers {
            precondition(layer.linear.inFeatures == k && layer.linear.parts.count == first.parts.count && layer.linear.kind == first.kind,
                         "packed linear: layers of one call must share K, kind and parts")
        }
        let parts = first.parts.count
        if let team, team.size > 1, parts > 1 {
            precondition(contexts.count >= parts, "packed linear: \(parts) parts need as many contexts, \(contexts.count) given")
            team.run(parts) { p in
                run(x.baseAddress!, rows: n, inFeatures: k, layers, parts: p..<(p + 1), context: contexts[p])
                then?(p, first.parts[p].columns)
            }
        } else {
            run(x.baseAddress!, rows: n, inFeatures: k, layers, parts: 0..<parts, context: contexts[0])
            then?(0, 0..<first.outFeatures)
        }
    }

    private static func run(_ x: UnsafePointer<Float>, rows n: Int, inFeatures k: Int, _ layers: [PackedLinearLayer],
                            parts: Range<Int>, context: PackedGemmContext) {
        if layers[0].linear.kind == .float32 {
            for layer in layers {
                for part in layer.linear.parts[parts] {
                    let status = part.bias.withOptionalBuffer { bias in
                        packed_gemm_run(part.plan.plan, context.context, n, x, part.packed.baseAddress!, bias, layer.y + part.columns.lowerBound)
                    }
                    precondition(status == 0, "packed linear: oneDNN's matmul failed on [\(n) x \(k)] · [\(k) x \(part.columns.count)]")
                }
            }
            return
        }
        let xq = context.quantizedRows(inFeatures: k)
        var row = 0
        while row < n {
            let b = min(PackedGemmContext.blockRows, n - row)
            int8_quantize_rows(b, k, x + row * k, k, xq, context.scales.baseAddress!, context.zeros.baseAddress!)
            for layer in layers {
                for part in layer.linear.parts[parts] {
                    let ld = part.plan.outputStride
                    let out = layer.y + row * ld + part.columns.lowerBound
                    let status = packed_gemm_run(part.plan.plan, context.context, b, xq, part.packed.baseAddress!, nil, out)
                    precondition(status == 0, "packed linear: oneDNN's matmul failed on [\(b) x \(k)] · [\(k) x \(part.columns.count)]")
                    part.columnSums.withUnsafeBufferPointer { sums in
                        part.scales.withUnsafeBufferPointer { scales in
                            part.bias.withOptionalBuffer { bias in
                                int8_dequantize(b, part.columns.count, out, ld, context.scales.baseAddress!, context.zeros.baseAddress!,
                                                scales.baseAddress!, sums.baseAddress!, bias)
                            }
                        }
                    }
                }
            }
            row += b
        }
    }
}

extension Optional where Wrapped == [Float] {
    /// `body` with the array's base address, or nil.
    fileprivate func withOptionalBuffer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .some(let array): array.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: body(nil)
        }
    }
}
