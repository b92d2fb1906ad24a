import Foundation
import Tokenization

/// Texts longer than the model's window: keep every token by embedding overlapping windows.
///
/// sentence-transformers truncates at `max_seq_length` (256 for all-MiniLM-L6-v2), silently
/// dropping the rest of a long text. These hooks let a caller see the untruncated length
/// (to refuse or report it) or embed the whole text as the token-weighted mean of the
/// embeddings of windows that fit:
///
///     v = sum_w (n_w * e_w) / sum_w n_w,   then v / |v| when the model normalizes,
///
/// where window `w` holds `n_w` tokens (`[CLS]` and `[SEP]` included) and `e_w` is its
/// embedding as ``embed(encodings:)`` computes it.
extension SentenceEncoder {
    /// The token ids the model would see for `text` without truncation (`[CLS]` ... `[SEP]`).
    public func tokenizeUntruncated(_ text: String) -> Encoding {
        tokenizer.encode(text)
    }

    /// `encoding`'s content tokens cut into windows of at most ``maxSequenceLength`` tokens
    /// (`[CLS]` and `[SEP]` added to each), consecutive windows sharing `overlap` tokens.
    /// An encoding that fits is returned as it is.
    ///
    /// With `W = maxSequenceLength - 2` content tokens per window, windows start at
    /// `0, S, 2S, ...` with stride `S = W - overlap` (overlap is clamped to `0...W-1`);
    /// the last window ends at the last token.
    public func windows(of encoding: Encoding, overlap: Int) -> [Encoding] {
        guard encoding.ids.count > maxSequenceLength else { return [encoding] }
        let width = max(1, maxSequenceLength - 2)
        let stride = width - min(max(overlap, 0), width - 1)
        // Content tokens sit between [CLS] (first) and [SEP] (last).
        let content = 1..<(encoding.ids.count - 1)
        var out: [Encoding] = []
        var start = content.lowerBound
        while true {
            let end = min(start + width, content.upperBound)
            let cls = tokenizer.classifierID, sep = tokenizer.separatorID
            let ids = [cls] + encoding.ids[start..<end] + [sep]
            out.append(Encoding(
                ids: ids, typeIds: [Int32](repeating: 0, count: ids.count),
                tokens: [encoding.tokens.first ?? ""] + encoding.tokens[start..<end] + [encoding.tokens.last ?? ""],
                offsets: [0..<0] + encoding.offsets[start..<end] + [0..<0],
                attentionMask: [Int32](repeating: 1, count: ids.count), overflowed: false))
            if end == content.upperBound { break }
            start += stride
        }
        return out
    }

    /// Embeds untruncated encodings (from ``tokenizeUntruncated(_:)``): a text that fits is
    /// embedded as ``embed(encodings:)`` does; a longer one as the token-weighted mean of its
    /// ``windows(of:overlap:)``, re-normalized when the model normalizes.
    /// `tokenCounts` are the full texts' counts; nothing is counted as truncated.
    public func embedLongInputs(encodings: [Encoding], overlap: Int) throws(SentenceEmbeddingsError) -> Embeddings {
        var windows: [Encoding] = []
        var owner: [Int] = []
        for (i, e) in encodings.enumerated() {
            for w in self.windows(of: e, overlap: overlap) {
                windows.append(w)
                owner.append(i)
            }
        }
        let pieces = try embed(encodings: windows)
        let d = dimension
        var values = [Float](repeating: 0, count: encodings.count * d)
        var weights = [Float](repeating: 0, count: encodings.count)
        var windowCount = [Int](repeating: 0, count: encodings.count)
        for i in owner { windowCount[i] += 1 }
        for (k, i) in owner.enumerated() {
            let row = pieces[k]
            if windowCount[i] == 1 {
                // A text that fits keeps its vector bit for bit.
                for j in 0..<d { values[i * d + j] = row[row.startIndex + j] }
                continue
            }
            let n = Float(windows[k].ids.count)
            weights[i] += n
            for j in 0..<d { values[i * d + j] += n * row[row.startIndex + j] }
        }
        values.withUnsafeMutableBufferPointer { v in
            for i in 0..<encodings.count where windowCount[i] > 1 {
                let row = UnsafeMutableBufferPointer(rebasing: v[(i * d)..<((i + 1) * d)])
                for j in 0..<d { row[j] /= weights[i] }
                if normalizes { normalizeL2(row) }
            }
        }
        return Embeddings(dimension: d, values: values, tokenCounts: encodings.map(\.ids.count), truncatedCount: 0)
    }
}
