import Foundation
import StrictJSON

/// What a sentence-transformers folder says beyond the encoder weights: the module
/// pipeline (`modules.json`), the pooling (`1_Pooling/config.json`), the
/// truncation length (`sentence_bert_config.json`) and the prompts
/// (`config_sentence_transformers.json`).
///
/// Read the way sentence-transformers 6.x reads them
/// (`SentenceTransformer._load_sbert_model`, `Transformer.__init__`, `Pooling.load_config`).
public struct SentenceTransformersConfig: Sendable, Equatable {
    /// `max_seq_length` of `sentence_bert_config.json`, when present.
    public var maxSeqLength: Int?
    /// `do_lower_case` of `sentence_bert_config.json`: lowercase the text before tokenizing.
    public var doLowerCase: Bool
    /// The pooling module's modes and the token embedding width it expects.
    public var pooling: Pooling
    /// The modules after Pooling, in `modules.json` order (Dense and Normalize).
    public var outputModules: [OutputModule] = []
    /// `prompts` of `config_sentence_transformers.json` (name -> text prepended to the input).
    public var prompts: [String: String]
    /// `default_prompt_name` of `config_sentence_transformers.json`.
    public var defaultPromptName: String?
    /// `truncate_dim` of `config_sentence_transformers.json`: keep the first N values of every
    /// embedding, after all modules (Matryoshka models).
    public var truncateDim: Int? = nil
    /// The SPLADE pooling of a sentence-transformers `SparseEncoder` folder (modules.json: a
    /// fill-mask Transformer or `MLMTransformer`, then `SpladePooling`); nil for a dense model.
    /// ``SparseEncoder`` loads such folders, ``SentenceEncoder`` refuses them.
    public var splade: SpladePooling? = nil
    /// `max_active_dims` of `config_sentence_transformers.json` (SparseEncoder): keep only the
    /// largest this many values of every sparse vector.
    public var maxActiveDims: Int? = nil

    /// A module that runs on the pooled sentence embedding.
    public enum OutputModule: Sendable, Equatable {
        case dense(DenseConfig)
        /// `Normalize`: scale to unit length.
        case normalize
    }

    /// Whether a Normalize module is present.
    public var normalize: Bool { outputModules.contains(.normalize) }

    /// The width of the sentence embedding after Pooling and every Dense, before any truncation.
    public var outputDimension: Int {
        outputModules.reduce(pooling.outputDimension) { width, module in
            if case .dense(let d) = module { d.outFeatures } else { width }
        }
    }

    /// Reads the sentence-transformers files of `folder`.
    public static func load(folder: URL) throws(SentenceEmbeddingsError) -> SentenceTransformersConfig {
        let modulesURL = folder.appendingPathComponent("modules.json")
        guard FileManager.default.fileExists(atPath: modulesURL.path) else {
            throw .missingModules(folder: folder.path)
        }
        let modules = try readModules(modulesURL)

        // The pipeline this runtime runs: Transformer, Pooling, then Dense/Normalize in any order.
        guard modules.first?.kind == .transformer else {
            throw .invalidConfig(file: modulesURL.path, reason: "the first module must be sentence_transformers.models.Transformer")
        }
        if modules.count == 2, modules[1].kind == .spladePooling {
            return try loadSparse(folder: folder, poolingPath: modules[1].path)
        }
        guard modules.count >= 2, modules[1].kind == .pooling else {
            throw .invalidConfig(file: modulesURL.path, reason: "the second module must be sentence_transformers.models.Pooling; this runtime produces pooled sentence embeddings only")
        }
        let pooling = try readPooling(folder.appendingPathComponent(modules[1].path).appendingPathComponent("config.json"))
        var outputModules: [OutputModule] = []
        var width = pooling.outputDimension
        for module in modules.dropFirst(2) {
            switch module.kind {
            case .transformer, .pooling, .spladePooling:
                throw .invalidConfig(file: modulesURL.path, reason: "a second \(module.kind) module (at \"\(module.path)\") is not supported")
            case .normalize:
                outputModules.append(.normalize)
            case .dense:
                let dense = try DenseConfig.load(folder: folder, path: module.path)
                guard dense.inFeatures == width else {
                    throw .invalidConfig(
                        file: folder.appendingPathComponent(module.path).appendingPathComponent("config.json").path,
                        reason: "in_features is \(dense.inFeatures) but the module before it produces \(width) values")
                }
                width = dense.outFeatures
                outputModules.append(.dense(dense))
            }
        }

        var config = SentenceTransformersConfig(
            maxSeqLength: nil, doLowerCase: false, pooling: pooling, outputModules: outputModules, prompts: [:], defaultPromptName: nil)
        try readTransformerAndPrompts(folder: folder, into: &config)
        return config
    }

    /// A SparseEncoder folder: the Transformer's files as for a dense model, the SpladePooling
    /// config, and `max_active_dims`. ``pooling`` is CLS over the hidden state as a placeholder
    /// that nothing pools with (``SparseEncoder`` pools the head's logits instead).
    static func loadSparse(folder: URL, poolingPath: String) throws(SentenceEmbeddingsError) -> SentenceTransformersConfig {
        let splade = try SpladePooling.load(folder.appendingPathComponent(poolingPath).appendingPathComponent("config.json"))
        var config = SentenceTransformersConfig(
            maxSeqLength: nil, doLowerCase: false, pooling: Pooling(modes: [.cls], tokenDimension: 1), prompts: [:], defaultPromptName: nil)
        config.splade = splade
        try readTransformerAndPrompts(folder: folder, into: &config)
        return config
    }

    /// sentence_bert_config.json and config_sentence_transformers.json, the same for dense and sparse folders.
    private static func readTransformerAndPrompts(folder: URL, into config: inout SentenceTransformersConfig) throws(SentenceEmbeddingsError) {
        if let c = try readObjectIfPresent(folder.appendingPathComponent("sentence_bert_config.json")) {
            try reading { () throws(JSONFieldError) in
                config.maxSeqLength = try c.optional("max_seq_length")?.int(in: 1...)
                config.doLowerCase = try c.optional("do_lower_case")?.bool() ?? false
            }
        }

        if let c = try readObjectIfPresent(folder.appendingPathComponent("config_sentence_transformers.json")) {
            try reading { () throws(JSONFieldError) in
                for (name, text) in try c.optional("prompts")?.object().members ?? [] { config.prompts[name] = try text.string() }
                config.defaultPromptName = try c.optional("default_prompt_name")?.string()
                // sentence-transformers slices [..., :truncate_dim], so a larger value keeps everything.
                config.truncateDim = try c.optional("truncate_dim")?.int(in: 1...)
                config.maxActiveDims = try c.optional("max_active_dims")?.int(in: 1...)
            }
            if let name = config.defaultPromptName, config.prompts[name] == nil {
                throw .invalidConfig(file: c.file, reason: "default_prompt_name \"\(name)\" is not one of the prompts (\(config.prompts.keys.sorted().joined(separator: ", ")))")
            }
        }
    }

    // MARK: modules.json

    struct Module {
        enum Kind { case transformer, pooling, dense, normalize, spladePooling }
        var kind: Kind
        var path: String
    }

    static func readModules(_ url: URL) throws(SentenceEmbeddingsError) -> [Module] {
        let document = try readJSON(url)
        var modules: [Module] = []
        for (i, entry) in try reading({ () throws(JSONFieldError) in try JSONField(document, file: url.path, keyPath: "").array() }).enumerated() {
            let (type, path) = try reading { () throws(JSONFieldError) in
                let o = try entry.object()
                return (try o["type"].string(), try o.optional("path")?.string() ?? "")
            }
            // Module paths are relative folders inside the model folder; never follow one outside it.
            if path.hasPrefix("/") || path.split(separator: "/").contains("..") {
                throw .invalidConfig(file: url.path, reason: "module \(i) has path \"\(path)\", which leaves the model folder")
            }
            let kind: Module.Kind
            switch type.split(separator: ".").last.map(String.init) ?? type {
            // MLMTransformer: sentence-transformers 5's name for a fill-mask Transformer (SparseEncoder folders).
            case "Transformer", "MLMTransformer": kind = .transformer
            case "SpladePooling": kind = .spladePooling
            case "Pooling": kind = .pooling
            case "Normalize": kind = .normalize
            case "Dense": kind = .dense
            default: throw .unsupportedModule(file: url.path, type: type)
            }
            modules.append(Module(kind: kind, path: path))
        }
        return modules
    }

    // MARK: 1_Pooling/config.json

    /// Legacy boolean keys in the order sentence-transformers concatenates their outputs
    /// (`_LEGACY_POOLING_MODE_KWARGS` in pooling.py).
    static let legacyPoolingKeys: [(key: String, mode: PoolingMode)] = [
        ("pooling_mode_cls_token", .cls),
        ("pooling_mode_max_tokens", .max),
        ("pooling_mode_mean_tokens", .mean),
        ("pooling_mode_mean_sqrt_len_tokens", .meanSqrtLen),
        ("pooling_mode_weightedmean_tokens", .weightedMean),
        ("pooling_mode_lasttoken", .lastToken),
    ]

    static func readPooling(_ url: URL) throws(SentenceEmbeddingsError) -> Pooling {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw .invalidConfig(file: url.path, reason: "the Pooling module's config.json is missing")
        }
        let c = try readObject(url)
        return try reading { () throws(JSONFieldError) in
            // sentence-transformers 5 renamed word_embedding_dimension to embedding_dimension.
            let dimension = try (c.optional("embedding_dimension") ?? c["word_embedding_dimension"]).int(in: 1...)
            var modes: [PoolingMode] = []
            if let value = c.optional("pooling_mode") {
                let names = if case .array = value.json { try value.array() } else { [value] }
                for name in names { modes.append(try name.oneOf(PoolingMode.self)) }
                if modes.isEmpty { throw value.invalid("a pooling mode or a non-empty list of them") }
            } else {
                for (key, mode) in legacyPoolingKeys {
                    if try c.optional(key)?.bool() == true { modes.append(mode) }
                }
                // pooling.py: "if not active_modes: active_modes = ('mean',)"
                if modes.isEmpty { modes = [.mean] }
            }
            let includePrompt = try c.optional("include_prompt")?.bool() ?? true
            return Pooling(modes: modes, tokenDimension: dimension, includePrompt: includePrompt)
        }
    }

    // MARK: Reading JSON files

    static func readJSON(_ url: URL) throws(SentenceEmbeddingsError) -> JSONValue {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .invalidConfig(file: url.path, reason: "cannot be read: \(error.localizedDescription)")
        }
        do { return try JSONParser.parse(data) } catch { throw .invalidJSON(file: url.path, error) }
    }

    /// A file whose top level must be an object.
    static func readObject(_ url: URL) throws(SentenceEmbeddingsError) -> JSONFields {
        let document = try readJSON(url)
        return try reading { () throws(JSONFieldError) in try JSONFields(document: document, file: url.path) }
    }

    static func readObjectIfPresent(_ url: URL) throws(SentenceEmbeddingsError) -> JSONFields? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try readObject(url)
    }
}

/// Reads configuration fields, throwing a wrong one as this module's error.
func reading<T>(_ body: () throws(JSONFieldError) -> T) throws(SentenceEmbeddingsError) -> T {
    do { return try body() } catch { throw .invalidField(error) }
}
