/// `Strip` (tokenizers/src/normalizers/strip.rs -> `NormalizedString::lrstrip`): removes
/// leading and/or trailing whitespace (Rust `char::is_whitespace`).
///
/// Ported with the reference's quirk: the scalar that takes the trailing removal is found by
/// comparing its *char* index with the *byte* length minus the trailing count minus one
/// (`i == self.len() - trailing_spaces - 1`), so with multi-byte text before the trailing
/// whitespace no scalar or the wrong one carries it, which moves later alignments as there.
public struct StripNormalizer: NormalizerStage {
    public var left: Bool
    public var right: Bool

    public init(left: Bool, right: Bool) {
        self.left = left
        self.right = right
    }

    public func normalize(_ text: inout NormalizedText) {
        if left && right {
            strip(&text, left: true, right: true)
        } else {
            if left { strip(&text, left: true, right: false) }
            if right { strip(&text, left: false, right: true) }
        }
    }

    private func strip(_ text: inout NormalizedText, left: Bool, right: Bool) {
        let s = text.scalars
        let leading = left ? s.prefix(while: Vocabulary.isRustWhitespace).count : 0
        let trailing = right ? s.reversed().prefix(while: Vocabulary.isRustWhitespace).count : 0
        guard leading > 0 || trailing > 0 else { return }
        let count = s.count
        var byteLength = 0
        for c in s { byteLength += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4 }
        var edits: [NormalizedText.Edit] = []
        for (i, c) in s.enumerated() {
            if i < leading || i >= count - trailing { continue }
            edits.append(.init(c, i == byteLength - trailing - 1 ? -trailing : 0))
        }
        text.transform(with: edits, initialOffset: leading)
    }
}
