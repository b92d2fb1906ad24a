import Foundation
import Testing
import TestSupport
import TransformerEncoder
@testable import SentenceEmbeddings

@Suite struct VariantParityTests {
    /// The bound on ||ours - golden|| / ||golden||. The worst measured over all 782 rows is 7.7e-7
    /// (act_gelu_pytorch_tanh); gelu replaced by gelu_new, or LayerNorm eps 1e-5 for 1e-12, moves
    /// pool_mean by ~1e-4 while its cosine stays above 0.99999 (manifest.json sensitivity_pool_mean).
    static let relativeErrorBound = 5e-6

    @Test func manifestListsEveryFolder() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: VariantFixtures.root.path)
            .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: VariantFixtures.root.appendingPathComponent($0).path, isDirectory: &d) && d.boolValue }
        #expect(Set(folders) == Set(VariantFixtures.manifest.variants.map(\.name)))
        #expect(VariantFixtures.accepted.count == 55)
        #expect(VariantFixtures.refused.count == 3)
    }

    @Test(arguments: VariantFixtures.accepted)
    func variantMatchesSentenceTransformers(_ name: String) throws {
        let goldens = try VariantFixtures.goldens(name)
        let encoder = try SentenceEncoder(contentsOf: VariantFixtures.root.appendingPathComponent(name))
        #expect(encoder.maxSequenceLength == goldens.max_seq_length, "max_seq_length: \(encoder.maxSequenceLengthReason)")
        #expect(encoder.dimension == goldens.embedding_dimension)
        for golden in goldens.cases {
            let o = golden.options
            let options = o.encodingOptions
            let prompt = try encoder.resolvePrompt(options)
            #expect(prompt == o.resolved_prompt, "\(name)/\(golden.name): resolved prompt")
            let embeddings = try encoder.embed(golden.rows.map(\.text), options: options)
            for (i, row) in golden.rows.enumerated() {
                let label = "\(name)/\(golden.name) text \(i) \(row.text.prefix(40).debugDescription)"
                #expect(encoder.tokenize(row.text, prompt: prompt).ids == row.token_ids, "token ids of \(label)")
                if let length = row.prompt_length {
                    #expect(encoder.promptLength(prompt ?? "") == length, "prompt_length of \(label)")
                }
                let ours = embeddings[i]
                #expect(ours.count == row.embedding.count, "dimension of \(label)")
                let cosine = cosineSimilarity(ours, row.embedding)
                let error = relativeL2Error(ours, row.embedding)
                #expect(cosine >= 0.99999, "cosine \(cosine) for \(label)")
                #expect(error <= Self.relativeErrorBound, "relative L2 error \(error) for \(label)")
                if let original = row.embedding_f32_original {
                    // F16/BF16 checkpoints against the model before its weights were rounded.
                    let c = cosineSimilarity(ours, original)
                    #expect(c >= 0.9999, "cosine \(c) against the unrounded F32 model for \(label)")
                }
            }
        }
    }

    /// MPNet's relative-position buckets for every distance up to 600 either way, against
    /// transformers' `relative_position_bucket` (float32 logs: a boundary distance such as 16,
    /// 32 or 64 must land where PyTorch puts it).
    @Test func mpnetBucketsMatchTransformers() throws {
        let data = try Data(contentsOf: VariantFixtures.root.appendingPathComponent("manifest.json"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let golden = try #require(manifest["mpnet_relative_position_buckets"] as? [String: Any])
        let first = try #require(golden["first_relative_position"] as? Int)
        let buckets = try #require(golden["buckets"] as? [Int])
        #expect(buckets.count == 1201)
        for (k, expected) in buckets.enumerated() {
            #expect(relativePositionBucket(first + k) == expected, "relative position \(first + k)")
        }
    }

    @Test(arguments: VariantFixtures.refused)
    func unsupportedCheckpointIsRefusedByName(_ name: String) throws {
        // What each refusal must name: the unsupported value from the folder's config.json.
        let culprit = ["refused_relative_key": "relative_key", "refused_electra": "electra", "refused_architecture": "NomicBertModel"][name]
        let word = try #require(culprit, "no expectation for \(name)")
        do {
            _ = try SentenceEncoder(contentsOf: VariantFixtures.root.appendingPathComponent(name))
            Issue.record("\(name) was loaded")
        } catch {
            #expect("\(error)".contains(word), "\(error)")
            #expect("\(error)".contains("config.json"), "the message names the file: \(error)")
        }
    }
}
