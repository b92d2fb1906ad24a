/// Hugging Face's `WordPiece` model (tokenizers/src/models/wordpiece/mod.rs):
/// greedy longest-match-first over a word's scalars; pieces after the first carry the
/// `##` prefix; a word longer than `maxInputCharsPerWord` scalars, or with any part
/// that matches nothing, becomes one `[UNK]`.
public struct WordPiece: Sendable {
    public let vocabulary: Vocabulary
    public let unknownID: Int32
    public let maxInputCharsPerWord: Int

    public init(vocabulary: Vocabulary, unknownID: Int32, maxInputCharsPerWord: Int = 100) {
        self.vocabulary = vocabulary
        self.unknownID = unknownID
        self.maxInputCharsPerWord = maxInputCharsPerWord
    }

    /// Tokenizes one word given as UTF-8 bytes and the byte offset where each of its
    /// `scalarCount` scalars starts (`scalarStarts[scalarCount]` = `bytes.count`).
    /// Calls `emit(id, firstScalar, endScalar)` per piece. No allocation.
    @inline(__always)
    func tokenize(
        bytes: UnsafeBufferPointer<UInt8>, scalarStarts: UnsafeBufferPointer<Int>, scalarCount n: Int,
        pieces: inout [(id: Int32, start: Int, end: Int)]
    ) {
        pieces.removeAll(keepingCapacity: true)
        if n > maxInputCharsPerWord {
            pieces.append((unknownID, 0, n))
            return
        }
        var start = 0
        while start < n {
            var end = n
            var found: Int32? = nil
            let from = scalarStarts[start]
            while start < end {
                let piece = UnsafeBufferPointer(rebasing: bytes[from..<scalarStarts[end]])
                found = start == 0 ? vocabulary.lookup(piece) : vocabulary.lookupContinuation(piece)
                if found != nil { break }
                end -= 1
            }
            guard let id = found else {
                pieces.removeAll(keepingCapacity: true)
                pieces.append((unknownID, 0, n))
                return
            }
            pieces.append((id, start, end))
            start = end
        }
    }

    /// The pieces of `word` (taken as-is, no normalization) as token strings.
    /// A plain entry point for tests and tools.
    public func tokenize(_ word: String) -> [String] {
        var bytes: [UInt8] = []
        var starts: [Int] = []
        for s in word.unicodeScalars {
            starts.append(bytes.count)
            bytes.append(contentsOf: String(s).utf8)
        }
        starts.append(bytes.count)
        var pieces: [(id: Int32, start: Int, end: Int)] = []
        bytes.withUnsafeBufferPointer { b in
            starts.withUnsafeBufferPointer { s in
                tokenize(bytes: b, scalarStarts: s, scalarCount: starts.count - 1, pieces: &pieces)
            }
        }
        return pieces.map { vocabulary.tokens[Int($0.id)] }
    }
}
