import Foundation
import TransformerEncoder
import Tokenization

/// SPLADE sparse vectors from a sentence-transformers `SparseEncoder` folder: a `BertForMaskedLM`
/// checkpoint (modules.json: a fill-mask `Transformer`, or 5.x's `MLMTransformer`) and `SpladePooling`.
///
/// ```swift
/// let splade = try SparseEncoder(contentsOf: URL(fileURLWithPath: "Models/splade"))
/// let vectors = try splade.encode(["what is the capital of France?"])  // [SparseVector]
/// ```
///
/// The vectors have the non-zero indices and values (within 1e-4 relative, 1e-5 absolute below 0.1:
/// float32's own limit, see Scripts/splade-precision.py) of
/// `SparseEncoder.encode` for the same folder. Tokenization, truncation, prompts and the
/// length-sorted batching are the dense encoder's (``SentenceEncoder``); the vocabulary-sized
/// logits are computed a chunk of token rows at a time and pooled as they come, so no
/// [tokens x vocabulary] matrix is ever held. Immutable after loading, safe to share between threads.
public final class SparseEncoder: Sendable {
    /// Tokenizer, transformer and batching, loaded as for a dense model.
    public let base: SentenceEncoder
    /// `BertOnlyMLMHead`.
    public let head: MaskedLMHead
    /// The SpladePooling module.
    public let pooling: SpladePooling

    /// The length of the dense form of every vector: the vocabulary size.
    public var dimension: Int { head.vocabSize }
    /// `max_active_dims` of config_sentence_transformers.json: the default top-k.
    public var maxActiveDims: Int? { base.sentenceConfig.maxActiveDims }
    public var warnings: [String] { base.warnings }
    public var maxSequenceLength: Int { base.maxSequenceLength }

    /// Loads a SparseEncoder folder (or the `model.safetensors` inside it). A dense
    /// sentence-transformers folder is refused, naming ``SentenceEncoder``.
    public init(contentsOf url: URL, options: SentenceEncoder.Options = SentenceEncoder.Options()) throws(SentenceEmbeddingsError) {
        base = try SentenceEncoder(contentsOf: url, options: options, sparse: true)
        pooling = base.sentenceConfig.splade!
        let weights = base.folder.appendingPathComponent("model.safetensors").path
        do { head = try MaskedLMHead(config: base.encoderConfig, weights: base.checkpoint) } catch {
            throw .weights(file: weights, error)
        }
        if let d = pooling.dimension, d != head.vocabSize {
            throw .invalidConfig(file: base.folder.appendingPathComponent("modules.json").path,
                                 reason: "SpladePooling's embedding_dimension is \(d) but config.json's vocab_size is \(head.vocabSize)")
        }
    }

    /// Whether `folder`'s modules.json describes a SparseEncoder (its second module is SpladePooling),
    /// so a caller can pick the loader; false when it cannot be read.
    public static func describes(folder: URL) -> Bool {
        guard let modules = try? SentenceTransformersConfig.readModules(folder.appendingPathComponent("modules.json")) else { return false }
        return modules.count >= 2 && modules[1].kind == .spladePooling
    }

    /// The sparse vector of each text; element `i` belongs to `texts[i]`.
    public func encode(_ texts: [String], options: SparseEncodingOptions = SparseEncodingOptions()) throws(SentenceEmbeddingsError) -> [SparseVector] {
        try embed(texts.map(EncoderInput.text), options: options).vectors
    }

    /// Encodes texts or token ids (one forward pass per length-sorted batch) into sparse vectors.
    /// An input error names the input's index.
    public func embed(_ inputs: [EncoderInput], options: SparseEncodingOptions) throws(SentenceEmbeddingsError) -> SparseEmbeddings {
        if case .chunk = options.truncation {
            throw .invalidOptions("chunking long inputs is not supported for sparse vectors; truncate them (the default) or refuse them")
        }
        let prepared = try base.prepare(EncodingOptions(promptName: options.promptName, prompt: options.prompt, truncation: options.truncation))
        var tokenized: [TokenizedInput] = []
        tokenized.reserveCapacity(inputs.count)
        for (i, input) in inputs.enumerated() {
            do { tokenized.append(try base.tokenize(input, prepared: prepared)) } catch { throw error.at(index: i) }
        }
        return try embed(EmbeddingRequest(inputs: tokenized, prepared: prepared), maxActiveDims: options.maxActiveDims)
    }

    /// Encodes inputs tokenized by ``base`` (``SentenceEncoder/tokenize(_:prepared:)``, as the
    /// server does) with `maxActiveDims` or else the model's own top-k.
    public func embed(_ request: EmbeddingRequest, maxActiveDims k: Int? = nil) throws(SentenceEmbeddingsError) -> SparseEmbeddings {
        try embed([SparseRequest(request, maxActiveDims: k)])[0]
    }

    /// Several requests, each with its own prompt, truncation and top-k, in one set of forward
    /// passes (the server's dynamic batching): result `k` belongs to `requests[k]`. It equals,
    /// bit for bit, the vectors of all the requests' inputs encoded in one call, each then cut to
    /// its own request's top-k; against a request encoded alone it differs only by float32
    /// rounding, as any other batch does (a batch of another size can take another GEMM kernel).
    public func embed(_ requests: [SparseRequest]) throws(SentenceEmbeddingsError) -> [SparseEmbeddings] {
        var encodings: [Encoding] = []
        var topK: [Int?] = []
        for request in requests {
            if let k = request.maxActiveDims, k < 1 { throw .invalidOptions("max_active_dims must be a positive integer, got \(k)") }
            let inputs = request.tokenized.inputs
            guard inputs.allSatisfy({ $0.windows.count == 1 }) else {
                throw .invalidOptions("chunking long inputs is not supported for sparse vectors; truncate them (the default) or refuse them")
            }
            encodings += inputs.map(\.encoding)
            topK += repeatElement(request.maxActiveDims ?? maxActiveDims, count: inputs.count)
        }
        let vectors: [SparseVector]
        do { vectors = try pool(encodings, maxActiveDims: topK) } catch { throw .model(error) }
        var first = 0
        return requests.map { request in
            let inputs = request.tokenized.inputs
            defer { first += inputs.count }
            return SparseEmbeddings(vectors: Array(vectors[first..<(first + inputs.count)]), tokenCounts: inputs.map(\.tokenCount),
                                    truncatedCount: inputs.count { $0.truncated })
        }
    }

    /// Forward passes, then per batch the head's logits a chunk of rows at a time, each chunk
    /// folded into the pooled vectors of the sequences it touches before the next is computed.
    /// A sequence is written out (and its buffer reused) once its last row is pooled, so the
    /// working memory is two [C x V] blocks (logits, open sequences), whatever the batch holds.
    /// Vector `i` keeps its largest `maxActiveDims[i]` values (all of them for nil).
    func pool(_ encodings: [Encoding], maxActiveDims: [Int?]) throws(EncoderError) -> [SparseVector] {
        precondition(maxActiveDims.count == encodings.count, "pool: \(maxActiveDims.count) top-k for \(encodings.count) sequences")
        let v = head.vocabSize
        var vectors = [SparseVector](repeating: SparseVector(indices: [], values: [], dimension: v), count: encodings.count)
        try vectors.withUnsafeMutableBufferPointer { (buffer) throws(EncoderError) in
            let out = SharedRows(base: buffer)
            try base.forwardBatches.forEach(encodings) { [head, pooling] members, hidden in
                // The sequences are packed in order, so those one chunk touches are consecutive, at
                // most C of them with rows: the k-th sequence with rows pools into slot k mod C.
                let ranges = hidden.sequenceRanges
                let slots = max(1, min(MaskedLMHead.defaultChunkRows, hidden.tokenCount))
                var ordinal: [Int] = []
                var withRows = 0
                for r in ranges { ordinal.append(withRows); if !r.isEmpty { withRows += 1 } }
                var open = [Float](repeating: 0, count: slots * v)  // [C x V]
                open.withUnsafeMutableBufferPointer { p in
                    func slot(_ s: Int) -> UnsafeMutableBufferPointer<Float> {
                        let k = ordinal[s] % slots
                        return UnsafeMutableBufferPointer(rebasing: p[(k * v)..<((k + 1) * v)])
                    }
                    var next = 0  // the first sequence not yet written out
                    // Writes out every sequence whose rows all lie before `end`.
                    func finish(before end: Int) {
                        while next < ranges.count, ranges[next].upperBound <= end {
                            let i = members[next]
                            if ranges[next].isEmpty {
                                out.base[i] = SparseVector(indices: [], values: [], dimension: v)
                            } else {
                                let pooled = slot(next)
                                out.base[i] = SparseVector(dense: UnsafeBufferPointer(pooled), maxActiveDims: maxActiveDims[i])
                                pooled.update(repeating: 0)
                            }
                            next += 1
                        }
                    }
                    hidden.values.withUnsafeBufferPointer { h in
                        head.forEachLogitChunk(h, rows: hidden.tokenCount, chunkRows: slots) { first, logits in
                            let chunk = first..<(first + logits.count / v)
                            var s = next
                            while s < ranges.count, ranges[s].lowerBound < chunk.upperBound {
                                let rows = ranges[s].clamped(to: chunk)
                                if !rows.isEmpty {
                                    let start = (rows.lowerBound - first) * v
                                    pooling.accumulate(UnsafeBufferPointer(rebasing: logits[start..<(start + rows.count * v)]),
                                                       rows: rows.count, into: slot(s))
                                }
                                s += 1
                            }
                            finish(before: chunk.upperBound)
                        }
                    }
                    finish(before: Int.max)
                }
            }
        }
        return vectors
    }
}

/// The choices of `SparseEncoder.encode`: prompt, `max_active_dims`, and what happens to over-long inputs.
public struct SparseEncodingOptions: Sendable, Equatable {
    /// `prompt_name`: one of the model's `prompts`.
    public var promptName: String?
    /// `prompt`: text prepended to every input; wins over ``promptName``.
    public var prompt: String?
    /// `max_active_dims`: keep the largest this many values of each vector; nil uses the model's
    /// `max_active_dims` (config_sentence_transformers.json), if any.
    public var maxActiveDims: Int?
    /// ``TruncationPolicy/truncate`` (sentence-transformers) or ``TruncationPolicy/error``;
    /// chunking is refused (no averaging rule exists for sparse vectors).
    public var truncation: TruncationPolicy

    public init(promptName: String? = nil, prompt: String? = nil, maxActiveDims: Int? = nil, truncation: TruncationPolicy = .truncate) {
        self.promptName = promptName
        self.prompt = prompt
        self.maxActiveDims = maxActiveDims
        self.truncation = truncation
    }
}

/// Inputs tokenized by ``SparseEncoder/base`` under one prompt and truncation, with the top-k
/// their vectors are cut to: one request of ``SparseEncoder/embed(_:)-([SparseRequest])``.
public struct SparseRequest: Sendable {
    /// The inputs, as ``SentenceEncoder/tokenize(_:prepared:)`` gives them.
    public let tokenized: EmbeddingRequest
    /// `max_active_dims`: keep each vector's largest this many values; nil uses the model's own.
    public let maxActiveDims: Int?

    public init(_ tokenized: EmbeddingRequest, maxActiveDims: Int? = nil) {
        self.tokenized = tokenized
        self.maxActiveDims = maxActiveDims
    }

    /// The tokens the forward passes run for this request.
    public var tokenCount: Int { tokenized.tokenCount }
}

/// Sparse vectors of several inputs, with token counts for reporting.
public struct SparseEmbeddings: Sendable {
    /// Element `i` belongs to input `i`.
    public let vectors: [SparseVector]
    /// Tokens of each input after truncation, `[CLS]` and `[SEP]` included.
    public let tokenCounts: [Int]
    /// How many inputs were cut at the maximum sequence length.
    public let truncatedCount: Int
}
