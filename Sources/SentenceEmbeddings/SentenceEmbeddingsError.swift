import Bert
import SafeTensors
import StrictJSON
import Tokenization

/// Why a model folder cannot be loaded or a text cannot be embedded.
///
/// Each case names the file at fault; the description says what to do about it.
public enum SentenceEmbeddingsError: Error, CustomStringConvertible, Sendable {
    /// Nothing exists at the path the caller gave.
    case modelNotFound(path: String)
    /// The folder has no `model.safetensors`.
    case missingWeights(folder: String)
    /// A configuration file is not valid JSON (duplicate keys, bad UTF-8, ...).
    case invalidJSON(file: String, JSONError)
    /// A configuration file is valid JSON but a value in it is wrong.
    case invalidConfig(file: String, reason: String)
    /// `modules.json` names a sentence-transformers module this runtime does not implement.
    case unsupportedModule(file: String, type: String)
    /// The folder has no `modules.json`, so the pooling is unknown.
    case missingModules(folder: String)
    /// The checkpoint file is malformed.
    case checkpoint(SafeTensorsError)
    /// The BERT configuration is wrong or unsupported, or an input cannot be run.
    case model(BertError)
    /// The checkpoint's tensors do not fit the configuration (missing, misshapen, unreadable).
    case weights(file: String, BertError)
    /// The tokenizer files are wrong or unsupported.
    case tokenizer(TokenizationError)
    /// A prompt name that is not among the model's prompts.
    case unknownPromptName(name: String, known: [String])
    /// Truncation to a number of dimensions outside 1...available.
    case invalidDimensions(requested: Int, available: Int)
    /// A field of a configuration file has the wrong type or a value outside the supported ones.
    case invalidField(JSONFieldError)

    public var description: String {
        switch self {
        case .modelNotFound(let path):
            "\(path): no such file or folder; give a model folder or its model.safetensors (Scripts/fetch-model fetches the default model)"
        case .missingWeights(let folder):
            "\(folder): no model.safetensors in this folder; a sentence-transformers checkpoint folder holds model.safetensors, config.json and the tokenizer files"
        case .invalidJSON(let file, let error):
            "\(file): \(error)"
        case .invalidConfig(let file, let reason):
            "\(file): \(reason)"
        case .unsupportedModule(let file, let type):
            "\(file): module \(type) is not supported; supported modules are Transformer, Pooling, Dense and Normalize"
        case .missingModules(let folder):
            "\(folder): no modules.json, so the pooling this model was trained with is unknown; this is not a sentence-transformers folder"
        case .checkpoint(let error): "\(error)"
        case .model(let error): "\(error)"
        case .weights(let file, let error): "\(file): \(error)"
        case .tokenizer(let error): "\(error)"
        case .unknownPromptName(let name, let known):
            known.isEmpty
                ? "prompt name \"\(name)\" is unknown: this model defines no prompts (config_sentence_transformers.json); give the prompt text instead"
                : "prompt name \"\(name)\" is unknown; this model's prompts are: \(known.map { "\"\($0)\"" }.joined(separator: ", "))"
        case .invalidDimensions(let requested, let available):
            "cannot truncate embeddings to \(requested) dimensions: choose 1...\(available) (the model produces \(available) values)"
        case .invalidField(let error): "\(error)"
        }
    }
}
