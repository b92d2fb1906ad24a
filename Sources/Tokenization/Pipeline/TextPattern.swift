/// The pattern of `Replace` and `Split` (`{"String": s}` or `{"Regex": r}` in tokenizer.json).
///
/// The reference compiles both kinds to an Oniguruma regex (a string is escaped first) and takes
/// the leftmost, non-overlapping matches. Implemented: any non-empty string, and the regexes real
/// SentencePiece conversions write, one literal character repeated (`" {2,}"`, transformers'
/// `SpmConverter`; also `{n}`, `{n,m}`, `+`), matched greedily. Other regexes are refused at load.
public enum TextPattern: Sendable, Equatable {
    /// The exact scalars.
    case string([UInt32])
    /// `scalar` repeated `min...max` times, greedy.
    case repeated(scalar: UInt32, min: Int, max: Int)

    /// Parses a `Regex` pattern of the supported shape: one literal (or backslash-escaped)
    /// character, then `{n}`, `{n,}`, `{n,m}` or `+`, with at least one repetition. `nil` otherwise.
    public static func repetition(regex: String) -> TextPattern? {
        var scalars = Array(regex.unicodeScalars)
        guard !scalars.isEmpty else { return nil }
        var literal = scalars.removeFirst()
        let special = Set("\\^$.|?*+()[]{}".unicodeScalars)
        if literal == "\\" {
            guard !scalars.isEmpty, special.contains(scalars[0]) || scalars[0] == " " else { return nil }
            literal = scalars.removeFirst()
        } else if special.contains(literal) {
            return nil
        }
        let rest = String(String.UnicodeScalarView(scalars))
        if rest == "+" { return .repeated(scalar: literal.value, min: 1, max: .max) }
        guard rest.hasPrefix("{"), rest.hasSuffix("}") else { return nil }
        let inner = rest.dropFirst().dropLast()
        let parts = inner.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count <= 2, let lo = Int(parts[0]), lo >= 1 else { return nil }
        if parts.count == 1 { return .repeated(scalar: literal.value, min: lo, max: lo) }
        if parts[1].isEmpty { return .repeated(scalar: literal.value, min: lo, max: .max) }
        guard let hi = Int(parts[1]), hi >= lo else { return nil }
        return .repeated(scalar: literal.value, min: lo, max: hi)
    }

    /// The leftmost non-overlapping matches, in normalized scalars.
    func matches(_ s: [UInt32]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        switch self {
        case .string(let p):
            guard !p.isEmpty, s.count >= p.count else { return [] }
            var i = 0
            while i + p.count <= s.count {
                if s[i] == p[0] && s[i..<(i + p.count)].elementsEqual(p) {
                    out.append(i..<(i + p.count))
                    i += p.count
                } else {
                    i += 1
                }
            }
        case .repeated(let c, let lo, let hi):
            var i = 0
            while i < s.count {
                guard s[i] == c else { i += 1; continue }
                var j = i
                while j < s.count && s[j] == c { j += 1 }
                // A run of n: greedy matches of at most `hi`, then the rest when long enough.
                var k = i
                while j - k >= lo {
                    let n = min(hi, j - k)
                    out.append(k..<(k + n))
                    k += n
                }
                i = j
            }
        }
        return out
    }
}
