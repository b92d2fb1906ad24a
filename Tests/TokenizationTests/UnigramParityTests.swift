import Foundation
import Testing
@testable import Tokenization

/// SentencePiece Unigram tokenizers (XLM-R style) compared id for id and offset for offset with
/// transformers' fast tokenizer on the folders and goldens of Scripts/generate-unigram-fixtures.py
/// (Goldens/unigram/manifest.json): a tiny SentencePiece model trained by that script, converted
/// by transformers, and variants with the schemas real files carry.
/// Corpus, pair and truncation goldens run in ``PipelineParityTests``; the checks here are Unigram's own.
@Suite struct UnigramParityTests {
    static let variants = ["xlmr", "legacy", "legacy-xlmr", "stages"]

    static func folder(_ variant: String) -> URL { PipelineFixtures.folder("unigram", variant) }
    static func tokenizer(_ variant: String) throws -> PipelineTokenizer { try PipelineFixtures.tokenizer("unigram", variant) }

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
