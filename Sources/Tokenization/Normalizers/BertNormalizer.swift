/// The four flags of Hugging Face's `BertNormalizer` (tokenizers/src/normalizers/bert.rs).
/// Defaults equal Hugging Face's.
public struct BertNormalizerOptions: Sendable, Equatable {
    /// Delete NUL, U+FFFD and control scalars (except \t\n\r); turn whitespace into U+0020.
    public var cleanText: Bool
    /// Surround CJK ideographs (the reference's ranges, including its 0x2B920 typo) with spaces.
    public var handleChineseChars: Bool
    /// NFD, then drop nonspacing marks (Mn). `nil` follows ``lowercase``, as in the reference.
    public var stripAccents: Bool?
    /// Lowercase each scalar on its own (`char::to_lowercase`: no final-sigma context).
    public var lowercase: Bool
    /// A separate `Lowercase` normalizer runs before this one: `Sequence([Lowercase(), BertNormalizer])`,
    /// which sentence-transformers installs for `do_lower_case: true` in sentence_bert_config.json.
    /// Like ``lowercase`` it is `char::to_lowercase` per scalar (`NormalizedString::lowercase`), so a
    /// final capital sigma becomes σ, never ς; unlike ``lowercase`` it happens before accent
    /// stripping and does not turn accent stripping on.
    public var lowercaseFirst: Bool

    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true,
                lowercaseFirst: Bool = false) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents
        self.lowercase = lowercase
        self.lowercaseFirst = lowercaseFirst
    }

    /// `strip_accents.unwrap_or(lowercase)`.
    public var effectiveStripAccents: Bool { stripAccents ?? lowercase }
}

/// Receives the normalizer's output one scalar at a time, with the index of the
/// original scalar it came from (the reference's alignment).
protocol NormalizedScalarSink {
    mutating func accept(_ scalar: UInt32, origin: Int)
}

/// The BERT normalizer, applied one input scalar at a time.
///
/// The reference runs four passes over the whole string (clean, pad CJK, NFD + drop Mn,
/// lowercase). Each pass maps one scalar to zero or more scalars, so the composition is
/// a per-scalar map; `Scripts/generate-unicode-tables.py` checks that composition on
/// every scalar. The one cross-scalar effect of NFD, canonical reordering, only
/// matters for the 25 non-Mn scalars with a nonzero combining class (e.g. U+1D16D)
/// when two of them meet out of order; that is not reproduced.
public struct BertNormalizer: Sendable {
    public let options: BertNormalizerOptions
    let strip: Bool
    let tables: UnicodeTables

    public init(options: BertNormalizerOptions) {
        self.options = options
        self.strip = options.effectiveStripAccents
        self.tables = UnicodeTables.shared
    }

    /// Feeds the normalized form of `scalar` to `sink`.
    @inline(__always)
    func normalize<S: NormalizedScalarSink>(_ scalar: UInt32, origin: Int, into sink: inout S) {
        if options.lowercaseFirst && tables.flags[Int(scalar)] & UnicodeTables.hasLower != 0 {
            for s in tables.lower[scalar]! { bertNormalize(s, origin: origin, into: &sink) }
            return
        }
        bertNormalize(scalar, origin: origin, into: &sink)
    }

    @inline(__always)
    private func bertNormalize<S: NormalizedScalarSink>(_ scalar: UInt32, origin: Int, into sink: inout S) {
        let f = tables.flags[Int(scalar)]
        if f == 0 {
            sink.accept(scalar, origin: origin)
            return
        }
        if options.cleanText {
            if f & UnicodeTables.deleted != 0 { return }
            if f & UnicodeTables.cleanSpace != 0 {
                sink.accept(0x20, origin: origin)
                return
            }
        }
        if options.handleChineseChars && f & UnicodeTables.cjk != 0 {
            sink.accept(0x20, origin: origin)
            stripAndLower(scalar, flags: f, origin: origin, into: &sink)
            sink.accept(0x20, origin: origin)
            return
        }
        stripAndLower(scalar, flags: f, origin: origin, into: &sink)
    }

    @inline(__always)
    private func stripAndLower<S: NormalizedScalarSink>(_ scalar: UInt32, flags f: UInt8, origin: Int, into sink: inout S) {
        if strip {
            if f & UnicodeTables.stripRemoved != 0 { return }
            if f & UnicodeTables.hasStrip != 0 {
                if scalar >= 0xAC00 && scalar <= 0xD7A3 {
                    UnicodeTables.decomposeHangul(scalar) { lower($0, origin: origin, into: &sink) }
                } else {
                    for s in tables.strip[scalar]! { lower(s, origin: origin, into: &sink) }
                }
                return
            }
        }
        lower(scalar, origin: origin, into: &sink)
    }

    @inline(__always)
    private func lower<S: NormalizedScalarSink>(_ scalar: UInt32, origin: Int, into sink: inout S) {
        if options.lowercase && tables.flags[Int(scalar)] & UnicodeTables.hasLower != 0 {
            for s in tables.lower[scalar]! { sink.accept(s, origin: origin) }
        } else {
            sink.accept(scalar, origin: origin)
        }
    }

    /// The normalized text with, for each output scalar, the index of the input scalar
    /// it came from. A plain reference path for tests; the tokenizer streams instead.
    public func normalize(_ text: String) -> (text: String, origins: [Int]) {
        struct Collect: NormalizedScalarSink {
            var scalars = String.UnicodeScalarView()
            var origins: [Int] = []
            mutating func accept(_ scalar: UInt32, origin: Int) {
                scalars.append(Unicode.Scalar(scalar)!)
                origins.append(origin)
            }
        }
        var sink = Collect()
        for (i, s) in text.unicodeScalars.enumerated() {
            normalize(s.value, origin: i, into: &sink)
        }
        return (String(sink.scalars), sink.origins)
    }
}
