import TransformerEncoder
import SafeTensors
import StrictJSON
import Tokenization

/// Why a model folder cannot be loaded or a text cannot be embedded.
///
/// Each case names the file at fault; the description says what to do about it.
public enum SentenceEmbeddingsError: Error, CustomStringConvertible, Sendable {
    /// Nothing exists at the path the caller gave.
    case modelNotFound(path: String)
    /// A model id that is neither a path here nor in the local Hugging Face cache.
    case modelNotInCache(name: String, looked: [String])
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
    /// The encoder configuration is wrong or unsupported, or an input cannot be run.
    case model(EncoderError)
    /// The checkpoint's tensors do not fit the configuration (missing, misshapen, unreadable).
    case weights(file: String, EncoderError)
    /// The tokenizer files are wrong or unsupported.
    case tokenizer(TokenizationError)
    /// A prompt name that is not among the model's prompts.
    case unknownPromptName(name: String, known: [String])
    /// Truncation to a number of dimensions outside 1...available.
    case invalidDimensions(requested: Int, available: Int)
    /// Options that cannot be combined or are out of range.
    case invalidOptions(String)
    /// An input longer than the model's maximum sequence length under ``TruncationPolicy/error``
    /// (`index`: its place among the inputs of one call, when known).
    case inputTooLong(index: Int?, tokens: Int, limit: Int)
    /// A token id outside the model's vocabulary, at `position` of input `index`.
    case invalidTokenID(index: Int?, position: Int, id: Int, vocabularySize: Int)
    /// A field of a configuration file has the wrong type or a value outside the supported ones.
    case invalidField(JSONFieldError)

    public var description: String {
        switch self {
        case .modelNotFound(let path):
            "\(path): no such file or folder; give a model folder or its model.safetensors (Scripts/fetch-model fetches the default model)"
        case .modelNotInCache(let name, let looked):
            "\(name): no such file or folder, and not in the Hugging Face cache (looked in \(looked.joined(separator: ", "))); download it with another tool (`huggingface-cli download \(name)`, or sentence-transformers), point HF_HUB_CACHE or HF_HOME at the cache that holds it, or give the model's folder"
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
        case .invalidOptions(let message):
            message
        case .inputTooLong(let index, let tokens, let limit):
            "\(Self.input(index))has \(tokens) tokens, more than the model's \(limit); truncate it or embed it in chunks"
        case .invalidTokenID(let index, let position, let id, let size):
            "\(Self.input(index))token \(position) is \(id), not a token id of this model (ids are 0..<\(size))"
        case .invalidField(let error): "\(error)"
        }
    }

    private static func input(_ index: Int?) -> String { index.map { "input \($0) " } ?? "the input " }

    /// The same error naming input `index` of a call.
    func at(index: Int) -> SentenceEmbeddingsError {
        switch self {
        case .inputTooLong(_, let tokens, let limit): .inputTooLong(index: index, tokens: tokens, limit: limit)
        case .invalidTokenID(_, let position, let id, let size): .invalidTokenID(index: index, position: position, id: id, vocabularySize: size)
        default: self
        }
    }
}
