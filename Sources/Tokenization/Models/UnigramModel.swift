import Foundation

/// SentencePiece's Unigram model (tokenizers/src/models/unigram/model.rs, `encode_optimized`,
/// itself google/sentencepiece unigram_model.cc): the segmentation of a word into vocabulary
/// pieces with the highest sum of piece scores (log probabilities), by Viterbi over char positions.
///
/// Ported to the letter, because ties and float sums decide ids:
/// - at each char start, in order, every piece that is a prefix of the rest (shortest first) is a
///   candidate for the position after it, and replaces the best so far only when strictly better
///   (`score + best_path_score_till_here`, in f64, in that order);
/// - a char with no single-char piece gets the unknown piece with `min_score - 10`;
/// - going back from the end, consecutive unknowns fuse into one token (`fuse_unk`, always on);
/// - a token's string is looked up again (`token_to_ids`): with `byte_fallback` a string that is
///   not a piece becomes one `<0xNN>` per UTF-8 byte, all with the whole token's offsets, when the
///   vocabulary has every one of them; otherwise the unknown id.
public struct UnigramModel: TokenizerModel {
    /// Pieces by id, with their scores.
    public let pieces: [String]
    public let scores: [Double]
    public let unknownID: Int32
    public let byteFallback: Bool
    /// `min(score) - 10`.
    let unknownScore: Double
    /// Byte trie over the pieces (the last of equal pieces keeps its id, as `token_to_ids` does).
    let trie: ByteTrie
    /// `<0xNN>` ids, -1 when absent (only read with `byteFallback`).
    let byteIDs: [Int32]

    /// Precondition (checked by the loader): `pieces` non-empty, `unknownID` in range.
    public init(pieces: [String], scores: [Double], unknownID: Int32, byteFallback: Bool) {
        self.pieces = pieces
        self.scores = scores
        self.unknownID = unknownID
        self.byteFallback = byteFallback
        var minScore = Double.infinity
        for s in scores where s < minScore { minScore = s }
        unknownScore = minScore - 10
        trie = ByteTrie(keys: pieces)
        byteIDs = Self.byteIDs(trie, byteFallback)
    }

    /// `model` with another unknown id and byte-fallback setting, its trie reused: what a
    /// tokenizer class that overrides them (XLMRobertaTokenizer) runs, without building the
    /// trie of a 250k vocabulary twice.
    public init(_ model: UnigramModel, unknownID: Int32, byteFallback: Bool) {
        pieces = model.pieces
        scores = model.scores
        self.unknownID = unknownID
        self.byteFallback = byteFallback
        unknownScore = model.unknownScore
        trie = model.trie
        byteIDs = Self.byteIDs(trie, byteFallback)
    }

    /// The ids of the `<0xNN>` pieces, -1 when absent (all -1 without byte fallback).
    private static func byteIDs(_ trie: ByteTrie, _ byteFallback: Bool) -> [Int32] {
        var bytes = [Int32](repeating: -1, count: 256)
        if byteFallback {
            for b in 0..<256 {
                let hex = String(b, radix: 16, uppercase: true)
                bytes[b] = trie.lookup(Array("<0x\(hex.count == 1 ? "0" + hex : hex)>".utf8)) ?? -1
            }
        }
        return bytes
    }

    public var vocabularyCount: Int { pieces.count }
    public func id(for token: String) -> Int32? { trie.lookup(Array(token.utf8)) }
    public func token(for id: Int32) -> String? { id >= 0 && Int(id) < pieces.count ? pieces[Int(id)] : nil }
    public var summary: String { "Unigram, \(pieces.count) pieces\(byteFallback ? ", byte fallback" : "")" }

    public func tokenize(_ word: ArraySlice<UInt32>, into tokens: inout [ModelToken]) {
        // Work on UTF-8 bytes like the reference; remember each char's scalar index for offsets.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(word.count * 3)
        var scalarAt: [Int32] = []  // byte position -> scalar index (at char starts), (bytes + 1)
        scalarAt.reserveCapacity(word.count * 3 + 1)
        for (k, s) in word.enumerated() {
            let before = bytes.count
            appendUTF8(s, to: &bytes)
            for _ in before..<bytes.count { scalarAt.append(Int32(k)) }
        }
        scalarAt.append(Int32(word.count))
        let size = bytes.count
        guard size > 0 else { return }

        // best_path_ends_at: (id, best_path_score, starts_at or -1). Shape: (size + 1).
        var bestID = [Int32](repeating: 0, count: size + 1)
        var bestScore = [Double](repeating: 0, count: size + 1)
        var startsAt = [Int](repeating: -1, count: size + 1)
        bytes.withUnsafeBufferPointer { p in
            var start = 0
            while start < size {
                let tillHere = bestScore[start]
                let b0 = p[start]
                let mblen = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4
                var hasSingle = false
                trie.forEachPrefix(p, from: start) { end, id in
                    let candidate = scores[Int(id)] + tillHere
                    if startsAt[end] < 0 || candidate > bestScore[end] {
                        bestScore[end] = candidate
                        startsAt[end] = start
                        bestID[end] = id
                    }
                    if end - start == mblen { hasSingle = true }
                }
                if !hasSingle {
                    let end = start + mblen
                    let candidate = unknownScore + tillHere
                    if startsAt[end] < 0 || candidate > bestScore[end] {
                        bestScore[end] = candidate
                        startsAt[end] = start
                        bestID[end] = unknownID
                    }
                }
                start += mblen
            }
        }

        // Back from the end; unknowns fuse. Collected in reverse as byte ranges.
        var spans: [(start: Int, end: Int, unknown: Bool)] = []
        var end = size
        var fusedEnd = -1, fusedStart = -1
        while end > 0 {
            let start = startsAt[end]
            if bestID[end] == unknownID {
                if fusedEnd < 0 { fusedEnd = end }
                fusedStart = start
            } else {
                if fusedEnd >= 0 { spans.append((fusedStart, fusedEnd, true)); fusedEnd = -1 }
                spans.append((start, end, false))
            }
            end = start
        }
        if fusedEnd >= 0 { spans.append((fusedStart, fusedEnd, true)) }

        for span in spans.reversed() {
            let range = Int(scalarAt[span.start])..<Int(scalarAt[span.end])
            // `tokenize`: the string's id, else byte fallback, else unk.
            let id: Int32? = bytes.withUnsafeBufferPointer { p in
                trie.lookup(UnsafeBufferPointer(rebasing: p[span.start..<span.end]))
            }
            if let id {
                tokens.append(ModelToken(id: id, range: range))
                continue
            }
            if byteFallback, (span.start..<span.end).allSatisfy({ byteIDs[Int(bytes[$0])] >= 0 }) {
                for k in span.start..<span.end { tokens.append(ModelToken(id: byteIDs[Int(bytes[k])], range: range)) }
                continue
            }
            tokens.append(ModelToken(id: unknownID, range: range))
        }
    }
}

/// A byte trie for the Unigram pieces (tokenizers/src/models/unigram/trie.rs): common-prefix
/// search from a position, shortest prefix first.
///
/// Built once from the sorted keys with each node's children stored side by side, so a 250,000-piece
/// vocabulary costs a few flat arrays instead of a heap object per node.
struct ByteTrie: Sendable {
    /// Per node: its children are nodes `firstChild ..< firstChild + childCount`, sorted by label.
    private var firstChild: [Int32] = [0]
    private var childCount: [UInt16] = [0]
    /// Per node: the byte leading to it from its parent.
    private var label: [UInt8] = [0]
    /// Per node: the id of the piece ending there, or -1.
    private var ids: [Int32] = [-1]
    /// The root's children by byte (-1 none): every search starts there, and the root has the most.
    private var root = [Int32](repeating: -1, count: 256)

    /// `keys[i]` (as UTF-8) gets id `i`; a repeated key keeps the last id, as `token_to_ids.insert`
    /// in vocabulary order does.
    ///
    /// The keys go into one flat byte buffer and are sorted by index with `memcmp`: for a
    /// 250k-piece vocabulary, sorting arrays of arrays (a retain and a generic comparison per
    /// step) took most of the tokenizer's load time.
    init(keys: [String]) {
        var flat: [UInt8] = []
        var start: [Int] = []
        start.reserveCapacity(keys.count + 1)
        for k in keys {
            start.append(flat.count)
            flat.append(contentsOf: k.utf8)
        }
        start.append(flat.count)
        let order: [Int] = flat.withUnsafeBufferPointer { f in
            let base = f.baseAddress ?? UnsafePointer(bitPattern: 1)!
            return keys.indices.sorted { a, b in
                let la = start[a + 1] - start[a], lb = start[b + 1] - start[b]
                let c = memcmp(base + start[a], base + start[b], min(la, lb))
                if c != 0 { return c < 0 }
                return la != lb ? la < lb : a < b
            }
        }
        // Breadth first: (node, sorted range whose keys share the node's prefix, depth).
        var queue: [(node: Int, lo: Int, hi: Int, depth: Int)] = [(0, 0, order.count, 0)]
        var head = 0
        func length(_ k: Int) -> Int { start[k + 1] - start[k] }
        func byte(_ k: Int, _ depth: Int) -> UInt8 { flat[start[k] + depth] }
        while head < queue.count {
            let (node, lo, hi, depth) = queue[head]
            head += 1
            var i = lo
            // Keys that end here come first in sorted order; the last of equal ones wins.
            while i < hi && length(order[i]) == depth { ids[node] = Int32(order[i]); i += 1 }
            firstChild[node] = Int32(ids.count)
            var children = 0
            while i < hi {
                let b = byte(order[i], depth)
                var j = i + 1
                while j < hi && byte(order[j], depth) == b { j += 1 }
                let child = ids.count
                firstChild.append(0); childCount.append(0); label.append(b); ids.append(-1)
                if node == 0 { root[Int(b)] = Int32(child) }
                queue.append((child, i, j, depth + 1))
                children += 1
                i = j
            }
            childCount[node] = UInt16(children)
        }
    }

    @inline(__always)
    private func child(_ node: Int, _ b: UInt8) -> Int? {
        if node == 0 { let n = root[Int(b)]; return n >= 0 ? Int(n) : nil }
        // Children are sorted by label: a short scan, or a binary search for a wide node (the
        // second byte of a two-byte character under its lead byte has dozens of siblings).
        var lo = Int(firstChild[node]), hi = lo + Int(childCount[node])
        if hi - lo <= 8 {
            for k in lo..<hi where label[k] == b { return k }
            return nil
        }
        while lo < hi {
            let mid = (lo + hi) >> 1
            if label[mid] < b { lo = mid + 1 } else { hi = mid }
        }
        return lo < Int(firstChild[node]) + Int(childCount[node]) && label[lo] == b ? lo : nil
    }

    func lookup(_ key: [UInt8]) -> Int32? {
        key.withUnsafeBufferPointer { lookup($0) }
    }

    func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
        var node = 0
        for b in key {
            guard let n = child(node, b) else { return nil }
            node = n
        }
        return ids[node] >= 0 ? ids[node] : nil
    }

    /// Calls `body(end, id)` for every piece that starts at `from`, shortest first.
    @inline(__always)
    func forEachPrefix(_ p: UnsafeBufferPointer<UInt8>, from: Int, _ body: (Int, Int32) -> Void) {
        var node = 0
        var i = from
        while i < p.count {
            guard let n = child(node, p[i]) else { return }
            node = n
            i += 1
            if ids[node] >= 0 { body(i, ids[node]) }
        }
    }
}
