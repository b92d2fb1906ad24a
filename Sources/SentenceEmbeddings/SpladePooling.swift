// sentence-transformers' `SpladePooling` (sparse_encoder/modules/splade_pooling.py, 6.3): token
// logits of a masked-LM head to one vocabulary-sized vector,
//
//     w_j = pool_i  log(1 + ReLU(logit_ij))              activation_function "relu" (SPLADE)
//     w_j = pool_i  log(1 + log(1 + ReLU(logit_ij)))     "log1p_relu" (OpenSearch's models)
//
// over the tokens i of one text (every token is real here: no padding exists), pool = max
// (SPLADE v2 and later) or sum (the original SPLADE). Every term is >= 0, so the max starts at 0,
// which is what the reference's masked padding positions contribute.
import Foundation
import StrictJSON

/// The SpladePooling module of a SparseEncoder folder.
public struct SpladePooling: Sendable, Equatable {
    /// `pooling_strategy`.
    public enum Strategy: String, Sendable, CaseIterable { case max, sum }
    /// `activation_function`: applied before the log1p.
    public enum Activation: String, Sendable, CaseIterable {
        case relu
        case log1pRelu = "log1p_relu"
    }

    public var strategy: Strategy
    public var activation: Activation
    /// `embedding_dimension` (or the older `word_embedding_dimension`) when the config states it:
    /// must equal the vocabulary size.
    public var dimension: Int?

    public init(strategy: Strategy = .max, activation: Activation = .relu, dimension: Int? = nil) {
        self.strategy = strategy
        self.activation = activation
        self.dimension = dimension
    }

    /// Reads `1_SpladePooling/config.json` (defaults as SpladePooling.__init__: max, relu).
    static func load(_ url: URL) throws(SentenceEmbeddingsError) -> SpladePooling {
        guard let c = try SentenceTransformersConfig.readObjectIfPresent(url) else { return SpladePooling() }
        return try reading { () throws(JSONFieldError) in
            SpladePooling(
                strategy: try c.optional("pooling_strategy")?.oneOf(Strategy.self) ?? .max,
                activation: try c.optional("activation_function")?.oneOf(Activation.self) ?? .relu,
                dimension: try (c.optional("embedding_dimension") ?? c.optional("word_embedding_dimension"))?.int(in: 1...))
        }
    }

    /// Folds the [rows x V] logits of one text's tokens into `pooled` [V] (which starts at 0).
    func accumulate(_ logits: UnsafeBufferPointer<Float>, rows: Int, into pooled: UnsafeMutableBufferPointer<Float>) {
        let v = pooled.count
        precondition(logits.count >= rows * v, "SpladePooling: [\(rows) x \(v)] logits expected")
        for r in 0..<rows {
            let row = logits.baseAddress! + r * v
            for j in 0..<v {
                let x = row[j]
                // log1p(0) = 0: a non-positive logit adds nothing under either strategy.
                guard x > 0 else { continue }
                var w = log1p(x)
                if activation == .log1pRelu { w = log1p(w) }
                switch strategy {
                case .max: if w > pooled[j] { pooled[j] = w }
                case .sum: pooled[j] += w
                }
            }
        }
    }
}

/// A sparse vector over the vocabulary: the non-zero entries, indices ascending.
public struct SparseVector: Sendable, Equatable {
    /// Vocabulary ids with a non-zero weight, ascending.
    public var indices: [Int]
    /// The weight of each index (> 0 for SPLADE).
    public var values: [Float]
    /// The length of the dense vector (the vocabulary size).
    public var dimension: Int

    public init(indices: [Int], values: [Float], dimension: Int) {
        precondition(indices.count == values.count, "SparseVector: \(indices.count) indices for \(values.count) values")
        self.indices = indices
        self.values = values
        self.dimension = dimension
    }

    /// The non-zero entries of `dense`, keeping only the `maxActiveDims` largest when given
    /// (sentence-transformers' `select_max_active_dims`: torch.topk of |value|; ties go to the lower index).
    public init(dense: UnsafeBufferPointer<Float>, maxActiveDims: Int? = nil) {
        var nonZero = dense.indices.filter { dense[$0] != 0 }
        if let k = maxActiveDims, nonZero.count > k {
            nonZero = Array(nonZero.sorted { abs(dense[$0]) != abs(dense[$1]) ? abs(dense[$0]) > abs(dense[$1]) : $0 < $1 }.prefix(k)).sorted()
        }
        self.init(indices: nonZero, values: nonZero.map { dense[$0] }, dimension: dense.count)
    }

    /// The dense form: `dimension` values, zero outside `indices`.
    public var dense: [Float] {
        var d = [Float](repeating: 0, count: dimension)
        for (i, v) in zip(indices, values) { d[i] = v }
        return d
    }
}

extension SparseVector {
    /// `{"indices":[...],"values":[...]}`: one line of `encoder run`'s sparse JSON Lines output,
    /// each value in the shortest form that reads back as the same float32.
    public var jsonObject: String {
        "{\"indices\":[" + indices.map(String.init).joined(separator: ",") + "],\"values\":["
            + values.map(\.description).joined(separator: ",") + "]}"
    }
}
