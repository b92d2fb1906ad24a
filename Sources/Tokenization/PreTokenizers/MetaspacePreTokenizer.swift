/// `Metaspace` (tokenizers/src/pre_tokenizers/metaspace.rs): every U+0020 becomes the
/// replacement (`▁`), the replacement is put in front of a piece as `prepend_scheme` says, and
/// with `split` the piece is cut before each replacement (`MergedWithNext`), so `▁` starts words.
///
/// Both schemas of tokenizer.json are read by the loader: `prepend_scheme` (`always`, `first`,
/// `never`; default `always`) with `split` (default true), and the older `add_prefix_space`
/// (`true` keeps the default scheme, `false` means `never`).
public struct MetaspacePreTokenizer: PreTokenizerStage {
    public enum PrependScheme: String, Sendable, Equatable, CaseIterable {
        /// Before every piece that does not start with the replacement.
        case always
        /// Only before the piece at the start of the original text (`offsets_original().0 == 0`).
        case first
        case never
    }

    public var replacement: UInt32
    public var prependScheme: PrependScheme
    public var split: Bool

    public init(replacement: Unicode.Scalar = "\u{2581}", prependScheme: PrependScheme = .always, split: Bool = true) {
        self.replacement = replacement.value
        self.prependScheme = prependScheme
        self.split = split
    }

    public func preTokenize(_ pieces: inout [TextPiece]) {
        splitEach(&pieces) { _, piece in
            var t = piece
            let spaces = t.scalars.indices.filter { t.scalars[$0] == 0x20 }.map { $0..<($0 + 1) }
            t.replace(spaces, with: [replacement])
            switch prependScheme {
            case .always:
                if t.scalars.first != replacement { t.prepend([replacement]) }
            case .first:
                if t.scalars.first != replacement && t.originalRange.lowerBound == 0 { t.prepend([replacement]) }
            case .never:
                break
            }
            guard split else { return [t] }
            let r = replacement
            return t.split(behavior: .mergedWithNext) { $0 == r }
        }
    }
}
