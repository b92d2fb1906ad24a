import Foundation
import Testing
@testable import Tokenization

/// Token ids and offsets compared id for id with Hugging Face `tokenizers` (see Goldens/manifest.json).
@Suite struct GoldenParityTests {
    struct TruncationCase: Decodable { let text: String; let max: Int; let model: String; let ids: [Int32]; let offsets: [Int]; let overflowed: Bool }
    struct PairCase: Decodable { let a: String; let b: String; let max: Int?; let model: String; let ids: [Int32]; let types: [Int32]; let offsets: [Int]; let overflowed: Bool }
    struct Run: Decodable {
        let first: UInt32, last: UInt32, ids: [Int32], offsets: [Int]
        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            first = try c.decode(UInt32.self); last = try c.decode(UInt32.self)
            ids = try c.decode([Int32].self); offsets = try c.decode([Int].self)
        }
    }

    @Test("model folder loads without warnings")
    func loads() throws {
        let t = try #require(Fixtures.uncased, "run Scripts/fetch-model: \(Fixtures.modelFolder.path) must hold all-MiniLM-L6-v2")
        #expect(t.warnings == [])
        #expect(t.vocabulary.count == 30522)
        #expect(t.modelMaxLength == 512)
        #expect(t.truncationMaxLength == 128)
        #expect(t.options.normalizer == BertNormalizerOptions(cleanText: true, handleChineseChars: true, stripAccents: nil, lowercase: true))
    }

    @Test("corpus ids and offsets", arguments: ["uncased", "cased"])
    func corpus(model: String) throws {
        try expectCorpusMatches(try #require(Fixtures.tokenizer(model)), golden: "corpus-\(model).jsonl", label: model, minimumCount: 2000, reportLimit: 5)
    }

    @Test("truncation to max length")
    func truncation() throws {
        let lines = try Fixtures.golden("truncation.jsonl")
        #expect(lines.count >= 500)
        var mismatches = 0
        for line in lines {
            let c = try JSONDecoder().decode(TruncationCase.self, from: line)
            let e = try #require(Fixtures.tokenizer(c.model)).encode(c.text, maxLength: c.max)
            if e.ids != c.ids || e.offsets != Fixtures.pairs(c.offsets) || e.overflowed != c.overflowed {
                mismatches += 1
                if mismatches <= 5 { Issue.record("\(c.model) max \(c.max) \(c.text.debugDescription.prefix(100)): \(e.ids) expected \(c.ids), overflowed \(e.overflowed)") }
            }
        }
        #expect(mismatches == 0)
    }

    @Test("pairs with type ids and longest-first truncation")
    func pairs() throws {
        let lines = try Fixtures.golden("pairs.jsonl")
        #expect(lines.count >= 500)
        var mismatches = 0
        for line in lines {
            let c = try JSONDecoder().decode(PairCase.self, from: line)
            let e = try #require(Fixtures.tokenizer(c.model)).encode(c.a, pair: c.b, maxLength: c.max)
            if e.ids != c.ids || e.typeIds != c.types || e.offsets != Fixtures.pairs(c.offsets) || e.overflowed != c.overflowed {
                mismatches += 1
                if mismatches <= 5 { Issue.record("\(c.model) max \(String(describing: c.max)) \(c.a.debugDescription.prefix(60)) | \(c.b.debugDescription.prefix(60)): \(e.ids) \(e.typeIds) expected \(c.ids) \(c.types)") }
            }
        }
        #expect(mismatches == 0)
    }

    @Test("every Unicode scalar in \"a\" + c + \"b\"", arguments: ["uncased", "cased"])
    func everyScalar(model: String) throws {
        try expectEveryScalarMatches(try #require(Fixtures.tokenizer(model)), golden: "codepoints-\(model).jsonl", label: model, reportLimit: 5)
    }
}
