import StrictJSON

/// A token of tokenizer.json's `added_tokens`: matched verbatim in the raw text before
/// normalization (`normalized: false`, e.g. `[MASK]` or `[SEP]` typed by a user), or, with
/// `normalized: true`, in the normalized text with its content normalized the same way
/// (MPNet's `<unk>`, so that `<UNK>` typed is lowercased into it).
public struct AddedToken: Sendable, Equatable {
    public var content: String
    public var id: Int32
    public var normalized: Bool

    public init(content: String, id: Int32, normalized: Bool = false) {
        self.content = content
        self.id = id
        self.normalized = normalized
    }
}

/// A BERT WordPiece tokenizer that gives the same ids and offsets as Hugging Face's
/// fast `BertTokenizer` (the Rust `tokenizers` library).
///
/// Pipeline, each stage in its own file: added-token split (raw text) ->
/// ``BertNormalizer`` -> ``BertPreTokenizer`` -> ``WordPiece`` -> truncation and
/// `[CLS] A [SEP] (B [SEP])`. The stages run streaming over the UTF-8 bytes: no
/// intermediate strings are built.
public final class BertTokenizer: Tokenizer {
    /// Settings of every stage.
    public struct Options: Sendable, Equatable {
        public var normalizer: BertNormalizerOptions
        public var unknownToken: String
        public var classifierToken: String
        public var separatorToken: String
        public var paddingToken: String
        /// Matched in raw text like the other special tokens when present in the vocabulary.
        public var maskToken: String?
        /// WordPiece's `max_input_chars_per_word`, in Unicode scalars.
        public var maxInputCharsPerWord: Int
        /// Tokens besides the special ones that are matched verbatim in the raw text.
        public var addedTokens: [AddedToken]
        /// How the classifier and separator tokens frame one text and a pair.
        public var template: SpecialTemplate

        public init(
            normalizer: BertNormalizerOptions = BertNormalizerOptions(),
            unknownToken: String = "[UNK]", classifierToken: String = "[CLS]", separatorToken: String = "[SEP]",
            paddingToken: String = "[PAD]", maskToken: String? = "[MASK]",
            maxInputCharsPerWord: Int = 100, addedTokens: [AddedToken] = [], template: SpecialTemplate = .bert
        ) {
            self.normalizer = normalizer
            self.unknownToken = unknownToken
            self.classifierToken = classifierToken
            self.separatorToken = separatorToken
            self.paddingToken = paddingToken
            self.maskToken = maskToken
            self.maxInputCharsPerWord = maxInputCharsPerWord
            self.addedTokens = addedTokens
            self.template = template
        }
    }

    public let options: Options
    public let vocabulary: Vocabulary
    /// Disagreements between the files of the folder it was loaded from (empty otherwise).
    public let warnings: [String]
    /// `model_max_length` of tokenizer_config.json (`nil` when absent or the 1e30 "no limit" sentinel).
    public let modelMaxLength: Int?
    /// `truncation.max_length` of tokenizer.json, when it sets one. Not applied by ``encode(_:maxLength:)``.
    public let truncationMaxLength: Int?

    /// Ids of the special tokens.
    public let unknownID: Int32, classifierID: Int32, separatorID: Int32, paddingID: Int32

    let normalizer: BertNormalizer
    let wordPiece: WordPiece
    let matcher: AddedTokenMatcher
    /// The `normalized: true` tokens, their content normalized; empty for nearly every model.
    let normalizedMatcher: AddedTokenMatcher
    let addedStrings: [Int32: String]

    /// A tokenizer over `vocabulary`. Precondition: the unknown, classifier, separator and
    /// padding tokens of `options` are in `vocabulary` (``init(folder:)`` checks this and throws).
    public convenience init(vocabulary: Vocabulary, options: Options) {
        for (role, t) in [("unk", options.unknownToken), ("cls", options.classifierToken),
                          ("sep", options.separatorToken), ("pad", options.paddingToken)] {
            precondition(vocabulary.id(for: t) != nil, "the \(role) token \(t) is not in the vocabulary")
        }
        self.init(vocabulary: vocabulary, options: options, warnings: [], modelMaxLength: nil, truncationMaxLength: nil)
    }

    init(vocabulary: Vocabulary, options: Options, warnings: [String], modelMaxLength: Int?, truncationMaxLength: Int?) {
        self.vocabulary = vocabulary
        self.options = options
        self.warnings = warnings
        self.modelMaxLength = modelMaxLength
        self.truncationMaxLength = truncationMaxLength
        unknownID = vocabulary.id(for: options.unknownToken)!
        classifierID = vocabulary.id(for: options.classifierToken)!
        separatorID = vocabulary.id(for: options.separatorToken)!
        paddingID = vocabulary.id(for: options.paddingToken)!
        normalizer = BertNormalizer(options: options.normalizer)
        wordPiece = WordPiece(vocabulary: vocabulary, unknownID: unknownID, maxInputCharsPerWord: options.maxInputCharsPerWord)
        var added = options.addedTokens
        for t in [options.unknownToken, options.classifierToken, options.separatorToken, options.paddingToken, options.maskToken] {
            if let t, let id = vocabulary.id(for: t), !added.contains(where: { Array($0.content.utf8) == Array(t.utf8) }) {
                added.append(AddedToken(content: t, id: id))
            }
        }
        matcher = AddedTokenMatcher(added.filter { !$0.normalized })
        // added_vocabulary.rs `refresh_added_tokens`: a normalized token's pattern is its
        // content run through the normalizer.
        normalizedMatcher = AddedTokenMatcher(added.filter(\.normalized).map { [normalizer] t in
            AddedToken(content: normalizer.normalize(t.content).text, id: t.id, normalized: true)
        })
        var strings: [Int32: String] = [:]
        for t in added where vocabulary.token(for: t.id) == nil { strings[t.id] = t.content }
        addedStrings = strings
    }

    /// This tokenizer with a `Lowercase` normalizer in front of its BERT normalizer
    /// (``BertNormalizerOptions/lowercaseFirst``), as sentence-transformers' `do_lower_case` sets up.
    /// Added tokens are still matched in the raw text first, so `[MASK]` typed by a user stays one token.
    public func lowercasingFirst() -> any Tokenizer {
        var o = options
        o.normalizer.lowercaseFirst = true
        return BertTokenizer(vocabulary: vocabulary, options: o, warnings: warnings,
                             modelMaxLength: modelMaxLength, truncationMaxLength: truncationMaxLength)
    }

    public var specialTokens: SpecialTokens {
        SpecialTokens(prefix: [classifierID], suffix: [separatorID], padding: paddingID)
    }

    public var summary: String {
        let n = options.normalizer
        let yes = { (b: Bool) in b ? "yes" : "no" }
        let stripAccents = n.stripAccents.map(yes) ?? "follows lowercase (\(yes(n.lowercase)))"
        let post = options.template == .bert ? "[CLS] … [SEP]" : "<s> … </s>"
        return "WordPiece, \(vocabulary.count) tokens; lowercase \(yes(n.lowercase)), strip accents \(stripAccents), Chinese characters split \(yes(n.handleChineseChars)), clean text \(yes(n.cleanText)); \(post)"
    }

    public var vocabularySize: Int { max(vocabulary.count, (options.addedTokens.map { Int($0.id) }.max() ?? -1) + 1) }

    /// The token string of an id (vocabulary entry or added token).
    public func token(for id: Int32) -> String? {
        vocabulary.token(for: id) ?? addedStrings[id]
    }

    /// `[CLS] text [SEP]`. With `maxLength`, truncated to at most that many tokens
    /// (specials included; no truncation when `maxLength` < 2, as in the reference).
    public func encode(_ text: String, maxLength: Int?) -> Encoding {
        var a = tokenize(text, stopAfter: Self.tokensNeeded(maxLength))
        var none: RawTokens? = nil
        let cut = maxLength.map { PostProcessor.truncate(&a, &none, maxLength: $0) } ?? false
        return PostProcessor.assemble(a, nil, cls: classifierID, sep: separatorID, template: options.template, overflowed: cut, tokenString: tokenString)
    }

    /// `[CLS] text [SEP] pair [SEP]` with type ids 0 then 1 (RoBERTa: `<s> text </s></s> pair </s>`,
    /// all type 0); truncation is longest-first.
    public func encode(_ text: String, pair: String, maxLength: Int?) -> Encoding {
        var a = tokenize(text)
        var b: RawTokens? = tokenize(pair)
        let cut = maxLength.map { PostProcessor.truncate(&a, &b, maxLength: $0, pairSpecials: options.template.pairSpecials) } ?? false
        return PostProcessor.assemble(a, b, cls: classifierID, sep: separatorID, template: options.template, overflowed: cut, tokenString: tokenString)
    }

    /// Like ``encode(_:maxLength:)`` for raw bytes, which must be valid UTF-8.
    /// Throws ``TokenizationError/invalidUTF8Input(byteOffset:)`` naming the first bad byte
    /// (never replaces it with U+FFFD, which BERT would then silently delete).
    public func encode(utf8 bytes: [UInt8], maxLength: Int?) throws(TokenizationError) -> Encoding {
        if let bad = UTF8Validation.firstInvalidByte(bytes) { throw .invalidUTF8Input(byteOffset: bad) }
        var a = bytes.withUnsafeBufferPointer { tokenize(utf8: $0, stopAfter: Self.tokensNeeded(maxLength)) }
        var none: RawTokens? = nil
        let cut = maxLength.map { PostProcessor.truncate(&a, &none, maxLength: $0) } ?? false
        return PostProcessor.assemble(a, nil, cls: classifierID, sep: separatorID, template: options.template, overflowed: cut, tokenString: tokenString)
    }

    /// Number of tokens of `text` without specials and truncation (no strings built).
    public func tokenCount(_ text: String) -> Int { tokenize(text).count }

    /// How many leading tokens of a single text truncation at `maxLength` can look at: the
    /// budget `maxLength - 2` plus one, so that truncation still sees that tokens were cut.
    ///
    /// Stopping there gives the same encoding as tokenizing everything: a token is final once
    /// emitted (words are flushed whole at a boundary scalar, added tokens are matched from
    /// their first byte), so the text after it cannot change it. It keeps a 10 MB line from
    /// costing 10 MB of tokens when 256 are kept (TEI pre-caps characters for the same reason).
    static func tokensNeeded(_ maxLength: Int?) -> Int {
        guard let maxLength, maxLength >= 2 else { return Int.max }  // < 2: not truncated, as in the reference
        return maxLength - 2 + 1
    }

    @inline(__always)
    private func tokenString(_ id: Int32) -> String { token(for: id) ?? options.unknownToken }

    func tokenize(_ text: String, stopAfter limit: Int = Int.max) -> RawTokens {
        var text = text
        return text.withUTF8 { tokenize(utf8: $0, stopAfter: limit) }
    }

    /// The streaming core. `utf8` must be valid UTF-8. Stops reading once at least `limit`
    /// tokens are out (they are the first tokens of the whole text; see ``tokensNeeded(_:)``).
    func tokenize(utf8 p: UnsafeBufferPointer<UInt8>, stopAfter limit: Int = Int.max) -> RawTokens {
        var builder = WordBuilder(wordPiece: wordPiece, flags: normalizer.tables.flags)
        builder.reserve(min(p.count, limit == Int.max ? p.count : limit * 8))
        if normalizedMatcher.tokens.isEmpty {
            scan(p, stopAfter: limit, into: &builder)
            builder.flush()
            return builder.out
        }
        // Normalized added tokens (added_vocabulary.rs `extract_and_normalize`): split the raw
        // text at the raw added tokens, normalize each segment whole, split it at the normalized
        // added tokens, then pre-tokenize and WordPiece the rest. Not streaming: whole segments
        // are normalized before their words are cut.
        var segments = SegmentSink(builder: builder, matcher: normalizedMatcher)
        scan(p, stopAfter: Int.max, into: &segments)
        segments.endSegment()
        segments.builder.flush()
        return segments.builder.out
    }

    /// One pass over raw UTF-8: raw added tokens go to `sink` whole, every other scalar through
    /// the normalizer. Stops at a scalar boundary once `sink` holds `limit` tokens.
    @inline(__always)
    private func scan<S: RawTokenSink>(_ p: UnsafeBufferPointer<UInt8>, stopAfter limit: Int, into sink: inout S) {
        var i = 0
        var scalarIndex = 0
        while i < p.count {
            if sink.tokenCount >= limit { return }
            if matcher.firstBytes[Int(p[i])], let m = matcher.match(p, at: i) {
                sink.addedToken(m.id, origins: scalarIndex..<(scalarIndex + m.scalarCount))
                i += m.byteCount
                scalarIndex += m.scalarCount
                continue
            }
            let (c, length) = decodeScalar(p, at: i)
            i += length
            normalizer.normalize(c, origin: scalarIndex, into: &sink)
            scalarIndex += 1
        }
    }
}

/// Where ``BertTokenizer``'s scan sends normalized scalars and whole added tokens.
protocol RawTokenSink: NormalizedScalarSink {
    /// An added token covering the original scalars `origins`.
    mutating func addedToken(_ id: Int32, origins: Range<Int>)
    /// Tokens out so far.
    var tokenCount: Int { get }
}

extension WordBuilder: RawTokenSink {
    mutating func addedToken(_ id: Int32, origins: Range<Int>) {
        flush()
        out.ids.append(id)
        out.starts.append(origins.lowerBound)
        out.ends.append(origins.upperBound)
    }

    var tokenCount: Int { out.ids.count }
}

/// Collects the normalized scalars of each segment between raw added tokens, and at a segment's
/// end matches the normalized added tokens in it before the words reach `builder`.
struct SegmentSink: RawTokenSink {
    var builder: WordBuilder
    let matcher: AddedTokenMatcher
    /// The current segment: normalized scalars with the original scalar each came from.
    var scalars: [UInt32] = []
    var origins: [Int] = []

    init(builder: WordBuilder, matcher: AddedTokenMatcher) {
        self.builder = builder
        self.matcher = matcher
    }

    mutating func accept(_ scalar: UInt32, origin: Int) {
        scalars.append(scalar)
        origins.append(origin)
    }

    mutating func addedToken(_ id: Int32, origins range: Range<Int>) {
        endSegment()
        builder.addedToken(id, origins: range)
    }

    var tokenCount: Int { builder.tokenCount }

    /// Feeds the segment to `builder`, a normalized added token as itself.
    mutating func endSegment() {
        defer { scalars.removeAll(keepingCapacity: true); origins.removeAll(keepingCapacity: true) }
        guard !scalars.isEmpty else { return }
        var bytes: [UInt8] = []
        var scalarAt: [Int] = []  // scalar index of each byte
        for (k, s) in scalars.enumerated() {
            let before = bytes.count
            appendUTF8(s, to: &bytes)
            scalarAt += repeatElement(k, count: bytes.count - before)
        }
        bytes.withUnsafeBufferPointer { b in
            var i = 0
            while i < b.count {
                let k = scalarAt[i]
                if matcher.firstBytes[Int(b[i])], let m = matcher.match(b, at: i) {
                    let last = scalarAt[i + m.byteCount - 1]
                    builder.addedToken(m.id, origins: origins[k]..<(origins[last] + 1))
                    i += m.byteCount
                    continue
                }
                builder.accept(scalars[k], origin: origins[k])
                i += 1
                while i < b.count && scalarAt[i] == k { i += 1 }
            }
        }
    }
}

/// Collects normalized scalars into words (the pre-tokenizer's rule) and runs
/// WordPiece on each finished word.
struct WordBuilder: NormalizedScalarSink {
    let wordPiece: WordPiece
    let flags: [UInt8]
    var bytes: [UInt8] = []
    var starts: [Int] = []
    var origins: [Int] = []
    var pieces: [(id: Int32, start: Int, end: Int)] = []
    var out = RawTokens()
    /// The word has more than `maxInputCharsPerWord` scalars, so it is one `[UNK]` whatever
    /// follows: its scalars are no longer stored (a 10 MB word costs no more than a short one),
    /// only the origin of the last, for the token's end offset.
    var overlong = false
    var lastOrigin = 0

    init(wordPiece: WordPiece, flags: [UInt8]) {
        self.wordPiece = wordPiece
        self.flags = flags
    }

    mutating func reserve(_ n: Int) {
        let guess = min(n / 3 + 4, 1 << 16)
        out.ids.reserveCapacity(guess); out.starts.reserveCapacity(guess); out.ends.reserveCapacity(guess)
        bytes.reserveCapacity(64); starts.reserveCapacity(64); origins.reserveCapacity(64)
    }

    @inline(__always)
    mutating func accept(_ s: UInt32, origin: Int) {
        let f = flags[Int(s)] & (UnicodeTables.splitSpace | UnicodeTables.punctuation)
        if f == 0 {
            append(s, origin: origin)
        } else if f & UnicodeTables.splitSpace != 0 {
            flush()
        } else {
            flush()
            append(s, origin: origin)
            flush()
        }
    }

    @inline(__always)
    mutating func append(_ s: UInt32, origin: Int) {
        if overlong { lastOrigin = origin; return }
        if origins.count > wordPiece.maxInputCharsPerWord { overlong = true; lastOrigin = origin; return }
        starts.append(bytes.count)
        origins.append(origin)
        appendUTF8(s, to: &bytes)
    }

    mutating func flush() {
        guard !origins.isEmpty else { return }
        if overlong {
            // WordPiece: `if char_len > max_input_chars_per_word { return unk over the whole word }`.
            out.ids.append(wordPiece.unknownID)
            out.starts.append(origins[0])
            out.ends.append(lastOrigin + 1)
            overlong = false
            bytes.removeAll(keepingCapacity: true)
            starts.removeAll(keepingCapacity: true)
            origins.removeAll(keepingCapacity: true)
            return
        }
        starts.append(bytes.count)
        bytes.withUnsafeBufferPointer { b in
            starts.withUnsafeBufferPointer { s in
                wordPiece.tokenize(bytes: b, scalarStarts: s, scalarCount: origins.count, pieces: &pieces)
            }
        }
        for piece in pieces {
            out.ids.append(piece.id)
            out.starts.append(origins[piece.start])
            out.ends.append(origins[piece.end - 1] + 1)
        }
        bytes.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        origins.removeAll(keepingCapacity: true)
    }
}

/// Finds added tokens in raw UTF-8, leftmost-longest like the reference's Aho-Corasick
/// (`MatchKind::LeftmostLongest`).
struct AddedTokenMatcher: Sendable {
    let tokens: [(bytes: [UInt8], id: Int32, scalarCount: Int)]
    let firstBytes: [Bool]

    init(_ added: [AddedToken]) {
        var tokens: [(bytes: [UInt8], id: Int32, scalarCount: Int)] = []
        var first = [Bool](repeating: false, count: 256)
        for t in added where !t.content.isEmpty {
            let b = Array(t.content.utf8)
            tokens.append((b, t.id, t.content.unicodeScalars.count))
            first[Int(b[0])] = true
        }
        self.tokens = tokens
        self.firstBytes = first
    }

    func match(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> (id: Int32, byteCount: Int, scalarCount: Int)? {
        var best: (id: Int32, byteCount: Int, scalarCount: Int)? = nil
        for t in tokens where t.bytes.count <= p.count - i && t.bytes.count > (best?.byteCount ?? 0) {
            var equal = true
            for k in 0..<t.bytes.count where p[i + k] != t.bytes[k] { equal = false; break }
            if equal { best = (t.id, t.bytes.count, t.scalarCount) }
        }
        return best
    }
}
