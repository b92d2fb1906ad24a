import TestSupport
import Foundation
import StrictJSON
import Testing
@testable import Tokenization

/// Tiny vocabularies, one stage at a time.
@Suite struct StageTests {
    static let tiny = try! Vocabulary(tokens: [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "ba", "##na", "na", "b", "##a", "##n", "un", "##aff", "##able",
        "café", "cafe", "##\u{301}", ",", "!", "中", "hello", "##s",
    ])
    static let tokenizer = BertTokenizer(vocabulary: tiny, options: .init())

    @Test func wordPieceGreedyLongestFirst() {
        let wp = WordPiece(vocabulary: Self.tiny, unknownID: 1)
        #expect(wp.tokenize("banana") == ["ba", "##na", "##na"])
        #expect(wp.tokenize("unaffable") == ["un", "##aff", "##able"])
        #expect(wp.tokenize("ban") == ["ba", "##n"])
        #expect(wp.tokenize("xbanana") == ["[UNK]"])  // no piece for "x": the whole word is unknown
        #expect(wp.tokenize("banax") == ["[UNK]"])    // any unmatched piece -> one [UNK]
        #expect(wp.tokenize("") == [])
    }

    @Test func wordPieceLengthLimitCountsScalars() {
        let wp = WordPiece(vocabulary: Self.tiny, unknownID: 1, maxInputCharsPerWord: 6)
        #expect(wp.tokenize("banana") == ["ba", "##na", "##na"])  // 6 scalars
        #expect(wp.tokenize("bananan") == ["[UNK]"])              // 7 scalars
        let wp3 = WordPiece(vocabulary: Self.tiny, unknownID: 1, maxInputCharsPerWord: 4)
        // "cafe\u{301}" is one Character-ish word of 5 scalars: over a 4-scalar limit.
        #expect(wp3.tokenize("cafe\u{301}") == ["[UNK]"])
        #expect(WordPiece(vocabulary: Self.tiny, unknownID: 1).tokenize("cafe\u{301}") == ["cafe", "##\u{301}"])
    }

    @Test func vocabularyIsKeyedByBytesNotCanonicalEquivalence() {
        // Swift's String == treats these as equal; the vocabulary must not.
        #expect("café" == "cafe\u{301}")
        #expect(Self.tiny.id(for: "café") == 14)
        #expect(Self.tiny.id(for: "cafe\u{301}") == nil)
        #expect(Self.tiny.id(for: "cafe") == 15)
        #expect(Self.tiny.token(for: 14) == "café")
        #expect(Self.tiny.token(for: 99) == nil)
        #expect(Self.tiny.token(for: -1) == nil)
    }

    @Test func normalizerFlags() {
        let all = BertNormalizer(options: .init())
        #expect(all.normalize("Héllo\u{0}\u{200B}Wörld").text == "helloworld")
        #expect(all.normalize("a\tb\u{00A0}c\u{2028}d").text == "a b c d")
        #expect(all.normalize("a\u{0085}b\u{000B}c\u{000C}d").text == "abcd")  // NEL/VT/FF are deleted, not spaces
        #expect(all.normalize("ΟΔΟΣ").text == "οδοσ")                          // no final sigma
        #expect(all.normalize("中文").text == " 中  文 ")
        #expect(all.normalize("\u{2B820}").text == "\u{2B820}")               // the reference's 0x2B920 typo
        #expect(all.normalize("\u{2B81F}").text == " \u{2B81F} ")
        #expect(all.normalize("한").text == "\u{1112}\u{1161}\u{11AB}")        // NFD decomposes Hangul
        #expect(all.normalize("İ").text == "i")
        #expect(all.normalize("İ").origins == [0])

        let cased = BertNormalizer(options: .init(lowercase: false))
        #expect(cased.normalize("Café e\u{301}").text == "Café e\u{301}")    // strip_accents follows lowercase
        #expect(BertNormalizer(options: .init(stripAccents: true, lowercase: false)).normalize("Café").text == "Cafe")
        #expect(BertNormalizer(options: .init(stripAccents: false, lowercase: true)).normalize("CAFÉ İ").text == "café i\u{307}")
        let raw = BertNormalizer(options: .init(cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false))
        #expect(raw.normalize("a\u{0}b中").text == "a\u{0}b中")
        let offsets = all.normalize("A\u{200B}中")
        #expect(offsets.text == "a 中 ")
        #expect(offsets.origins == [0, 2, 2, 2])
    }

    @Test func preTokenizerSplitsWhitespaceAndIsolatesPunctuation() {
        let pre = BertPreTokenizer()
        let text = "Hello, world!  a$b\u{3000}c\u{2E55}"
        let words = pre.words(text).map { r in
            String(String.UnicodeScalarView(Array(text.unicodeScalars)[r]))
        }
        // U+2E55 is punctuation in Swift's tables but not in the reference's.
        #expect(words == ["Hello", ",", "world", "!", "a", "$", "b", "c\u{2E55}"])
    }

    @Test func postProcessingAndOffsets() {
        let e = Self.tokenizer.encode("Banana, hello!")
        #expect(e.tokens == ["[CLS]", "ba", "##na", "##na", ",", "hello", "!", "[SEP]"])
        #expect(e.ids == [2, 5, 6, 6, 17, 20, 18, 3])
        #expect(e.offsets == [0..<0, 0..<2, 2..<4, 4..<6, 6..<7, 8..<13, 13..<14, 0..<0])
        #expect(e.typeIds == [Int32](repeating: 0, count: 8))
        #expect(e.attentionMask == [Int32](repeating: 1, count: 8))
        #expect(!e.overflowed)

        let p = Self.tokenizer.encode("banana", pair: "hellos")
        #expect(p.tokens == ["[CLS]", "ba", "##na", "##na", "[SEP]", "hello", "##s", "[SEP]"])
        #expect(p.typeIds == [0, 0, 0, 0, 0, 1, 1, 1])
        #expect(p.offsets[5] == 0..<5 && p.offsets[6] == 5..<6)
    }

    @Test func specialTokensInTextAreMatchedVerbatim() {
        let e = Self.tokenizer.encode("ba[MASK]na [mask]")
        #expect(e.tokens == ["[CLS]", "ba", "[MASK]", "na", "[UNK]", "[UNK]", "[UNK]", "[SEP]"])
        #expect(e.offsets[2] == 2..<8)
    }

    @Test func truncationKeepsSeparatorAndSkipsImpossibleLengths() {
        let t = Self.tokenizer
        let full = t.encode("banana banana")  // 8 tokens
        #expect(full.count == 8)
        #expect(t.encode("banana banana", maxLength: 8) == full)
        let cut = t.encode("banana banana", maxLength: 4)
        #expect(cut.tokens == ["[CLS]", "ba", "##na", "[SEP]"])
        #expect(cut.overflowed)
        #expect(t.encode("banana banana", maxLength: 2).tokens == ["[CLS]", "[SEP]"])
        #expect(t.encode("banana banana", maxLength: 1) == full)  // fewer than the 2 specials: not truncated (reference)
        #expect(t.encode("banana banana", maxLength: 0) == full)
        // pair longest-first: budget 9 - 3 = 6 shared 1 + 5, then halves
        #expect(t.encode("ba", pair: "banana banana", maxLength: 7).tokens == ["[CLS]", "ba", "[SEP]", "ba", "##na", "##na", "[SEP]"])
        #expect(t.encode("banana", pair: "banana", maxLength: 7).tokens == ["[CLS]", "ba", "##na", "[SEP]", "ba", "##na", "[SEP]"])
    }

    @Test func byteInputRejectsInvalidUTF8WithOffset() throws {
        #expect(throws: TokenizationError.invalidUTF8Input(byteOffset: 2)) {
            try Self.tokenizer.encode(utf8: [0x62, 0x61, 0xFF, 0x6E])
        }
        for (bytes, offset) in [([0xC0, 0x80], 0), ([0x61, 0xED, 0xA0, 0x80], 1), ([0xF4, 0x90, 0x80, 0x80], 0),
                                ([0x61, 0x62, 0xE2, 0x82], 2), ([0x80], 0), ([0xE0, 0x80, 0x80], 0)] as [([UInt8], Int)] {
            #expect(UTF8Validation.firstInvalidByte(bytes) == offset)
        }
        #expect(UTF8Validation.firstInvalidByte(Array("héllo 中 😀".utf8)) == nil)
        #expect(try Self.tokenizer.encode(utf8: Array("banana".utf8)) == Self.tokenizer.encode("banana"))
    }
}

@Suite struct VocabularyTableTests {
    /// The open-addressing byte table against a plain dictionary of byte arrays.
    @Test func byteTableAgreesWithDictionary() throws {
        let vocab = try #require(Fixtures.uncased).vocabulary
        var reference: [[UInt8]: Int32] = [:]
        var continuation: [[UInt8]: Int32] = [:]
        for (i, t) in vocab.tokens.enumerated() {
            reference[Array(t.utf8)] = Int32(i)
            // Bytes, not String.hasPrefix: in "##\u{301}" the second "#" and the accent form one
            // Character, so hasPrefix("##") is false for tokens 29876... of this vocabulary.
            if t.utf8.starts(with: "##".utf8) { continuation[Array(t.utf8.dropFirst(2))] = Int32(i) }
        }
        #expect(reference.count == vocab.count)
        var rng = SplitMix64(seed: 3)
        var probes = vocab.tokens.map { Array($0.utf8) }
        for _ in 0..<20000 {
            let n = Int.random(in: 1...6, using: &rng)
            probes.append((0..<n).map { _ in UInt8.random(in: 0x61...0x7A, using: &rng) })
        }
        for p in probes {
            p.withUnsafeBufferPointer { b in
                #expect(vocab.lookup(b) == reference[p])
                #expect(vocab.lookupContinuation(b) == continuation[p])
            }
        }
    }
}
