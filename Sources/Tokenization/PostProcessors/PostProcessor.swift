/// How a WordPiece tokenizer's classifier and separator tokens frame its input.
public enum SpecialTemplate: Sendable, Equatable {
    /// `BertProcessing` (tokenizers/src/processors/bert.rs): `[CLS] A [SEP]`, and
    /// `[CLS] A [SEP] B [SEP]` with type id 1 for `B` and its `[SEP]`.
    case bert
    /// `RobertaProcessing` (tokenizers/src/processors/roberta.rs, as MPNet uses it):
    /// `<s> A </s>`, and `<s> A </s> </s> B </s>`, every type id 0.
    case roberta

    /// Specials a pair carries.
    var pairSpecials: Int { self == .bert ? 3 : 4 }
}

/// One sequence's tokens as truncation sees them: a count, and a cut keeping the first `n`.
protocol TruncatableTokens {
    var count: Int { get }
    mutating func truncate(to n: Int)
}

extension RawTokens: TruncatableTokens {}
extension SequenceTokens: TruncatableTokens {}

/// Truncation (tokenizers/src/utils/truncation.rs, strategy `longest_first`, stride 0,
/// direction right) and the ``SpecialTemplate``.
enum PostProcessor {
    /// Truncates so that the final encoding, specials included, has at most `maxLength`
    /// tokens. As in the reference (`Tokenizer::post_process`, probed with tokenizers
    /// 0.23.3): when `maxLength` is smaller than the number of specials (2 single,
    /// `pairSpecials` for a pair) nothing is truncated; otherwise the budget
    /// `maxLength - specials` is shared longest-first. Returns whether tokens were removed.
    /// `singleSpecials`/`pairSpecials` are the post-processor's `added_tokens(is_pair)`.
    static func truncate<T: TruncatableTokens>(
        _ a: inout T, _ b: inout T?, maxLength: Int, singleSpecials: Int = 2, pairSpecials: Int = 3
    ) -> Bool {
        let specials = b == nil ? singleSpecials : pairSpecials
        guard maxLength >= specials else { return false }
        let budget = maxLength - specials
        let before = a.count + (b?.count ?? 0)
        if var second = b {
            if budget == 0 {
                a.truncate(to: 0); second.truncate(to: 0)
            } else if a.count + second.count > budget {
                // truncate_encodings, LongestFirst with a pair: with n1 <= n2,
                // n2 = max(n1, budget - n1) unless n1 > budget; if n1 + n2 still exceeds the
                // budget both get budget / 2, the longer one the odd token.
                var n1 = a.count, n2 = second.count
                let swap = n1 > n2
                if swap { swap2(&n1, &n2) }
                if n1 > budget { n2 = n1 } else { n2 = max(n1, budget - n1) }
                if n1 + n2 > budget {
                    n1 = budget / 2
                    n2 = n1 + budget % 2
                }
                if swap { swap2(&n1, &n2) }
                a.truncate(to: n1); second.truncate(to: n2)
            }
            b = second
        } else if a.count > budget {
            a.truncate(to: budget)
        }
        return a.count + (b?.count ?? 0) < before
    }

    private static func swap2(_ x: inout Int, _ y: inout Int) { let t = x; x = y; y = t }

    static func assemble(
        _ a: RawTokens, _ b: RawTokens?, cls: Int32, sep: Int32, template: SpecialTemplate, overflowed: Bool,
        tokenString: (Int32) -> String
    ) -> Encoding {
        let n = a.count + (b?.count ?? 0) + (b == nil ? 2 : template.pairSpecials)
        let pairType: Int32 = template == .bert ? 1 : 0
        var ids: [Int32] = []; ids.reserveCapacity(n)
        var types: [Int32] = []; types.reserveCapacity(n)
        var offsets: [Range<Int>] = []; offsets.reserveCapacity(n)
        ids.append(cls); types.append(0); offsets.append(0..<0)
        for i in 0..<a.count {
            ids.append(a.ids[i]); types.append(0); offsets.append(a.starts[i]..<a.ends[i])
        }
        ids.append(sep); types.append(0); offsets.append(0..<0)
        if let b {
            if template == .roberta { ids.append(sep); types.append(0); offsets.append(0..<0) }
            for i in 0..<b.count {
                ids.append(b.ids[i]); types.append(pairType); offsets.append(b.starts[i]..<b.ends[i])
            }
            ids.append(sep); types.append(pairType); offsets.append(0..<0)
        }
        return Encoding(
            ids: ids, typeIds: types, tokens: ids.map(tokenString), offsets: offsets,
            attentionMask: [Int32](repeating: 1, count: ids.count), overflowed: overflowed)
    }
}
