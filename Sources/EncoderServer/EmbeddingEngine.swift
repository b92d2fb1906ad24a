import Foundation
import SentenceEmbeddings
import Tokenization

/// What the server needs from a model: tokenize, embed already tokenized inputs, describe itself.
///
/// ``SentenceEncoderEngine`` is the real one; tests wrap it to slow it down or make it fail.
public protocol EmbeddingEngine: Sendable {
    /// The length of every embedding.
    var dimension: Int { get }
    /// Inputs are truncated to (or must fit in) this many tokens, `[CLS]` and `[SEP]` included.
    var maxSequenceLength: Int { get }
    /// Token ids must be below this (the rows of the word embedding matrix and the vocabulary).
    var vocabularySize: Int { get }
    /// Whether the model's pipeline ends with a Normalize module.
    var normalizes: Bool { get }
    /// The pooling, as TEI names it ("mean", "cls", ...).
    var poolingName: String { get }
    /// sentence-transformers prompts (name -> prefix text) and the default one.
    var prompts: [String: String] { get }
    var defaultPromptName: String? { get }
    /// The ids of `[CLS]` and `[SEP]`, which token-id inputs must start and end with.
    var classifierID: Int32 { get }
    var separatorID: Int32 { get }

    /// The model's tokens for `text`, truncated to ``maxSequenceLength`` (`overflowed` tells).
    func tokenize(_ text: String) -> Encoding
    /// The number of tokens `text` has before truncation, `[CLS]` and `[SEP]` included.
    func untruncatedTokenCount(_ text: String) -> Int
    /// The vocabulary entry of `id`.
    func tokenText(_ id: Int32) -> String?
    /// Embeds tokenized inputs; row `i` belongs to `encodings[i]`. Blocking: call off the event loop.
    func embed(encodings: [Encoding]) throws -> EmbeddingRows
}

/// Embeddings as a row-major matrix [count x dimension] with each row's token count.
public struct EmbeddingRows: Sendable {
    public var dimension: Int
    public var values: [Float]
    /// Tokens of each input after truncation, `[CLS]` and `[SEP]` included.
    public var tokenCounts: [Int]

    public init(dimension: Int, values: [Float], tokenCounts: [Int]) {
        self.dimension = dimension
        self.values = values
        self.tokenCounts = tokenCounts
    }

    public var count: Int { tokenCounts.count }

    public subscript(i: Int) -> ArraySlice<Float> { values[(i * dimension)..<((i + 1) * dimension)] }
}

/// ``EmbeddingEngine`` over the library's ``SentenceEncoder``: the same vectors `encoder run` writes.
public struct SentenceEncoderEngine: EmbeddingEngine {
    public let encoder: SentenceEncoder

    public init(_ encoder: SentenceEncoder) { self.encoder = encoder }

    public var dimension: Int { encoder.dimension }
    public var maxSequenceLength: Int { encoder.maxSequenceLength }
    public var vocabularySize: Int { min(encoder.tokenizer.vocabulary.count, encoder.bertConfig.vocabSize) }
    public var normalizes: Bool { encoder.normalizes }
    public var poolingName: String { encoder.pooling.modes.map(\.rawValue).joined(separator: "+") }
    public var prompts: [String: String] { encoder.sentenceConfig.prompts }
    public var defaultPromptName: String? { encoder.sentenceConfig.defaultPromptName }
    public var classifierID: Int32 { encoder.tokenizer.classifierID }
    public var separatorID: Int32 { encoder.tokenizer.separatorID }

    public func tokenize(_ text: String) -> Encoding { encoder.tokenize(text) }

    public func untruncatedTokenCount(_ text: String) -> Int {
        // Only used for the "Given: n" of an error message; lowercasing does not change the count for
        // the BERT tokenizers this runtime loads, which lowercase themselves when the model is uncased.
        encoder.tokenizer.tokenCount(text) + 2
    }

    public func tokenText(_ id: Int32) -> String? { encoder.tokenizer.token(for: id) }

    public func embed(encodings: [Encoding]) throws -> EmbeddingRows {
        let e = try encoder.embed(encodings: encodings)
        return EmbeddingRows(dimension: e.dimension, values: e.values, tokenCounts: e.tokenCounts)
    }
}
