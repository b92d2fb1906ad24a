/// Hugging Face's `BertPreTokenizer` (tokenizers/src/pre_tokenizers/bert.rs): split on
/// whitespace (dropped), and make every punctuation scalar a word of its own.
/// Whitespace is `char::is_whitespace`; punctuation is `is_ascii_punctuation ||
/// is_punctuation` from the reference's own Unicode tables.
public struct BertPreTokenizer: Sendable {
    enum Action { case keep, split, isolate }

    let tables = UnicodeTables.shared

    public init() {}

    @inline(__always)
    func action(_ scalar: UInt32) -> Action {
        let f = tables.flags[Int(scalar)]
        if f & UnicodeTables.splitSpace != 0 { return .split }
        if f & UnicodeTables.punctuation != 0 { return .isolate }
        return .keep
    }

    /// The words of an already-normalized text, as ranges of scalar indices.
    /// A plain reference path for tests; the tokenizer streams instead.
    public func words(_ text: String) -> [Range<Int>] {
        var words: [Range<Int>] = []
        var start: Int? = nil
        var i = 0
        for s in text.unicodeScalars {
            switch action(s.value) {
            case .keep:
                if start == nil { start = i }
            case .split:
                if let st = start { words.append(st..<i); start = nil }
            case .isolate:
                if let st = start { words.append(st..<i); start = nil }
                words.append(i..<(i + 1))
            }
            i += 1
        }
        if let st = start { words.append(st..<i) }
        return words
    }
}
