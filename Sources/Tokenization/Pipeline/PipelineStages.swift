/// The stage kinds of a ``PipelineTokenizer``, as Hugging Face `tokenizers` composes a
/// `tokenizer.json`: normalizer -> pre-tokenizer -> model -> post-processor. A new stage type is one
/// file in the folder of its kind (Normalizers/, PreTokenizers/, Models/, PostProcessors/) that
/// conforms to one of these protocols, plus one entry in ``StageRegistry``.

/// Changes the text of one piece, keeping each scalar's original alignment
/// (tokenizers/src/normalizers). Runs on the pieces between added tokens.
public protocol NormalizerStage: Sendable {
    func normalize(_ text: inout NormalizedText)
}

/// One piece of a text on its way through the pre-tokenizers: normalized text, or an added token
/// already decided (`Split` of tokenizers/src/tokenizer/pre_tokenizer.rs with `tokens: Some`).
public struct TextPiece: Sendable, Equatable {
    public var text: NormalizedText
    /// The added token this piece is, when it is one; pre-tokenizers and the model leave it alone.
    public var addedToken: Int32?

    public init(_ text: NormalizedText, addedToken: Int32? = nil) {
        self.text = text
        self.addedToken = addedToken
    }
}

/// Splits (and may change) pieces into the words the model tokenizes one at a time
/// (tokenizers/src/pre_tokenizers). Implementations call ``splitEach(_:_:)`` so added tokens are
/// skipped and empty pieces dropped, as `PreTokenizedString::split` does.
public protocol PreTokenizerStage: Sendable {
    func preTokenize(_ pieces: inout [TextPiece])
}

extension PreTokenizerStage {
    /// `PreTokenizedString::split`: `body(index, text)` replaces each piece that is not an added
    /// token; pieces whose normalized text is empty are dropped.
    public func splitEach(_ pieces: inout [TextPiece], _ body: (Int, NormalizedText) -> [NormalizedText]) {
        var out: [TextPiece] = []
        out.reserveCapacity(pieces.count)
        for (i, piece) in pieces.enumerated() {
            if piece.addedToken != nil { out.append(piece); continue }
            for t in body(i, piece.text) where !t.isEmpty { out.append(TextPiece(t)) }
        }
        pieces = out
    }
}

/// One token a model produced from a word: its id and the normalized scalars it covers.
public struct ModelToken: Sendable, Equatable {
    public var id: Int32
    /// Normalized scalar range inside the word. Shape: start ..< end.
    public var range: Range<Int>
    public init(id: Int32, range: Range<Int>) { self.id = id; self.range = range }
}

/// Turns one pre-tokenized word into vocabulary ids (tokenizers/src/models).
public protocol TokenizerModel: Sendable {
    /// Appends the tokens of `word` (normalized scalars, never empty) to `tokens`.
    func tokenize(_ word: ArraySlice<UInt32>, into tokens: inout [ModelToken])
    /// Number of entries (ids are 0..<count).
    var vocabularyCount: Int { get }
    /// The id of a token string, compared byte for byte.
    func id(for token: String) -> Int32?
    /// The token string of an id.
    func token(for id: Int32) -> String?
    /// One line for ``Tokenizer/summary``.
    var summary: String { get }
}

/// Puts the special tokens around one sequence or a pair (tokenizers/src/processors), after
/// truncation. Offset-trimming processors (RobertaProcessing, a byte-level one) ask for the
/// whitespace at each end of every token's text with ``readsTokenSpaces``.
public protocol PostProcessorStage: Sendable {
    /// Special tokens added to one sequence (`pair: false`) or a pair: the truncation budget.
    func addedTokens(pair: Bool) -> Int
    /// Whether ``process(_:_:)`` reads ``SequenceTokens/leadingSpaces``/``SequenceTokens/trailingSpaces``.
    var readsTokenSpaces: Bool { get }
    /// The ids, type ids and offsets of the final encoding (token strings are filled by the caller).
    func process(_ a: SequenceTokens, _ b: SequenceTokens?) -> (ids: [Int32], typeIds: [Int32], offsets: [Range<Int>])
    /// The prefix and suffix ids of one sequence (``Tokenizer/specialTokens``).
    var singleSpecials: (prefix: [Int32], suffix: [Int32]) { get }
    var summary: String { get }
}

/// One sequence's tokens before the post-processor: ids, original scalar offsets, and (when the
/// post-processor reads them) how many whitespace scalars begin and end each token's text.
public struct SequenceTokens: Sendable, Equatable {
    public var ids: [Int32] = []
    public var starts: [Int] = []
    public var ends: [Int] = []
    /// Leading/trailing whitespace (Rust `char::is_whitespace`) scalars of each token's text; empty
    /// unless the post-processor ``PostProcessorStage/readsTokenSpaces``.
    public var leadingSpaces: [Int] = []
    public var trailingSpaces: [Int] = []

    public init() {}
    public var count: Int { ids.count }

    mutating func truncate(to n: Int) {
        guard n < ids.count else { return }
        ids.removeSubrange(n...)
        starts.removeSubrange(n...)
        ends.removeSubrange(n...)
        if !leadingSpaces.isEmpty { leadingSpaces.removeSubrange(n...); trailingSpaces.removeSubrange(n...) }
    }
}
