import TransformerEncoder
import Foundation
import SafeTensors
import Tokenization

/// Sentence embeddings from a sentence-transformers BERT checkpoint folder.
///
/// ```swift
/// let encoder = try SentenceEncoder(contentsOf: URL(fileURLWithPath: "Models/all-MiniLM-L6-v2"))
/// let vectors = try encoder.encode(["A man is playing a guitar.", "A woman slices an onion."])
/// ```
///
/// The vectors are those sentence-transformers computes for the same folder
/// (cosine >= 0.99999): the same tokenizer, truncation length, pooling and
/// normalization, read from the folder's own files.
///
/// An encoder is immutable after loading and safe to use from many threads at once.
/// The arithmetic of the encoder's linear layers (TransformerEncoder's ``TransformerEncoder/Precision``).
public typealias Precision = TransformerEncoder.Precision

public final class SentenceEncoder: Sendable {
    /// Settings that change how work is split, never the vectors; and ``precision``, which does.
    public struct Options: Sendable {
        /// The most tokens one forward pass holds; texts are grouped by length up to this budget.
        /// Each worker's working memory grows with it (about 9 KiB per token for MiniLM);
        /// 512 rows already keep the GEMMs at their large-matrix rate, so a larger budget costs
        /// memory without speed (Scripts/BENCHMARKS.md).
        public var maxBatchTokens: Int = 512
        /// Threads that run forward passes at once. Above 1, the encoder sets OpenBLAS to one
        /// thread for the whole process (its threads and ours must not be combined) and runs
        /// separate batches on each of its own workers; when there are fewer batches than
        /// threads (one short text is one batch) the spare threads share each forward pass.
        /// 1 leaves OpenBLAS's threading as it is.
        public var threads: Int = min(2, max(1, ProcessInfo.processInfo.activeProcessorCount))
        /// The arithmetic of the linear layers: `.float32` (the default, sentence-transformers'
        /// vectors) or `.int8` (dynamic quantization: faster and smaller, slightly different
        /// vectors; README "Precision").
        public var precision: Precision = .float32

        public init() {}
    }

    /// The model folder.
    public let folder: URL
    /// The checkpoint the weights come from.
    public let checkpoint: SafeTensorsFile
    /// The BERT architecture from `config.json`.
    public let encoderConfig: EncoderConfig
    /// Pooling, normalization, truncation and prompts from the sentence-transformers files.
    public let sentenceConfig: SentenceTransformersConfig
    /// The tokenizer `tokenizer.json` (or `vocab.txt`) describes.
    public let tokenizer: any Tokenizer
    /// Texts are truncated to this many tokens, `[CLS]` and `[SEP]` included.
    public let maxSequenceLength: Int
    /// Where ``maxSequenceLength`` comes from, in words.
    public let maxSequenceLengthReason: String
    /// Things in the folder that disagree or look wrong but do not stop loading.
    public let warnings: [String]
    public let options: Options
    let model: EncoderModel
    /// Length-sorted, token-budgeted forward passes on Options.threads workers (Batching.swift).
    let forwardBatches: ForwardBatches
    /// The modules after Pooling (Dense with its weights, Normalize), in modules.json order.
    let outputLayers: [OutputLayer]

    /// The length of every embedding with the default options: the output of the last module,
    /// cut to `truncate_dim` of config_sentence_transformers.json when it sets one.
    public var dimension: Int { Swift.min(sentenceConfig.truncateDim ?? fullDimension, fullDimension) }
    /// The length of the embedding the modules produce, before any truncation: the most
    /// `EncodingOptions.dimensions` may ask for.
    public var fullDimension: Int { sentenceConfig.outputDimension }
    /// How token embeddings become one vector.
    public var pooling: Pooling { sentenceConfig.pooling }
    /// Whether embeddings are scaled to unit length (a Normalize module).
    public var normalizes: Bool { sentenceConfig.normalize }
    /// Tensors of the checkpoint the encoder does not use (a pooler, an LM head, buffers).
    public var unusedTensors: [String] { model.unexpectedTensors }

    /// Loads a model from its folder or from the `model.safetensors` inside it.
    public convenience init(contentsOf url: URL, options: Options = Options()) throws(SentenceEmbeddingsError) {
        try self.init(contentsOf: url, options: options, sparse: false)
    }

    /// `sparse`: load a SparseEncoder folder (modules.json ending in SpladePooling) for
    /// ``SparseEncoder``, which owns the head; a dense load refuses one.
    init(contentsOf url: URL, options: Options, sparse: Bool) throws(SentenceEmbeddingsError) {
        let (folder, weightsURL) = try Self.locate(url)
        self.folder = folder
        self.options = options
        precondition(options.threads >= 1 && options.maxBatchTokens >= 1, "SentenceEncoder.Options: threads and maxBatchTokens must be at least 1")
        if options.threads > 1 { EncoderModel.setBLASThreadCount(1) }
        var warnings: [String] = []

        let configURL = folder.appendingPathComponent("config.json")
        do { encoderConfig = try EncoderConfig.load(from: configURL) } catch { throw .model(error) }
        // A cross-encoder has no pooling to read; say what it is instead of what it lacks.
        if Reranker.isCrossEncoder(folder) {
            throw .invalidConfig(file: configURL.path, reason:
                "architectures names a *ForSequenceClassification model, a cross-encoder that scores (query, document) pairs and makes no embeddings; load it with Reranker (encoder rerank, or encoder serve's rerank routes)")
        }
        sentenceConfig = try SentenceTransformersConfig.load(folder: folder)
        if (sentenceConfig.splade != nil) != sparse {
            throw .invalidConfig(file: folder.appendingPathComponent("modules.json").path, reason: sparse
                ? "this is a dense sentence-transformers folder (no SpladePooling module); load it with SentenceEncoder"
                : "this is a sparse SparseEncoder folder (SpladePooling module): load it with SparseEncoder; `encoder run` writes its sparse vectors")
        }
        do { checkpoint = try SafeTensorsFile(contentsOf: weightsURL) } catch { throw .checkpoint(error) }
        do { model = try EncoderModel(config: encoderConfig, weights: checkpoint, precision: options.precision,
                                     threads: options.threads) } catch {
            throw .weights(file: weightsURL.path, error)
        }
        forwardBatches = ForwardBatches(model: model, options: options, scratchPool: ScratchPool(limit: options.threads))
        tokenizer = try Self.loadTokenizer(folder: folder, config: encoderConfig, configURL: configURL, lowercase: sentenceConfig.doLowerCase)
        warnings += tokenizer.warnings
        if let reason = model.packingFallback {
            warnings.append("the linear layers run on OpenBLAS with the checkpoint's weights (slower): \(reason)")
        }
        outputLayers = try Self.loadOutputLayers(sentenceConfig, folder: folder)
        if let t = sentenceConfig.truncateDim, t > sentenceConfig.outputDimension {
            warnings.append("config_sentence_transformers.json truncate_dim \(t) is more than the \(sentenceConfig.outputDimension) values the model produces; embeddings keep all \(sentenceConfig.outputDimension)")
        }

        if !sparse, sentenceConfig.pooling.tokenDimension != encoderConfig.hiddenSize {
            throw .invalidConfig(
                file: folder.appendingPathComponent("1_Pooling/config.json").path,
                reason: "word_embedding_dimension is \(sentenceConfig.pooling.tokenDimension) but config.json's hidden_size is \(encoderConfig.hiddenSize)")
        }

        let resolved = Self.resolveMaxLength(
            sentenceConfig: sentenceConfig, modelMaxLength: tokenizer.modelMaxLength,
            maxPositions: encoderConfig.maxSequenceLength)
        maxSequenceLength = resolved.length
        maxSequenceLengthReason = resolved.reason
        warnings += resolved.warnings
        if let t = tokenizer.truncationMaxLength, t != resolved.length {
            warnings.append(
                "tokenizer.json truncates at \(t) tokens but sentence-transformers passes max_length=\(resolved.length) explicitly, which overrides it; \(resolved.length) is used")
        }
        self.warnings = warnings
    }

    /// The folder's tokenizer, for weights of `config` (read from `configURL`).
    static func loadTokenizer(folder: URL, config: EncoderConfig, configURL: URL, lowercase: Bool) throws(SentenceEmbeddingsError) -> any Tokenizer {
        // sentence-transformers' do_lower_case puts a Lowercase normalizer in front of the
        // tokenizer's own (Transformer.__init__), after the raw-text split of special tokens.
        do throws(TokenizationError) {
            // A vocabulary larger than the embedding matrix (vocab_size, checked against the
            // weights) cannot belong to these weights: refused while loading, before a
            // 10-million-line vocab.txt is read.
            let loaded = try Tokenization.loadTokenizer(folder: folder, maxVocabularySize: config.vocabSize)
            return lowercase ? loaded.lowercasingFirst() : loaded
        } catch .vocabularyTooLarge(let path, let found, let limit) {
            throw .invalidConfig(
                file: configURL.path,
                reason: "vocab_size is \(limit) but \(path) has \(found); the tokenizer files do not belong to these weights")
        } catch { throw .tokenizer(error) }
    }

    /// The folder and weights file for a path that names either.
    static func locate(_ url: URL) throws(SentenceEmbeddingsError) -> (folder: URL, weights: URL) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw .modelNotFound(path: url.path)
        }
        let (folder, weights) = isDirectory.boolValue
            ? (url, url.appendingPathComponent("model.safetensors")) : (url.deletingLastPathComponent(), url)
        if isDirectory.boolValue, !FileManager.default.fileExists(atPath: weights.path) { throw .missingWeights(folder: url.path) }
        // Refuse a FIFO, a device (a link to /dev/zero) or a folder before reading the configs
        // beside it, so the message names the path the user gave.
        let type = (try? FileManager.default.attributesOfItem(atPath: weights.resolvingSymlinksInPath().path))?[.type] as? FileAttributeType
        if let type, type != .typeRegular {
            let kind: String
            switch type {
            case .typeDirectory: kind = "a directory"
            case .typeCharacterSpecial: kind = "a character device"
            case .typeBlockSpecial: kind = "a block device"
            case .typeSocket: kind = "a socket"
            default: kind = "a FIFO or other special file"
            }
            throw .checkpoint(.notARegularFile(file: weights.path, kind: kind))
        }
        return (folder, weights)
    }

    /// sentence-transformers' rule (`Transformer.__init__`, 6.x): `max_seq_length` of
    /// sentence_bert_config.json when given; otherwise the tokenizer's `model_max_length`
    /// capped at `max_position_embeddings` (here the tokens the position table holds, which is
    /// 2 fewer for RoBERTa and MPNet: where sentence-transformers would pass 514 and PyTorch fail
    /// on the 513th token, this caps). tokenizer.json's own truncation never applies,
    /// because sentence-transformers passes `max_length` explicitly.
    static func resolveMaxLength(sentenceConfig: SentenceTransformersConfig, modelMaxLength: Int?, maxPositions: Int)
        -> (length: Int, reason: String, warnings: [String])
    {
        resolveMaxLength(maxSeqLength: sentenceConfig.maxSeqLength, modelMaxLength: modelMaxLength, maxPositions: maxPositions)
    }

    /// The same rule from `max_seq_length` alone (a cross-encoder's folder has no Pooling).
    static func resolveMaxLength(maxSeqLength: Int?, modelMaxLength: Int?, maxPositions: Int)
        -> (length: Int, reason: String, warnings: [String])
    {
        if let n = maxSeqLength {
            if n > maxPositions {
                return (maxPositions, "the position table of config.json (sentence_bert_config.json asks for \(n), more than the model has positions)",
                        ["sentence_bert_config.json max_seq_length \(n) exceeds the \(maxPositions) positions of config.json; using \(maxPositions)"])
            }
            return (n, "max_seq_length of sentence_bert_config.json, which sentence-transformers uses", [])
        }
        if let m = modelMaxLength, m < maxPositions {
            return (m, "model_max_length of tokenizer_config.json (no max_seq_length in sentence_bert_config.json)", [])
        }
        return (maxPositions, "the position table of config.json (no max_seq_length in sentence_bert_config.json)", [])
    }

    // MARK: Encoding

    /// The token ids the model sees for `text` without a prompt (lowercased when
    /// sentence_bert_config.json says `do_lower_case`), truncated to ``maxSequenceLength``.
    public func tokenize(_ text: String) -> Encoding {
        tokenize(text, prompt: nil)
    }

    /// Embeds each text with the model's default prompt and dimensions; row `i` belongs to `texts[i]`.
    public func encode(_ texts: [String]) throws(SentenceEmbeddingsError) -> [[Float]] {
        try encode(texts, options: EncodingOptions())
    }

    /// Embeds one text with the model's default prompt and dimensions.
    public func encode(_ text: String) throws(SentenceEmbeddingsError) -> [Float] {
        try encode([text])[0]
    }

    /// Embeds each text with `options`; row `i` belongs to `texts[i]`.
    public func encode(_ texts: [String], options: EncodingOptions) throws(SentenceEmbeddingsError) -> [[Float]] {
        let batch = try embed(texts.map(EncoderInput.text), options: options)
        return (0..<batch.count).map { Array(batch[$0]) }
    }

    /// Embeds each text after the model's prompt named `promptName` (e.g. "query").
    public func encode(_ texts: [String], promptName: String) throws(SentenceEmbeddingsError) -> [[Float]] {
        try encode(texts, options: EncodingOptions(promptName: promptName))
    }

    /// Embeds each text after the literal `prompt` (e.g. "query: ").
    public func encode(_ texts: [String], prompt: String) throws(SentenceEmbeddingsError) -> [[Float]] {
        try encode(texts, options: EncodingOptions(prompt: prompt))
    }

    /// Embeds `texts` into one row-major matrix, with token counts for reporting, using the
    /// model's default prompt (`default_prompt_name`) and dimensions (`truncate_dim`).
    public func embed(_ texts: [String]) throws(SentenceEmbeddingsError) -> Embeddings {
        try embed(texts.map(EncoderInput.text), options: EncodingOptions())
    }

    /// Embeds `texts` with `options` into one row-major matrix.
    public func embed(_ texts: [String], options: EncodingOptions) throws(SentenceEmbeddingsError) -> Embeddings {
        try embed(texts.map(EncoderInput.text), options: options)
    }

    /// Embeds `inputs` (texts or token ids) with `options` into one row-major matrix: the one path
    /// every caller (`encoder run`, the batch job, the server) goes through, in steps:
    /// ``prepare(_:)``, ``tokenize(_:prepared:)`` per input, ``embed(_:)``.
    /// An input error names the input's index.
    public func embed(_ inputs: [EncoderInput], options: EncodingOptions) throws(SentenceEmbeddingsError) -> Embeddings {
        let prepared = try prepare(options)
        var tokenized: [TokenizedInput] = []
        tokenized.reserveCapacity(inputs.count)
        for (i, input) in inputs.enumerated() {
            do { tokenized.append(try tokenize(input, prepared: prepared)) } catch { throw error.at(index: i) }
        }
        return try embed(EmbeddingRequest(inputs: tokenized, prepared: prepared))
    }

    /// Embeds one request's tokenized inputs.
    public func embed(_ request: EmbeddingRequest) throws(SentenceEmbeddingsError) -> Embeddings {
        try embed([request])[0]
    }

    /// Embeds several requests, each under its own options, in one set of forward passes (the
    /// server's dynamic batching): result `k` belongs to `requests[k]` and is the same as
    /// embedding that request alone up to float rounding (a batch's row count chooses the GEMM
    /// kernel, so the last bits can differ; every option of the request is its own).
    ///
    /// Forward passes over groups of similar length, pooling each sequence's rows (leaving out a
    /// text's prompt tokens when they are not pooled), the output modules, then per input the
    /// average of its windows and the request's truncation and normalization.
    public func embed(_ requests: [EmbeddingRequest]) throws(SentenceEmbeddingsError) -> [Embeddings] {
        var sequences: [Encoding] = []
        var skips: [Int] = []
        for request in requests {
            for input in request.inputs {
                for (w, window) in input.windows.enumerated() {
                    sequences.append(window)
                    skips.append(w == 0 ? input.poolingSkip : 0)
                }
            }
        }
        var pooled = [Float](repeating: 0, count: sequences.count * pooling.outputDimension)
        // Length-sorted, token-budgeted batches on Options.threads workers (Batching.swift).
        do { try embedBatches(sequences, poolingSkips: skips, into: &pooled) } catch { throw .model(error) }
        let rows = runOutputModules(pooled: consume pooled, count: sequences.count)
        var first = 0
        return requests.map { request in
            let e = finish(rows, from: first, request)
            first += request.inputs.reduce(0) { $0 + $1.windows.count }
            return e
        }
    }
}

/// Inputs tokenized under one set of options, ready for ``SentenceEncoder/embed(_:)-(EmbeddingRequest)``.
public struct EmbeddingRequest: Sendable {
    public let inputs: [TokenizedInput]
    public let prepared: PreparedEncoding

    public init(inputs: [TokenizedInput], prepared: PreparedEncoding) {
        self.inputs = inputs
        self.prepared = prepared
    }

    /// The tokens the forward passes run for this request (every window counted).
    public var tokenCount: Int { inputs.reduce(0) { $0 + $1.windows.reduce(0) { $0 + $1.count } } }
}

/// Embeddings of several texts as one row-major matrix [count x dimension].
public struct Embeddings: Sendable {
    public let dimension: Int
    /// Row `i` is the embedding of text `i`.
    public let values: [Float]
    /// Tokens of each text after truncation, `[CLS]` and `[SEP]` included.
    public let tokenCounts: [Int]
    /// How many texts were cut at the maximum sequence length.
    public let truncatedCount: Int
    /// How many texts were embedded as several windows (``TruncationPolicy/chunk(overlap:)``).
    public let chunkedCount: Int

    public init(dimension: Int, values: [Float], tokenCounts: [Int], truncatedCount: Int, chunkedCount: Int) {
        precondition(values.count == dimension * tokenCounts.count, "Embeddings: \(values.count) values for \(tokenCounts.count) rows of \(dimension)")
        self.dimension = dimension
        self.values = values
        self.tokenCounts = tokenCounts
        self.truncatedCount = truncatedCount
        self.chunkedCount = chunkedCount
    }

    public var count: Int { tokenCounts.count }

    public subscript(i: Int) -> ArraySlice<Float> { values[(i * dimension)..<((i + 1) * dimension)] }
}
