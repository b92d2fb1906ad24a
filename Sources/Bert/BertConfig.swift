// BERT hyper-parameters, decoded from a Hugging Face config.json.
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
public struct BertConfig: Decodable, Sendable, Equatable {
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

    private enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size"
        case hiddenAct = "hidden_act", hiddenDropoutProb = "hidden_dropout_prob"
        case attentionProbsDropoutProb = "attention_probs_dropout_prob"
        case maxPositionEmbeddings = "max_position_embeddings", typeVocabSize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps", positionEmbeddingType = "position_embedding_type"
        case padTokenId = "pad_token_id", modelType = "model_type", isDecoder = "is_decoder"
        case addCrossAttention = "add_cross_attention"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? "bert"
        guard Self.supportedModelTypes.contains(modelType) else {
            throw BertError.invalidConfig(path: nil, reason:
                "model_type \"\(modelType)\" is not supported (supported: \(Self.supportedModelTypes.joined(separator: ", ")))")
        }
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? 30522
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? 768
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? 12
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? 12
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? 3072
        let act = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "gelu"
        guard let hiddenAct = HiddenActivation(rawValue: act) else {
            throw BertError.invalidConfig(path: nil, reason:
                "hidden_act \"\(act)\" is not supported (supported: \(HiddenActivation.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.hiddenAct = hiddenAct
        hiddenDropoutProb = try c.decodeIfPresent(Double.self, forKey: .hiddenDropoutProb) ?? 0.1
        attentionProbsDropoutProb = try c.decodeIfPresent(Double.self, forKey: .attentionProbsDropoutProb) ?? 0.1
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 512
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? 2
        let eps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? 1e-12
        layerNormEps = Float(eps)
        let position = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType) ?? "absolute"
        guard let positionType = PositionEmbeddingType(rawValue: position) else {
            throw BertError.invalidConfig(path: nil, reason:
                "position_embedding_type \"\(position)\" is not supported (supported: "
                + "\(PositionEmbeddingType.allCases.map(\.rawValue).joined(separator: ", ")); "
                + "relative_key and relative_key_query need distance embeddings this port does not implement)")
        }
        positionEmbeddingType = positionType
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId) ?? 0
        // A decoder BERT attends causally; this encoder-only port would silently differ.
        if try c.decodeIfPresent(Bool.self, forKey: .isDecoder) == true {
            throw BertError.invalidConfig(path: nil, reason: "is_decoder is true; only encoder (bidirectional) BERT is supported")
        }
        if try c.decodeIfPresent(Bool.self, forKey: .addCrossAttention) == true {
            throw BertError.invalidConfig(path: nil, reason: "add_cross_attention is true; cross-attention is not supported")
        }
        try validate()
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
        do {
            return try JSONParser.decode(BertConfig.self, from: data)
        } catch let error as JSONError {
            throw .configSyntax(path: path, line: error.line, column: error.column, reason: error.description)
        } catch let error as BertError {
            if case .invalidConfig(nil, let reason) = error { throw .invalidConfig(path: path, reason: reason) }
            throw error
        } catch let error as DecodingError {
            throw .invalidConfig(path: path, reason: describe(error))
        } catch {
            throw .invalidConfig(path: path, reason: "\(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func key(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "field \"\(key(context.codingPath))\": expected \(type). \(context.debugDescription)"
        case .valueNotFound(let type, let context):
            return "field \"\(key(context.codingPath))\": expected \(type), found null"
        case .keyNotFound(let k, let context):
            return "missing field \"\(key(context.codingPath + [k]))\""
        case .dataCorrupted(let context):
            return "field \"\(key(context.codingPath))\": \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
