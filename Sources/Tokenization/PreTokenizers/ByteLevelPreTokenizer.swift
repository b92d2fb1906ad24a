/// `ByteLevel` (tokenizers/src/pre_tokenizers/byte_level.rs), GPT-2's and RoBERTa's pre-tokenizer:
///
/// 1. with `add_prefix_space`, a piece that does not start with U+0020 gets one in front;
/// 2. with `use_regex` (default true), the piece is cut into the matches of GPT-2's pattern
///    `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` (`Isolated`);
/// 3. every scalar becomes one scalar per UTF-8 byte of it, from GPT-2's byte alphabet
///    (``ByteLevelAlphabet``): the model then works on bytes written as printable characters,
///    so no text is ever unknown to it.
///
/// The pattern is matched by ``gpt2Matches(_:)``, a scanner for this one pattern, with the classes
/// `\p{L}`, `\p{N}` and `\s` as the reference's regex engine (Oniguruma) answers them
/// (``GPT2Classes``), never Swift's Unicode tables.
public struct ByteLevelPreTokenizer: PreTokenizerStage {
    public var addPrefixSpace: Bool
    public var useRegex: Bool

    public init(addPrefixSpace: Bool, useRegex: Bool = true) {
        self.addPrefixSpace = addPrefixSpace
        self.useRegex = useRegex
    }

    public func preTokenize(_ pieces: inout [TextPiece]) {
        splitEach(&pieces) { _, piece in
            var t = piece
            if addPrefixSpace && t.scalars.first != 0x20 { t.prepend([0x20]) }
            var words = useRegex ? t.split(matches: Self.gpt2Matches(t.scalars), behavior: .isolated) : [t]
            for i in words.indices { ByteLevelAlphabet.encode(&words[i]) }
            return words
        }
    }

    /// The matches of GPT-2's pattern over `s`, in order. Every scalar is a letter, a number, a
    /// space or other, so the matches cover the whole text (each one flagged as a match).
    ///
    /// At each position the alternatives are tried in the pattern's order, as a backtracking
    /// engine does:
    /// - `'` followed by `s`, `t`, `m`, `d`, `re`, `ve` or `ll` (lowercase only);
    /// - an optional U+0020, then a run of letters, of numbers, or of other scalars (neither space,
    ///   letter nor number; an apostrophe that starts no contraction is one);
    /// - a run of spaces: the whole run at the end of the text, else the run without its last
    ///   scalar (`\s+(?!\S)`: that scalar is left to start the next match), else, for a run of
    ///   one, the run itself (`\s+`).
    static func gpt2Matches(_ s: [UInt32]) -> [(Range<Int>, Bool)] {
        let classes = GPT2Classes.shared
        var out: [(Range<Int>, Bool)] = []
        let n = s.count
        var i = 0
        while i < n {
            let end = matchEnd(s, i, classes)
            out.append((i..<end, true))
            i = end
        }
        return out
    }

    @inline(__always)
    private static func matchEnd(_ s: [UInt32], _ i: Int, _ classes: GPT2Classes) -> Int {
        let n = s.count
        let c = s[i]
        if c == 0x27, i + 1 < n {  // '
            switch s[i + 1] {
            case 0x73, 0x74, 0x6D, 0x64: return i + 2  // s t m d
            case 0x72, 0x76:  // r v: 're 've
                if i + 2 < n && s[i + 2] == 0x65 { return i + 3 }
            case 0x6C:  // l: 'll
                if i + 2 < n && s[i + 2] == 0x6C { return i + 3 }
            default: break
            }
        }
        var start = i
        var kind = classes.kind(c)
        if c == 0x20, i + 1 < n, classes.kind(s[i + 1]) != .space {
            start = i + 1
            kind = classes.kind(s[start])
        }
        if kind != .space {
            var j = start + 1
            while j < n && classes.kind(s[j]) == kind { j += 1 }
            return j
        }
        var j = i + 1
        while j < n && classes.kind(s[j]) == .space { j += 1 }
        if j == n || j - 1 == i { return j }
        return j - 1
    }
}

/// GPT-2's byte alphabet (`bytes_char` of byte_level.rs, openai/gpt-2 encoder.py
/// `bytes_to_unicode`): the printable bytes `!`...`~`, `¡`...`¬`, `®`...`ÿ` stand for themselves;
/// the other 68 bytes, in order, for U+0100, U+0101, ... (so U+0020 is `Ġ` U+0120, `\n` is `Ċ`).
public enum ByteLevelAlphabet {
    /// The character of each byte.
    public static let characters: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// Replaces every scalar of `text` by the characters of its UTF-8 bytes; each keeps the
    /// scalar's original alignment (the reference's `transform` with change 0 for the first
    /// byte, 1 for the others).
    static func encode(_ text: inout NormalizedText) {
        var edits: [NormalizedText.Edit] = []
        edits.reserveCapacity(text.count * 2)
        let table = characters
        for v in text.scalars {
            if v < 0x80 {
                edits.append(.init(table[Int(v)], 0))
            } else {
                var k = 0
                for b in Unicode.Scalar(v)!.utf8 {
                    edits.append(.init(table[Int(b)], k == 0 ? 0 : 1))
                    k += 1
                }
            }
        }
        text.transform(with: edits)
    }
}

/// The classes of GPT-2's split pattern as the reference's regex engine reads them, one bit per
/// scalar, built on first use from ``ReferenceUnicodeTables`` (probed by
/// Scripts/generate-unicode-tables.py).
struct GPT2Classes: Sendable {
    enum Kind: UInt8 { case letter, number, space, other }

    /// `\p{L}`, `\p{N}`, `\s`: one bit per scalar value each.
    private let letter: [UInt64]
    private let number: [UInt64]
    private let space: [UInt64]

    static let shared = GPT2Classes()

    private init() {
        func bits(_ text: String) -> [UInt64] {
            var b = [UInt64](repeating: 0, count: 0x110000 / 64)
            for (lo, hi) in UnicodeTables.parseRanges(text) {
                for v in lo...hi { b[Int(v >> 6)] |= 1 << UInt64(v & 63) }
            }
            return b
        }
        letter = bits(ReferenceUnicodeTables.gpt2Letter)
        number = bits(ReferenceUnicodeTables.gpt2Number)
        space = bits(ReferenceUnicodeTables.gpt2Space)
    }

    @inline(__always)
    func kind(_ v: UInt32) -> Kind {
        let w = Int(v >> 6), bit: UInt64 = 1 << UInt64(v & 63)
        if letter[w] & bit != 0 { return .letter }
        if number[w] & bit != 0 { return .number }
        if space[w] & bit != 0 { return .space }
        return .other
    }
}
