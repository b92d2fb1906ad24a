import Foundation

/// One way of turning token embeddings into a sentence embedding, named as in
/// sentence-transformers' `Pooling.POOLING_MODES`.
public enum PoolingMode: String, Sendable, CaseIterable {
    case cls
    case max
    case mean
    case meanSqrtLen = "mean_sqrt_len_tokens"
    case weightedMean = "weightedmean"
    case lastToken = "lasttoken"
}

/// The pooling module: its modes, concatenated in order, over token embeddings of width `tokenDimension`.
public struct Pooling: Sendable, Equatable {
    public var modes: [PoolingMode]
    /// The width of one token embedding (the model's hidden size).
    public var tokenDimension: Int
    /// Whether prompt tokens take part in pooling (`include_prompt`).
    public var includePrompt: Bool

    public init(modes: [PoolingMode], tokenDimension: Int, includePrompt: Bool = true) {
        self.modes = modes
        self.tokenDimension = tokenDimension
        self.includePrompt = includePrompt
    }

    /// The width of the pooled vector: one `tokenDimension` block per mode.
    public var outputDimension: Int { modes.count * tokenDimension }

    /// Pools the token rows `rows` of `hidden` ([tokens x tokenDimension], row-major) into
    /// `output` (`outputDimension` values), following `Pooling._forward_padded` of
    /// sentence-transformers with right padding, where every row of `rows` is a real token.
    ///
    /// - Parameter skip: leading rows left out of pooling (prompt tokens when `includePrompt` is false).
    func pool(_ hidden: UnsafeBufferPointer<Float>, rows: Range<Int>, skip: Int = 0, into output: UnsafeMutableBufferPointer<Float>) {
        let d = tokenDimension
        precondition(output.count == outputDimension && rows.upperBound * d <= hidden.count)
        let pooled = (rows.lowerBound + min(skip, rows.count))..<rows.upperBound
        for (m, mode) in modes.enumerated() {
            let out = UnsafeMutableBufferPointer(rebasing: output[(m * d)..<((m + 1) * d)])
            out.initialize(repeating: 0)
            switch mode {
            case .cls:
                // first_indices = attention_mask.argmax(dim=1): the first token still in the mask;
                // when the prompt masks every token, argmax of all zeros is position 0 ([CLS]).
                guard let first = pooled.first ?? rows.first else { continue }
                for j in 0..<d { out[j] = hidden[first * d + j] }
            case .lastToken:
                guard let last = pooled.last else { continue }
                for j in 0..<d { out[j] = hidden[last * d + j] }
            case .max:
                // masked_fill(mask == 0, -inf).max(dim=1)
                guard !pooled.isEmpty else { continue }
                for j in 0..<d { out[j] = -.infinity }
                for r in pooled {
                    for j in 0..<d { out[j] = Swift.max(out[j], hidden[r * d + j]) }
                }
            case .mean, .meanSqrtLen:
                // sum(h * mask) / clamp(sum(mask), min=1e-9), or / sqrt(...) for mean_sqrt_len_tokens
                for r in pooled {
                    for j in 0..<d { out[j] += hidden[r * d + j] }
                }
                let count = Swift.max(Float(pooled.count), 1e-9)
                let denominator = mode == .mean ? count : count.squareRoot()
                for j in 0..<d { out[j] /= denominator }
            case .weightedMean:
                // weights = position + 1 (positions counted from the first real token)
                var weightSum: Float = 0
                for r in pooled {
                    let w = Float(r - rows.lowerBound + 1)
                    weightSum += w
                    for j in 0..<d { out[j] += w * hidden[r * d + j] }
                }
                let denominator = Swift.max(weightSum, 1e-9)
                for j in 0..<d { out[j] /= denominator }
            }
        }
    }
}

/// Scales `v` to unit length as `torch.nn.functional.normalize(p=2, eps=1e-12)` does:
/// `v / max(||v||, 1e-12)`, so a zero vector stays zero instead of becoming NaN.
func normalizeL2(_ v: UnsafeMutableBufferPointer<Float>) {
    var sumOfSquares: Float = 0
    for x in v { sumOfSquares += x * x }
    let norm = Swift.max(sumOfSquares.squareRoot(), 1e-12)
    for i in v.indices { v[i] /= norm }
}
