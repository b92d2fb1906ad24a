/// The tokenizer's output for one text or one pair, as Hugging Face's `Encoding`
/// (without padding: every position is a real token).
public struct Encoding: Sendable, Equatable {
    /// Token ids, `[CLS]` first and `[SEP]` last.
    public var ids: [Int32]
    /// 0 for `[CLS]`, the first text and its `[SEP]`; 1 for the second text and its `[SEP]`.
    public var typeIds: [Int32]
    /// Token strings (the vocabulary entries, `##` included).
    public var tokens: [String]
    /// Per token, the range of Unicode-scalar offsets into the original text it came
    /// from (its own text for the second of a pair), like Python's `Encoding.offsets`;
    /// `0..<0` for `[CLS]` and `[SEP]`.
    public var offsets: [Range<Int>]
    /// All 1 (no padding is added).
    public var attentionMask: [Int32]
    /// True when truncation removed tokens.
    public var overflowed: Bool

    public init(ids: [Int32], typeIds: [Int32], tokens: [String], offsets: [Range<Int>], attentionMask: [Int32], overflowed: Bool) {
        self.ids = ids
        self.typeIds = typeIds
        self.tokens = tokens
        self.offsets = offsets
        self.attentionMask = attentionMask
        self.overflowed = overflowed
    }

    /// Number of tokens.
    public var count: Int { ids.count }
}

/// One sequence's tokens before `[CLS]`/`[SEP]` are added.
struct RawTokens {
    var ids: [Int32] = []
    var starts: [Int] = []
    var ends: [Int] = []

    var count: Int { ids.count }

    mutating func truncate(to n: Int) {
        guard n < ids.count else { return }
        ids.removeSubrange(n...)
        starts.removeSubrange(n...)
        ends.removeSubrange(n...)
    }
}
