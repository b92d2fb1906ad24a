import Foundation
import Testing
import TestSupport
@testable import SentenceEmbeddings

/// sentence-transformers configuration files, written into a temporary folder per test.
@Suite struct ConfigTests {
    /// A temporary model folder holding `files` (relative path -> contents).
    func folder(_ files: [String: String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("st-config-\(UUID().uuidString)")
        for (path, contents) in files {
            let file = url.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: file)
        }
        return url
    }

    let modules = #"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]"#

    func load(_ files: [String: String]) throws -> SentenceTransformersConfig {
        try SentenceTransformersConfig.load(folder: try folder(files))
    }

    func error(_ files: [String: String]) -> SentenceEmbeddingsError? {
        do { _ = try load(files); return nil } catch { return error as? SentenceEmbeddingsError }
    }

    @Test func readsTheDefaultModelsLayout() throws {
        let config = try load([
            "modules.json": modules,
            "1_Pooling/config.json": #"{"word_embedding_dimension": 384, "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": false, "pooling_mode_mean_sqrt_len_tokens": false}"#,
            "sentence_bert_config.json": #"{"max_seq_length": 256, "do_lower_case": false}"#,
        ])
        #expect(config.pooling == Pooling(modes: [.mean], tokenDimension: 384))
        #expect(config.normalize)
        #expect(config.maxSeqLength == 256)
        #expect(!config.doLowerCase)
    }

    @Test func legacyFlagsConcatenateInSentenceTransformersOrder() throws {
        // pooling.py's _LEGACY_POOLING_MODE_KWARGS order: cls, max, mean, mean_sqrt_len_tokens, ...
        let config = try load([
            "modules.json": modules,
            "1_Pooling/config.json": #"{"word_embedding_dimension": 8, "pooling_mode_mean_tokens": true, "pooling_mode_cls_token": true, "pooling_mode_max_tokens": true}"#,
        ])
        #expect(config.pooling.modes == [.cls, .max, .mean])
        #expect(config.pooling.outputDimension == 24)
    }

    @Test func allLegacyFlagsOffMeansMean() throws {
        let config = try load(["modules.json": modules, "1_Pooling/config.json": #"{"word_embedding_dimension": 8, "pooling_mode_mean_tokens": false}"#])
        #expect(config.pooling.modes == [.mean])
    }

    @Test func newStylePoolingModeAndPrompts() throws {
        let config = try load([
            "modules.json": modules,
            "1_Pooling/config.json": #"{"embedding_dimension": 8, "pooling_mode": ["lasttoken", "weightedmean"], "include_prompt": false}"#,
            "config_sentence_transformers.json": #"{"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": "query"}"#,
        ])
        #expect(config.pooling.modes == [.lastToken, .weightedMean])
        #expect(!config.pooling.includePrompt)
        #expect(config.prompts == ["query": "query: ", "passage": "passage: "])
        #expect(config.defaultPromptName == "query")
    }

    @Test func rejectsWhatItCannotHonour() {
        let pooling = #"{"word_embedding_dimension": 8}"#
        guard case .missingModules = error(["1_Pooling/config.json": pooling]) else { Issue.record("no modules.json accepted"); return }
        guard case .unsupportedModule(_, let type) = error([
            "modules.json": #"[{"path":"","type":"sentence_transformers.models.Transformer"},{"path":"2_WordWeights","type":"sentence_transformers.models.WordWeights"}]"#,
        ]) else { Issue.record("WordWeights accepted"); return }
        #expect(type == "sentence_transformers.models.WordWeights")
        guard case .invalidField(let field) = error(["modules.json": modules, "1_Pooling/config.json": #"{"word_embedding_dimension": 8, "pooling_mode": ["mean", "median"]}"#])
        else { Issue.record("unknown pooling accepted"); return }
        #expect(field.file.hasSuffix("1_Pooling/config.json") && field.keyPath == "pooling_mode[1]")
        #expect(field.message.contains("\"median\"") && field.message.contains("\"weightedmean\""), "\(field)")
        guard case .invalidJSON(let file, _) = error(["modules.json": modules, "1_Pooling/config.json": #"{"word_embedding_dimension": 8, "word_embedding_dimension": 9}"#])
        else { Issue.record("duplicate key accepted"); return }
        #expect(file.hasSuffix("1_Pooling/config.json"))
        guard case .invalidField(let length) = error(["modules.json": modules, "1_Pooling/config.json": pooling, "sentence_bert_config.json": #"{"max_seq_length": -5}"#])
        else { Issue.record("negative max_seq_length accepted"); return }
        #expect("\(length)".hasSuffix("sentence_bert_config.json: max_seq_length must be a positive integer, found -5"))
        guard case .invalidConfig = error([
            "modules.json": #"[{"path":"","type":"sentence_transformers.models.Transformer"},{"path":"../../etc","type":"sentence_transformers.models.Pooling"}]"#,
        ]) else { Issue.record("a module path outside the folder was followed"); return }
        guard case .invalidConfig = error(["modules.json": modules, "1_Pooling/config.json": pooling, "config_sentence_transformers.json": #"{"prompts": {"query": "q: "}, "default_prompt_name": "doc"}"#])
        else { Issue.record("unknown default prompt accepted"); return }
    }

    @Test func maxSequenceLengthFollowsSentenceTransformers() {
        var config = SentenceTransformersConfig(maxSeqLength: 256, doLowerCase: false, pooling: Pooling(modes: [.mean], tokenDimension: 4), outputModules: [.normalize], prompts: [:], defaultPromptName: nil)
        #expect(SentenceEncoder.resolveMaxLength(sentenceConfig: config, modelMaxLength: 512, maxPositions: 512).length == 256)
        #expect(SentenceEncoder.resolveMaxLength(sentenceConfig: config, modelMaxLength: 512, maxPositions: 128).length == 128)
        config.maxSeqLength = nil
        #expect(SentenceEncoder.resolveMaxLength(sentenceConfig: config, modelMaxLength: 300, maxPositions: 512).length == 300)
        #expect(SentenceEncoder.resolveMaxLength(sentenceConfig: config, modelMaxLength: nil, maxPositions: 512).length == 512)
    }
}

@Suite struct PoolingTests {
    /// Three tokens of width 2: [1, 2], [3, -4], [5, 6].
    let hidden: [Float] = [1, 2, 3, -4, 5, 6]

    func pool(_ modes: [PoolingMode], rows: Range<Int> = 0..<3, skip: Int = 0) -> [Float] {
        let pooling = Pooling(modes: modes, tokenDimension: 2)
        var out = [Float](repeating: .nan, count: pooling.outputDimension)
        hidden.withUnsafeBufferPointer { h in out.withUnsafeMutableBufferPointer { pooling.pool(h, rows: rows, skip: skip, into: $0) } }
        return out
    }

    @Test func eachModeByHand() {
        #expect(pool([.mean]) == [3, 4 / 3])
        #expect(pool([.cls]) == [1, 2])
        #expect(pool([.lastToken]) == [5, 6])
        #expect(pool([.max]) == [5, 6])
        #expect(pool([.meanSqrtLen]) == [9 / Float(3).squareRoot(), 4 / Float(3).squareRoot()])
        // weights 1, 2, 3: (1*1 + 2*3 + 3*5) / 6, (1*2 - 2*4 + 3*6) / 6
        #expect(pool([.weightedMean]) == [22 / 6, 12 / 6])
        #expect(pool([.cls, .mean]) == [1, 2, 3, 4 / 3])
    }

    @Test func poolsOnlyTheSequencesRowsAndSkipsPromptTokens() {
        #expect(pool([.mean], rows: 1..<3) == [4, 1])
        #expect(pool([.cls], rows: 0..<3, skip: 1) == [3, -4])
        #expect(pool([.mean], rows: 0..<3, skip: 2) == [5, 6])
    }

    @Test func normalizationKeepsZeroVectorsZero() {
        var v: [Float] = [3, 4]
        v.withUnsafeMutableBufferPointer { normalizeL2($0) }
        #expect(v == [0.6, 0.8])
        var zero: [Float] = [0, 0]
        zero.withUnsafeMutableBufferPointer { normalizeL2($0) }
        #expect(zero == [0, 0])
    }

    @Test func correlationsMatchScipy() {
        // scipy.stats.spearmanr([1, 2, 2, 4], [10, 20, 30, 40]) = 0.9486832980505138 (ties averaged)
        #expect(abs(Correlation.spearman([1, 2, 2, 4], [10, 20, 30, 40]) - 0.9486832980505138) < 1e-12)
        // scipy.stats.pearsonr([1, 2, 3], [2, 4, 7]) = 0.9933992677987828
        #expect(abs(Correlation.pearson([1, 2, 3], [2, 4, 7]) - 0.9933992677987828) < 1e-12)
    }
}
