/// `Lowercase` (tokenizers/src/normalizers/utils.rs -> `NormalizedString::lowercase`): each scalar
/// by Rust's `char::to_lowercase`, on its own (a final capital sigma becomes σ, never ς). A scalar
/// that lowercases to several (U+0130 -> i + U+0307) inserts the extra ones after the first.
/// The mapping is the reference's own, probed over every scalar (``UnicodeTables``).
public struct LowercaseNormalizer: NormalizerStage {
    public init() {}

    public func normalize(_ text: inout NormalizedText) {
        let tables = UnicodeTables.shared
        // Nothing to do (the common case of an already-lowercase text): no transform, same as
        // the reference's transform with every change 0.
        guard text.scalars.contains(where: { tables.flags[Int($0)] & UnicodeTables.hasLower != 0 }) else { return }
        var edits: [NormalizedText.Edit] = []
        edits.reserveCapacity(text.count)
        for s in text.scalars {
            if tables.flags[Int(s)] & UnicodeTables.hasLower != 0, let lower = tables.lower[s] {
                for (k, c) in lower.enumerated() { edits.append(.init(c, k > 0 ? 1 : 0)) }
            } else {
                edits.append(.init(s, 0))
            }
        }
        text.transform(with: edits)
    }
}
