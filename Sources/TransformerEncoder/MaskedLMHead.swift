// The masked-language-model head of BertForMaskedLM, ported from
// https://github.com/huggingface/transformers/blob/v5.25.0/src/transformers/models/bert/modeling_bert.py#L470-L509
// (`BertPredictionHeadTransform`, `BertLMPredictionHead`, `BertOnlyMLMHead`):
//
//     logits = LayerNorm(act(h·Wtᵀ + bt)) · Dᵀ + b
//
// with Wt [H x H] `cls.predictions.transform.dense`, act = config.hidden_act, the LayerNorm
// `cls.predictions.transform.LayerNorm` (eps layer_norm_eps), D [V x H] the decoder weight, b [V]
// its bias. `_tied_weights_keys` (L736-L739) ties D to `bert.embeddings.word_embeddings.weight`
// and the decoder bias to `cls.predictions.bias`; tied checkpoints store neither, untied ones
// (tie_word_embeddings false) store `cls.predictions.decoder.weight` and `.bias`.
//
// Dimension letters: N token rows, H hidden size, V vocabulary size, C rows per chunk.
// The [N x V] logits are the costly part (V = 30522 for BERT: 119 KiB per token), so they are
// only ever produced C rows at a time for a caller that reduces each chunk as it comes.
import Kernels
import SafeTensors

/// `BertOnlyMLMHead`: vocabulary logits from the encoder's last hidden state, computed in chunks.
/// Immutable after init, safe to share between threads.
public final class MaskedLMHead: Sendable {
    public let hiddenSize: Int
    public let vocabSize: Int
    /// Whether the decoder is the word-embedding matrix (no `cls.predictions.decoder.weight` in the checkpoint).
    public let tiedToWordEmbeddings: Bool
    /// The checkpoint tensors the head reads.
    public let usedTensors: [String]
    let transform: Linear             // [H x H]
    let activation: ActivationFunction
    let layerNorm: LayerNormWeights   // [H]
    let decoderWeight: FloatTensor    // [V x H]
    let decoderBias: FloatTensor      // [V]

    /// Rows per chunk: [C x V] floats of logits at a time (15 MiB for BERT's vocabulary), enough
    /// rows to keep the decoder GEMM at its large-matrix rate.
    public static let defaultChunkRows = 128

    /// Binds the head of a `BertForMaskedLM` checkpoint: `cls.predictions.transform.*`, the decoder
    /// weight (`cls.predictions.decoder.weight` when stored, else the word embeddings it is tied to)
    /// and bias (`cls.predictions.decoder.bias` when stored, else `cls.predictions.bias`).
    public init(config: EncoderConfig, weights: some TensorProvider) throws(EncoderError) {
        guard config.family == .bert else {
            throw .invalidConfig(path: nil, reason:
                "a masked-LM head is supported for BERT checkpoints (BertForMaskedLM's cls.predictions) only, not \(config.family)")
        }
        let h = config.hiddenSize, v = config.vocabSize
        let names = config.family.names
        let binder = WeightBinder(weights, probe: names.wordEmbeddings + ".weight", prefix: names.prefix)
        let head = WeightPath(top: binder).pp("cls").pp("predictions")
        let available = Set(binder.names)
        transform = Linear(head.pp("transform").pp("dense"), inFeatures: h, outFeatures: h)
        layerNorm = LayerNormWeights(head.pp("transform").pp("LayerNorm"), size: h, eps: config.layerNormEps)
        activation = config.hiddenAct.kernel
        tiedToWordEmbeddings = !available.contains(head.prefix + "decoder.weight")
        decoderWeight = tiedToWordEmbeddings
            ? WeightPath(root: binder).pp(names.wordEmbeddings).tensor("weight", shape: [v, h])
            : head.pp("decoder").tensor("weight", shape: [v, h])
        decoderBias = available.contains(head.prefix + "decoder.bias")
            ? head.pp("decoder").tensor("bias", shape: [v]) : head.tensor("bias", shape: [v])
        if binder.hasProblems { throw .weightsDoNotMatchConfig(binder.problems) }
        hiddenSize = h
        vocabSize = v
        usedTensors = binder.used.sorted()
    }

    /// The logits of `n` token rows `hidden` [N x H], ``defaultChunkRows`` rows at a time:
    /// `body(first, logits)` gets the [c x V] logits of rows `first ..< first + c`, in order, in a
    /// buffer that is reused for the next chunk (reduce it, do not keep it). Working memory is
    /// C·(H + V) floats whatever N is.
    public func forEachLogitChunk(
        _ hidden: UnsafeBufferPointer<Float>, rows n: Int, chunkRows: Int = MaskedLMHead.defaultChunkRows,
        _ body: (_ first: Int, _ logits: UnsafeMutableBufferPointer<Float>) -> Void
    ) {
        precondition(chunkRows >= 1 && hidden.count >= n * hiddenSize, "MaskedLMHead: hidden holds \(hidden.count) values for [\(n) x \(hiddenSize)]")
        guard n > 0 else { return }
        let h = hiddenSize, v = vocabSize
        let c = min(chunkRows, n)
        let transformed = UnsafeMutableBufferPointer<Float>.allocate(capacity: c * h)  // [C x H]
        let logits = UnsafeMutableBufferPointer<Float>.allocate(capacity: c * v)       // [C x V]
        defer { transformed.deallocate(); logits.deallocate() }
        var first = 0
        while first < n {
            let rows = min(c, n - first)
            let x = UnsafeBufferPointer(rebasing: hidden[(first * h)..<((first + rows) * h)])
            // BertPredictionHeadTransform: LayerNorm(act(dense(x))), the bias added with the activation.
            Gemm.linear(x, rows: rows, inFeatures: h, weight: transform.weight.values, outFeatures: h, bias: nil, into: transformed)
            Activations.addBiasApply(activation, transformed, rows: rows, cols: h, bias: transform.bias.values)
            LayerNorm.apply(transformed, rows: rows, cols: h, gamma: layerNorm.gamma.values, beta: layerNorm.beta.values, eps: layerNorm.eps)
            // BertLMPredictionHead.decoder: transformed · Dᵀ + b.
            Gemm.linear(UnsafeBufferPointer(transformed), rows: rows, inFeatures: h, weight: decoderWeight.values, outFeatures: v,
                        bias: decoderBias.values, into: logits)
            body(first, UnsafeMutableBufferPointer(rebasing: logits[0..<(rows * v)]))
            first += rows
        }
    }
}

extension MaskedLMHead {
    /// The logits of rows `hidden` [N x H] as [N x V], computed the obvious way from Kernels'
    /// `Reference` functions (the whole matrix at once): the reference that
    /// ``forEachLogitChunk(_:rows:chunkRows:_:)`` is tested against.
    public func referenceLogits(_ hidden: [Float], rows n: Int) -> [Float] {
        let h = hiddenSize
        var t = Reference.linear(hidden, rows: n, inFeatures: h, weight: Array(transform.weight.values), outFeatures: h,
                                 bias: Array(transform.bias.values))
        t = t.map { Reference.activation(activation, $0) }
        t = Reference.layerNorm(t, rows: n, cols: h, gamma: Array(layerNorm.gamma.values), beta: Array(layerNorm.beta.values), eps: layerNorm.eps)
        return Reference.linear(t, rows: n, inFeatures: h, weight: Array(decoderWeight.values), outFeatures: vocabSize,
                                bias: Array(decoderBias.values))
    }
}
