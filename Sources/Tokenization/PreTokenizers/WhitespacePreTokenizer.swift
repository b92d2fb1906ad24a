/// `Whitespace` (tokenizers/src/pre_tokenizers/whitespace.rs): keeps the matches of
/// `\w+|[^\w\s]+` (runs of word scalars, runs of other non-space scalars) and drops the rest.
///
/// `\w` and `\s` are the Rust `regex` crate's Unicode classes: `\w` = Alphabetic, marks (M),
/// decimal numbers (Nd), connector punctuation (Pc) and Join_Control; `\s` = White_Space. They are
/// read from Swift's Unicode properties, which can be a Unicode version newer than the crate's.
public struct WhitespacePreTokenizer: PreTokenizerStage {
    public init() {}

    /// 0 word, 1 other, 2 space.
    static func kind(_ v: UInt32) -> Int {
        if v < 0x80 {
            let c = UInt8(v)
            if (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F { return 0 }
            if c == 0x20 || (c >= 0x09 && c <= 0x0D) { return 2 }
            return 1
        }
        guard let s = Unicode.Scalar(v) else { return 1 }
        let p = s.properties
        if p.isWhitespace { return 2 }
        if p.isAlphabetic || p.isJoinControl { return 0 }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return 0
        default: return 1
        }
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
