import StrictJSON

/// Everything that can go wrong loading a tokenizer or reading input bytes.
/// Each case names the file (and line or field) and says how to fix it.
public enum TokenizationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The folder has neither `tokenizer.json` nor `vocab.txt`.
    case noTokenizerFiles(folder: String)
    /// A file exists but could not be read.
    case unreadableFile(path: String, reason: String)
    /// A vocabulary line is not valid UTF-8 (1-based line number).
    case invalidUTF8InVocabulary(path: String, line: Int)
    /// The same token appears twice in the vocabulary.
    case duplicateToken(path: String, token: String, firstLine: Int, line: Int)
    /// The vocabulary has no entries.
    case emptyVocabulary(path: String)
    /// The vocabulary ids of `tokenizer.json` are not exactly 0..<count (a hole or a repeated id).
    case invalidVocabularyIDs(path: String, reason: String)
    /// A required special token (`role` = unk/cls/sep/pad) is not in the vocabulary.
    case missingSpecialToken(role: String, token: String, source: String)
    /// A JSON file does not parse.
    case invalidJSON(path: String, error: JSONError)
    /// A JSON field has the wrong type or an impossible value.
    case invalidField(JSONFieldError)
    /// `tokenizer.json` names a component this implementation does not run (`component` is its
    /// key path, e.g. `normalizer.normalizers[2]`).
    case unsupportedComponent(path: String, component: String, type: String)
    /// The folder's only tokenizer file is a SentencePiece model (`sentencepiece.bpe.model`,
    /// `spiece.model`, `tokenizer.model`), which this runtime does not read: it needs the
    /// `tokenizer.json` that transformers converts it to.
    case sentencePieceModelOnly(path: String)
    /// Input bytes are not valid UTF-8; `byteOffset` is the first bad byte.
    case invalidUTF8Input(byteOffset: Int)
    /// A vocabulary file holds (or, by its size, must hold) more tokens than the caller's limit
    /// (``BertTokenizer/init(folder:maxVocabularySize:)``); `found` says what was seen.
    case vocabularyTooLarge(path: String, found: String, limit: Int)

    public var description: String {
        switch self {
        case .noTokenizerFiles(let folder):
            return "\(folder): no tokenizer.json or vocab.txt; point at the model folder that holds them"
        case .unreadableFile(let path, let reason):
            return "\(path): cannot read (\(reason))"
        case .invalidUTF8InVocabulary(let path, let line):
            return "\(path):\(line): invalid UTF-8 in the vocabulary; re-save the file as UTF-8"
        case .duplicateToken(let path, let token, let firstLine, let line):
            return "\(path):\(line): token \(token.debugDescription) already appears on line \(firstLine); every vocabulary entry must be unique"
        case .emptyVocabulary(let path):
            return "\(path): the vocabulary is empty"
        case .invalidVocabularyIDs(let path, let reason):
            return "\(path): model.vocab ids must be exactly 0..<count: \(reason)"
        case .missingSpecialToken(let role, let token, let source):
            return "\(source): the \(role) token \(token.debugDescription) is not in the vocabulary; add it or set the \(role)_token option"
        case .invalidJSON(let path, let error):
            return "\(path): \(error)"
        case .invalidField(let error):
            return "\(error)"
        case .unsupportedComponent(let path, let component, let type):
            let supported = StageRegistry.supported(component)
            let list = supported.isEmpty ? "" : "; supported \(component) types: \(supported.joined(separator: ", ")) (BertNormalizer, BertPreTokenizer and WordPiece only together, as in BERT's pipeline)"
            return "\(path): unsupported \(component) type \(type.debugDescription)\(list); re-export the tokenizer with a supported pipeline or use a model whose tokenizer this runtime implements"
        case .sentencePieceModelOnly(let path):
            return "\(path): a SentencePiece model without tokenizer.json; this runtime reads tokenizer.json, which transformers writes from it: python -c \"from transformers import AutoTokenizer; AutoTokenizer.from_pretrained('FOLDER').save_pretrained('FOLDER')\" (then check that tokenizer.json lists the whole vocabulary)"
        case .invalidUTF8Input(let byteOffset):
            return "invalid UTF-8 in the input text at byte \(byteOffset)"
        case .vocabularyTooLarge(let path, let found, let limit):
            return "\(path): \(found), more than a vocabulary of at most \(limit) tokens can be; the tokenizer files do not belong to this model"
        }
    }
}
