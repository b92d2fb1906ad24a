import Foundation
import Testing
@testable import Tokenization

/// The fixture folders of the general pipeline (Goldens/unigram from
/// Scripts/generate-unigram-fixtures.py, Goldens/bpe from Scripts/generate-bpe-fixtures.py), each
/// loaded as `loadTokenizer` loads a model folder.
enum PipelineFixtures {
    static func folder(_ kind: String, _ variant: String) -> URL {
        Bundle.module.resourceURL!.appendingPathComponent("Goldens/\(kind)/\(variant)")
    }

    static func tokenizer(_ kind: String, _ variant: String) throws -> PipelineTokenizer {
        let t = try loadTokenizer(folder: folder(kind, variant))
        return try #require(t as? PipelineTokenizer, "\(kind)/\(variant) loads as \(type(of: t))")
    }

    /// Every fixture as `kind/variant`.
    static let all: [String] = UnigramParityTests.variants.map { "unigram/\($0)" } + BPEParityTests.variants.map { "bpe/\($0)" }

    static func split(_ fixture: String) -> (kind: String, variant: String) {
        let parts = fixture.split(separator: "/", maxSplits: 1).map(String.init)
        return (parts[0], parts[1])
    }
}

/// Every pipeline fixture compared id for id and offset for offset with transformers' fast tokenizer
/// (the goldens its generator wrote): the corpus (the Unicode edge corpus, sentences in many
/// scripts, added-token cases, STS-B, random texts), pairs with type ids, and truncation.
@Suite struct PipelineParityTests {
    @Test("corpus ids and offsets", arguments: PipelineFixtures.all)
    func corpus(fixture: String) throws {
        let (kind, variant) = PipelineFixtures.split(fixture)
        try expectCorpusMatches(try PipelineFixtures.tokenizer(kind, variant), golden: "\(kind)/corpus-\(variant).jsonl", label: fixture, minimumCount: 1000)
    }

    @Test("truncation to max length", arguments: PipelineFixtures.all)
    func truncation(fixture: String) throws {
        let (kind, variant) = PipelineFixtures.split(fixture)
        try expectTruncationMatches(try PipelineFixtures.tokenizer(kind, variant), golden: "\(kind)/truncation-\(variant).jsonl", label: fixture)
    }

    @Test("pairs with type ids and longest-first truncation", arguments: PipelineFixtures.all)
    func pairs(fixture: String) throws {
        let (kind, variant) = PipelineFixtures.split(fixture)
        try expectPairsMatch(try PipelineFixtures.tokenizer(kind, variant), golden: "\(kind)/pairs-\(variant).jsonl", label: fixture)
    }
}
