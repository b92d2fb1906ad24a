import ArgumentParser
import Foundation
import SafeTensors
import SentenceEmbeddings

struct InspectCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a model: architecture, sizes, weights, pooling, tokenizer and the effective max sequence length.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOption

    func execute() throws {
        let encoder = try model.load(options: precision.options())
        for (key, value) in Self.summary(of: encoder) {
            print(key.padding(toLength: 16, withPad: " ", startingAt: 0) + value)
        }
        if !encoder.warnings.isEmpty {
            print("Warnings")
            for warning in encoder.warnings { print("  - \(warning)") }
        }
    }

    static func summary(of encoder: SentenceEncoder) -> [(String, String)] {
        let c = encoder.encoderConfig
        let checkpoint = encoder.checkpoint
        var rows: [(String, String)] = []
        rows.append(("Model", encoder.folder.path))
        let positions = switch c.family {
        case .mpnet: "positions after padding_idx \(c.firstPosition - 1) + relative-position attention bias (\(c.relativeAttentionNumBuckets) buckets)"
        case .roberta: "positions after padding_idx \(c.firstPosition - 1)"
        case .bert, .distilbert: "absolute positions"
        }
        rows.append(("Architecture", "\(c.family) encoder (model_type \(c.modelType)): \(c.numHiddenLayers) layers, hidden \(c.hiddenSize), \(c.numAttentionHeads) heads of \(c.headDim), intermediate \(c.intermediateSize), activation \(c.hiddenAct.rawValue), \(positions)"))
        let types = c.family.hasTokenTypes ? "\(c.typeVocabSize) token types" : "no token types"
        rows.append(("Vocabulary", "\(c.vocabSize) tokens, \(c.maxPositionEmbeddings) positions (\(c.maxSequenceLength) tokens), \(types), layer_norm_eps \(c.layerNormEps)"))

        var parameters = 0
        var byDType: [String: Int] = [:]
        for info in checkpoint.tensors {
            parameters += info.shape.reduce(1, *)
            byDType[info.dtype.rawValue, default: 0] += 1
        }
        let dtypes = byDType.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        rows.append(("Parameters", "\(parameters.formatted()) in \(checkpoint.tensors.count) tensors (\(dtypes)), \(String(format: "%.1f", Double(checkpoint.fileSize) / 1_048_576)) MiB file"))
        rows.append(("Precision", encoder.options.precision == .int8
            ? "int8 linear layers (weights per output channel, activations per row, int32 products); the rest fp32"
            : "fp32"))
        if !encoder.unusedTensors.isEmpty {
            rows.append(("Unused tensors", encoder.unusedTensors.joined(separator: ", ")))
        }

        let p = encoder.pooling
        rows.append(("Pooling", p.modes.map(\.rawValue).joined(separator: " + ") + (p.includePrompt ? "" : " (prompt tokens excluded)")))
        for module in encoder.sentenceConfig.outputModules {
            if case .dense(let d) = module {
                let activation = d.activation == .tanh ? "Tanh" : "Identity"
                rows.append(("Dense", "\(d.path): \(d.inFeatures) -> \(d.outFeatures), \(d.bias ? "with" : "no") bias, \(activation)"))
            }
        }
        rows.append(("Normalize", encoder.normalizes ? "yes, L2 (unit-length vectors)" : "no"))
        if let t = encoder.sentenceConfig.truncateDim {
            rows.append(("Dimension", "\(encoder.dimension) (truncate_dim \(t) of config_sentence_transformers.json; the modules produce \(encoder.fullDimension))"))
        } else {
            rows.append(("Dimension", "\(encoder.dimension)"))
        }

        let t = encoder.tokenizer
        rows.append(("Tokenizer", t.summary))
        if encoder.sentenceConfig.doLowerCase {
            rows.append(("", "sentence_bert_config.json do_lower_case: texts are lowercased first"))
        }

        rows.append(("Max sequence", "\(encoder.maxSequenceLength) tokens: \(encoder.maxSequenceLengthReason)"))
        var declared: [String] = []
        if let n = encoder.sentenceConfig.maxSeqLength { declared.append("sentence_bert_config.json max_seq_length \(n)") }
        if let n = t.truncationMaxLength { declared.append("tokenizer.json truncation \(n)") }
        if let n = t.modelMaxLength { declared.append("tokenizer_config.json model_max_length \(n)") }
        declared.append("config.json max_position_embeddings \(c.maxPositionEmbeddings)")
        rows.append(("", "declared: " + declared.joined(separator: "; ")))

        let prompts = encoder.sentenceConfig.prompts
        if !prompts.isEmpty {
            rows.append(("Prompts", prompts.keys.sorted().map { "\($0): \(prompts[$0]!.debugDescription)" }.joined(separator: ", ")))
            if let name = encoder.sentenceConfig.defaultPromptName {
                rows.append(("", "default prompt: \(name) (applied unless --prompt-name or --prompt says otherwise)"))
            }
        }
        return rows
    }
}
