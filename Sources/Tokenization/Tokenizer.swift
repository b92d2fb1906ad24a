import Foundation

/// What the rest of the runtime needs from a tokenizer, whatever its kind (WordPiece,
/// SentencePiece Unigram, byte-level BPE): text in, ``Encoding`` out, the special tokens
/// the post-processor puts around a sequence, and what the folder's files declared.
///
/// Every kind gives the same ids and offsets as Hugging Face's fast tokenizer
/// (the Rust `tokenizers` library) for the `tokenizer.json` it was loaded from.
/// ``loadTokenizer(folder:maxVocabularySize:)`` picks the kind a folder describes.
public protocol Tokenizer: AnyObject, Sendable {
    /// The special tokens around one sequence and the padding token.
    var specialTokens: SpecialTokens { get }
    /// Ids are below this (vocabulary entries and added tokens).
    var vocabularySize: Int { get }
    /// Disagreements between the files of the folder it was loaded from (empty otherwise).
    var warnings: [String] { get }
    /// `model_max_length` of tokenizer_config.json (`nil` when absent or the 1e30 "no limit" sentinel).
    var modelMaxLength: Int? { get }
    /// `truncation.max_length` of tokenizer.json, when it sets one. Never applied by `encode`.
    var truncationMaxLength: Int? { get }
    /// One line for people: the kind, the vocabulary size, the settings that change ids.
    var summary: String { get }

    /// The token string of an id (vocabulary entry or added token), `nil` when out of range.
    func token(for id: Int32) -> String?

    /// One text with the post-processor's special tokens. With `maxLength`, truncated so the
    /// encoding, specials included, has at most that many tokens (when `maxLength` is smaller
    /// than the specials nothing is cut, as in the reference).
    func encode(_ text: String, maxLength: Int?) -> Encoding
    /// A pair (the post-processor's pair template), truncated longest-first.
    func encode(_ text: String, pair: String, maxLength: Int?) -> Encoding
    /// Like ``encode(_:maxLength:)`` for raw bytes, which must be valid UTF-8: throws
    /// ``TokenizationError/invalidUTF8Input(byteOffset:)`` naming the first bad byte.
    func encode(utf8 bytes: [UInt8], maxLength: Int?) throws(TokenizationError) -> Encoding

    /// This tokenizer with the text lowercased before its own normalizer (after added tokens are
    /// split out of the raw text), as sentence-transformers' `do_lower_case` sets up.
    func lowercasingFirst() -> any Tokenizer
}

extension Tokenizer {
    /// ``encode(_:maxLength:)`` without truncation.
    public func encode(_ text: String) -> Encoding { encode(text, maxLength: nil) }
    /// ``encode(_:pair:maxLength:)`` without truncation.
    public func encode(_ text: String, pair: String) -> Encoding { encode(text, pair: pair, maxLength: nil) }
    /// ``encode(utf8:maxLength:)`` without truncation.
    public func encode(utf8 bytes: [UInt8]) throws(TokenizationError) -> Encoding { try encode(utf8: bytes, maxLength: nil) }
}

/// The tokens a post-processor adds around one sequence: `[CLS] … [SEP]` for BERT,
/// `<s> … </s>` for RoBERTa, whatever a `TemplateProcessing` says otherwise.
public struct SpecialTokens: Sendable, Equatable {
    /// Ids before the text's tokens.
    public var prefix: [Int32]
    /// Ids after them.
    public var suffix: [Int32]
    /// The padding token's id (RoBERTa-style bodies count positions from it).
    public var padding: Int32

    public init(prefix: [Int32], suffix: [Int32], padding: Int32) {
        self.prefix = prefix
        self.suffix = suffix
        self.padding = padding
    }

    /// Specials one sequence carries.
    public var count: Int { prefix.count + suffix.count }
}

/// The tokenizer a model folder describes: `tokenizer.json` (with `tokenizer_config.json`
/// and `special_tokens_map.json`), or `vocab.txt` alone for a BERT WordPiece tokenizer.
///
/// A WordPiece `tokenizer.json` (or `vocab.txt`) gives a ``BertTokenizer``; any other model
/// (SentencePiece `Unigram`) gives a ``PipelineTokenizer`` of the stages the file names, built as
/// transformers 5 builds the folder's `tokenizer_class`. A folder whose only tokenizer file is a
/// SentencePiece model (`sentencepiece.bpe.model`, `spiece.model`, `tokenizer.model`) is refused
/// with ``TokenizationError/sentencePieceModelOnly(path:)``: convert it once with transformers,
/// `AutoTokenizer.from_pretrained(folder).save_pretrained(folder)`, which writes tokenizer.json.
///
/// A component the runtime does not implement is refused with
/// ``TokenizationError/unsupportedComponent(path:component:type:)`` naming it; nothing is
/// skipped silently. `maxVocabularySize` (the embedding matrix's rows) refuses a larger
/// vocabulary in bounded time and memory.
public func loadTokenizer(folder: URL, maxVocabularySize: Int? = nil) throws(TokenizationError) -> any Tokenizer {
    let files = try FolderFiles(folder: folder, maxTokens: maxVocabularySize)
    // tokenizer.json's model decides: WordPiece (or a file without a model type, as older BERT
    // files are) is BERT's pipeline, run by the streaming BertTokenizer, which refuses any other
    // stage by name; every other model goes through the general pipeline of stages.
    if let type = try files.modelType(), type != "WordPiece" {
        return try PipelineTokenizer(files: files)
    }
    return try BertTokenizer(files: files)
}
