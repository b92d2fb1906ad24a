/// `Split` (tokenizers/src/pre_tokenizers/split.rs): cuts each piece at the leftmost,
/// non-overlapping matches of a ``TextPattern``, the matches kept, dropped or merged as `behavior`
/// says (`NormalizedString::split`); with `invert` the gaps between matches are what is matched.
public struct SplitPreTokenizer: PreTokenizerStage {
    public var pattern: TextPattern
    public var behavior: NormalizedText.SplitBehavior
    public var invert: Bool

    public init(pattern: TextPattern, behavior: NormalizedText.SplitBehavior, invert: Bool = false) {
        self.pattern = pattern
        self.behavior = behavior
        self.invert = invert
    }

    public func preTokenize(_ pieces: inout [TextPiece]) {
        splitEach(&pieces) { _, t in
            // find_matches: alternating (range, isMatch) covering the text; an empty text is one
            // unmatched empty piece.
            var matches: [(Range<Int>, Bool)] = []
            var last = 0
            for m in pattern.matches(t.scalars) {
                if last < m.lowerBound { matches.append((last..<m.lowerBound, invert)) }
                matches.append((m, !invert))
                last = m.upperBound
            }
            if last < t.count || t.count == 0 { matches.append((last..<t.count, invert)) }
            return t.split(matches: matches, behavior: behavior)
        }
    }
}
