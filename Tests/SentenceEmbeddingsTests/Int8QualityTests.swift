import Foundation
import Testing
import TestSupport
@testable import SentenceEmbeddings

/// ``Precision/int8`` against sentence-transformers' FP32 vectors: issue 17's quality gate on the
/// STS benchmark with the real all-MiniLM-L6-v2, the random-weight fixtures of every family, and
/// the independence of a text's vector from its batch and the threads. (The kernels themselves are
/// checked bit for bit against their naive reference in KernelsTests/Int8GemmTests.)
@Suite(.serialized) struct Int8QualityTests {
    static func load(_ folder: URL, threads: Int? = nil) throws -> SentenceEncoder {
        var options = SentenceEncoder.Options()
        options.precision = .int8
        if let threads { options.threads = threads }
        return try SentenceEncoder(contentsOf: folder, options: options)
    }

    static let defaultModel: Result<SentenceEncoder, Error> = Result { try load(RepositoryPaths.defaultModel) }

    /// STS-B test Spearman within 0.005 of sentence-transformers' FP32 figure (0.82047), and each
    /// sampled vector close to sentence-transformers' (int8 moves vectors by about 1 % of their length).
    @Test func stsBenchmarkSpearmanStaysWithinTheGate() throws {
        let encoder = try Self.defaultModel.get()
        #expect(encoder.options.precision == .int8)
        let (sentences, gold) = try STSFile.load()
        let reference = try STSReference.load()
        let embeddings = try encoder.embed(sentences)
        let n = gold.count
        let spearman = Correlation.spearman((0..<n).map { cosineSimilarity(embeddings[$0], embeddings[n + $0]) }, gold)
        #expect(abs(spearman - reference.spearman) <= 0.005, "int8 Spearman \(spearman), FP32 \(reference.spearman)")
        let cosines = reference.sampleRows.enumerated().map { cosineSimilarity(embeddings[$1], reference.sample.row($0)) }
        let mean = cosines.reduce(0, +) / Double(cosines.count)
        #expect(mean >= 0.99 && cosines.min()! >= 0.97, "cosine to sentence-transformers: mean \(mean), min \(cosines.min()!)")
        // The vectors are not FP32's: int8 really ran.
        #expect(cosines.min()! < 0.99999)
    }

    /// Every accepted fixture (each family, tokenizer, pooling and head) at int8, against its
    /// sentence-transformers golden. Measured worst: 0.9983 (act_relu); most above 0.9995.
    @Test(arguments: VariantFixtures.accepted)
    func fixtureStaysCloseToSentenceTransformers(_ name: String) throws {
        let goldens = try VariantFixtures.goldens(name)
        let encoder = try Self.load(VariantFixtures.root.appendingPathComponent(name))
        var worst = 1.0
        for golden in goldens.cases {
            let embeddings = try encoder.embed(golden.rows.map(\.text), options: golden.options.encodingOptions)
            for (i, row) in golden.rows.enumerated() { worst = min(worst, cosineSimilarity(embeddings[i], row.embedding)) }
        }
        #expect(worst >= 0.995, "\(name): worst cosine \(worst) to sentence-transformers")
    }

    /// The int8 products are exact integers and each row is quantized alone, so a text's vector does
    /// not depend on the threads that share its forward or on the texts batched with it.
    @Test func aTextsVectorDependsOnNothingElse() throws {
        let texts = ["A man is playing a guitar.", "", "a", String(repeating: "many words here ", count: 30)]
        let batched = try Self.defaultModel.get().encode(texts + ["x", "Short one."])
        for threads in [1, 2, 3] {
            let encoder = try Self.load(RepositoryPaths.defaultModel, threads: threads)
            for (i, text) in texts.enumerated() {
                #expect(try encoder.encode(text) == batched[i], "threads \(threads): \(text.prefix(30).debugDescription)")
            }
        }
    }
}
