import Foundation
import Tokenization

/// One input as the forward pass will run it, under one ``PreparedEncoding``.
///
/// A text longer than the model's window is cut (``TruncationPolicy/truncate``), refused
/// (``TruncationPolicy/error``) or split into overlapping windows (``TruncationPolicy/chunk(overlap:)``)
/// whose embeddings are averaged, weighted by their token counts:
///
///     v = sum_w (n_w * e_w) / sum_w n_w,   then v / |v| when the model normalizes,
///
/// where window `w` holds `n_w` tokens (`[CLS]` and `[SEP]` included) and `e_w` is its
/// embedding after the model's modules, before any truncation to fewer dimensions.
public struct TokenizedInput: Sendable, Equatable {
    /// The token sequences the model runs: one, or the windows of a chunked input.
    public let windows: [Encoding]
    /// The input's tokens, `[CLS]` and `[SEP]` included: after truncation when it was cut, all of
    /// them when it was chunked.
    public let tokenCount: Int
    /// Leading rows of the first window that pooling leaves out (prompt tokens not pooled).
    let poolingSkip: Int

    /// Whether truncation dropped tokens.
    public var truncated: Bool { windows.count == 1 && windows[0].overflowed }
    /// Whether the input was split into several windows.
    public var chunked: Bool { windows.count > 1 }
    /// The tokens of an input that was not chunked (the first window of one that was).
    public var encoding: Encoding { windows[0] }
}

extension SentenceEncoder {
    /// Token ids must be below this: the vocabulary's size, capped by the embedding matrix's rows.
    public var vocabularySize: Int { Swift.min(tokenizer.vocabularySize, encoderConfig.vocabSize) }

    /// `input` tokenized as the model will see it under `prepared`: the prompt joined to a text,
    /// then the truncation policy applied.
    ///
    /// Throws ``SentenceEmbeddingsError/inputTooLong(index:tokens:limit:)`` under
    /// ``TruncationPolicy/error`` and ``SentenceEmbeddingsError/invalidTokenID(index:position:id:vocabularySize:)``
    /// for an id outside the vocabulary; `index` is nil (``embed(_:options:)`` fills it in).
    public func tokenize(_ input: EncoderInput, prepared: PreparedEncoding) throws(SentenceEmbeddingsError) -> TokenizedInput {
        switch input {
        case .text(let text):
            // sentence-transformers joins prompt and text as strings before tokenizing.
            let joined = prepared.prompt.map { $0.isEmpty ? text : $0 + text } ?? text
            switch prepared.truncation {
            case .truncate:
                let encoding = tokenizer.encode(joined, maxLength: maxSequenceLength)
                return TokenizedInput(windows: [encoding], tokenCount: encoding.count, poolingSkip: prepared.promptSkip)
            case .error:
                // Untruncated, to report the length; a caller that must bound the work caps the
                // text's size first (the server and the batch job do).
                let encoding = tokenizer.encode(joined)
                guard encoding.count <= maxSequenceLength else {
                    throw .inputTooLong(index: nil, tokens: encoding.count, limit: maxSequenceLength)
                }
                return TokenizedInput(windows: [encoding], tokenCount: encoding.count, poolingSkip: prepared.promptSkip)
            case .chunk(let overlap):
                // prepare() refuses a prompt with chunking, so nothing is skipped.
                let encoding = tokenizer.encode(joined)
                return TokenizedInput(windows: windows(of: encoding, overlap: overlap), tokenCount: encoding.count, poolingSkip: 0)
            }
        case .tokenIDs(let list):
            return try tokenize(ids: list, truncation: prepared.truncation)
        }
    }

    /// Token ids as a sequence the model runs: the tokenizer's specials (`[CLS]` and `[SEP]`)
    /// added when missing (as TEI's decode-then-encode does), then the truncation policy.
    private func tokenize(ids list: [Int], truncation: TruncationPolicy) throws(SentenceEmbeddingsError) -> TokenizedInput {
        let vocabulary = vocabularySize
        if let j = list.firstIndex(where: { $0 < 0 || $0 >= vocabulary }) {
            throw .invalidTokenID(index: nil, position: j, id: list[j], vocabularySize: vocabulary)
        }
        let specials = tokenizer.specialTokens
        var ids = list.map { Int32($0) }
        if !ids.starts(with: specials.prefix) { ids.insert(contentsOf: specials.prefix, at: 0) }
        if ids.count < specials.count || !ids.reversed().starts(with: specials.suffix.reversed()) {
            ids.append(contentsOf: specials.suffix)
        }
        let full = encoding(ids: ids, overflowed: false)
        guard ids.count > maxSequenceLength else { return TokenizedInput(windows: [full], tokenCount: ids.count, poolingSkip: 0) }
        switch truncation {
        case .truncate:
            let kept = Swift.max(maxSequenceLength - specials.suffix.count, specials.prefix.count)
            let cut = encoding(ids: Array(ids.prefix(kept)) + specials.suffix, overflowed: true)
            return TokenizedInput(windows: [cut], tokenCount: cut.count, poolingSkip: 0)
        case .error:
            throw .inputTooLong(index: nil, tokens: ids.count, limit: maxSequenceLength)
        case .chunk(let overlap):
            return TokenizedInput(windows: windows(of: full, overlap: overlap), tokenCount: ids.count, poolingSkip: 0)
        }
    }

    /// An encoding of bare ids: type 0, vocabulary entries as tokens, no offsets.
    private func encoding(ids: [Int32], overflowed: Bool) -> Encoding {
        Encoding(
            ids: ids, typeIds: [Int32](repeating: 0, count: ids.count), tokens: ids.map { tokenizer.token(for: $0) ?? "" },
            offsets: [Range<Int>](repeating: 0..<0, count: ids.count),
            attentionMask: [Int32](repeating: 1, count: ids.count), overflowed: overflowed)
    }

    /// `encoding`'s content tokens cut into windows of at most ``maxSequenceLength`` tokens
    /// (the specials, `[CLS]` and `[SEP]`, added to each), consecutive windows sharing `overlap`
    /// tokens. An encoding that fits is returned as it is.
    ///
    /// With `W = maxSequenceLength - specials` content tokens per window, windows start at
    /// `0, S, 2S, ...` with stride `S = W - overlap` (overlap is clamped to `0...W-1`);
    /// the last window ends at the last token.
    func windows(of encoding: Encoding, overlap: Int) -> [Encoding] {
        guard encoding.ids.count > maxSequenceLength else { return [encoding] }
        let specials = tokenizer.specialTokens
        let head = specials.prefix.count, tail = specials.suffix.count
        let width = max(1, maxSequenceLength - head - tail)
        let stride = width - min(max(overlap, 0), width - 1)
        // Content tokens sit between the prefix ([CLS]) and the suffix ([SEP]).
        let content = head..<(encoding.ids.count - tail)
        var out: [Encoding] = []
        var start = content.lowerBound
        while true {
            let end = min(start + width, content.upperBound)
            let ids: [Int32] = specials.prefix + encoding.ids[start..<end] + specials.suffix
            var tokens = Array(encoding.tokens[..<head])
            tokens += encoding.tokens[start..<end]
            tokens += encoding.tokens[content.upperBound...]
            var offsets = Array(encoding.offsets[..<head])
            offsets += encoding.offsets[start..<end]
            offsets += encoding.offsets[content.upperBound...]
            out.append(Encoding(
                ids: ids, typeIds: [Int32](repeating: 0, count: ids.count), tokens: tokens, offsets: offsets,
                attentionMask: [Int32](repeating: 1, count: ids.count), overflowed: false))
            if end == content.upperBound { break }
            start += stride
        }
        return out
    }
}
