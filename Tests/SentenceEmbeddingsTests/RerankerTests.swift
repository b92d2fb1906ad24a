import Foundation
import Testing
import TestSupport
import Tokenization
@testable import SentenceEmbeddings

/// Cross-encoder rerankers against sentence-transformers' CrossEncoder.predict on the fixtures of
/// Scripts/generate-cross-encoder-fixtures.py, and the errors a wrong folder or input gives.
@Suite struct RerankerTests {
    /// The issue's bound on |ours - CrossEncoder.predict|, per score.
    static let scoreBound: Float = 1e-4

    @Test func manifestListsEveryFolder() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: CrossEncoderFixtures.root.path)
            .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: CrossEncoderFixtures.folder($0).path, isDirectory: &d) && d.boolValue }
        #expect(Set(folders) == Set(CrossEncoderFixtures.names))
        #expect(CrossEncoderFixtures.names.count == 8)
        // One and several labels, with and without a configured activation, BERT and RoBERTa heads.
        let labels = Set(CrossEncoderFixtures.manifest.fixtures.map(\.num_labels))
        #expect(labels.contains(1) && labels.contains { $0 > 1 })
    }

    @Test(arguments: CrossEncoderFixtures.names)
    func scoresMatchCrossEncoderPredict(_ name: String) throws {
        let goldens = try CrossEncoderFixtures.goldens(name)
        let reranker = try CrossEncoderFixtures.reranker(name)
        #expect(reranker.maxSequenceLength == goldens.max_seq_length, "\(reranker.maxSequenceLengthReason)")
        #expect(reranker.numLabels == goldens.num_labels)
        #expect(reranker.activation.rawValue.hasSuffix("." + goldens.activation), "\(reranker.activation) from \(reranker.activationReason)")
        let pairs = goldens.rows.map { RerankPair(query: $0.query, document: $0.document) }
        let scores = try reranker.score(pairs)
        let logits = try reranker.score(pairs, rawScores: true)
        var worst: Float = 0
        for (i, row) in goldens.rows.enumerated() {
            let label = "\(name) pair \(i) \(row.query.prefix(20).debugDescription)/\(row.document.prefix(20).debugDescription)"
            let encoding = try reranker.tokenize(pairs[i])
            #expect(encoding.ids == row.token_ids, "token ids of \(label)")
            if let types = row.token_type_ids { #expect(encoding.typeIds == types, "token type ids of \(label)") }
            #expect(scores.tokenCounts[i] == row.token_ids.count)
            #expect(Array(scores[i]).count == row.scores.count, "labels of \(label)")
            for (ours, theirs) in zip(scores[i], row.scores) {
                worst = max(worst, abs(ours - theirs))
                #expect(abs(ours - theirs) <= Self.scoreBound, "score \(ours) vs \(theirs) for \(label)")
            }
            for (ours, theirs) in zip(logits[i], row.logits) {
                #expect(abs(ours - theirs) <= Self.scoreBound, "logit \(ours) vs \(theirs) for \(label)")
            }
            // Scored alone, a pair gets the score it gets inside the batch (up to GEMM blocking).
            let alone = try reranker.score([pairs[i]])
            for (a, b) in zip(alone[0], scores[i]) { #expect(abs(a - b) <= 1e-5, "alone vs batched for \(label)") }
        }
        print("RerankerTests \(name): max |score - CrossEncoder.predict| = \(worst) over \(goldens.rows.count) pairs x \(goldens.num_labels) labels")
    }

    @Test func rankingSortsBestFirstWithStableTies() throws {
        let scores = PairScores(labels: 1, values: [0.2, 0.9, 0.2, 0.5], tokenCounts: [3, 3, 3, 3], truncatedCount: 0)
        #expect(scores.ranked().map(\.index) == [1, 3, 0, 2])
        #expect(scores.ranked(topK: 2).map(\.index) == [1, 3])
        #expect(scores.ranked(topK: 0).isEmpty)
        #expect(scores.ranked(topK: 10).count == 4)
    }

    @Test func emptyDocumentListScoresNothing() throws {
        let reranker = try CrossEncoderFixtures.reranker("bert_one_label")
        let scores = try reranker.score(query: "a query", documents: [])
        #expect(scores.count == 0 && scores.values.isEmpty)
    }

    @Test func longPairIsTruncatedOrRefusedByIndex() throws {
        let reranker = try CrossEncoderFixtures.reranker("bert_one_label")
        let long = String(repeating: "the committee reviewed the proposal ", count: 40)
        let truncated = try reranker.score(query: "short", documents: ["fits", long])
        #expect(truncated.tokenCounts[1] == reranker.maxSequenceLength)
        #expect(truncated.truncatedCount == 1)
        #expect(throws: SentenceEmbeddingsError.self) { try reranker.score(query: "short", documents: ["fits", long], truncate: false) }
        do {
            _ = try reranker.score(query: "short", documents: ["fits", long], truncate: false)
        } catch {
            #expect("\(error)".contains("input 1 "), "\(error)")
        }
    }

    @Test func concurrentCallersGetTheSerialScores() throws {
        let reranker = try CrossEncoderFixtures.reranker("roberta_bpe_one_label")
        let goldens = try CrossEncoderFixtures.goldens("roberta_bpe_one_label")
        let pairs = goldens.rows.map { RerankPair(query: $0.query, document: $0.document) }
        let serial = try reranker.score(pairs)
        let results = LockedArray<PairScores>()
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            if let s = try? reranker.score(pairs) { results.append(s) }
        }
        #expect(results.count == 6)
        for r in results.all { for i in 0..<r.values.count { #expect(abs(r.values[i] - serial.values[i]) <= 1e-5) } }
    }

    // MARK: Wrong folders

    func copy(_ name: String) throws -> URL { try FolderCopies.copy(CrossEncoderFixtures.folder(name)) }

    func edit(_ file: URL, _ change: (inout [String: Any]) -> Void) throws { try FolderCopies.editJSON(file, change) }

    func loadError(_ folder: URL) -> SentenceEmbeddingsError? {
        do { _ = try Reranker(contentsOf: folder); return nil } catch { return error }
    }

    @Test func embeddingModelIsRefusedAsReranker() throws {
        let error = try #require(loadError(VariantFixtures.folder("pool_mean")))
        #expect("\(error)".contains("BertModel") && "\(error)".contains("config.json"), "\(error)")
    }

    @Test func crossEncoderIsRefusedAsEmbeddingModelNamingReranker() throws {
        for name in ["bert_one_label", "bert_legacy_v4"] {
            do {
                _ = try SentenceEncoder(contentsOf: CrossEncoderFixtures.folder(name))
                Issue.record("\(name) was loaded as an embedding model")
            } catch {
                #expect("\(error)".contains("ForSequenceClassification") && "\(error)".contains("Reranker"), "\(error)")
            }
        }
    }

    @Test func unsupportedTorchActivationIsRefusedByName() throws {
        let folder = try copy("bert_one_label_identity")
        defer { try? FileManager.default.removeItem(at: folder) }
        try edit(folder.appendingPathComponent("config_sentence_transformers.json")) { $0["activation_fn"] = "torch.nn.modules.activation.ReLU" }
        let error = try #require(loadError(folder))
        #expect("\(error)".contains("activation_fn") && "\(error)".contains("ReLU") && "\(error)".contains("config_sentence_transformers.json"), "\(error)")
    }

    @Test func untrustedActivationFallsBackToTheDefaultWithAWarning() throws {
        let folder = try copy("bert_legacy_v4")
        defer { try? FileManager.default.removeItem(at: folder) }
        try edit(folder.appendingPathComponent("config.json")) { $0["sentence_transformers"] = ["activation_fn": "my_package.MyActivation"] }
        let reranker = try Reranker(contentsOf: folder)
        #expect(reranker.activation == .sigmoid)
        #expect(reranker.warnings.contains { $0.contains("my_package.MyActivation") }, "\(reranker.warnings)")
    }

    @Test func missingClassifierIsNamed() throws {
        let folder = try copy("bert_three_labels")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Four labels in config.json, three rows in classifier.weight.
        try edit(folder.appendingPathComponent("config.json")) { $0["id2label"] = ["0": "a", "1": "b", "2": "c", "3": "d"] }
        let error = try #require(loadError(folder))
        #expect("\(error)".contains("classifier.weight") && "\(error)".contains("model.safetensors"), "\(error)")
    }
}

/// An array behind an NSLock, for results gathered from several threads.
final class LockedArray<Element>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Element] = []
    func append(_ e: Element) { lock.lock(); storage.append(e); lock.unlock() }
    var all: [Element] { lock.lock(); defer { lock.unlock() }; return storage }
    var count: Int { all.count }
}
