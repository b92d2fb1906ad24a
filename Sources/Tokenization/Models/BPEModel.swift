import HeapModule

/// Byte-pair encoding (tokenizers/src/models/bpe/model.rs `merge_word`, word.rs `merge_all`):
/// a word starts as one symbol per character and the merges are applied by rank, lowest first.
///
/// Ported to the letter, because the order of merges and the unknown handling decide ids:
/// - each character is looked up with `continuing_subword_prefix` in front unless it is the
///   first, and `end_of_word_suffix` behind if it is the last;
/// - a character not in the vocabulary becomes, with `byte_fallback`, one `<0xNN>` token per
///   UTF-8 byte of that looked-up string (when every one exists; a pending unknown is not written
///   first, exactly as the reference), else the unknown token (consecutive ones fused with
///   `fuse_unk`), else nothing: without `unk_token` the character is dropped;
/// - merges come off a min-heap of (rank, position); a popped entry whose pair changed since is
///   skipped, and each merge pushes the pairs it forms with its neighbours;
/// - `ignore_merges`: a whole word that is a token is that token.
///
/// Merge `(a, b)` makes `a + b` with the first `continuing_subword_prefix.utf8.count` bytes of `b`
/// dropped, as the reference builds it (whether or not `b` starts with the prefix). A repeated
/// pair keeps its last rank. `dropout` other than null or 0 is refused at load (random merges
/// cannot give reproducible ids).
public struct BPEModel: TokenizerModel {
    /// Tokens by id (ids are exactly 0..<count).
    public let tokens: [String]
    public let continuingSubwordPrefix: String?
    public let endOfWordSuffix: String?
    public let unknownID: Int32?
    public let fuseUnknown: Bool
    public let byteFallback: Bool
    public let ignoreMerges: Bool
    /// Byte-exact lookup of token strings (never `String` keys: those compare canonically).
    let trie: ByteTrie
    /// `(left id, right id)` packed as `left << 32 | right` -> `rank << 32 | new id`.
    let merges: [UInt64: UInt64]
    /// Character -> id of the one-character token in each position of a word.
    let lookup: CharacterIDs
    /// `<0xNN>` ids, -1 when absent (read only with `byteFallback`).
    let byteIDs: [Int32]

    public struct Merge: Sendable, Equatable {
        public var left: String
        public var right: String
        public init(_ left: String, _ right: String) { self.left = left; self.right = right }
    }

    /// Why a vocabulary and merge list do not make a model (the loader names the file and field).
    public enum BuildError: Error, Equatable {
        /// Merge number `index` (0-based) names `token`, which is not in the vocabulary.
        case mergeTokenNotInVocabulary(index: Int, token: String)
        /// Merge `index`'s right side is shorter than `continuing_subword_prefix`, or dropping
        /// the prefix's bytes splits a character.
        case mergeShorterThanPrefix(index: Int, right: String)
        case unknownTokenNotInVocabulary(String)
    }

    /// An empty prefix or suffix reads as none (the reference's `format!` adds nothing).
    public init(
        tokens: [String], merges: [Merge], continuingSubwordPrefix: String? = nil, endOfWordSuffix: String? = nil,
        unknownToken: String? = nil, fuseUnknown: Bool = false, byteFallback: Bool = false, ignoreMerges: Bool = false
    ) throws(BuildError) {
        self.tokens = tokens
        let prefix = continuingSubwordPrefix.flatMap { $0.isEmpty ? nil : $0 }
        let suffix = endOfWordSuffix.flatMap { $0.isEmpty ? nil : $0 }
        self.continuingSubwordPrefix = prefix
        self.endOfWordSuffix = suffix
        self.fuseUnknown = fuseUnknown
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        let trie = ByteTrie(keys: tokens)
        self.trie = trie
        if let unknownToken {
            guard let id = trie.lookup(Array(unknownToken.utf8)) else { throw .unknownTokenNotInVocabulary(unknownToken) }
            unknownID = id
        } else {
            unknownID = nil
        }

        let prefixBytes = prefix.map { $0.utf8.count } ?? 0
        var map: [UInt64: UInt64] = [:]
        map.reserveCapacity(merges.count)
        var joined: [UInt8] = []  // scratch: a + b without the prefix's bytes
        func id(_ bytes: some Collection<UInt8>) -> Int32? {
            joined.removeAll(keepingCapacity: true)
            joined.append(contentsOf: bytes)
            return trie.lookup(joined)
        }
        for (rank, m) in merges.enumerated() {
            guard let left = id(m.left.utf8) else { throw .mergeTokenNotInVocabulary(index: rank, token: m.left) }
            guard let right = id(m.right.utf8) else { throw .mergeTokenNotInVocabulary(index: rank, token: m.right) }
            let b = m.right.utf8
            guard b.count >= prefixBytes, String(validating: b.dropFirst(prefixBytes), as: UTF8.self) != nil else {
                throw .mergeShorterThanPrefix(index: rank, right: m.right)
            }
            joined.removeAll(keepingCapacity: true)
            joined.append(contentsOf: m.left.utf8)
            joined.append(contentsOf: b.dropFirst(prefixBytes))
            guard let made = trie.lookup(joined) else {
                throw .mergeTokenNotInVocabulary(index: rank, token: String(decoding: joined, as: UTF8.self))
            }
            map[UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))] = UInt64(rank) << 32 | UInt64(UInt32(made))
        }
        self.merges = map
        lookup = CharacterIDs(tokens: tokens, prefix: prefix, suffix: suffix)
        var bytes = [Int32](repeating: -1, count: 256)
        if byteFallback {
            for b in 0..<256 { bytes[b] = trie.lookup(Array(Self.byteToken(UInt8(b)).utf8)) ?? -1 }
        }
        byteIDs = bytes
    }

    /// Rust's `format!("<{b:#04X}>")`: `<0x0A>`, `<0xFF>`.
    static func byteToken(_ b: UInt8) -> String {
        let hex = String(b, radix: 16, uppercase: true)
        return "<0x\(hex.count == 1 ? "0" + hex : hex)>"
    }

    public var vocabularyCount: Int { tokens.count }
    public func id(for token: String) -> Int32? { trie.lookup(Array(token.utf8)) }
    public func token(for id: Int32) -> String? { id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : nil }
    public var summary: String {
        var s = "BPE, \(tokens.count) tokens, \(merges.count) merges"
        if let p = continuingSubwordPrefix { s += ", prefix \(p.debugDescription)" }
        if let x = endOfWordSuffix { s += ", suffix \(x.debugDescription)" }
        if byteFallback { s += ", byte fallback" }
        return s
    }

    /// One symbol of `Word`: its id, UTF-8 length in the word, and its live neighbours.
    struct Symbol {
        var id: Int32
        var length: Int
        var prev: Int
        var next: Int
    }

    /// A candidate merge of the symbol at `position` with the next one; the heap pops the lowest
    /// rank first, then the leftmost position (word.rs `Ord for Merge`).
    struct Candidate: Comparable {
        var rank: UInt32
        var position: Int
        var made: Int32
        static func < (a: Candidate, b: Candidate) -> Bool {
            a.rank != b.rank ? a.rank < b.rank : a.position < b.position
        }
    }

    public func tokenize(_ word: ArraySlice<UInt32>, into out: inout [ModelToken]) {
        let n = word.count
        guard n > 0 else { return }
        if ignoreMerges, let id = wholeWord(word) {
            out.append(ModelToken(id: id, range: 0..<n))
            return
        }
        var symbols: [Symbol] = []
        symbols.reserveCapacity(n)
        func add(_ id: Int32, _ length: Int) {
            let i = symbols.count
            symbols.append(Symbol(id: id, length: length, prev: i - 1, next: -1))
            if i > 0 { symbols[i - 1].next = i }
        }
        var unknown: (id: Int32, length: Int)? = nil
        for (k, v) in word.enumerated() {
            let isFirst = k == 0, isLast = k == n - 1
            let length = UTF8.width(Unicode.Scalar(v)!)
            if let id = lookup.id(v, continuing: !isFirst, final: isLast) {
                if let u = unknown { add(u.id, u.length); unknown = nil }
                add(id, length)
                continue
            }
            if byteFallback {
                var looked: [UInt8] = []
                if !isFirst, let p = continuingSubwordPrefix { looked += p.utf8 }
                looked += Unicode.Scalar(v)!.utf8
                if isLast, let x = endOfWordSuffix { looked += x.utf8 }
                if looked.allSatisfy({ byteIDs[Int($0)] >= 0 }) {
                    for b in looked { add(byteIDs[Int(b)], 1) }
                    continue
                }
            }
            if let unknownID {
                if let u = unknown {
                    if fuseUnknown {
                        unknown = (u.id, u.length + length)
                        continue
                    }
                    add(u.id, u.length)
                }
                unknown = (unknownID, length)
            }
        }
        if let u = unknown { add(u.id, u.length) }
        mergeAll(&symbols)

        // Byte offsets in the word (the reference's `Word` offsets: the sum of the lengths before)
        // to scalar ranges: from the character holding the first byte to the first character
        // boundary at or after the end, as the normalized string's alignments map them. Exact
        // for whole characters; a byte-fallback token inside a character gets that character.
        var starts: [Int] = [0]  // byte offset of each scalar start, then the total
        starts.reserveCapacity(n + 1)
        for v in word { starts.append(starts[starts.count - 1] + UTF8.width(Unicode.Scalar(v)!)) }
        var byte = 0, first = 0
        for s in symbols where s.length > 0 {
            let lo = min(byte, starts[n]), hi = min(byte + s.length, starts[n])
            while first < n && starts[first + 1] <= lo { first += 1 }
            var last = first
            while last < n && starts[last] < hi { last += 1 }
            out.append(ModelToken(id: s.id, range: first..<max(first, last)))
            byte += s.length
        }
    }

    private func wholeWord(_ word: ArraySlice<UInt32>) -> Int32? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(word.count * 2)
        for v in word { bytes += Unicode.Scalar(v)!.utf8 }
        return trie.lookup(bytes)
    }

    @inline(__always)
    private func merge(_ left: Int32, _ right: Int32) -> (rank: UInt32, made: Int32)? {
        guard let m = merges[UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))] else { return nil }
        return (UInt32(m >> 32), Int32(truncatingIfNeeded: m))
    }

    /// word.rs `merge_all` without dropout. Merged-away symbols keep length 0.
    private func mergeAll(_ symbols: inout [Symbol]) {
        guard symbols.count > 1 else { return }
        var queue = Heap<Candidate>()
        for i in 0..<(symbols.count - 1) {
            if let m = merge(symbols[i].id, symbols[i + 1].id) { queue.insert(Candidate(rank: m.rank, position: i, made: m.made)) }
        }
        while let top = queue.popMin() {
            let p = top.position
            guard symbols[p].length > 0, symbols[p].next >= 0 else { continue }
            let q = symbols[p].next
            // An entry whose pair changed since it was pushed is stale.
            guard let current = merge(symbols[p].id, symbols[q].id), current.made == top.made else { continue }
            symbols[p].id = top.made
            symbols[p].length += symbols[q].length
            symbols[p].next = symbols[q].next
            symbols[q].length = 0
            if symbols[q].next >= 0 { symbols[symbols[q].next].prev = p }
            let prev = symbols[p].prev
            if prev >= 0, let m = merge(symbols[prev].id, symbols[p].id) {
                queue.insert(Candidate(rank: m.rank, position: prev, made: m.made))
            }
            let next = symbols[p].next
            if next >= 0, let m = merge(symbols[p].id, symbols[next].id) {
                queue.insert(Candidate(rank: m.rank, position: p, made: m.made))
            }
        }
    }
}

/// The id of each one-character token as `merge_word` looks it up: the character alone, with the
/// continuing-subword prefix in front (not the first character), with the end-of-word suffix
/// behind (the last), or both. Built once from the vocabulary, so tokenizing a word hashes no
/// strings; characters below U+0200 (all of GPT-2's byte alphabet) are an array index.
struct CharacterIDs: Sendable {
    /// Per form (0 alone, 1 continuing, 2 final, 3 continuing and final): ids of U+0000..<U+0200.
    private var low: [[Int32]]
    /// The same for higher scalars.
    private var high: [[UInt32: Int32]]
    private let hasPrefix: Bool
    private let hasSuffix: Bool

    init(tokens: [String], prefix: String?, suffix: String?) {
        hasPrefix = prefix != nil
        hasSuffix = suffix != nil
        low = Array(repeating: [Int32](repeating: -1, count: 0x200), count: 4)
        high = Array(repeating: [:], count: 4)
        let p = prefix.map { Array($0.unicodeScalars.map(\.value)) } ?? []
        let x = suffix.map { Array($0.unicodeScalars.map(\.value)) } ?? []
        // Only tokens of at most this many scalars can be one character in some form; the UTF-8
        // length bounds the scalar count, so longer tokens are skipped without decoding them.
        let longest = p.count + 1 + x.count
        var s: [UInt32] = []
        for (id, token) in tokens.enumerated() where token.utf8.count <= 4 * longest {
            s.removeAll(keepingCapacity: true)
            for v in token.unicodeScalars {
                s.append(v.value)
                if s.count > longest { break }
            }
            guard s.count <= longest else { continue }
            // A token can be one character in several forms (an empty prefix never reaches here).
            func record(_ form: Int, _ v: UInt32) {
                if v < 0x200 { low[form][Int(v)] = Int32(id) } else { high[form][v] = Int32(id) }
            }
            if s.count == 1 { record(0, s[0]) }
            if hasPrefix, s.count == p.count + 1, s.starts(with: p) { record(1, s[p.count]) }
            if hasSuffix, s.count == x.count + 1, s[1...].elementsEqual(x) { record(2, s[0]) }
            if hasPrefix, hasSuffix, s.count == longest, s.starts(with: p), s[(p.count + 1)...].elementsEqual(x) {
                record(3, s[p.count])
            }
        }
    }

    @inline(__always)
    func id(_ v: UInt32, continuing: Bool, final: Bool) -> Int32? {
        let form = (continuing && hasPrefix ? 1 : 0) | (final && hasSuffix ? 2 : 0)
        if v < 0x200 {
            let id = low[form][Int(v)]
            return id >= 0 ? id : nil
        }
        return high[form][v]
    }
}
