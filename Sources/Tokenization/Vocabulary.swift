import StrictJSON

/// A WordPiece vocabulary: token strings by id, and lookups keyed by the token's
/// UTF-8 bytes.
///
/// Never keyed by Swift `String`: `String` equality is canonical equivalence, so
/// `"café"` (U+00E9) and `"cafe\u{301}"` would be one key, while the reference keeps
/// them as two tokens with two ids.
public final class Vocabulary: Sendable {
    /// Token strings by id.
    public let tokens: [String]
    /// All tokens' bytes, back to back.
    private let pool: [UInt8]
    private let full: ByteTable
    private let continuation: ByteTable
    /// The prefix marking a piece that continues a word (`##`).
    public let continuingSubwordPrefix: String

    /// Number of tokens (ids are 0..<count).
    public var count: Int { tokens.count }

    /// Builds a vocabulary whose ids are the positions in `tokens`.
    /// Throws ``TokenizationError/duplicateToken(path:token:firstLine:line:)`` when a token repeats
    /// (byte for byte); `source` names the origin in that message.
    public init(tokens: [String], continuingSubwordPrefix: String = "##", source: String = "vocabulary") throws(TokenizationError) {
        guard !tokens.isEmpty else { throw .emptyVocabulary(path: source) }
        var pool: [UInt8] = []
        var keys: [(start: Int32, count: Int32)] = []
        keys.reserveCapacity(tokens.count)
        for t in tokens {
            let start = Int32(pool.count)
            pool.append(contentsOf: t.utf8)
            keys.append((start, Int32(pool.count) - start))
        }
        let prefix = Array(continuingSubwordPrefix.utf8)
        var full = ByteTable(capacityFor: tokens.count)
        var continuation = ByteTable(capacityFor: tokens.count)
        try pool.withUnsafeBufferPointer { (p) throws(TokenizationError) in
            for (id, k) in keys.enumerated() {
                let bytes = UnsafeBufferPointer(rebasing: p[Int(k.start)..<Int(k.start + k.count)])
                if let previous = full.lookup(bytes, pool: p) {
                    throw .duplicateToken(path: source, token: tokens[id], firstLine: Int(previous) + 1, line: id + 1)
                }
                full.insert(start: k.start, count: k.count, id: Int32(id), pool: p)
                if !prefix.isEmpty, k.count >= prefix.count, bytes.starts(with: prefix) {
                    continuation.insert(start: k.start + Int32(prefix.count), count: k.count - Int32(prefix.count), id: Int32(id), pool: p)
                }
            }
        }
        self.tokens = tokens
        self.pool = pool
        self.full = full
        self.continuation = continuation
        self.continuingSubwordPrefix = continuingSubwordPrefix
    }

    /// The id of `token`, compared byte for byte.
    public func id(for token: String) -> Int32? {
        var t = token
        return t.withUTF8 { lookup($0) }
    }

    /// The token with this id, or `nil` when out of range.
    public func token(for id: Int32) -> String? {
        id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : nil
    }

    /// Whole-token lookup.
    @inline(__always)
    func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        if bytes.count > full.maxKeyLength { return nil }
        return pool.withUnsafeBufferPointer { full.lookup(bytes, pool: $0) }
    }

    /// Lookup of `prefix + bytes` without building the concatenation.
    @inline(__always)
    func lookupContinuation(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        if bytes.count > continuation.maxKeyLength { return nil }
        return pool.withUnsafeBufferPointer { continuation.lookup(bytes, pool: $0) }
    }

    /// The tokens of a `{"token": id, ...}` vocabulary object (WordPiece's and BPE's `model.vocab`)
    /// by id. Ids must be exactly 0..<count, each once: a gap or a shared id is refused with the
    /// tokens involved (the reference would keep one of two tokens sharing an id at random).
    public static func tokensByID(_ vocabObject: JSONFields) throws(TokenizationError) -> [String] {
        let file = vocabObject.file
        var byID = [String?](repeating: nil, count: vocabObject.count)
        // The raw members: a key path is built only for an error (50k of them cost a third of the load).
        for (token, raw) in vocabObject.object.members {
            guard let exact = raw.numberValue?.exactInt, exact >= 0 else {
                throw .invalidField(vocabObject[token].invalid("an integer from 0"))
            }
            let id = exact
            guard id < byID.count else {
                throw .invalidVocabularyIDs(path: file, reason: "token \(token.debugDescription) has id \(id) but there are \(byID.count) tokens")
            }
            if let other = byID[id] {
                throw .invalidVocabularyIDs(path: file, reason: "tokens \(other.debugDescription) and \(token.debugDescription) share id \(id)")
            }
            byID[id] = token
        }
        return byID.map { $0! }  // count distinct ids < count, each unique: all filled
    }

    /// Tokens in a `vocab.txt` file: one per line, id = line index, as the reference
    /// reads it (`\n` or `\r\n`, trailing whitespace trimmed) but strict: a leading BOM is
    /// removed instead of becoming part of the first token, and invalid UTF-8 or a
    /// repeated token is an error with its line number (the reference lets the last
    /// duplicate win, leaving an id hole).
    public static func parseVocabTxt(_ bytes: [UInt8], path: String) throws(TokenizationError) -> [String] {
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        var tokens: [String] = []
        var line = 0
        var i = start
        while i <= bytes.count {
            if i == bytes.count || bytes[i] == 0x0A {
                line += 1
                if i == bytes.count && i == start { break }  // no empty last line after a final \n
                guard let s = String(validating: bytes[start..<i], as: UTF8.self) else {
                    throw .invalidUTF8InVocabulary(path: path, line: line)
                }
                tokens.append(trimEnd(s))
                start = i + 1
            }
            i += 1
        }
        return tokens
    }

    /// Rust `str::trim_end` (drops trailing `char::is_whitespace`, which includes `\r`).
    static func trimEnd(_ s: String) -> String {
        // Fast path for nearly every line (start-up time): a visible ASCII last byte
        // (0x21...0x7E) is never whitespace, so there is nothing to trim.
        if let last = s.utf8.last, (0x21...0x7E).contains(last) { return s }
        var scalars = Substring(s).unicodeScalars
        while let last = scalars.last, isRustWhitespace(last.value) { scalars.removeLast() }
        return String(scalars)
    }

    /// Rust `char::is_whitespace` (the `White_Space` property), which the pre-tokenizer table also uses.
    static func isRustWhitespace(_ v: UInt32) -> Bool {
        v == 0x20 || UnicodeTables.shared.flags[Int(v)] & UnicodeTables.splitSpace != 0
    }
}

/// Open-addressing hash table from byte strings (slices of a shared pool) to ids.
struct ByteTable: Sendable {
    private var slots: [Slot]
    private let mask: Int
    private(set) var maxKeyLength = 0

    struct Slot: Sendable {
        var hash: UInt32 = 0
        var start: Int32 = 0
        var count: Int32 = -1  // -1 = empty
        var id: Int32 = 0
    }

    init(capacityFor n: Int) {
        var size = 16
        while size < n * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(), count: size)
        mask = size - 1
    }

    /// FNV-1a, 32-bit.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for b in bytes { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h
    }

    mutating func insert(start: Int32, count: Int32, id: Int32, pool: UnsafeBufferPointer<UInt8>) {
        let key = UnsafeBufferPointer(rebasing: pool[Int(start)..<Int(start + count)])
        let h = Self.hash(key)
        var i = Int(h) & mask
        while slots[i].count >= 0 { i = (i + 1) & mask }
        slots[i] = Slot(hash: h, start: start, count: count, id: id)
        maxKeyLength = max(maxKeyLength, Int(count))
    }

    @inline(__always)
    func lookup(_ key: UnsafeBufferPointer<UInt8>, pool: UnsafeBufferPointer<UInt8>) -> Int32? {
        let h = Self.hash(key)
        var i = Int(h) & mask
        return slots.withUnsafeBufferPointer { s in
            while true {
                let slot = s[i]
                if slot.count < 0 { return nil }
                if slot.hash == h && Int(slot.count) == key.count
                    && bytesEqual(pool.baseAddress, Int(slot.start), key.baseAddress, key.count) {
                    return slot.id
                }
                i = (i + 1) & mask
            }
        }
    }
}

@inline(__always)
private func bytesEqual(_ a: UnsafePointer<UInt8>?, _ offset: Int, _ b: UnsafePointer<UInt8>?, _ n: Int) -> Bool {
    if n == 0 { return true }
    guard let a, let b else { return false }
    for k in 0..<n where a[offset + k] != b[k] { return false }
    return true
}
