// The encoder families one forward pass runs, as data. BERT, RoBERTa (and XLM-RoBERTa,
// CamemBERT), MPNet and DistilBERT all stack the same post-LayerNorm transformer layer:
// LN(x + O·attention(Q, K, V)), then LN(h + W2·act(W1·h)). They differ only in
//   - how positions are numbered (from 0, or after the padding id),
//   - whether token-type embeddings exist,
//   - an attention bias from relative positions (MPNet),
//   - the tensor names and the config keys.
// Everything below is that difference, so a new family is one case here, not a new model.
import Foundation

/// An encoder architecture, named by config.json's `model_type`.
public enum EncoderFamily: String, Sendable, CaseIterable, CustomStringConvertible {
    /// modeling_bert.py `BertModel`.
    case bert
    /// modeling_roberta.py `RobertaModel`; also XLM-RoBERTa and CamemBERT, which are the same
    /// module tree (their modeling files are copies of RoBERTa's).
    case roberta
    /// modeling_mpnet.py `MPNetModel`: positions after padding, no token types, and a
    /// relative-position attention bias computed once and added in every layer.
    case mpnet
    /// modeling_distilbert.py `DistilBertModel`: no token types, its own tensor names and config keys.
    case distilbert

    /// `model_type` values this runtime runs, with their family.
    public static let modelTypes: [String: EncoderFamily] = [
        "bert": .bert, "roberta": .roberta, "xlm-roberta": .roberta, "camembert": .roberta,
        "mpnet": .mpnet, "distilbert": .distilbert,
    ]

    public var description: String {
        switch self {
        case .bert: "BERT"
        case .roberta: "RoBERTa"
        case .mpnet: "MPNet"
        case .distilbert: "DistilBERT"
        }
    }

    /// Class-name prefixes that `architectures` entries of this family start with
    /// (`XLMRobertaModel`, `BertForMaskedLM`, ...): another architecture under this `model_type`
    /// would be a different module tree.
    var architecturePrefixes: [String] {
        switch self {
        case .bert: ["Bert"]
        case .roberta: ["Roberta", "XLMRoberta", "Camembert"]
        case .mpnet: ["MPNet"]
        case .distilbert: ["DistilBert"]
        }
    }

    /// Position ids start after `padding_idx` (create_position_ids_from_input_ids in
    /// modeling_roberta.py and modeling_mpnet.py): token p gets padding_idx + 1 + (non-padding
    /// tokens before it), a padding id in the text gets padding_idx itself.
    public var positionsFollowPadding: Bool { self == .roberta || self == .mpnet }

    /// Whether the embeddings add `token_type_embeddings` (MPNet and DistilBERT have none and
    /// ignore segment ids).
    public var hasTokenTypes: Bool { self == .bert || self == .roberta }

    /// The checkpoint's tensor names for this family's modules.
    var names: WeightNames {
        switch self {
        case .bert: .bert
        case .roberta: WeightNames.bert.with(prefix: "roberta.")
        case .mpnet: .mpnet
        case .distilbert: .distilbert
        }
    }

    /// The relative-position buckets MPNet uses: `MPNetEncoder.forward` calls
    /// `compute_position_bias` with its default of 32, not the config's value.
    public static let mpnetBuckets = 32

    /// transformers' default `pad_token_id` when config.json has none.
    var defaultPadTokenId: Int { positionsFollowPadding ? 1 : 0 }
}

/// Where each module's tensors live in a checkpoint, relative to the model root. Task models
/// (`…ForMaskedLM`) nest the root under `prefix`; both forms load.
struct WeightNames: Sendable {
    /// Root of the task-model form: "bert.", "roberta.", …
    var prefix: String
    var wordEmbeddings = "embeddings.word_embeddings"
    var positionEmbeddings = "embeddings.position_embeddings"
    var tokenTypeEmbeddings: String? = "embeddings.token_type_embeddings"
    var embeddingsLayerNorm = "embeddings.LayerNorm"
    /// The layer stack: `<layers>.<i>.…`.
    var layers = "encoder.layer"
    var query = "attention.self.query"
    var key = "attention.self.key"
    var value = "attention.self.value"
    var attentionOutput = "attention.output.dense"
    var attentionLayerNorm = "attention.output.LayerNorm"
    var intermediate = "intermediate.dense"
    var output = "output.dense"
    var outputLayerNorm = "output.LayerNorm"
    /// [buckets x heads] table of the relative-position attention bias.
    var relativeAttentionBias: String? = nil

    func with(prefix: String) -> WeightNames {
        var copy = self
        copy.prefix = prefix
        return copy
    }

    /// modeling_bert.py (and RoBERTa's copy of it).
    static let bert = WeightNames(prefix: "bert.")

    /// modeling_mpnet.py: `attention.attn.{q,k,v,o}`, the attention LayerNorm beside `attn`.
    static let mpnet = WeightNames(
        prefix: "mpnet.", tokenTypeEmbeddings: nil, query: "attention.attn.q", key: "attention.attn.k",
        value: "attention.attn.v", attentionOutput: "attention.attn.o", attentionLayerNorm: "attention.LayerNorm",
        relativeAttentionBias: "encoder.relative_attention_bias")

    /// modeling_distilbert.py: `transformer.layer.N.{attention.*_lin, sa_layer_norm, ffn.lin1/2, output_layer_norm}`.
    static let distilbert = WeightNames(
        prefix: "distilbert.", tokenTypeEmbeddings: nil, layers: "transformer.layer",
        query: "attention.q_lin", key: "attention.k_lin", value: "attention.v_lin",
        attentionOutput: "attention.out_lin", attentionLayerNorm: "sa_layer_norm",
        intermediate: "ffn.lin1", output: "ffn.lin2", outputLayerNorm: "output_layer_norm")
}

/// modeling_mpnet.py `MPNetEncoder.relative_position_bucket` (T5's scheme, bidirectional):
/// the bucket of the relative position `j - i` of key j seen from query i. Half the buckets
/// hold keys before the query, half after; the first half of each are exact distances, the
/// rest logarithmically wider up to `maxDistance`. Computed in Float32 as PyTorch does, so a
/// distance at a bucket boundary lands in the same bucket.
public func relativePositionBucket(_ relativePosition: Int, buckets: Int = 32, maxDistance: Int = 128) -> Int {
    let half = buckets / 2
    let n = -relativePosition
    var bucket = n < 0 ? half : 0
    let distance = abs(n)
    let maxExact = half / 2
    if distance < maxExact { return bucket + distance }
    // torch.log(n.float() / max_exact) / math.log(max_distance / max_exact): a Float32 log,
    // divided by the Python float cast to Float32.
    let ratio = Float(log(Double(Float(distance) / Float(maxExact)))) / Float(log(Double(maxDistance / maxExact)))
    let large = maxExact + Int(ratio * Float(half - maxExact))
    bucket += min(large, half - 1)
    return bucket
}
