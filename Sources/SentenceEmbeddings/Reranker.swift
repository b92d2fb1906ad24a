import Foundation
import SafeTensors
import StrictJSON
import Tokenization
import TransformerEncoder

/// The function sentence-transformers' `CrossEncoder.predict` applies to the logits
/// (`activation_fn`). Only the torch modules published cross-encoders name are implemented; any
/// other `torch.` class is refused by name at load time rather than approximated.
public enum ScoreActivation: String, Sendable, CaseIterable {
    /// `torch.nn.modules.activation.Sigmoid`: 1 / (1 + e^-x), the default for one label.
    case sigmoid = "torch.nn.modules.activation.Sigmoid"
    /// `torch.nn.modules.linear.Identity`: the logits, the default for several labels.
    case identity = "torch.nn.modules.linear.Identity"
    /// `torch.nn.modules.activation.Tanh`.
    case tanh = "torch.nn.modules.activation.Tanh"

    /// The full dotted name or its short form (`torch.nn.Sigmoid`), as `import_from_string` resolves both.
    init?(configName: String) {
        guard configName.hasPrefix("torch.") else { return nil }
        switch configName.split(separator: ".").last.map(String.init) ?? configName {
        case "Sigmoid": self = .sigmoid
        case "Identity": self = .identity
        case "Tanh": self = .tanh
        default: return nil
        }
    }

    public func apply(_ x: Float) -> Float {
        switch self {
        case .sigmoid: 1 / (1 + Foundation.exp(-x))
        case .identity: x
        case .tanh: Foundation.tanh(x)
        }
    }
}

/// One (query, document) pair, encoded as one sequence with the tokenizer's pair template.
public struct RerankPair: Sendable, Equatable {
    public var query: String
    public var document: String

    public init(query: String, document: String) {
        self.query = query
        self.document = document
    }
}

/// Scores of several pairs, [count x labels] row-major: row `i` belongs to pair `i`.
public struct PairScores: Sendable, Equatable {
    public let labels: Int
    public let values: [Float]
    /// Tokens of each pair after truncation, specials included.
    public let tokenCounts: [Int]
    /// How many pairs were cut at the maximum sequence length.
    public let truncatedCount: Int

    public init(labels: Int, values: [Float], tokenCounts: [Int], truncatedCount: Int) {
        precondition(values.count == labels * tokenCounts.count, "PairScores: \(values.count) values for \(tokenCounts.count) rows of \(labels)")
        self.labels = labels
        self.values = values
        self.tokenCounts = tokenCounts
        self.truncatedCount = truncatedCount
    }

    public var count: Int { tokenCounts.count }

    public subscript(i: Int) -> ArraySlice<Float> { values[(i * labels)..<((i + 1) * labels)] }

    /// Pair indices with their (single-label) score, best first; ties keep the input order, as
    /// `CrossEncoder.rank` (a stable sort) does. At most `topK` when given.
    public func ranked(topK: Int? = nil) -> [(index: Int, score: Float)] {
        precondition(labels == 1, "PairScores.ranked: \(labels) labels; ranking needs one score per pair")
        let order = (0..<count).sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
        return order.prefix(Swift.max(0, topK ?? count)).map { ($0, values[$0]) }
    }
}

/// Pairs tokenized for one call, ready for ``Reranker/score(_:)-([RerankRequest])``.
public struct RerankRequest: Sendable {
    public let encodings: [Encoding]
    /// What is applied to the logits: the model's activation, or `.identity` for raw scores.
    public let activation: ScoreActivation

    public init(encodings: [Encoding], activation: ScoreActivation) {
        self.encodings = encodings
        self.activation = activation
    }

    /// The tokens the forward passes run for this request.
    public var tokenCount: Int { encodings.reduce(0) { $0 + $1.count } }
}

/// A cross-encoder reranker: scores (query, document) pairs from a sequence-classification
/// checkpoint folder (`BertForSequenceClassification`, `XLMRobertaForSequenceClassification`, ...)
/// as sentence-transformers' `CrossEncoder.predict` does.
///
/// ```swift
/// let reranker = try Reranker(contentsOf: URL(fileURLWithPath: "Models/ms-marco-MiniLM-L6-v2"))
/// let scores = try reranker.score(query: "capital of France", documents: ["Paris is ...", "Berlin is ..."])
/// print(scores.ranked())  // [(index: 0, score: 0.98), (index: 1, score: 0.01)]
/// ```
///
/// Each pair is one sequence built by the tokenizer's pair template (`[CLS] q [SEP] d [SEP]` with
/// token types 0 then 1; `<s> q </s></s> d </s>` for RoBERTa), truncated longest-first to
/// ``maxSequenceLength``; the head's logits go through ``activation``. Pairs run in the same
/// length-sorted, token-budgeted batches as ``SentenceEncoder``. Immutable after loading and safe
/// to use from many threads at once.
public final class Reranker: Sendable {
    public let folder: URL
    public let checkpoint: SafeTensorsFile
    public let encoderConfig: EncoderConfig
    public let classifier: SequenceClassifier
    public let tokenizer: any Tokenizer
    /// Pairs are truncated to this many tokens, specials included.
    public let maxSequenceLength: Int
    public let maxSequenceLengthReason: String
    /// The activation `CrossEncoder.predict` applies, and the file that says so.
    public let activation: ScoreActivation
    public let activationReason: String
    public let warnings: [String]
    public let options: SentenceEncoder.Options
    let forwardBatches: ForwardBatches

    /// Scores per pair (`num_labels`).
    public var numLabels: Int { classifier.numLabels }

    /// Loads a cross-encoder from its folder or from the `model.safetensors` inside it: the
    /// layout `CrossEncoder.save` writes (modules.json with one Transformer module), or a plain
    /// transformers folder as older cross-encoders were published.
    public init(contentsOf url: URL, options: SentenceEncoder.Options = SentenceEncoder.Options()) throws(SentenceEmbeddingsError) {
        precondition(options.threads >= 1 && options.maxBatchTokens >= 1, "SentenceEncoder.Options: threads and maxBatchTokens must be at least 1")
        let (folder, weightsURL) = try SentenceEncoder.locate(url)
        self.folder = folder
        self.options = options
        if options.threads > 1 { EncoderModel.setBLASThreadCount(1) }
        var warnings: [String] = []

        let configURL = folder.appendingPathComponent("config.json")
        let fields: JSONFields
        let classification: ClassificationConfig
        do {
            fields = try EncoderConfig.readFields(configURL)
            encoderConfig = try EncoderConfig(fields)
            classification = try ClassificationConfig(fields)
        } catch { throw .model(error) }
        let architectures = try reading { () throws(JSONFieldError) in
            try fields.optional("architectures")?.array().map { v throws(JSONFieldError) in try v.string() } ?? []
        }
        if let other = architectures.first(where: { !$0.hasSuffix("ForSequenceClassification") }) {
            throw .invalidConfig(file: configURL.path, reason:
                "architectures names \(other), not a sequence-classification model; a reranker is a *ForSequenceClassification checkpoint (a cross-encoder), load an embedding model with SentenceEncoder")
        }
        let crossConfig = try Self.readCrossEncoderFiles(folder: folder, numLabels: classification.numLabels, configFields: fields)
        activation = crossConfig.activation
        activationReason = crossConfig.reason
        warnings += crossConfig.warnings

        do { checkpoint = try SafeTensorsFile(contentsOf: weightsURL) } catch { throw .checkpoint(error) }
        do {
            classifier = try SequenceClassifier(config: encoderConfig, classification: classification, weights: checkpoint,
                                                precision: options.precision, threads: options.threads)
        } catch .invalidConfig(nil, let reason) {
            throw .invalidConfig(file: configURL.path, reason: reason)
        } catch { throw .weights(file: weightsURL.path, error) }
        forwardBatches = ForwardBatches(model: classifier.encoder, options: options, scratchPool: ScratchPool(limit: options.threads))
        tokenizer = try SentenceEncoder.loadTokenizer(folder: folder, config: encoderConfig, configURL: configURL, lowercase: crossConfig.doLowerCase)
        warnings += tokenizer.warnings

        let resolved = SentenceEncoder.resolveMaxLength(
            maxSeqLength: crossConfig.maxSeqLength, modelMaxLength: tokenizer.modelMaxLength, maxPositions: encoderConfig.maxSequenceLength)
        maxSequenceLength = resolved.length
        maxSequenceLengthReason = resolved.reason
        warnings += resolved.warnings
        self.warnings = warnings
    }

    /// Loads a model folder, or the model id's snapshot from the local Hugging Face cache.
    public convenience init(model name: String, options: SentenceEncoder.Options = SentenceEncoder.Options()) throws(SentenceEmbeddingsError) {
        try self.init(contentsOf: ModelLocation.resolve(name), options: options)
    }

    /// Whether the folder (or the folder of the file) `url` names holds a cross-encoder: its
    /// config.json's `architectures` name a `*ForSequenceClassification` class. False when that
    /// cannot be read (loading then reports why).
    public static func isCrossEncoder(_ url: URL) -> Bool {
        guard let (folder, _) = try? SentenceEncoder.locate(url),
              let fields = try? EncoderConfig.readFields(folder.appendingPathComponent("config.json")),
              let names = try? fields.optional("architectures")?.array() else { return false }
        return names.contains { (try? $0.string())?.hasSuffix("ForSequenceClassification") == true }
    }

    // MARK: The sentence-transformers files

    struct CrossEncoderFiles {
        var maxSeqLength: Int?
        var doLowerCase = false
        var activation: ScoreActivation
        var reason: String
        var warnings: [String] = []
    }

    /// modules.json (one Transformer module, if present), sentence_bert_config.json and the
    /// activation, resolved as `CrossEncoder.__init__` does (sentence-transformers 6.3):
    /// `activation_fn` of config_sentence_transformers.json, else config.json's
    /// `sentence_transformers.activation_fn` (4.x-5.x), else its `sbert_ce_default_activation_function`
    /// (< 4), else Sigmoid for one label and Identity for several. A class outside `torch.` is not
    /// trusted by sentence-transformers (without trust_remote_code), which warns and uses the default.
    static func readCrossEncoderFiles(folder: URL, numLabels: Int, configFields: JSONFields) throws(SentenceEmbeddingsError) -> CrossEncoderFiles {
        let modulesURL = folder.appendingPathComponent("modules.json")
        if FileManager.default.fileExists(atPath: modulesURL.path) {
            let modules = try SentenceTransformersConfig.readModules(modulesURL)
            guard modules.count == 1, modules[0].kind == .transformer, modules[0].path.isEmpty else {
                throw .invalidConfig(file: modulesURL.path, reason:
                    "a cross-encoder here is one Transformer module at the folder's root (as CrossEncoder.save writes it); this folder lists \(modules.count) module(s)")
            }
        }
        var files = CrossEncoderFiles(activation: numLabels == 1 ? .sigmoid : .identity,
                                      reason: numLabels == 1 ? "the default for one label (Sigmoid)" : "the default for \(numLabels) labels (Identity)")
        if let c = try SentenceTransformersConfig.readObjectIfPresent(folder.appendingPathComponent("sentence_bert_config.json")) {
            try reading { () throws(JSONFieldError) in
                files.maxSeqLength = try c.optional("max_seq_length")?.int(in: 1...)
                files.doLowerCase = try c.optional("do_lower_case")?.bool() ?? false
                _ = try c.optional("transformer_task")?.oneOf(["sequence-classification"],
                    hint: "a reranker is a sequence-classification cross-encoder") { $0 == "sequence-classification" ? $0 : nil }
            }
        }
        // The first place that names an activation decides.
        var named: (path: String, field: JSONField)?
        if let c = try SentenceTransformersConfig.readObjectIfPresent(folder.appendingPathComponent("config_sentence_transformers.json")),
           let field = c.optional("activation_fn"), field.json != .null {
            named = (try reading { () throws(JSONFieldError) in try field.string() }, field)
        }
        if named == nil, let st = configFields.optional("sentence_transformers"), st.json != .null {
            let field = try reading { () throws(JSONFieldError) in try st.object().optional("activation_fn") }
            if let field, field.json != .null { named = (try reading { () throws(JSONFieldError) in try field.string() }, field) }
        }
        if named == nil, let field = configFields.optional("sbert_ce_default_activation_function"), field.json != .null {
            named = (try reading { () throws(JSONFieldError) in try field.string() }, field)
        }
        if let (path, field) = named {
            if let activation = ScoreActivation(configName: path) {
                files.activation = activation
                files.reason = "\(field.keyPath) of \(field.file)"
            } else if path.hasPrefix("torch.") {
                throw .invalidField(field.invalid(ScoreActivation.allCases.map(\.rawValue).joined(separator: ", "),
                                                  hint: "only these activations are implemented"))
            } else {
                files.warnings.append("\(field.file): activation_fn \(path) is not a torch class; sentence-transformers does not load it without trust_remote_code and uses \(files.reason), as here")
            }
        }
        return files
    }

    // MARK: Scoring

    /// The pair as the model sees it: the tokenizer's pair template, truncated longest-first to
    /// ``maxSequenceLength`` (`truncate` true, as CrossEncoder does), or refused when longer
    /// (``SentenceEmbeddingsError/inputTooLong(index:tokens:limit:)``, index nil).
    public func tokenize(_ pair: RerankPair, truncate: Bool = true) throws(SentenceEmbeddingsError) -> Encoding {
        if truncate { return tokenizer.encode(pair.query, pair: pair.document, maxLength: maxSequenceLength) }
        let encoding = tokenizer.encode(pair.query, pair: pair.document)
        guard encoding.count <= maxSequenceLength else {
            throw .inputTooLong(index: nil, tokens: encoding.count, limit: maxSequenceLength)
        }
        return encoding
    }

    /// `CrossEncoder.predict` of each pair: row `i` of the result holds pair `i`'s ``numLabels``
    /// scores. `rawScores` leaves the activation out (the logits). An error names the pair's index.
    public func score(_ pairs: [RerankPair], truncate: Bool = true, rawScores: Bool = false) throws(SentenceEmbeddingsError) -> PairScores {
        var encodings: [Encoding] = []
        encodings.reserveCapacity(pairs.count)
        for (i, pair) in pairs.enumerated() {
            do { encodings.append(try tokenize(pair, truncate: truncate)) } catch { throw error.at(index: i) }
        }
        return try score([RerankRequest(encodings: encodings, activation: rawScores ? .identity : activation)])[0]
    }

    /// Scores `query` against each document, in the documents' order.
    public func score(query: String, documents: [String], truncate: Bool = true, rawScores: Bool = false) throws(SentenceEmbeddingsError) -> PairScores {
        try score(documents.map { RerankPair(query: query, document: $0) }, truncate: truncate, rawScores: rawScores)
    }

    /// Several requests' pairs in one set of forward passes (the server's dynamic batching):
    /// result `k` belongs to `requests[k]` and is the same as scoring that request alone.
    public func score(_ requests: [RerankRequest]) throws(SentenceEmbeddingsError) -> [PairScores] {
        let encodings = requests.flatMap(\.encodings)
        let c = numLabels
        var logits = [Float](repeating: 0, count: encodings.count * c)
        let classifier = classifier
        do {
            try forwardBatches.run(encodings, into: &logits) { hidden, members, out in
                for (k, i) in members.enumerated() {
                    classifier.logits(hidden, sequence: k, into: UnsafeMutableBufferPointer(rebasing: out[(i * c)..<((i + 1) * c)]))
                }
            }
        } catch { throw .model(error) }
        var first = 0
        return requests.map { request in
            defer { first += request.encodings.count }
            let values = logits[(first * c)..<((first + request.encodings.count) * c)].map(request.activation.apply)
            return PairScores(labels: c, values: values, tokenCounts: request.encodings.map(\.count),
                              truncatedCount: request.encodings.filter(\.overflowed).count)
        }
    }
}
