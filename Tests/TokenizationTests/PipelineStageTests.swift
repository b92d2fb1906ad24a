import Foundation
import Testing
@testable import Tokenization

/// The general pipeline's stages one at a time, on tiny inputs. Expected values are the
/// reference's own tests (tokenizers/src/models/unigram/model.rs, tokenizer/added_vocabulary.rs)
/// or follow from its rules as quoted in each stage's doc comment.
@Suite struct PipelineStageTests {
    static func scalars(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }
    static func aligned(_ t: NormalizedText) -> [Range<Int>] { t.alignments.map { Int($0.start)..<Int($0.end) } }

    // MARK: NormalizedText

    @Test("transform: a removed first scalar shifts later alignments by one, as transform_range does")
    func removedFirstShifts() {
        var t = NormalizedText("xab")
        t.transform(with: [.init(0x61, 0), .init(0x62, 0)])
        #expect(t.string == "ab")
        #expect(Self.aligned(t) == [0..<1, 1..<2])
        var u = NormalizedText("axb")  // removal after a kept scalar is its negative change
        u.transform(with: [.init(0x61, -1), .init(0x62, 0)])
        #expect(u.string == "ab")
        #expect(Self.aligned(u) == [0..<1, 2..<3])
    }

    @Test("insertions take the alignment of the scalar before them")
    func insertions() {
        var t = NormalizedText("ab", origin: 10)
        t.transform(with: [.init(0x61, 0), .init(0x2D, 1), .init(0x62, 0)])
        #expect(t.string == "a-b")
        #expect(Self.aligned(t) == [10..<11, 10..<11, 11..<12])
        #expect(t.originalRange == 10..<12)
    }

    @Test("split behaviours on a delimiter")
    func splitBehaviours() {
        let t = NormalizedText("a_b__c")
        func parts(_ b: NormalizedText.SplitBehavior) -> [String] {
            t.split(behavior: b) { $0 == 0x5F }.map(\.string)
        }
        #expect(parts(.removed) == ["a", "b", "c"])
        #expect(parts(.isolated) == ["a", "_", "b", "_", "_", "c"])
        #expect(parts(.mergedWithNext) == ["a", "_b", "_", "_c"])
        #expect(parts(.mergedWithPrevious) == ["a_", "b_", "_", "c"])
        #expect(parts(.contiguous) == ["a", "_", "b", "__", "c"])
    }

    // MARK: Normalizers

    @Test("Replace: a repeated space becomes one, aligned to the last replaced scalar")
    func replaceRepeated() throws {
        let p = try #require(ReplaceNormalizer.repetition(regex: " {2,}"))
        #expect(p == .repeated(scalar: 0x20, min: 2, max: .max))
        let r = ReplaceNormalizer(pattern: p, content: " ")
        var t = NormalizedText("a   b c")
        r.normalize(&t)
        #expect(t.string == "a b c")
        #expect(Self.aligned(t) == [0..<1, 3..<4, 4..<5, 5..<6, 6..<7])
        #expect(ReplaceNormalizer.repetition(regex: "a|b") == nil)
        #expect(ReplaceNormalizer.repetition(regex: " *") == nil)
        #expect(ReplaceNormalizer.repetition(regex: "x{2,3}") == .repeated(scalar: 0x78, min: 2, max: 3))
        var u = NormalizedText("xxxxxxx")
        ReplaceNormalizer(pattern: .repeated(scalar: 0x78, min: 2, max: 3), content: "y").normalize(&u)
        #expect(u.string == "yyx")  // xxx, xxx, then a lone x too short to match
    }

    @Test("Replace: a string, leftmost and non-overlapping")
    func replaceString() {
        var t = NormalizedText("``a```")
        ReplaceNormalizer(pattern: .string(Self.scalars("``")), content: "\"").normalize(&t)
        #expect(t.string == "\"a\"`")
    }

    @Test("Lowercase: one scalar to two inserts the second")
    func lowercase() {
        var t = NormalizedText("AİB")
        LowercaseNormalizer().normalize(&t)
        #expect(t.string == "ai\u{307}b")
        #expect(Self.aligned(t) == [0..<1, 1..<2, 1..<2, 2..<3])
    }

    @Test("Strip: both sides; the reference's byte-length quirk with multi-byte text")
    func strip() {
        var t = NormalizedText("  ab  ")
        StripNormalizer(left: true, right: true).normalize(&t)
        #expect(t.string == "ab")
        #expect(Self.aligned(t) == [2..<3, 3..<4])
        // "é b  ": 5 scalars, 6 bytes; i == 6 - 2 - 1 = 3 is the second space, stripped anyway,
        // so no scalar carries the removal and the result is still "é b".
        var u = NormalizedText("é b  ")
        StripNormalizer(left: false, right: true).normalize(&u)
        #expect(u.string == "é b")
        #expect(Self.aligned(u) == [0..<1, 1..<2, 2..<3])
    }

    @Test("Precompiled: nmt_nfkc folds width, ligatures and odd spaces, per grapheme")
    func precompiled() throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: UnigramParityTests.folder("xlmr").appendingPathComponent("tokenizer.json"))) as! [String: Any]
        let b64 = try #require((json["normalizer"] as? [String: Any])?["precompiled_charsmap"] as? String)
        let data = try #require(Data(base64Encoded: b64))
        let p = try #require(PrecompiledNormalizer(charsmap: [UInt8](data)))
        func norm(_ s: String) -> NormalizedText { var t = NormalizedText(s); p.normalize(&t); return t }
        #expect(norm("ＡＢＣ").string == "ABC")
        #expect(norm("ﬁ").string == "fi")
        #expect(Self.aligned(norm("ﬁ")) == [0..<1, 0..<1])
        #expect(norm("a\u{3000}b").string == "a b")
        #expect(norm("plain text").string == "plain text")
        #expect(PrecompiledNormalizer(charsmap: [1, 0, 0]) == nil)
        #expect(PrecompiledNormalizer(charsmap: [64, 0, 0, 0, 1, 2]) == nil)  // trie size beyond the data
    }

    // MARK: Pre-tokenizers

    static func pieces(_ p: any PreTokenizerStage, _ s: String) -> [(String, Range<Int>)] {
        var pieces = [TextPiece(NormalizedText(s))]
        p.preTokenize(&pieces)
        return pieces.map { ($0.text.string, $0.text.originalRange) }
    }

    @Test("Metaspace: always, first, never; split before each ▁")
    func metaspace() {
        let always = Self.pieces(MetaspacePreTokenizer(), "hey friend")
        #expect(always.map(\.0) == ["▁hey", "▁friend"])
        #expect(always.map(\.1) == [0..<3, 3..<10])
        #expect(Self.pieces(MetaspacePreTokenizer(prependScheme: .never), "hey friend").map(\.0) == ["hey", "▁friend"])
        #expect(Self.pieces(MetaspacePreTokenizer(prependScheme: .always, split: false), "hey friend").map(\.0) == ["▁hey▁friend"])
        // first: only the piece that starts the original text gets the prefix.
        var pieces = [TextPiece(NormalizedText("ab")), TextPiece(NormalizedText("<x>"), addedToken: 7), TextPiece(NormalizedText("cd", origin: 5))]
        MetaspacePreTokenizer(prependScheme: .first).preTokenize(&pieces)
        #expect(pieces.map(\.text.string) == ["▁ab", "<x>", "cd"])
        #expect(pieces[1].addedToken == 7)
    }

    @Test("Whitespace and WhitespaceSplit")
    func whitespace() {
        #expect(Self.pieces(WhitespacePreTokenizer(), "Hey man!! How's it going?").map(\.0)
                == ["Hey", "man", "!!", "How", "'", "s", "it", "going", "?"])
        #expect(Self.pieces(WhitespaceSplitPreTokenizer(), "Hey man!!\u{3000} x\t").map(\.0) == ["Hey", "man!!", "x"])
        #expect(Self.pieces(SequencePreTokenizer([WhitespaceSplitPreTokenizer(), MetaspacePreTokenizer()]), " a  b").map(\.0) == ["▁a", "▁b"])
    }

    // MARK: Unigram

    static func ids(_ m: UnigramModel, _ s: String) -> [Int32] {
        var out: [ModelToken] = []
        m.tokenize(Self.scalars(s)[...], into: &out)
        return out.map(\.id)
    }

    @Test("Unigram: best path, fused unknowns (the reference's doc example)")
    func unigram() {
        let pieces: [(String, Double)] = [("<unk>", 0), ("a", 0), ("b", 0), ("c", 0), ("d", 0), ("cd", 1), ("ab", 2), ("abc", 5), ("abcd", 10)]
        let m = UnigramModel(pieces: pieces.map(\.0), scores: pieces.map(\.1), unknownID: 0, byteFallback: false)
        // encode("abcdacdxx") == ["abcd", "a", "cd", "xx"]
        var out: [ModelToken] = []
        m.tokenize(Self.scalars("abcdacdxx")[...], into: &out)
        #expect(out.map(\.id) == [8, 1, 5, 0])
        #expect(out.map(\.range) == [0..<4, 4..<5, 5..<7, 7..<9])
        #expect(m.unknownScore == -10)
    }

    @Test("Unigram: ties keep the first candidate; equal pieces keep the last id")
    func unigramTies() {
        // a + b (-1 + -1) and "ab" (-2) tie at the end; "ab" is offered first (from position 0, before
        // b from position 1) and a later candidate must be strictly better. The trie holds the last "ab".
        let m = UnigramModel(pieces: ["<unk>", "a", "b", "ab", "ab"], scores: [0, -1, -1, -2, -2], unknownID: 0, byteFallback: false)
        #expect(Self.ids(m, "ab") == [4])
    }

    @Test("Unigram: byte fallback (the reference's test)")
    func byteFallback() {
        let m = UnigramModel(pieces: ["<unk>", "<0xC3>", "<0xA9>"], scores: [0, -0.01, -0.03], unknownID: 0, byteFallback: true)
        var out: [ModelToken] = []
        m.tokenize(Self.scalars("é")[...], into: &out)
        #expect(out == [ModelToken(id: 1, range: 0..<1), ModelToken(id: 2, range: 0..<1)])
        #expect(Self.ids(m, "?é").first == 0)
    }

    // MARK: Added tokens

    static func extract(_ v: AddedVocabulary, _ normalizer: (any NormalizerStage)?, _ s: String) -> [(String, Int32?)] {
        var raw: [TextPiece] = []
        v.split(NormalizedText(s), with: v.raw, into: &raw)
        var out: [TextPiece] = []
        for p in raw {
            if p.addedToken != nil { out.append(p); continue }
            var t = p.text
            normalizer?.normalize(&t)
            v.split(t, with: v.normalized, into: &out)
        }
        return out.map { ($0.text.string, $0.addedToken) }
    }

    @Test("single_word (the reference's test_single_word_is_correct)")
    func singleWord() {
        let v = AddedVocabulary([.init(content: "<mask>", id: 0, singleWord: true, normalized: true, special: false)], normalizer: LowercaseNormalizer())
        let r = Self.extract(v, LowercaseNormalizer(), "<mask> My name <mask> A<mask> <mask>ony <mask>")
        #expect(r.map(\.0) == ["<mask>", " my name ", "<mask>", " a<mask> <mask>ony ", "<mask>"])
        #expect(r.map(\.1) == [0, nil, 0, nil, 0])
    }

    @Test("lstrip and rstrip take Unicode whitespace (the reference's test_lstrip_unicode_space)")
    func strips() {
        let v = AddedVocabulary([.init(content: "<mask>", id: 0, singleWord: true, lstrip: true, rstrip: true, normalized: true, special: false)],
                                normalizer: LowercaseNormalizer())
        let r = Self.extract(v, LowercaseNormalizer(), "Hi <mask> there\t<mask>\t<mask>\u{2000}")
        #expect(r.map(\.0) == ["hi", " <mask> ", "there", "\t<mask>\t", "<mask>\u{2000}"])
    }

    @Test("a normalized added token matches its normalized content")
    func normalizedContent() {
        let v = AddedVocabulary([.init(content: "Yesterday", id: 9, normalized: true, special: false)], normalizer: LowercaseNormalizer())
        #expect(Self.extract(v, LowercaseNormalizer(), "I read YESTERDAY").map(\.1) == [nil, 9])
    }

    // MARK: Post-processors

    @Test("templates count their specials and place type ids")
    func templates() {
        let t = TemplateProcessing(single: [.special(ids: [5, 6], typeID: 0), .sequence(second: false, typeID: 0)],
                                   pair: [.sequence(second: false, typeID: 0), .special(ids: [7], typeID: 1), .sequence(second: true, typeID: 1)])
        #expect(t.addedTokens(pair: false) == 2)
        #expect(t.addedTokens(pair: true) == 1)
        #expect(t.singleSpecials.prefix == [5, 6] && t.singleSpecials.suffix == [])
        var a = SequenceTokens(); a.ids = [1]; a.starts = [0]; a.ends = [3]
        var b = SequenceTokens(); b.ids = [2]; b.starts = [0]; b.ends = [1]
        let p = t.process(a, b)
        #expect(p.ids == [1, 7, 2])
        #expect(p.typeIds == [0, 1, 1])
        #expect(p.offsets == [0..<3, 0..<0, 0..<1])
    }

    @Test("RobertaProcessing trims whitespace from offsets, keeping one added prefix space")
    func robertaTrim() {
        let t = TemplateProcessing.roberta(cls: 0, sep: 2, trimOffsets: true, addPrefixSpace: true)
        var a = SequenceTokens()
        a.ids = [5, 6]; a.starts = [0, 4]; a.ends = [3, 10]; a.leadingSpaces = [1, 2]; a.trailingSpaces = [0, 1]
        #expect(t.process(a, nil).offsets == [0..<0, 0..<3, 6..<9, 0..<0])
    }
}

extension PipelineStageTests {
    @Test("NFKC and NFD: Hangul, width, ligatures, composed accents")
    func unicodeForms() {
        func run(_ f: UnicodeNormalizer.Form, _ s: String) -> NormalizedText { var t = NormalizedText(s); UnicodeNormalizer(f).normalize(&t); return t }
        #expect(run(.nfkc, "한국어").string == "한국어")
        #expect(run(.nfkc, "ＡＢ ﬁ é").string == "AB fi é")
        #expect(run(.nfd, "é").scalars == [0x65, 0x301])
        #expect(Self.aligned(run(.nfd, "é")) == [0..<1, 0..<1])
        #expect(run(.nfc, "e\u{301}").string == "é")
    }
}
