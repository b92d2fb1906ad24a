// BERT hyper-parameters, read from a Hugging Face config.json.
// Defaults equal transformers' BertConfig.__init__ defaults
// (transformers/models/bert/configuration_bert.py).
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

/// BERT configuration (the fields that affect inference, plus the dropout values for completeness).
public struct BertConfig: Sendable, Equatable {
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

    /// hidden / heads.
    public var headDim: Int { hiddenSize / numAttentionHeads }

    /// `model_type` values accepted. Only "bert": other BERT-shaped families (e.g. roberta's
    /// position offset, electra's embedding projection) differ in ways this port does not implement.
    public static let supportedModelTypes = ["bert"]

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
        positionEmbeddingType: PositionEmbeddingType = .absolute, padTokenId: Int? = 0
    ) throws(BertError) {
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
        self.modelType = "bert"
        try validate()
    }

    /// Reads a parsed config.json: an absent or null field takes transformers' default.
    public init(_ c: JSONFields) throws(BertError) {
        let isDecoder: Bool, addCrossAttention: Bool
        do throws(JSONFieldError) {
            // First, so that another family's config is refused for what it is, not for a field.
            modelType = try c.optional("model_type")?.oneOf(
                Self.supportedModelTypes,
                hint: "other BERT-shaped families differ in ways this port does not implement (roberta's position offset, electra's embedding projection)"
            ) { Self.supportedModelTypes.contains($0) ? $0 : nil } ?? "bert"
            vocabSize = try c.optional("vocab_size")?.int() ?? 30522
            hiddenSize = try c.optional("hidden_size")?.int() ?? 768
            numHiddenLayers = try c.optional("num_hidden_layers")?.int() ?? 12
            numAttentionHeads = try c.optional("num_attention_heads")?.int() ?? 12
            intermediateSize = try c.optional("intermediate_size")?.int() ?? 3072
            hiddenAct = try c.optional("hidden_act")?.oneOf(HiddenActivation.self) ?? .gelu
            hiddenDropoutProb = try c.optional("hidden_dropout_prob")?.double() ?? 0.1
            attentionProbsDropoutProb = try c.optional("attention_probs_dropout_prob")?.double() ?? 0.1
            maxPositionEmbeddings = try c.optional("max_position_embeddings")?.int() ?? 512
            typeVocabSize = try c.optional("type_vocab_size")?.int() ?? 2
            layerNormEps = Float(try c.optional("layer_norm_eps")?.double() ?? 1e-12)
            positionEmbeddingType = try c.optional("position_embedding_type")?.oneOf(
                PositionEmbeddingType.self,
                hint: "relative_key and relative_key_query need distance embeddings this port does not implement"
            ) ?? .absolute
            padTokenId = try c.optional("pad_token_id")?.int() ?? 0
            isDecoder = try c.optional("is_decoder")?.bool() ?? false
            addCrossAttention = try c.optional("add_cross_attention")?.bool() ?? false
        } catch {
            throw .invalidField(error)
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
    public func validate() throws(BertError) {
        func bounded(_ name: String, _ value: Int, _ limit: Int) throws(BertError) {
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
        try bounded("type_vocab_size", typeVocabSize, l.typeVocabSize)
        // transformers' BertSelfAttention.__init__ message, verbatim.
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
    public static func load(from url: URL) throws(BertError) -> BertConfig {
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
        return try BertConfig(reader)
    }
}
