import Foundation
import Testing
@testable import Tokenization

/// SentencePiece Unigram tokenizers (XLM-R style) compared id for id and offset for offset with
/// transformers' fast tokenizer on the folders and goldens of Scripts/generate-unigram-fixtures.py
/// (Goldens/unigram/manifest.json): a tiny SentencePiece model trained by that script, converted
/// by transformers, and variants with the schemas real files carry.
@Suite struct UnigramParityTests {
    static let variants = ["xlmr", "legacy", "legacy-xlmr", "stages"]

    static func folder(_ variant: String) -> URL {
        Bundle.module.resourceURL!.appendingPathComponent("Goldens/unigram/\(variant)")
    }

    static func tokenizer(_ variant: String) throws -> PipelineTokenizer {
        let t = try loadTokenizer(folder: folder(variant))
        return try #require(t as? PipelineTokenizer, "\(variant) loads as \(type(of: t))")
    }

    @Test("corpus ids and offsets", arguments: variants)
    func corpus(variant: String) throws {
        try expectCorpusMatches(try Self.tokenizer(variant), golden: "unigram/corpus-\(variant).jsonl", label: variant, minimumCount: 1000)
    }

    @Test("truncation to max length", arguments: variants)
    func truncation(variant: String) throws {
        try expectTruncationMatches(try Self.tokenizer(variant), golden: "unigram/truncation-\(variant).jsonl", label: variant)
    }

    @Test("pairs with type ids and longest-first truncation", arguments: variants)
    func pairs(variant: String) throws {
        try expectPairsMatch(try Self.tokenizer(variant), golden: "unigram/pairs-\(variant).jsonl", label: variant)
    }

    @Test("every Unicode scalar in \"a\" + c + \"b\" (Precompiled, graphemes, unknowns)")
    func everyScalar() throws {
        try expectEveryScalarMatches(try Self.tokenizer("xlmr"), golden: "unigram/codepoints-xlmr.jsonl", label: "xlmr")
    }

    @Test("the transformers-saved folder loads as written, without warnings")
    func loadsCleanly() throws {
        let t = try Self.tokenizer("xlmr")
        #expect(t.warnings == [])
        #expect(t.vocabularySize == 402)
        #expect(t.specialTokens == SpecialTokens(prefix: [0], suffix: [2], padding: 1))
        #expect(t.modelMaxLength == 512)
        #expect(t.token(for: 401) == "<mask>")
    }

    @Test("XLMRobertaTokenizer over a legacy file: every dropped part is a warning")
    func rebuildWarnings() throws {
        let t = try Self.tokenizer("legacy-xlmr")
        let w = t.warnings.joined(separator: "\n")
        #expect(w.contains("normalizer is Sequence[Precompiled, Replace] but XLMRobertaTokenizer in transformers 5 keeps only Precompiled"))
        #expect(w.contains("pre_tokenizer is Metaspace(always) but XLMRobertaTokenizer in transformers 5 rebuilds Sequence[WhitespaceSplit, Metaspace(always)]"))
        #expect(w.contains("post_processor is RobertaProcessing"))
        #expect(try Self.tokenizer("legacy").warnings == [])
    }
}
