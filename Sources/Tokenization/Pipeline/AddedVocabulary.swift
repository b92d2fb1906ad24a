/// The `added_tokens` of a tokenizer.json as `tokenizers` matches them
/// (tokenizers/src/tokenizer/added_vocabulary.rs, `find_matches` and `extract_and_normalize`):
/// tokens with `normalized: false` are split out of the raw text first; the pieces between them
/// are normalized, then tokens with `normalized: true` are split out of the normalized text
/// (matching their content as the normalizer rewrites it).
public struct AddedVocabulary: Sendable {
    /// One entry of `added_tokens`.
    public struct Token: Sendable, Equatable {
        public var content: String
        public var id: Int32
        /// Only matched when not touching a word character on either side (`\w`).
        public var singleWord: Bool
        /// Takes in the whitespace before / after it.
        public var lstrip: Bool
        public var rstrip: Bool
        /// Matched in the normalized text instead of the raw text.
        public var normalized: Bool
        public var special: Bool

        public init(content: String, id: Int32, singleWord: Bool = false, lstrip: Bool = false, rstrip: Bool = false,
                    normalized: Bool = false, special: Bool = true) {
            self.content = content
            self.id = id
            self.singleWord = singleWord
            self.lstrip = lstrip
            self.rstrip = rstrip
            self.normalized = normalized
            self.special = special
        }
    }

    public let tokens: [Token]
    /// Matchers over raw and over normalized text.
    let raw: Matcher
    let normalized: Matcher

    /// `normalizer` rewrites the content of `normalized: true` tokens, as `add_tokens` does.
    public init(_ tokens: [Token], normalizer: (any NormalizerStage)?) {
        self.tokens = tokens
        var rawPatterns: [([UInt32], Int)] = []
        var normPatterns: [([UInt32], Int)] = []
        for (k, t) in tokens.enumerated() where !t.content.isEmpty {
            var pattern = t.content.unicodeScalars.map(\.value)
            if t.normalized {
                if let normalizer {
                    var n = NormalizedText(original: pattern)
                    normalizer.normalize(&n)
                    pattern = n.scalars
                }
                normPatterns.append((pattern, k))
            } else {
                rawPatterns.append((pattern, k))
            }
        }
        raw = Matcher(rawPatterns)
        normalized = Matcher(normPatterns)
    }

    /// Leftmost-longest matching (the reference's Aho-Corasick with `MatchKind::LeftmostLongest`)
    /// of a set of scalar strings; a pattern's index into ``AddedVocabulary/tokens`` is its value.
    struct Matcher: Sendable {
        /// Patterns grouped by first scalar.
        let byFirst: [UInt32: [([UInt32], Int)]]
        var isEmpty: Bool { byFirst.isEmpty }

        init(_ patterns: [([UInt32], Int)]) {
            var m: [UInt32: [([UInt32], Int)]] = [:]
            for p in patterns where !p.0.isEmpty { m[p.0[0], default: []].append(p) }
            byFirst = m
        }

        /// The longest pattern starting at `i`, as (end, token index); among equal contents the
        /// first registered.
        func longest(_ s: [UInt32], at i: Int) -> (end: Int, token: Int)? {
            guard let candidates = byFirst[s[i]] else { return nil }
            var best: (end: Int, token: Int)? = nil
            for (p, k) in candidates where p.count <= s.count - i && i + p.count > (best?.end ?? i) {
                if s[i..<(i + p.count)].elementsEqual(p) { best = (i + p.count, k) }
            }
            return best
        }
    }

    /// `find_matches` + `split_with_indices`: the pieces of `text`, added tokens marked with their id.
    /// Empty pieces are dropped (as `PreTokenizedString::split` does with them).
    func split(_ text: NormalizedText, with matcher: Matcher, into out: inout [TextPiece]) {
        let s = text.scalars
        guard !s.isEmpty else { return }
        if matcher.isEmpty { out.append(TextPiece(text)); return }
        var startOffset = 0
        var i = 0
        while i < s.count {
            guard let m = matcher.longest(s, at: i) else { i += 1; continue }
            // The Aho-Corasick iterator resumes after this match whether or not it is kept.
            defer { i = m.end }
            var start = i, stop = m.end
            let t = tokens[m.token]
            if t.singleWord {
                let startSpace = start == 0 || !UnicodeTables.shared.isRegexWord(s[start - 1])
                let stopSpace = stop == s.count || !UnicodeTables.shared.isRegexWord(s[stop])
                if !startSpace || !stopSpace { continue }
            }
            if t.lstrip {
                // `\s*$` over the text before the match, never before the previous match's end.
                var newStart = start
                while newStart > 0 && Vocabulary.isRustWhitespace(s[newStart - 1]) { newStart -= 1 }
                start = max(newStart, startOffset)
            }
            if t.rstrip {
                while stop < s.count && Vocabulary.isRustWhitespace(s[stop]) { stop += 1 }
            }
            if startOffset < start { out.append(TextPiece(text.slice(startOffset..<start))) }
            out.append(TextPiece(text.slice(start..<stop), addedToken: t.id))
            // Matching resumes after the match itself, not after the whitespace rstrip took, as
            // the reference's iterator does (a token starting inside that whitespace overlaps it there too).
            startOffset = stop
        }
        if startOffset < s.count { out.append(TextPiece(text.slice(startOffset..<s.count))) }
    }
}
