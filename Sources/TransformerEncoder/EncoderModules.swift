// One type per Hugging Face module of EncoderModel, ported from
// https://github.com/huggingface/transformers/blob/v5.24.0/src/transformers/models/bert/modeling_bert.py
// (line numbers below refer to that file; dropout is the identity at inference). The other
// families run the same modules; EncoderFamily.swift holds their differences.
//
// Dimension letters: N = tokens of the whole batch packed row after row (no padding),
// L = length of one sequence, H = hidden size, A = attention heads, D = H / A,
// I = intermediate size. Every linear layer runs once on all N rows; attention runs
// per sequence and per head on strided views of the fused [N x 3H] QKV buffer.
import Kernels
import SafeTensors

/// Views into a ``BertScratch`` for one forward call of N tokens.
/// Each call owns its own scratch, so concurrent forwards share nothing mutable; the threads
/// of one forward (`threads` > 1) write disjoint parts of it (columns of a GEMM's output, the
/// (sequence, head) blocks of context, one scores block each), hence the unchecked Sendable.
struct Workspace: @unchecked Sendable {
    let qkv: UnsafeMutableBufferPointer<Float>           // [N x 3H]  Q | K | V per row
    let intermediate: UnsafeMutableBufferPointer<Float>  // [C x I]   FFN chunk, aliases qkv (dead by then)
    let context: UnsafeMutableBufferPointer<Float>       // [N x H]   attention output before dense
    let attention: UnsafeMutableBufferPointer<Float>     // [N x H]   BertAttention output (post-LN)
    let scores: UnsafeMutableBufferPointer<Float>        // [S x Lmax x Lmax] one (sequence, head) per thread or part
    /// C: rows of one feed-forward chunk.
    let ffnChunkRows: Int
    /// T threads sharing each GEMM (by output columns) and attention (by sequence and head);
    /// nil: the calling thread alone.
    let team: ThreadTeam?
    var threads: Int { team?.size ?? 1 }
    /// One per thread (or column part) when the model's weights are packed, else empty.
    let packed: [PackedGemmContext]
    let maxLength: Int

    /// Rows per feed-forward chunk. The FFN is row-wise, so running it on C rows at a time
    /// gives the same values while the [C x I] intermediate fits in the (dead) QKV buffer
    /// instead of needing [N x I] of its own, 40 % of the activations per token. 256 rows
    /// keep OpenBLAS at its large-M rate (Scripts/bench --gemm; figures in Scripts/BENCHMARKS.md).
    static let ffnChunk = 256

    /// Float counts of the regions, in order: qkv/intermediate, context, attention, scores (S =
    /// `scoreSlots`: the threads, or the column parts of the linear layers if there are more).
    static func sizes(tokens n: Int, maxLength: Int, scoreSlots: Int, config: EncoderConfig) -> [Int] {
        let h = config.hiddenSize, i = config.intermediateSize
        let c = min(n, ffnChunk)
        return [max(n * 3 * h, c * i), n * h, n * h, scoreSlots * maxLength * maxLength]
    }

    init(block: UnsafeMutableBufferPointer<Float>, tokens n: Int, maxLength: Int, scoreSlots: Int, team: ThreadTeam?,
         packed: [PackedGemmContext], config: EncoderConfig) {
        let sizes = Self.sizes(tokens: n, maxLength: maxLength, scoreSlots: scoreSlots, config: config)
        precondition(block.count >= sizes.reduce(0, +), "Workspace: scratch too small")
        var parts: [UnsafeMutableBufferPointer<Float>] = []
        var offset = 0
        for count in sizes {
            parts.append(UnsafeMutableBufferPointer(rebasing: block[offset..<(offset + count)]))
            offset += count
        }
        ffnChunkRows = min(n, Self.ffnChunk)
        self.team = team
        self.packed = packed
        self.maxLength = maxLength
        qkv = parts[0]
        intermediate = parts[0]
        context = parts[1]
        attention = parts[2]
        scores = parts[3]
    }
}

/// modeling_bert.py L54-L109 `BertEmbeddings` (and RoBERTa's, MPNet's, DistilBERT's):
/// LayerNorm(word[id] + type[tt] + position[p]), without the type term where the family has none.
struct EmbeddingLayer {
    let wordEmbeddings: FloatTensor       // [vocab x H]
    let positionEmbeddings: FloatTensor   // [maxPositions x H]
    let tokenTypeEmbeddings: FloatTensor? // [typeVocab x H], nil for MPNet and DistilBERT
    let layerNorm: LayerNormWeights
    let hidden: Int
    /// Padding id after which positions are counted (RoBERTa, MPNet), nil when they start at 0.
    let paddingIndex: Int32?

    init(_ root: WeightPath, names: WeightNames, config c: EncoderConfig) {
        hidden = c.hiddenSize
        wordEmbeddings = root.pp(names.wordEmbeddings).tensor("weight", shape: [c.vocabSize, c.hiddenSize])
        positionEmbeddings = root.pp(names.positionEmbeddings).tensor("weight", shape: [c.maxPositionEmbeddings, c.hiddenSize])
        tokenTypeEmbeddings = names.tokenTypeEmbeddings.map {
            root.pp($0).tensor("weight", shape: [c.typeVocabSize, c.hiddenSize])
        }
        layerNorm = LayerNormWeights(root.pp(names.embeddingsLayerNorm), size: c.hiddenSize, eps: c.layerNormEps)
        paddingIndex = c.family.positionsFollowPadding ? Int32(c.padTokenId ?? 0) : nil
    }

    /// Fills x [N x H]. Inputs were validated by `BertModel.validate` (ids in range). Each word
    /// row is copied with ``FloatTensor/copyValues(_:into:)``: from a mapped checkpoint it is read
    /// from the file, so the table (45 MiB for a 30k vocabulary) adds nothing to the resident set.
    func forward(_ batch: [TokenSequence], ranges: [Range<Int>], into x: UnsafeMutableBufferPointer<Float>) {
        let h = hidden
        let position = positionEmbeddings.values.baseAddress!
        let type = tokenTypeEmbeddings?.values.baseAddress
        for (input, range) in zip(batch, ranges) {
            var counted = 0  // tokens other than padding so far (positions after padding)
            for (p, row) in range.enumerated() {
                let id = input.ids[p]
                let out = x.baseAddress! + row * h
                wordEmbeddings.copyValues((Int(id) * h)..<(Int(id) * h + h), into: out)
                let pos: UnsafePointer<Float>
                if let pad = paddingIndex {
                    // create_position_ids_from_input_ids: cumsum(id != pad) * (id != pad) + pad.
                    if id != pad { counted += 1 }
                    pos = position + (Int(pad) + (id != pad ? counted : 0)) * h
                } else {
                    pos = position + p * h
                }
                if let type {
                    let t = type + Int(input.typeIds[p]) * h
                    // Same association as PyTorch: (inputs_embeds + token_type) + position.
                    for c in 0..<h { out[c] = (out[c] + t[c]) + pos[c] }
                } else {
                    for c in 0..<h { out[c] = out[c] + pos[c] }
                }
            }
        }
        LayerNorm.apply(x, rows: ranges.last?.upperBound ?? 0, cols: h,
                        gamma: layerNorm.gamma.values, beta: layerNorm.beta.values, eps: layerNorm.eps)
    }
}

/// modeling_bert.py L112-L205 `eager_attention_forward` + `BertSelfAttention`:
/// softmax(Q·Kᵀ / √D + bias) · V per head, the bias being MPNet's relative-position one (none
/// elsewhere). Q, K and V are written side by side into one [N x 3H] buffer by three GEMMs on
/// the checkpoint's own weights (ldc = 3H), so the weights stay in the mapped file: a
/// concatenated [3H x H] copy would cost 3.4 MiB of anonymous memory per layer plus the
/// load-time copy, for a GEMM only marginally faster at N >= 256.
struct SelfAttention {
    let query: Linear, key: Linear, value: Linear  // [H x H] each, as in the checkpoint
    let heads: Int
    let headDim: Int

    init(_ layer: WeightPath, names: WeightNames, config c: EncoderConfig) {
        let h = c.hiddenSize
        heads = c.numAttentionHeads
        headDim = c.headDim
        query = Linear(layer.pp(names.query), inFeatures: h, outFeatures: h)
        key = Linear(layer.pp(names.key), inFeatures: h, outFeatures: h)
        value = Linear(layer.pp(names.value), inFeatures: h, outFeatures: h)
    }

    private init(_ other: SelfAttention, query: Linear, key: Linear, value: Linear) {
        (self.query, self.key, self.value) = (query, key, value)
        heads = other.heads
        headDim = other.headDim
    }

    /// Q, K and V packed: their products add the bias and go into the [N x 3H] buffer.
    func packed(_ packing: Packing) throws(PackedGemmError) -> SelfAttention {
        let ld = 3 * heads * headDim
        return SelfAttention(self, query: try packing.pack(query, foldBias: true, outputStride: ld),
                             key: try packing.pack(key, foldBias: true, outputStride: ld),
                             value: try packing.pack(value, foldBias: true, outputStride: ld))
    }

    /// x [N x H] -> ws.context [N x H].
    func forward(_ x: UnsafeBufferPointer<Float>, ranges: [Range<Int>], bias: RelativePositionBias?, ws: Workspace) {
        let h = heads * headDim
        let n = ranges.last?.upperBound ?? 0
        let outputs = [query, key, value].enumerated().map { part, linear in (linear, ws.qkv.baseAddress! + part * h, 3 * h) }
        // Shared by a team, when every column part of Q, K and V holds whole heads: the thread of
        // a part goes on to attention for those heads as soon as their columns are written. One
        // region instead of two, and no thread waits for the other's heads.
        let parts = query.packed?.columnParts ?? Gemm.columnRanges(h, threads: ws.threads)
        if ws.team != nil, parts.count > 1, parts.allSatisfy({ $0.lowerBound % headDim == 0 && $0.upperBound % headDim == 0 }) {
            applyLinears(x, rows: n, outputs, addBias: true, ws: ws) { part, columns in
                let scores = ws.scores.baseAddress! + part * ws.maxLength * ws.maxLength
                for range in ranges where !range.isEmpty {
                    for head in (columns.lowerBound / headDim)..<(columns.upperBound / headDim) {
                        attend(range, head: head, bias: bias, ws: ws, scores: scores)
                    }
                }
            }
            return
        }
        applyLinears(x, rows: n, outputs, addBias: true, ws: ws)
        // The (sequence, head) pairs are independent: with T threads, each takes a contiguous
        // share and its own [Lmax x Lmax] scores. Only when there is enough of it: waking a
        // thread costs tens of microseconds, all the attention of a short sentence about as much.
        let pairs = ranges.filter { !$0.isEmpty }.flatMap { range in (0..<heads).map { (range, $0) } }
        let work = ranges.reduce(0) { $0 + $1.count * $1.count } * heads
        let threads = work >= Self.parallelAttentionWork ? min(ws.threads, pairs.count) : 1
        if let team = ws.team, threads > 1 {
            team.run(threads) { t in
                let scores = ws.scores.baseAddress! + t * ws.maxLength * ws.maxLength
                for p in (pairs.count * t / threads)..<(pairs.count * (t + 1) / threads) {
                    attend(pairs[p].0, head: pairs[p].1, bias: bias, ws: ws, scores: scores)
                }
            }
        } else {
            for (range, head) in pairs { attend(range, head: head, bias: bias, ws: ws, scores: ws.scores.baseAddress!) }
        }
    }

    /// Σ L² · heads of a batch from which attention is worth sharing between threads:
    /// 12 heads of one 64-token sequence.
    static let parallelAttentionWork = 64 * 64 * 12

    /// One head of one sequence: context[range, head·D ..< (head+1)·D] = softmax(Q·Kᵀ·scale + bias)·V.
    private func attend(_ range: Range<Int>, head: Int, bias: RelativePositionBias?, ws: Workspace,
                        scores: UnsafeMutablePointer<Float>) {
        let h = heads * headDim
        let l = range.count
        let scale = 1 / Float(headDim).squareRoot()  // scaling = head_size ** -0.5
        let q = ws.qkv.baseAddress! + range.lowerBound * 3 * h + head * headDim  // [L x D], row stride 3H
        let k = q + h
        let v = q + 2 * h
        let context = ws.context.baseAddress! + range.lowerBound * h + head * headDim  // [L x D], row stride H
        // scores[L x L] = Q · Kᵀ · scale
        Gemm.multiply(m: l, n: l, k: headDim, alpha: scale, a: q, lda: 3 * h,
                      b: k, ldb: 3 * h, transposeB: true, c: scores, ldc: l)
        bias?.add(head: head, to: scores, length: l)
        // No mask: the sequence has no padding tokens.
        Softmax.scaledMaskedRows(scores, rows: l, cols: l, ld: l)
        // context[L x D] = P · V
        Gemm.multiply(m: l, n: headDim, k: l, a: scores, lda: l, b: v, ldb: 3 * h, c: context, ldc: h)
    }
}

/// MPNet's attention bias for one forward: for each head, the bias of every relative position
/// -(Lmax-1) ... Lmax-1, looked up once from the [buckets x heads] table
/// (modeling_mpnet.py `MPNetEncoder.compute_position_bias`). It depends only on j - i, so row i
/// of a sequence's scores adds one contiguous run of it.
struct RelativePositionBias {
    /// [heads x (2·Lmax - 1)]: entry (head, Lmax - 1 + j - i).
    let values: [Float]
    let maxLength: Int

    init(table: FloatTensor, heads: Int, buckets: Int, maxLength: Int) {
        let width = 2 * maxLength - 1
        var values = [Float](repeating: 0, count: heads * width)
        for offset in 0..<width {
            let bucket = relativePositionBucket(offset - (maxLength - 1), buckets: buckets)
            for head in 0..<heads { values[head * width + offset] = table.values[bucket * heads + head] }
        }
        self.values = values
        self.maxLength = maxLength
    }

    /// scores[i, j] += bias(head, j - i) for a [length x length] block.
    func add(head: Int, to scores: UnsafeMutablePointer<Float>, length l: Int) {
        let width = 2 * maxLength - 1
        values.withUnsafeBufferPointer { b in
            let row0 = b.baseAddress! + head * width + (maxLength - 1)
            for i in 0..<l {
                let run = row0 - i  // run[j] = bias(j - i)
                let s = scores + i * l
                for j in 0..<l { s[j] += run[j] }
            }
        }
    }
}

/// How a model's linear layers are packed at load: the kind, the column parts (the threads that
/// will share a text alone) and the plans the layers share.
struct Packing {
    let kind: PackedGemmKind
    let parts: Int
    let plans = PackedGemmPlans()

    func pack(_ linear: Linear, foldBias: Bool, outputStride: Int) throws(PackedGemmError) -> Linear {
        try linear.packed(kind, plans: plans, foldBias: foldBias, outputStride: outputStride, parts: parts)
    }
}

/// y = x·Wᵀ (+ b when `addBias`) for linear layers of the same input x [N x K], row r of each
/// output at `y + r·ldy`: on packed weights through `PackedGemm.linears` (each layer was packed
/// with `foldBias == addBias` and output stride ldy), else on the checkpoint's weights through
/// `Gemm.linears` (OpenBLAS and CSmallGemm). The team splits output columns either way.
/// `then(part, columns)` runs on the thread of each column part right after its products (see
/// `Gemm.linears`); every column of the first output is in exactly one part, whatever the path.
private func applyLinears(
    _ x: UnsafeBufferPointer<Float>, rows n: Int, _ outputs: [(linear: Linear, y: UnsafeMutablePointer<Float>, ldy: Int)],
    addBias: Bool, ws: Workspace, then: ((_ part: Int, _ columns: Range<Int>) -> Void)? = nil
) {
    guard let k = outputs.first?.linear.inFeatures else { return }
    if outputs[0].linear.packed != nil {
        PackedGemm.linears(x, rows: n, inFeatures: k, outputs.map { PackedLinearLayer($0.linear.packed!, into: $0.y) },
                           team: ws.team, contexts: ws.packed, then: then)
    } else {
        Gemm.linears(x, rows: n, inFeatures: k, outputs.map {
            LinearLayer(weight: $0.linear.weight.values, outFeatures: $0.linear.outFeatures,
                        bias: addBias ? $0.linear.bias.values : nil, into: $0.y, ldy: $0.ldy)
        }, team: ws.team, then: then)
    }
}

/// LayerNorm(x·Wᵀ + b + residual): the tail of attention (BertSelfOutput) and of the
/// feed-forward block (BertOutput), x [N x in], residual and out [N x out]. Bias, residual and
/// LayerNorm run as one fused pass.
private func denseResidualLayerNorm(
    _ x: UnsafeBufferPointer<Float>, residual: UnsafeBufferPointer<Float>, rows n: Int,
    dense: Linear, layerNorm: LayerNormWeights, into out: UnsafeMutableBufferPointer<Float>, ws: Workspace
) {
    applyLinears(x, rows: n, [(dense, out.baseAddress!, dense.outFeatures)], addBias: false, ws: ws)
    LayerNorm.addBiasResidualApply(out, rows: n, cols: dense.outFeatures, bias: dense.bias.values,
                                   residual: residual, gamma: layerNorm.gamma.values,
                                   beta: layerNorm.beta.values, eps: layerNorm.eps)
}

/// modeling_bert.py L356-L419 `BertLayer` (BertAttention, BertSelfOutput, BertIntermediate,
/// BertOutput), and the same layer of every family under its own tensor names:
/// a = LN(x + O·attention(x)), then LN(a + W2·act(W1·a)).
struct EncoderLayer {
    let attention: SelfAttention
    let attentionOutput: Linear         // [H x H]
    let attentionLayerNorm: LayerNormWeights
    let intermediate: Linear            // [I x H]
    let activation: ActivationFunction
    let output: Linear                  // [H x I]
    let outputLayerNorm: LayerNormWeights

    init(_ layer: WeightPath, names: WeightNames, config c: EncoderConfig) {
        let h = c.hiddenSize, i = c.intermediateSize
        attention = SelfAttention(layer, names: names, config: c)
        attentionOutput = Linear(layer.pp(names.attentionOutput), inFeatures: h, outFeatures: h)
        attentionLayerNorm = LayerNormWeights(layer.pp(names.attentionLayerNorm), size: h, eps: c.layerNormEps)
        intermediate = Linear(layer.pp(names.intermediate), inFeatures: h, outFeatures: i)
        activation = c.hiddenAct.kernel
        output = Linear(layer.pp(names.output), inFeatures: i, outFeatures: h)
        outputLayerNorm = LayerNormWeights(layer.pp(names.outputLayerNorm), size: h, eps: c.layerNormEps)
    }

    private init(_ other: EncoderLayer, attention: SelfAttention, attentionOutput: Linear, intermediate: Linear, output: Linear) {
        self.attention = attention
        self.attentionOutput = attentionOutput
        attentionLayerNorm = other.attentionLayerNorm
        self.intermediate = intermediate
        activation = other.activation
        self.output = output
        outputLayerNorm = other.outputLayerNorm
    }

    /// This layer with all six linear layers packed (each bias of the last three still added by the
    /// fused pass that follows it).
    func packed(_ packing: Packing) throws(PackedGemmError) -> EncoderLayer {
        EncoderLayer(self, attention: try attention.packed(packing),
                     attentionOutput: try packing.pack(attentionOutput, foldBias: false, outputStride: attentionOutput.outFeatures),
                     intermediate: try packing.pack(intermediate, foldBias: false, outputStride: intermediate.outFeatures),
                     output: try packing.pack(output, foldBias: false, outputStride: output.outFeatures))
    }

    /// x [N x H] in, x [N x H] out (overwritten).
    func forward(_ x: UnsafeMutableBufferPointer<Float>, ranges: [Range<Int>], bias: RelativePositionBias?, ws: Workspace) {
        let n = ranges.last?.upperBound ?? 0
        attention.forward(UnsafeBufferPointer(x), ranges: ranges, bias: bias, ws: ws)
        denseResidualLayerNorm(UnsafeBufferPointer(ws.context), residual: UnsafeBufferPointer(x), rows: n,
                               dense: attentionOutput, layerNorm: attentionLayerNorm, into: ws.attention, ws: ws)
        // The feed-forward block is row-wise: run it C rows at a time (see Workspace.ffnChunk).
        // x is dead after the attention residual, so the layer output goes straight into it.
        let h = output.outFeatures
        var row = 0
        while row < n {
            let c = min(ws.ffnChunkRows, n - row)
            let attentionRows = UnsafeBufferPointer(rebasing: ws.attention[(row * h)..<((row + c) * h)])
            // Bias + activation in one pass over [C x I], each thread of a team on its own columns
            // right after their product.
            applyLinears(attentionRows, rows: c, [(intermediate, ws.intermediate.baseAddress!, intermediate.outFeatures)],
                         addBias: false, ws: ws) { _, columns in
                Activations.addBiasApply(activation, ws.intermediate, rows: c, cols: intermediate.outFeatures,
                                         bias: intermediate.bias.values, columns: columns)
            }
            denseResidualLayerNorm(UnsafeBufferPointer(ws.intermediate), residual: attentionRows, rows: c,
                                   dense: output, layerNorm: outputLayerNorm,
                                   into: UnsafeMutableBufferPointer(rebasing: x[(row * h)..<((row + c) * h)]), ws: ws)
            row += c
        }
    }
}

/// modeling_bert.py L422-L452 `BertEncoder`: the stack of layers, plus MPNet's relative-position
/// bias table shared by all of them.
struct LayerStack {
    let layers: [EncoderLayer]
    /// [buckets x heads] (MPNet), nil for the other families.
    let relativeAttentionBias: FloatTensor?
    let heads: Int

    init(_ root: WeightPath, names: WeightNames, config c: EncoderConfig) {
        let stack = root.pp(names.layers)
        layers = (0..<c.numHiddenLayers).map { EncoderLayer(stack.pp($0), names: names, config: c) }
        relativeAttentionBias = names.relativeAttentionBias.map {
            root.pp($0).tensor("weight", shape: [c.relativeAttentionNumBuckets, c.numAttentionHeads])
        }
        heads = c.numAttentionHeads
    }

    private init(layers: [EncoderLayer], relativeAttentionBias: FloatTensor?, heads: Int) {
        self.layers = layers
        self.relativeAttentionBias = relativeAttentionBias
        self.heads = heads
    }

    /// The stack with every linear layer packed (see ``EncoderLayer/packed(_:)``).
    func packed(_ packing: Packing) throws(PackedGemmError) -> LayerStack {
        var packed: [EncoderLayer] = []
        for layer in layers { packed.append(try layer.packed(packing)) }
        return LayerStack(layers: packed, relativeAttentionBias: relativeAttentionBias, heads: heads)
    }

    /// The bias every layer adds for sequences of up to `maxLength` tokens, if the family has one.
    func positionBias(maxLength: Int) -> RelativePositionBias? {
        relativeAttentionBias.map { RelativePositionBias(table: $0, heads: heads, buckets: EncoderFamily.mpnetBuckets, maxLength: maxLength) }
    }

    func forward(_ x: UnsafeMutableBufferPointer<Float>, ranges: [Range<Int>], ws: Workspace) {
        let bias = positionBias(maxLength: ws.maxLength)
        for layer in layers { layer.forward(x, ranges: ranges, bias: bias, ws: ws) }
    }
}

extension HiddenActivation {
    /// The kernel implementing this activation.
    var kernel: ActivationFunction {
        switch self {
        case .gelu: .geluErf
        case .geluNew, .geluPytorchTanh: .geluTanh
        case .relu: .relu
        }
    }
}
