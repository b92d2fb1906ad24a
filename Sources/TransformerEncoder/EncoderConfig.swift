// Encoder hyper-parameters, read from a Hugging Face config.json of any supported family.
// Defaults equal transformers' <Family>Config.__init__ defaults
// (transformers/models/{bert,roberta,mpnet,distilbert}/configuration_*.py).
import Foundation
import StrictJSON

/// The FFN activation (`hidden_act`). Unknown names fail at load time.
public enum HiddenActivation: String, Sendable, CaseIterable {
    /// Exact GELU, 0.5·x·(1 + erf(x/√2)) (transformers `GELUActivation`).
    case gelu
    /// Tanh-approximated GELU (`NewGELUActivation`).
    case geluNew = "gelu_new"
    /// Tanh-approximated GELU as `torch.nn.functional.gelu(approximate="tanh")`.
    case geluPytorchTanh = "gelu_pytorch_tanh"
    /// max(x, 0).
    case relu
}

/// `position_embedding_type`. Only absolute positions are implemented.
public enum PositionEmbeddingType: String, Sendable, CaseIterable {
    case absolute
}

/// Encoder configuration (the fields that affect inference, plus the dropout values for
/// completeness), in BERT's terms whatever the family calls them.
public struct EncoderConfig: Sendable, Equatable {
    /// The architecture, from `model_type`.
    public var family: EncoderFamily
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var hiddenAct: HiddenActivation
    public var hiddenDropoutProb: Double
    public var attentionProbsDropoutProb: Double
    public var maxPositionEmbeddings: Int
    public var typeVocabSize: Int
    public var layerNormEps: Float
    public var positionEmbeddingType: PositionEmbeddingType
    public var padTokenId: Int?
    /// `model_type` as written in the file ("bert" when absent).
    public var modelType: String
    /// Rows of MPNet's relative-position bias table (`relative_attention_num_buckets`); the
    /// buckets used are always the first ``EncoderFamily/mpnetBuckets``.
    public var relativeAttentionNumBuckets: Int

    /// hidden / heads.
    public var headDim: Int { hiddenSize / numAttentionHeads }

    /// Position ids of a sequence start at this index of the position table: padding_idx + 1
    /// for the families that count positions after the padding id, else 0.
    public var firstPosition: Int { family.positionsFollowPadding ? (padTokenId ?? 0) + 1 : 0 }

    /// The longest sequence the position table holds (514 positions of XLM-RoBERTa are 512 tokens).
    public var maxSequenceLength: Int { maxPositionEmbeddings - firstPosition }

    /// `model_type` values accepted.
    public static let supportedModelTypes = EncoderFamily.modelTypes.keys.sorted()

    /// Upper bounds that reject corrupt or hostile configs before anything is allocated.
    /// They are far above any published BERT (bert-large: hidden 1024, 24 layers, FFN 4096).
    public static let limits = (
        vocabSize: 1 << 24, hiddenSize: 1 << 16, numHiddenLayers: 1 << 10,
        intermediateSize: 1 << 20, maxPositionEmbeddings: 1 << 20, typeVocabSize: 1 << 16
    )

    /// A configuration built in code (tests, conversions); validated like a decoded one.
    public init(
        vocabSize: Int = 30522, hiddenSize: Int = 768, numHiddenLayers: Int = 12,
        numAttentionHeads: Int = 12, intermediateSize: Int = 3072, hiddenAct: HiddenActivation = .gelu,
        maxPositionEmbeddings: Int = 512, typeVocabSize: Int = 2, layerNormEps: Float = 1e-12,
        positionEmbeddingType: PositionEmbeddingType = .absolute, padTokenId: Int? = 0,
        family: EncoderFamily = .bert, relativeAttentionNumBuckets: Int = 32
    ) throws(EncoderError) {
        self.family = family
        self.relativeAttentionNumBuckets = relativeAttentionNumBuckets
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
        self.hiddenAct = hiddenAct
        self.hiddenDropoutProb = 0.1
        self.attentionProbsDropoutProb = 0.1
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.typeVocabSize = typeVocabSize
        self.layerNormEps = layerNormEps
        self.positionEmbeddingType = positionEmbeddingType
        self.padTokenId = padTokenId
        self.modelType = family.rawValue
        try validate()
    }

    /// Reads a parsed config.json: an absent or null field takes transformers' default.
    public init(_ c: JSONFields) throws(EncoderError) {
        let isDecoder: Bool, addCrossAttention: Bool, architectures: [String]
        do throws(JSONFieldError) {
            // First, so that another family's config is refused for what it is, not for a field.
            modelType = try c.optional("model_type")?.oneOf(
                Self.supportedModelTypes,
                hint: "the encoder families this runtime runs are BERT, RoBERTa, XLM-RoBERTa, CamemBERT, MPNet and DistilBERT"
            ) { Self.supportedModelTypes.contains($0) ? $0 : nil } ?? "bert"
            family = EncoderFamily.modelTypes[modelType] ?? .bert
            architectures = try c.optional("architectures")?.array().map { v throws(JSONFieldError) in try v.string() } ?? []
            if family == .distilbert {
                // configuration_distilbert.py: its own key names, LayerNorm eps fixed at 1e-12,
                // no token types; `sinusoidal_pos_embds` only changes how the (saved) position
                // table was initialised.
                vocabSize = try c.optional("vocab_size")?.int() ?? 30522
                hiddenSize = try c.optional("dim")?.int() ?? 768
                numHiddenLayers = try c.optional("n_layers")?.int() ?? 6
                numAttentionHeads = try c.optional("n_heads")?.int() ?? 12
                intermediateSize = try c.optional("hidden_dim")?.int() ?? 3072
                hiddenAct = try c.optional("activation")?.oneOf(HiddenActivation.self) ?? .gelu
                hiddenDropoutProb = try c.optional("dropout")?.double() ?? 0.1
                attentionProbsDropoutProb = try c.optional("attention_dropout")?.double() ?? 0.1
                typeVocabSize = 0
                layerNormEps = 1e-12
            } else {
                vocabSize = try c.optional("vocab_size")?.int() ?? (family == .mpnet ? 30527 : 30522)
                hiddenSize = try c.optional("hidden_size")?.int() ?? 768
                numHiddenLayers = try c.optional("num_hidden_layers")?.int() ?? 12
                numAttentionHeads = try c.optional("num_attention_heads")?.int() ?? 12
                intermediateSize = try c.optional("intermediate_size")?.int() ?? 3072
                hiddenAct = try c.optional("hidden_act")?.oneOf(HiddenActivation.self) ?? .gelu
                hiddenDropoutProb = try c.optional("hidden_dropout_prob")?.double() ?? 0.1
                attentionProbsDropoutProb = try c.optional("attention_probs_dropout_prob")?.double() ?? 0.1
                typeVocabSize = family.hasTokenTypes ? try c.optional("type_vocab_size")?.int() ?? 2 : 0
                layerNormEps = Float(try c.optional("layer_norm_eps")?.double() ?? 1e-12)
            }
            maxPositionEmbeddings = try c.optional("max_position_embeddings")?.int() ?? (family == .mpnet ? 514 : 512)
            positionEmbeddingType = try c.optional("position_embedding_type")?.oneOf(
                PositionEmbeddingType.self,
                hint: "relative_key and relative_key_query need distance embeddings this port does not implement"
            ) ?? .absolute
            padTokenId = try c.optional("pad_token_id")?.int() ?? family.defaultPadTokenId
            relativeAttentionNumBuckets = family == .mpnet ? try c.optional("relative_attention_num_buckets")?.int() ?? 32 : 32
            isDecoder = try c.optional("is_decoder")?.bool() ?? false
            addCrossAttention = try c.optional("add_cross_attention")?.bool() ?? false
        } catch {
            throw .invalidField(error)
        }
        // A model_type with a class of another tree (an ELECTRA or a custom-code class saved
        // under "bert") would bind some tensors and silently differ.
        if let other = architectures.first(where: { a in !family.architecturePrefixes.contains { a.hasPrefix($0) } }) {
            throw .invalidConfig(path: c.file, reason:
                "architectures names \(other), which is not a \(family) class (model_type \"\(modelType)\"); supported classes start with \(family.architecturePrefixes.joined(separator: ", "))")
        }
        // A decoder BERT attends causally; this encoder-only port would silently differ.
        if isDecoder {
            throw .invalidConfig(path: c.file, reason: "is_decoder is true; only encoder (bidirectional) BERT is supported")
        }
        if addCrossAttention {
            throw .invalidConfig(path: c.file, reason: "add_cross_attention is true; cross-attention is not supported")
        }
        do { try validate() } catch {
            if case .invalidConfig(nil, let reason) = error { throw .invalidConfig(path: c.file, reason: reason) }
            throw error
        }
    }

    /// Consistency and sanity checks; sizes are checked before anything is allocated from them.
    public func validate() throws(EncoderError) {
        func bounded(_ name: String, _ value: Int, _ limit: Int) throws(EncoderError) {
            guard value >= 1 else { throw .invalidConfig(path: nil, reason: "\(name) must be positive, found \(value)") }
            guard value <= limit else {
                throw .invalidConfig(path: nil, reason: "\(name) \(value) exceeds the supported maximum \(limit)")
            }
        }
        let l = Self.limits
        try bounded("vocab_size", vocabSize, l.vocabSize)
        try bounded("hidden_size", hiddenSize, l.hiddenSize)
        try bounded("num_hidden_layers", numHiddenLayers, l.numHiddenLayers)
        try bounded("num_attention_heads", numAttentionHeads, hiddenSize)
        try bounded("intermediate_size", intermediateSize, l.intermediateSize)
        try bounded("max_position_embeddings", maxPositionEmbeddings, l.maxPositionEmbeddings)
        if family.hasTokenTypes { try bounded("type_vocab_size", typeVocabSize, l.typeVocabSize) }
        if family.positionsFollowPadding {
            // Positions are counted from padding_idx + 1: the table must hold at least one token.
            guard let pad = padTokenId, pad >= 0, pad < vocabSize, pad + 1 < maxPositionEmbeddings else {
                throw .invalidConfig(path: nil, reason:
                    "pad_token_id \(padTokenId.map(String.init) ?? "null") must be a vocabulary id below max_position_embeddings - 1 (\(maxPositionEmbeddings - 1)): \(family) counts positions from it")
            }
        }
        if family == .mpnet {
            // MPNetEncoder.forward computes 32 buckets whatever the config says, and looks them
            // up in a table of relative_attention_num_buckets rows: fewer rows cannot run.
            guard relativeAttentionNumBuckets >= EncoderFamily.mpnetBuckets, relativeAttentionNumBuckets <= 1 << 10 else {
                throw .invalidConfig(path: nil, reason:
                    "relative_attention_num_buckets \(relativeAttentionNumBuckets) is not supported: transformers' MPNet always computes \(EncoderFamily.mpnetBuckets) buckets, so the table needs at least \(EncoderFamily.mpnetBuckets) rows")
            }
        }
        // transformers' SelfAttention.__init__ message, verbatim.
        guard hiddenSize % numAttentionHeads == 0 else {
            throw .invalidConfig(path: nil, reason:
                "The hidden size (\(hiddenSize)) is not a multiple of the number of attention heads (\(numAttentionHeads))")
        }
        guard layerNormEps.isFinite, layerNormEps >= 0 else {
            throw .invalidConfig(path: nil, reason: "layer_norm_eps must be a finite non-negative number, found \(layerNormEps)")
        }
    }

    /// Reads and validates a Hugging Face config.json (strict JSON: duplicate keys, BOM and
    /// invalid UTF-8 are errors with line and column).
    public static func load(from url: URL) throws(EncoderError) -> EncoderConfig {
        try EncoderConfig(readFields(url))
    }

    /// The top-level object of a config.json, strictly parsed (what ``load(from:)`` decodes;
    /// a task head reads its own keys from the same file).
    public static func readFields(_ url: URL) throws(EncoderError) -> JSONFields {
        let path = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .configUnreadable(path: path, reason: "\(error.localizedDescription)")
        }
        let document: JSONValue
        do { document = try JSONParser.parse(data) } catch {
            throw .configSyntax(path: path, line: error.line, column: error.column, reason: error.description)
        }
        let reader: JSONFields
        do { reader = try JSONFields(document: document, file: path) } catch { throw .invalidField(error) }
        return reader
    }
}
