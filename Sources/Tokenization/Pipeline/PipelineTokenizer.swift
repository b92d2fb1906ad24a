import StrictJSON

/// A tokenizer composed of the stages a `tokenizer.json` names, run as Hugging Face `tokenizers`
/// runs them (tokenizers/src/tokenizer/mod.rs `encode_single_sequence`, `post_process`):
///
///   added tokens split out of the raw text -> normalizer on the pieces between them -> added
///   tokens split out of the normalized pieces -> pre-tokenizer -> model on each word ->
///   truncation (longest first) -> post-processor.
///
/// Every piece carries the original offsets of each normalized scalar (``NormalizedText``), so
/// token offsets are the reference's, in Unicode scalars of the input. This is the general path;
/// ``BertTokenizer`` stays the fast streaming path for BERT's own pipeline.
public final class PipelineTokenizer: Tokenizer {
    public let normalizer: (any NormalizerStage)?
    public let preTokenizer: (any PreTokenizerStage)?
    public let model: any TokenizerModel
    public let postProcessor: any PostProcessorStage
    public let addedVocabulary: AddedVocabulary
    public let specialTokens: SpecialTokens
    public let warnings: [String]
    public let modelMaxLength: Int?
    public let truncationMaxLength: Int?
    /// Names of the stages, for ``summary`` (set by the loader from the file).
    let stageNames: String
    /// Added tokens by id.
    let addedByID: [Int32: String]

    public init(
        normalizer: (any NormalizerStage)?, preTokenizer: (any PreTokenizerStage)?, model: any TokenizerModel,
        postProcessor: any PostProcessorStage, addedTokens: [AddedVocabulary.Token], padding: Int32,
        warnings: [String] = [], modelMaxLength: Int? = nil, truncationMaxLength: Int? = nil, stageNames: String = ""
    ) {
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.model = model
        self.postProcessor = postProcessor
        self.addedVocabulary = AddedVocabulary(addedTokens, normalizer: normalizer)
        let s = postProcessor.singleSpecials
        self.specialTokens = SpecialTokens(prefix: s.prefix, suffix: s.suffix, padding: padding)
        self.warnings = warnings
        self.modelMaxLength = modelMaxLength
        self.truncationMaxLength = truncationMaxLength
        self.stageNames = stageNames
        var byID: [Int32: String] = [:]
        for t in addedTokens where byID[t.id] == nil { byID[t.id] = t.content }
        addedByID = byID
    }

    public var vocabularySize: Int {
        max(model.vocabularyCount, (addedVocabulary.tokens.map { Int($0.id) }.max() ?? -1) + 1)
    }

    public var summary: String { "\(model.summary); \(stageNames); \(postProcessor.summary)" }

    /// An added token's content first, then the model's piece (`id_to_token` of the reference).
    public func token(for id: Int32) -> String? { addedByID[id] ?? model.token(for: id) }

    /// A `Lowercase` normalizer in front of this tokenizer's normalizer; added tokens are still
    /// split out of the raw text first.
    public func lowercasingFirst() -> any Tokenizer {
        let lowered: any NormalizerStage = normalizer.map { SequenceNormalizer([LowercaseNormalizer(), $0]) } ?? LowercaseNormalizer()
        return PipelineTokenizer(
            normalizer: lowered, preTokenizer: preTokenizer, model: model, postProcessor: postProcessor,
            addedTokens: addedVocabulary.tokens, padding: specialTokens.padding, warnings: warnings,
            modelMaxLength: modelMaxLength, truncationMaxLength: truncationMaxLength, stageNames: "Lowercase first, " + stageNames)
    }

    public func encode(_ text: String, maxLength: Int?) -> Encoding {
        finish(tokenize(text.unicodeScalars.map(\.value)), nil, maxLength: maxLength)
    }

    public func encode(_ text: String, pair: String, maxLength: Int?) -> Encoding {
        finish(tokenize(text.unicodeScalars.map(\.value)), tokenize(pair.unicodeScalars.map(\.value)), maxLength: maxLength)
    }

    public func encode(utf8 bytes: [UInt8], maxLength: Int?) throws(TokenizationError) -> Encoding {
        if let bad = UTF8Validation.firstInvalidByte(bytes) { throw .invalidUTF8Input(byteOffset: bad) }
        return encode(String(decoding: bytes, as: UTF8.self), maxLength: maxLength)
    }

    /// One sequence through every stage before the post-processor.
    func tokenize(_ scalars: [UInt32]) -> SequenceTokens {
        var pieces: [TextPiece] = []
        var raw: [TextPiece] = []
        addedVocabulary.split(NormalizedText(original: scalars), with: addedVocabulary.raw, into: &raw)
        for piece in raw {
            if piece.addedToken != nil { pieces.append(piece); continue }
            var text = piece.text
            normalizer?.normalize(&text)
            addedVocabulary.split(text, with: addedVocabulary.normalized, into: &pieces)
        }
        preTokenizer?.preTokenize(&pieces)

        var out = SequenceTokens()
        let spaces = postProcessor.readsTokenSpaces
        var modelTokens: [ModelToken] = []
        for piece in pieces {
            let t = piece.text
            if let id = piece.addedToken {
                append(id, 0..<t.count, of: t, spaces: spaces, to: &out)
                continue
            }
            modelTokens.removeAll(keepingCapacity: true)
            model.tokenize(t.scalars[...], into: &modelTokens)
            for m in modelTokens { append(m.id, m.range, of: t, spaces: spaces, to: &out) }
        }
        return out
    }

    @inline(__always)
    private func append(_ id: Int32, _ range: Range<Int>, of text: NormalizedText, spaces: Bool, to out: inout SequenceTokens) {
        let o = text.originalOffsets(range)
        out.ids.append(id)
        out.starts.append(o.lowerBound)
        out.ends.append(o.upperBound)
        if spaces {
            // The token's text is the normalized scalars it covers (`Token.value`).
            let s = text.scalars[range]
            let isSpace = { (c: UInt32) in c == 0x120 || Vocabulary.isRustWhitespace(c) }  // U+0120 = byte-level 'Ġ'
            out.leadingSpaces.append(s.prefix(while: isSpace).count)
            out.trailingSpaces.append(s.reversed().prefix(while: isSpace).count)
        }
    }

    /// Truncation and the post-processor, then token strings.
    func finish(_ a: SequenceTokens, _ b: SequenceTokens?, maxLength: Int?) -> Encoding {
        var a = a, b = b
        var cut = false
        if let maxLength {
            cut = PostProcessor.truncate(
                &a, &b, maxLength: maxLength,
                singleSpecials: postProcessor.addedTokens(pair: false), pairSpecials: postProcessor.addedTokens(pair: true))
        }
        let p = postProcessor.process(a, b)
        return Encoding(
            ids: p.ids, typeIds: p.typeIds, tokens: p.ids.map { token(for: $0) ?? "" }, offsets: p.offsets,
            attentionMask: [Int32](repeating: 1, count: p.ids.count), overflowed: cut)
    }
}
