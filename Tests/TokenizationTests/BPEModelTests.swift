import Foundation
import Testing
@testable import Tokenization

/// The BPE model and the ByteLevel pre-tokenizer on tiny inputs. Expected values are the
/// reference's own tests (tokenizers/src/models/bpe/model.rs, pre_tokenizers/byte_level.rs) or
/// follow from the rules quoted in each type's doc comment.
@Suite struct BPEModelTests {
    static func tokens(_ model: BPEModel, _ word: String) -> [(Int32, Range<Int>)] {
        var out: [ModelToken] = []
        model.tokenize(Array(word.unicodeScalars.map(\.value))[...], into: &out)
        return out.map { ($0.id, $0.range) }
    }

    static func ids(_ model: BPEModel, _ word: String) -> [Int32] { tokens(model, word).map(\.0) }

    static let unrelated = ["u", "n", "r", "e", "l", "a", "t", "d", "re", "at", "ed", "un", "ated", "rel", "related", "unrelated"]
    static let unrelatedMerges: [BPEModel.Merge] = [
        .init("r", "e"), .init("a", "t"), .init("e", "d"), .init("u", "n"), .init("at", "ed"), .init("re", "l"),
        .init("rel", "ated"), .init("un", "related"),
    ]

    @Test("merges by rank to one token (the reference's test_tokenize_with_and_without_dropout)")
    func mergesByRank() throws {
        let m = try BPEModel(tokens: Self.unrelated, merges: Self.unrelatedMerges)
        #expect(Self.tokens(m, "unrelated").map(\.0) == [15])
        #expect(Self.tokens(m, "unrelated").map(\.1) == [0..<9])
        // Without the last merge the word stops at un + related.
        let fewer = try BPEModel(tokens: Self.unrelated, merges: Array(Self.unrelatedMerges.dropLast()))
        #expect(Self.tokens(fewer, "unrelated").map(\.0) == [11, 14])
        #expect(Self.tokens(fewer, "unrelated").map(\.1) == [0..<2, 2..<9])
        // No merges: one token per character.
        let none = try BPEModel(tokens: Self.unrelated, merges: [])
        #expect(Self.ids(none, "unrelated") == [0, 1, 2, 3, 4, 5, 6, 3, 7])
    }

    @Test("the lowest rank merges first, the leftmost of equal pairs first")
    func rankThenPosition() throws {
        // "aaa" with (a, a): positions 0-1 merge first, leaving aa + a.
        let m = try BPEModel(tokens: ["a", "aa", "aaa"], merges: [.init("a", "a")])
        #expect(Self.tokens(m, "aaa").map(\.0) == [1, 0])
        #expect(Self.tokens(m, "aaa").map(\.1) == [0..<2, 2..<3])
        // A lower-ranked merge made later still wins over an earlier higher rank: ab + c before b + c.
        let n = try BPEModel(tokens: ["a", "b", "c", "ab", "bc", "abc"], merges: [.init("a", "b"), .init("b", "c"), .init("ab", "c")])
        #expect(Self.ids(n, "abc") == [5])
        let o = try BPEModel(tokens: ["a", "b", "c", "ab", "bc", "abc"], merges: [.init("b", "c"), .init("a", "b"), .init("ab", "c")])
        #expect(Self.ids(o, "abc") == [0, 4])
        // A repeated pair keeps its last rank: (b, c) now ranks after (a, b).
        let p = try BPEModel(tokens: ["a", "b", "c", "ab", "bc", "abc"], merges: [.init("b", "c"), .init("a", "b"), .init("ab", "c"), .init("b", "c")])
        #expect(Self.ids(p, "abc") == [5])
    }

    @Test("continuing_subword_prefix: ##-tokens after the first character (the reference's test)")
    func continuingPrefix() throws {
        let m = try BPEModel(tokens: ["a", "##b", "##c", "ab", "abc"], merges: [.init("a", "##b"), .init("ab", "##c")],
                             continuingSubwordPrefix: "##")
        #expect(Self.tokens(m, "ab").map(\.0) == [3])
        #expect(Self.tokens(m, "abc").map(\.0) == [4])
        #expect(Self.tokens(m, "abc").map(\.1) == [0..<3])
    }

    @Test("end_of_word_suffix on the last character, with and without a prefix")
    func endOfWordSuffix() throws {
        let tokens = ["a", "b", "b</w>", "##b</w>", "##b", "ab</w>"]
        let m = try BPEModel(tokens: tokens, merges: [.init("a", "b</w>")], endOfWordSuffix: "</w>")
        #expect(Self.ids(m, "ab") == [5])
        #expect(Self.ids(m, "b") == [2])
        #expect(Self.ids(m, "ba") == [1])  // "a</w>" is not a token and there is no unk_token: dropped
        let p = try BPEModel(tokens: tokens, merges: [], continuingSubwordPrefix: "##", endOfWordSuffix: "</w>")
        #expect(Self.ids(p, "bb") == [1, 3])
        #expect(Self.ids(p, "bbb") == [1, 4, 3])
    }

    @Test("unknowns: fused or not (the reference's test_unk_not_fused and test_unk_get_fused), dropped without unk_token")
    func unknowns() throws {
        let notFused = try BPEModel(tokens: ["<unk>", "a", "b"], merges: [], unknownToken: "<unk>")
        #expect(Self.tokens(notFused, "c").map(\.0) == [0])
        #expect(Self.tokens(notFused, "cc").map(\.1) == [0..<1, 1..<2])
        #expect(Self.tokens(notFused, "accb").map(\.0) == [1, 0, 0, 2])
        let fused = try BPEModel(tokens: ["<unk>", "a", "b"], merges: [], unknownToken: "<unk>", fuseUnknown: true)
        #expect(Self.tokens(fused, "cc").map(\.0) == [0])
        #expect(Self.tokens(fused, "cc").map(\.1) == [0..<2])
        #expect(Self.tokens(fused, "accb").map(\.1) == [0..<1, 1..<3, 3..<4])
        let dropping = try BPEModel(tokens: ["a", "b"], merges: [])
        #expect(Self.ids(dropping, "acb") == [0, 1])
        #expect(throws: BPEModel.BuildError.unknownTokenNotInVocabulary("[UNK]")) {
            try BPEModel(tokens: ["a"], merges: [], unknownToken: "[UNK]")
        }
    }

    @Test("byte fallback: <0xNN> per UTF-8 byte when all exist, else unk (the reference's tests)")
    func byteFallback() throws {
        let m = try BPEModel(tokens: ["<unk>", "<0x61>"], merges: [], unknownToken: "<unk>", byteFallback: true)
        #expect(Self.ids(m, "c") == [0])
        #expect(Self.ids(m, "a") == [1])
        let newline = try BPEModel(tokens: ["<unk>", "<0x0A>"], merges: [], unknownToken: "<unk>", byteFallback: true)
        #expect(Self.ids(newline, "\n") == [1])
        // A three-byte character: one token per byte, each with the whole character's range.
        let bytes = ["<unk>", "x"] + (0..<256).map { BPEModel.byteToken(UInt8($0)) }
        let b = try BPEModel(tokens: bytes, merges: [], unknownToken: "<unk>", fuseUnknown: true, byteFallback: true)
        let t = Self.tokens(b, "x中x")
        let expected: [Int32] = [1, 2 + 0xE4, 2 + 0xB8, 2 + 0xAD, 1]
        #expect(t.map(\.0) == expected)
        #expect(t.map(\.1) == [0..<1, 1..<2, 1..<2, 1..<2, 2..<3])
    }

    @Test("ignore_merges: a whole-word token is taken as it is (the reference's test_ignore_merges)")
    func ignoreMerges() throws {
        let tokens = [".:.:", "Ġbelirtilen", "Ġbelirtilenbelirtilen", ".", ":", "Ġ", "b", ".:"]
        let merges: [BPEModel.Merge] = [.init(".", ":")]
        let ignoring = try BPEModel(tokens: tokens, merges: merges, ignoreMerges: true)
        #expect(Self.ids(ignoring, ".:.:") == [0])
        #expect(Self.ids(ignoring, "Ġbelirtilen") == [1])
        let merging = try BPEModel(tokens: tokens, merges: merges)
        #expect(Self.ids(merging, ".:.:") == [7, 7])
    }

    @Test("a merge naming a missing token is refused with its index")
    func mergeOutOfVocabulary() {
        #expect(throws: BPEModel.BuildError.mergeTokenNotInVocabulary(index: 1, token: "d")) {
            try BPEModel(tokens: ["a", "b", "c", "ab"], merges: [.init("a", "b"), .init("c", "d")])
        }
        #expect(throws: BPEModel.BuildError.mergeTokenNotInVocabulary(index: 0, token: "bc")) {
            try BPEModel(tokens: ["a", "b", "c"], merges: [.init("b", "c")])
        }
    }

    // MARK: ByteLevel

    static func byteLevel(_ text: String, prefix: Bool = false, regex: Bool = true) -> [(String, Range<Int>)] {
        var pieces = [TextPiece(NormalizedText(text))]
        ByteLevelPreTokenizer(addPrefixSpace: prefix, useRegex: regex).preTokenize(&pieces)
        return pieces.map { ($0.text.string, $0.text.originalRange) }
    }

    @Test("GPT-2's byte alphabet: printable bytes stay, the rest from U+0100 in order")
    func alphabet() {
        let c = ByteLevelAlphabet.characters
        #expect(c[0x21] == 0x21 && c[0x7E] == 0x7E && c[0xA1] == 0xA1 && c[0xAE] == 0xAE && c[0xFF] == 0xFF)
        #expect(c[0x00] == 0x100 && c[0x20] == 0x120 && c[0x0A] == 0x10A && c[0x7F] == 0x121 && c[0xAD] == 0x143)
        #expect(Set(c).count == 256)
    }

    @Test("ByteLevel splits as GPT-2's pattern (the reference's test_pre_tokenization)")
    func gpt2Split() {
        let cases: [(String, [String])] = [
            ("Hello my friend, how is your day going?", ["Hello", "Ġmy", "Ġfriend", ",", "Ġhow", "Ġis", "Ġyour", "Ġday", "Ġgoing", "?"]),
            ("Hello there\nHello there", ["Hello", "Ġthere", "Ċ", "Hello", "Ġthere"]),
            ("Hello there       dear", ["Hello", "Ġthere", "ĠĠĠĠĠĠ", "Ġdear"]),
            ("I'm you're it's 'S '' rock'n'roll", ["I", "'m", "Ġyou", "'re", "Ġit", "'s", "Ġ'", "S", "Ġ''", "Ġrock", "'", "n", "'", "roll"]),
            ("x  ", ["x", "ĠĠ"]),
            ("a1 22!?", ["a", "1", "Ġ22", "!?"]),
            ("x\u{3000}\u{3000}y", ["x", "ãĢĢ", "ãĢĢ", "y"]),
        ]
        for (text, pieces) in cases {
            let got: [String] = Self.byteLevel(text).map(\.0)
            #expect(got == pieces, "\(text.debugDescription)")
        }
    }

    @Test("ByteLevel add_prefix_space, and each byte of a character keeps the character's offsets")
    func prefixAndOffsets() {
        #expect(Self.byteLevel("Hello", prefix: true).map(\.0) == ["ĠHello"])
        #expect(Self.byteLevel(" Hello", prefix: true).map(\.0) == ["ĠHello"])
        var pieces = [TextPiece(NormalizedText("é中"))]
        ByteLevelPreTokenizer(addPrefixSpace: false).preTokenize(&pieces)
        let t = pieces[0].text
        #expect(t.string == "Ã©ä¸Ń")
        #expect(t.alignments.map { Int($0.start)..<Int($0.end) } == [0..<1, 0..<1, 1..<2, 1..<2, 1..<2])
        #expect(Self.byteLevel("a b", regex: false).map(\.0) == ["aĠb"])
    }
}
