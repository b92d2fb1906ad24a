// The naive reference forward pass: PyTorch's formulation (pad the batch to the longest
// sequence, additive attention mask, separate Q/K/V projections) in plain loops over
// arrays, built only from Kernels' `Reference` functions. Slow; it exists to check the
// fast packed pass (TransformerEncoderTests) and never runs in production.
import Kernels
import SafeTensors

extension EncoderModel {
    /// Same result as `forward`, computed the obvious way (padded, masked, unfused).
    public func referenceForward(_ batch: [TokenSequence]) throws(EncoderError) -> HiddenStates {
        precondition(precision == .float32, "referenceForward is the FP32 reference; an int8 model keeps no FP32 weights")
        try validate(batch)
        let c = config
        let h = c.hiddenSize, heads = c.numAttentionHeads, d = c.headDim
        let b = batch.count
        let t = batch.map(\.ids.count).max() ?? 0
        let ranges = Self.packedRanges(batch)
        guard b > 0, t > 0 else {
            return HiddenStates(hiddenSize: h, values: [], sequenceRanges: ranges)
        }
        let rows = b * t
        func array(_ tensor: FloatTensor) -> [Float] { Array(tensor.values) }

        // Padded inputs [B x T]: pad_token_id and type 0 beyond each sequence; mask false there.
        let pad = Int32(c.padTokenId ?? 0)
        var mask = [[Bool]]()
        var x = [Float](repeating: 0, count: rows * h)  // [B*T x H]
        let word = array(embeddings.wordEmbeddings), pos = array(embeddings.positionEmbeddings)
        let type = embeddings.tokenTypeEmbeddings.map(array)
        for (s, input) in batch.enumerated() {
            mask.append((0..<t).map { $0 < input.ids.count })
            let ids = (0..<t).map { p in p < input.ids.count ? Int(input.ids[p]) : Int(pad) }
            // Position ids as the family's embeddings module makes them from the padded row.
            let positions: [Int]
            if c.family.positionsFollowPadding {
                var cumulative = 0
                positions = ids.map { id in
                    let notPad = id != Int(pad) ? 1 : 0
                    cumulative += notPad
                    return cumulative * notPad + Int(pad)
                }
            } else {
                positions = Array(0..<t)
            }
            for p in 0..<t {
                let tt = p < input.ids.count ? Int(input.typeIds[p]) : 0
                for k in 0..<h {
                    let typeTerm = type.map { $0[tt * h + k] } ?? 0
                    x[(s * t + p) * h + k] = (word[ids[p] * h + k] + typeTerm) + pos[positions[p] * h + k]
                }
            }
        }
        x = Reference.layerNorm(x, rows: rows, cols: h, gamma: array(embeddings.layerNorm.gamma),
                                beta: array(embeddings.layerNorm.beta), eps: c.layerNormEps)

        func linear(_ input: [Float], _ l: Linear) -> [Float] {
            Reference.linear(input, rows: rows, inFeatures: l.inFeatures, weight: array(l.weight),
                             outFeatures: l.outFeatures, bias: array(l.bias))
        }
        func layerNorm(_ input: [Float], _ w: LayerNormWeights) -> [Float] {
            Reference.layerNorm(input, rows: rows, cols: h, gamma: array(w.gamma), beta: array(w.beta), eps: w.eps)
        }

        // MPNet: bias[head][i][j] = table[bucket(j - i)][head], the same in every layer.
        let biasTable = encoder.relativeAttentionBias.map(array)
        func bias(_ head: Int, _ i: Int, _ j: Int) -> Float {
            guard let biasTable else { return 0 }
            return biasTable[relativePositionBucket(j - i) * heads + head]
        }

        for layer in encoder.layers {
            let sa = layer.attention
            let q = linear(x, sa.query), k = linear(x, sa.key), v = linear(x, sa.value)
            var context = [Float](repeating: 0, count: rows * h)
            for s in 0..<b {
                for head in 0..<heads {
                    var scores = [Float](repeating: 0, count: t * t)
                    for i in 0..<t {
                        for j in 0..<t {
                            var acc: Float = 0
                            for e in 0..<d { acc += q[(s * t + i) * h + head * d + e] * k[(s * t + j) * h + head * d + e] }
                            scores[i * t + j] = acc
                        }
                    }
                    let scale = 1 / Float(d).squareRoot()
                    for i in 0..<t { for j in 0..<t { scores[i * t + j] = scores[i * t + j] * scale + bias(head, i, j) } }
                    let probs = Reference.softmax(scores, rows: t, cols: t, scale: 1, keyMask: mask[s])
                    for i in 0..<t {
                        for e in 0..<d {
                            var acc: Float = 0
                            for j in 0..<t { acc += probs[i * t + j] * v[(s * t + j) * h + head * d + e] }
                            context[(s * t + i) * h + head * d + e] = acc
                        }
                    }
                }
            }
            let attention = layerNorm(Reference.add(linear(context, layer.attentionOutput), x), layer.attentionLayerNorm)
            let inter = linear(attention, layer.intermediate).map { Reference.activation(layer.activation, $0) }
            x = layerNorm(Reference.add(linear(inter, layer.output), attention), layer.outputLayerNorm)
        }

        // Drop the padding rows.
        var values: [Float] = []
        values.reserveCapacity((ranges.last?.upperBound ?? 0) * h)
        for (s, input) in batch.enumerated() {
            values += x[(s * t * h)..<((s * t + input.ids.count) * h)]
        }
        return HiddenStates(hiddenSize: h, values: values, sequenceRanges: ranges)
    }
}
