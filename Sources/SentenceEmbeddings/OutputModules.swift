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

    /// Runs the output modules on `count` pooled rows ([count x pooling.outputDimension]), then
    /// truncates and optionally normalizes as `SentenceTransformer.encode` does
    /// (`_encode_inference`: `truncate_embeddings(out_features["sentence_embedding"], truncate_dim)`
    /// after all modules, then `torch.nn.functional.normalize(embeddings, p=2, dim=1)` when
    /// `normalize_embeddings`). A truncated vector of a model ending in Normalize is therefore
    /// not unit length unless `normalize` is asked for.
    func postprocess(pooled: [Float], count: Int, _ plan: OutputPlan) -> [Float] {
        let pooledWidth = pooling.outputDimension
        precondition(pooled.count == count * pooledWidth && plan.dimensions >= 1 && plan.dimensions <= fullDimension)
        if outputLayers.isEmpty && plan.dimensions == pooledWidth && !plan.normalize { return pooled }
        var result = [Float](repeating: 0, count: count * plan.dimensions)
        // Wide enough for every intermediate width (a middle Dense may be the widest).
        let widest = outputLayers.reduce(pooledWidth) { w, layer in
            if case .dense(let d) = layer { Swift.max(w, d.config.outFeatures) } else { w }
        }
        var current = [Float](repeating: 0, count: widest)
        var next = current
        pooled.withUnsafeBufferPointer { all in
            result.withUnsafeMutableBufferPointer { out in
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
                    let row = UnsafeMutableBufferPointer(rebasing: out[(r * plan.dimensions)..<((r + 1) * plan.dimensions)])
                    for j in 0..<plan.dimensions { row[j] = current[j] }
                    if plan.normalize { normalizeL2(row) }
                }
            }
        }
        return result
    }
}
