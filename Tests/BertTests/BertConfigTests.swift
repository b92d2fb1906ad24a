import Bert
import Foundation
import Testing

@Suite struct BertConfigTests {
    static let miniLM = """
    {"_name_or_path": "nreimers/MiniLM-L6-H384-uncased", "architectures": ["BertModel"],
     "attention_probs_dropout_prob": 0.1, "gradient_checkpointing": false, "hidden_act": "gelu",
     "hidden_dropout_prob": 0.1, "hidden_size": 384, "initializer_range": 0.02, "intermediate_size": 1536,
     "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 12,
     "num_hidden_layers": 6, "pad_token_id": 0, "position_embedding_type": "absolute",
     "transformers_version": "4.8.2", "type_vocab_size": 2, "use_cache": true, "vocab_size": 30522}
    """

    func load(_ text: String) throws(BertError) -> BertConfig {
        let url: URL
        do { url = try temporaryFile(text) } catch { fatalError("cannot write temp file: \(error)") }
        return try BertConfig.load(from: url)
    }

    func loadError(_ text: String) -> BertError? {
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
        #expect(c == (try BertConfig()))
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

    @Test func otherModelTypeRejected() {
        let text = loadError(#"{"model_type": "roberta"}"#).map { "\($0)" } ?? ""
        #expect(text.contains("roberta") && text.contains("bert"))
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
        #expect(throws: BertError.self) { try BertConfig.load(from: url) }
        do { _ = try BertConfig.load(from: url) } catch {
            guard case .configUnreadable(let path, _) = error else { Issue.record("got \(error)"); return }
            #expect(path == "/nonexistent/dir/config.json")
        }
    }
}
