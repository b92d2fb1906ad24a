import Foundation
import Testing
import TestSupport
import Tokenization
@testable import SentenceEmbeddings

/// Paths of this target's tests: the STS benchmark and the goldens.
enum TestPaths {
    static let stsBenchmark = RepositoryPaths.root.appendingPathComponent("Tests/Data/stsb-test.tsv")
    static let goldens = Bundle.module.resourceURL!.appendingPathComponent("Goldens")
}

extension SentenceEncoder {
    /// Token sequences embedded as they are (no prompt, every token pooled, the default output).
    func embed(sequences: [Encoding]) throws -> Embeddings {
        let prepared = try prepare(EncodingOptions(prompt: ""))
        return try embed(EmbeddingRequest(
            inputs: sequences.map { TokenizedInput(windows: [$0], tokenCount: $0.count, poolingSkip: 0) }, prepared: prepared))
    }
}
