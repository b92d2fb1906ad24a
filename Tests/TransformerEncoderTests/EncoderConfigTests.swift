import TransformerEncoder
import Foundation
import Testing

@Suite struct EncoderConfigTests {
    static let miniLM = """
    {"_name_or_path": "nreimers/MiniLM-L6-H384-uncased", "architectures": ["BertModel"],
     "attention_probs_dropout_prob": 0.1, "gradient_checkpointing": false, "hidden_act": "gelu",
     "hidden_dropout_prob": 0.1, "hidden_size": 384, "initializer_range": 0.02, "intermediate_size": 1536,
     "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 12,
     "num_hidden_layers": 6, "pad_token_id": 0, "position_embedding_type": "absolute",
     "transformers_version": "4.8.2", "type_vocab_size": 2, "use_cache": true, "vocab_size": 30522}
    """

    func load(_ text: String) throws(EncoderError) -> EncoderConfig {
        let url: URL
        do { url = try temporaryFile(text) } catch { fatalError("cannot write temp file: \(error)") }
        return try EncoderConfig.load(from: url)
    }

    func loadError(_ text: String) -> EncoderError? {
        do { _ = try load(text); return nil } catch { return error }
    }

    @Test func decodesMiniLMConfig() throws {
        let c = try load(Self.miniLM)
        #expect(c.hiddenSize == 384 && c.numHiddenLayers == 6 && c.numAttentionHeads == 12 && c.headDim == 32)
        #expect(c.intermediateSize == 1536 && c.vocabSize == 30522 && c.maxPositionEmbeddings == 512)
        #expect(c.hiddenAct == .gelu && c.positionEmbeddingType == .absolute && c.layerNormEps == 1e-12)
    }

    @Test func emptyObjectGivesHuggingFaceDefaults() throws {
        let c = try load("{}")
        #expect(c == (try EncoderConfig()))
        #expect(c.vocabSize == 30522 && c.hiddenSize == 768 && c.numHiddenLayers == 12 && c.numAttentionHeads == 12)
        #expect(c.intermediateSize == 3072 && c.typeVocabSize == 2 && c.maxPositionEmbeddings == 512 && c.padTokenId == 0)
    }

    @Test(arguments: ["gelu_new", "gelu_pytorch_tanh", "relu", "gelu"])
    func supportedActivations(name: String) throws {
        #expect(try load(#"{"hidden_act": "\#(name)"}"#).hiddenAct.rawValue == name)
    }

    @Test func unsupportedActivationNamesValueAndSupportedOnes() {
        let e = loadError(#"{"hidden_act": "swish"}"#)
        let text = e.map { "\($0)" } ?? ""
        #expect(text.contains("\"swish\"") && text.contains("gelu_new") && text.contains("relu") && text.contains("config.json"))
    }

    @Test(arguments: ["relative_key", "relative_key_query"])
    func relativePositionsRejected(kind: String) {
        let text = loadError(#"{"position_embedding_type": "\#(kind)"}"#).map { "\($0)" } ?? ""
        #expect(text.contains(kind) && text.contains("absolute"))
    }

    @Test func unknownModelTypeRejectedByName() {
        let text = loadError(#"{"model_type": "electra"}"#).map { "\($0)" } ?? ""
        #expect(text.contains("electra") && text.contains("xlm-roberta") && text.contains("mpnet") && text.contains("config.json"), "\(text)")
    }

    @Test func architectureOfAnotherTreeRejectedByName() throws {
        let text = loadError(#"{"model_type": "bert", "architectures": ["NomicBertModel"]}"#).map { "\($0)" } ?? ""
        #expect(text.contains("NomicBertModel") && text.contains("config.json"), "\(text)")
        // The task-model classes of the family load.
        #expect(try load(#"{"model_type": "xlm-roberta", "architectures": ["XLMRobertaForMaskedLM"]}"#).family == .roberta)
        #expect(try load(#"{"model_type": "bert", "architectures": ["BertForMaskedLM"]}"#).family == .bert)
    }

    /// all-mpnet-base-v2's config.json: 514 positions after padding_idx 1 hold 512 tokens.
    @Test func readsMPNetConfig() throws {
        let c = try load(#"{"architectures": ["MPNetForMaskedLM"], "model_type": "mpnet", "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072, "hidden_act": "gelu", "layer_norm_eps": 1e-05, "max_position_embeddings": 514, "pad_token_id": 1, "relative_attention_num_buckets": 32, "vocab_size": 30527}"#)
        #expect(c.family == .mpnet && c.firstPosition == 2 && c.maxSequenceLength == 512 && c.layerNormEps == 1e-5)
        #expect(c.typeVocabSize == 0 && !c.family.hasTokenTypes && c.vocabSize == 30527)
        // transformers computes 32 buckets whatever the config says: a smaller table cannot run.
        let text = loadError(#"{"model_type": "mpnet", "relative_attention_num_buckets": 16}"#).map { "\($0)" } ?? ""
        #expect(text.contains("relative_attention_num_buckets 16") && text.contains("32"), "\(text)")
    }

    /// DistilBERT's own keys (configuration_distilbert.py), and its fixed LayerNorm eps.
    @Test func readsDistilBERTConfig() throws {
        let c = try load(#"{"model_type": "distilbert", "dim": 48, "n_layers": 3, "n_heads": 6, "hidden_dim": 80, "activation": "relu", "max_position_embeddings": 64, "vocab_size": 100, "sinusoidal_pos_embds": true}"#)
        #expect(c.family == .distilbert && c.hiddenSize == 48 && c.numHiddenLayers == 3 && c.numAttentionHeads == 6)
        #expect(c.intermediateSize == 80 && c.hiddenAct == .relu && c.maxSequenceLength == 64 && c.layerNormEps == 1e-12)
    }

    @Test func robertaPaddingIndexMustFitThePositions() {
        let text = loadError(#"{"model_type": "roberta", "pad_token_id": 600, "max_position_embeddings": 514, "vocab_size": 1000}"#).map { "\($0)" } ?? ""
        #expect(text.contains("pad_token_id 600"), "\(text)")
    }

    @Test func headsMustDivideHidden() {
        let e = loadError(#"{"hidden_size": 100, "num_attention_heads": 12}"#)
        #expect("\(e!)".contains("The hidden size (100) is not a multiple of the number of attention heads (12)"))
    }

    @Test(arguments: [#"{"hidden_size": 0}"#, #"{"num_hidden_layers": -1}"#, #"{"vocab_size": 99999999999}"#,
                      #"{"intermediate_size": 1000000000}"#, #"{"max_position_embeddings": 0}"#,
                      #"{"is_decoder": true}"#, #"{"layer_norm_eps": -1}"#])
    func absurdOrUnsupportedValuesRejected(json: String) {
        guard case .invalidConfig(let path, _) = loadError(json) else {
            Issue.record("expected invalidConfig for \(json)")
            return
        }
        #expect(path?.hasSuffix("config.json") == true)
    }

    @Test func wrongTypeNamesTheField() {
        let e = loadError(#"{"hidden_size": "384"}"#)
        #expect("\(e!)".contains("hidden_size"))
    }

    @Test func duplicateKeyReportsLineAndColumn() {
        let e = loadError("{\n  \"hidden_size\": 384,\n  \"hidden_size\": 768\n}")
        guard case .configSyntax(let path, let line, _, let reason) = e else {
            Issue.record("expected configSyntax, got \(String(describing: e))")
            return
        }
        #expect(path.hasSuffix("config.json") && line == 3 && reason.contains("duplicate"))
    }

    @Test func missingFileIsUnreadable() {
        let url = URL(fileURLWithPath: "/nonexistent/dir/config.json")
        #expect(throws: EncoderError.self) { try EncoderConfig.load(from: url) }
        do { _ = try EncoderConfig.load(from: url) } catch {
            guard case .configUnreadable(let path, _) = error else { Issue.record("got \(error)"); return }
            #expect(path == "/nonexistent/dir/config.json")
        }
    }
}
