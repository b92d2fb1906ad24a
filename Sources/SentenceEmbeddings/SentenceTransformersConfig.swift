import Foundation
import StrictJSON

/// What a sentence-transformers folder says beyond the BERT weights: the module
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
        guard modules.count >= 2, modules[1].kind == .pooling else {
            throw .invalidConfig(file: modulesURL.path, reason: "the second module must be sentence_transformers.models.Pooling; this runtime produces pooled sentence embeddings only")
        }
        let pooling = try readPooling(folder.appendingPathComponent(modules[1].path).appendingPathComponent("config.json"))
        var outputModules: [OutputModule] = []
        var width = pooling.outputDimension
        for module in modules.dropFirst(2) {
            switch module.kind {
            case .transformer, .pooling:
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

        let sbertURL = folder.appendingPathComponent("sentence_bert_config.json")
        if let object = try readObjectIfPresent(sbertURL) {
            if let value = object["max_seq_length"], !value.isNull {
                guard let n = value.numberValue?.exactInt, n > 0 else {
                    throw .invalidConfig(file: sbertURL.path, reason: "max_seq_length must be a positive integer, found \(value.summary)")
                }
                config.maxSeqLength = n
            }
            if let value = object["do_lower_case"], !value.isNull {
                guard let b = value.boolValue else {
                    throw .invalidConfig(file: sbertURL.path, reason: "do_lower_case must be true or false, found \(value.summary)")
                }
                config.doLowerCase = b
            }
        }

        let stURL = folder.appendingPathComponent("config_sentence_transformers.json")
        if let object = try readObjectIfPresent(stURL) {
            if let value = object["prompts"], !value.isNull {
                guard let prompts = value.objectValue else {
                    throw .invalidConfig(file: stURL.path, reason: "prompts must be an object of name -> text")
                }
                for (name, text) in prompts.members {
                    guard let text = text.stringValue else {
                        throw .invalidConfig(file: stURL.path, reason: "prompt \"\(name)\" must be a string")
                    }
                    config.prompts[name] = text
                }
            }
            if let value = object["default_prompt_name"], !value.isNull {
                guard let name = value.stringValue else {
                    throw .invalidConfig(file: stURL.path, reason: "default_prompt_name must be a string")
                }
                guard config.prompts[name] != nil else {
                    throw .invalidConfig(file: stURL.path, reason: "default_prompt_name \"\(name)\" is not one of the prompts (\(config.prompts.keys.sorted().joined(separator: ", ")))")
                }
                config.defaultPromptName = name
            }
            if let value = object["truncate_dim"], !value.isNull {
                guard let n = value.numberValue?.exactInt, n > 0 else {
                    throw .invalidConfig(file: stURL.path, reason: "truncate_dim must be a positive integer or null, found \(value.summary)")
                }
                // sentence-transformers slices [..., :truncate_dim], so a larger value keeps everything.
                config.truncateDim = n
            }
        }
        return config
    }

    // MARK: modules.json

    struct Module {
        enum Kind { case transformer, pooling, dense, normalize }
        var kind: Kind
        var path: String
    }

    static func readModules(_ url: URL) throws(SentenceEmbeddingsError) -> [Module] {
        guard let entries = try readJSON(url).arrayValue else {
            throw .invalidConfig(file: url.path, reason: "expected an array of modules")
        }
        var modules: [Module] = []
        for (i, entry) in entries.enumerated() {
            guard let object = entry.objectValue, let type = object["type"]?.stringValue else {
                throw .invalidConfig(file: url.path, reason: "module \(i) has no \"type\" string")
            }
            let path = object["path"]?.stringValue ?? ""
            // Module paths are relative folders inside the model folder; never follow one outside it.
            if path.hasPrefix("/") || path.split(separator: "/").contains("..") {
                throw .invalidConfig(file: url.path, reason: "module \(i) has path \"\(path)\", which leaves the model folder")
            }
            let kind: Module.Kind
            switch type.split(separator: ".").last.map(String.init) ?? type {
            case "Transformer": kind = .transformer
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
        guard let object = try readJSON(url).objectValue else {
            throw .invalidConfig(file: url.path, reason: "expected a JSON object")
        }
        let dimensionValue = object["embedding_dimension"] ?? object["word_embedding_dimension"]
        guard let dimension = dimensionValue?.numberValue?.exactInt, dimension > 0 else {
            throw .invalidConfig(file: url.path, reason: "word_embedding_dimension (or embedding_dimension) must be a positive integer")
        }
        var modes: [PoolingMode] = []
        if let value = object["pooling_mode"], !value.isNull {
            let names: [JSONValue] = value.arrayValue ?? [value]
            for name in names {
                guard let name = name.stringValue else {
                    throw .invalidConfig(file: url.path, reason: "pooling_mode must be a string or an array of strings")
                }
                guard let mode = PoolingMode(rawValue: name) else {
                    throw .invalidConfig(file: url.path, reason: "unsupported pooling mode \"\(name)\"; supported: \(PoolingMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                modes.append(mode)
            }
        } else {
            for (key, mode) in legacyPoolingKeys {
                guard let value = object[key], !value.isNull else { continue }
                guard let on = value.boolValue else {
                    throw .invalidConfig(file: url.path, reason: "\(key) must be true or false")
                }
                if on { modes.append(mode) }
            }
            // pooling.py: "if not active_modes: active_modes = ('mean',)"
            if modes.isEmpty { modes = [.mean] }
        }
        if modes.isEmpty {
            throw .invalidConfig(file: url.path, reason: "pooling_mode lists no mode")
        }
        var includePrompt = true
        if let value = object["include_prompt"], !value.isNull {
            guard let b = value.boolValue else { throw .invalidConfig(file: url.path, reason: "include_prompt must be true or false") }
            includePrompt = b
        }
        return Pooling(modes: modes, tokenDimension: dimension, includePrompt: includePrompt)
    }

    // MARK: Reading JSON files

    static func readJSON(_ url: URL) throws(SentenceEmbeddingsError) -> JSONValue {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .invalidConfig(file: url.path, reason: "cannot be read: \(error.localizedDescription)")
        }
        do { return try JSONParser.parse(data) } catch { throw .invalidJSON(file: url.path, error) }
    }

    static func readObjectIfPresent(_ url: URL) throws(SentenceEmbeddingsError) -> JSONObject? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        guard let object = try readJSON(url).objectValue else {
            throw .invalidConfig(file: url.path, reason: "expected a JSON object")
        }
        return object
    }
}
