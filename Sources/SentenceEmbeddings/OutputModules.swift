import Foundation

/// A module that runs on the pooled sentence embedding, with its weights loaded.
enum OutputLayer: Sendable {
    case dense(DenseLayer)
    case normalize
}

/// What happens after the modules for one call: sentence-transformers' `encode(truncate_dim=,
/// normalize_embeddings=)`.
struct OutputPlan: Sendable, Equatable {
    /// Keep the first `dimensions` values of the last module's output.
    var dimensions: Int
    /// L2-normalize after truncating.
    var normalize: Bool
}

extension SentenceEncoder {
    /// Loads the weights of every Dense module named in `config`.
    static func loadOutputLayers(_ config: SentenceTransformersConfig, folder: URL) throws(SentenceEmbeddingsError) -> [OutputLayer] {
        var layers: [OutputLayer] = []
        for module in config.outputModules {
            switch module {
            case .dense(let dense): layers.append(.dense(try DenseLayer.load(folder: folder, config: dense)))
            case .normalize: layers.append(.normalize)
            }
        }
        return layers
    }

    /// Runs the output modules (Dense, Normalize, in modules.json order) on `count` pooled rows
    /// ([count x pooling.outputDimension]), giving [count x fullDimension]: in place when the width
    /// does not change (a batch job's chunk of 4,096 rows is 6 MB a copy).
    func runOutputModules(pooled: consuming [Float], count: Int) -> [Float] {
        let pooledWidth = pooling.outputDimension
        precondition(pooled.count == count * pooledWidth)
        if outputLayers.isEmpty { return pooled }
        let width = fullDimension
        // In place, each row is read whole into `current` before its output is written.
        let inPlace = width == pooledWidth
        var result: [Float]
        let input: [Float]
        if inPlace {
            result = consume pooled  // the only reference: written without a copy
            input = []
        } else {
            result = [Float](repeating: 0, count: count * width)
            input = consume pooled
        }
        // Wide enough for every intermediate width (a middle Dense may be the widest).
        let widest = outputLayers.reduce(pooledWidth) { w, layer in
            if case .dense(let d) = layer { Swift.max(w, d.config.outFeatures) } else { w }
        }
        var current = [Float](repeating: 0, count: widest)
        var next = current
        input.withUnsafeBufferPointer { separate in
            result.withUnsafeMutableBufferPointer { out in
                let all = inPlace ? UnsafeBufferPointer(out) : separate
                for r in 0..<count {
                    var width = pooledWidth
                    for j in 0..<width { current[j] = all[r * pooledWidth + j] }
                    for layer in outputLayers {
                        switch layer {
                        case .normalize:
                            current.withUnsafeMutableBufferPointer { normalizeL2(UnsafeMutableBufferPointer(rebasing: $0[0..<width])) }
                        case .dense(let dense):
                            current.withUnsafeBufferPointer { c in
                                next.withUnsafeMutableBufferPointer { n in
                                    dense.apply(UnsafeBufferPointer(rebasing: c[0..<width]),
                                                into: UnsafeMutableBufferPointer(rebasing: n[0..<dense.config.outFeatures]))
                                }
                            }
                            width = dense.config.outFeatures
                            swap(&current, &next)
                        }
                    }
                    for j in 0..<width { out[r * width + j] = current[j] }
                }
            }
        }
        return result
    }

    /// One request's embeddings from the module outputs `rows` ([sequences x fullDimension]),
    /// its first sequence at row `first`: each chunked input's windows averaged by token count
    /// (re-normalized when the model normalizes), then truncated and optionally normalized as
    /// `SentenceTransformer.encode` does (`_encode_inference`:
    /// `truncate_embeddings(out_features["sentence_embedding"], truncate_dim)` after all modules,
    /// then `torch.nn.functional.normalize(embeddings, p=2, dim=1)` when `normalize_embeddings`).
    /// A truncated vector of a model ending in Normalize is therefore not unit length unless
    /// `normalize` is asked for.
    func finish(_ rows: [Float], from first: Int, _ request: EmbeddingRequest) -> Embeddings {
        let width = fullDimension
        let plan = request.prepared.plan
        precondition(plan.dimensions >= 1 && plan.dimensions <= width)
        let inputs = request.inputs
        if first == 0, rows.count == inputs.count * width, plan.dimensions == width, !plan.normalize,
           inputs.allSatisfy({ $0.windows.count == 1 }) {
            // Every row as it is (one request, one window each, nothing cut or normalized): the
            // same array, not a copy.
            return Embeddings(
                dimension: width, values: rows, tokenCounts: inputs.map(\.tokenCount),
                truncatedCount: inputs.count { $0.truncated }, chunkedCount: inputs.count { $0.chunked })
        }
        var values = [Float](repeating: 0, count: inputs.count * plan.dimensions)
        var average = [Float](repeating: 0, count: width)
        rows.withUnsafeBufferPointer { all in
            values.withUnsafeMutableBufferPointer { out in
                var row = first
                for (i, input) in inputs.enumerated() {
                    let target = UnsafeMutableBufferPointer(rebasing: out[(i * plan.dimensions)..<((i + 1) * plan.dimensions)])
                    if input.windows.count == 1 {
                        for j in 0..<plan.dimensions { target[j] = all[row * width + j] }
                    } else {
                        for j in 0..<width { average[j] = 0 }
                        var weight: Float = 0
                        for (w, window) in input.windows.enumerated() {
                            let n = Float(window.count)
                            weight += n
                            for j in 0..<width { average[j] += n * all[(row + w) * width + j] }
                        }
                        for j in 0..<width { average[j] /= weight }
                        if normalizes { average.withUnsafeMutableBufferPointer { normalizeL2($0) } }
                        for j in 0..<plan.dimensions { target[j] = average[j] }
                    }
                    if plan.normalize { normalizeL2(target) }
                    row += input.windows.count
                }
            }
        }
        return Embeddings(
            dimension: plan.dimensions, values: values, tokenCounts: inputs.map(\.tokenCount),
            truncatedCount: inputs.count { $0.truncated }, chunkedCount: inputs.count { $0.chunked })
    }
}
