/// `Whitespace` (tokenizers/src/pre_tokenizers/whitespace.rs): keeps the matches of
/// `\w+|[^\w\s]+` (runs of word scalars, runs of other non-space scalars) and drops the rest.
///
/// `\w` is the Rust `regex` crate's Unicode class as probed from the reference
/// (``UnicodeTables/isRegexWord(_:)``; Swift's own tables are newer) and `\s` is White_Space
/// (Rust `char::is_whitespace`).
public struct WhitespacePreTokenizer: PreTokenizerStage {
    public init() {}

    /// 0 word, 1 other, 2 space.
    @inline(__always)
    static func kind(_ v: UInt32) -> Int {
        if UnicodeTables.shared.isRegexWord(v) { return 0 }
        return Vocabulary.isRustWhitespace(v) ? 2 : 1
    }

    public func preTokenize(_ pieces: inout [TextPiece]) {
        splitEach(&pieces) { _, t in
            // Invert(regex) with Removed: the regex's matches are kept, the gaps (whitespace) removed.
            var matches: [(Range<Int>, Bool)] = []
            var i = 0
            let s = t.scalars
            while i < s.count {
                let k = Self.kind(s[i])
                var j = i + 1
                while j < s.count && Self.kind(s[j]) == k { j += 1 }
                matches.append((i..<j, k == 2))
                i = j
            }
            return t.split(matches: matches, behavior: .removed)
        }
    }
}
