/// `Replace` (tokenizers/src/normalizers/replace.rs -> `NormalizedString::replace`): every
/// leftmost, non-overlapping match of the pattern (``TextPattern``) becomes `content`.
public struct ReplaceNormalizer: NormalizerStage {
    public typealias Pattern = TextPattern

    public let pattern: Pattern
    public let content: [UInt32]

    public init(pattern: Pattern, content: String) {
        self.pattern = pattern
        self.content = content.unicodeScalars.map(\.value)
    }

    /// ``TextPattern/repetition(regex:)``.
    public static func repetition(regex: String) -> Pattern? { TextPattern.repetition(regex: regex) }

    public func normalize(_ text: inout NormalizedText) {
        let m = pattern.matches(text.scalars)
        if !m.isEmpty { text.replace(m, with: content) }
    }
}
