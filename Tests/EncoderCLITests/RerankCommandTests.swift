import Foundation
import Testing
import TestSupport

/// `encoder rerank` through the built binary, on the cross-encoder fixtures.
@Suite(.serialized) struct RerankCommandTests {
    static let oneLabel = "Tests/SentenceEmbeddingsTests/CrossEncoderFixtures/bert_one_label"
    static let threeLabels = "Tests/SentenceEmbeddingsTests/CrossEncoderFixtures/bert_three_labels"

    func json(_ stdout: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(stdout.utf8))
    }

    /// The goldens' first four pairs share two queries; these are the documents of the first.
    func golden(_ name: String) throws -> (query: String, documents: [String], scores: [[Float]]) {
        let g = try CrossEncoderFixtures.goldens(name)
        let rows = g.rows.filter { $0.query == g.rows[0].query }
        return (rows[0].query, rows.map(\.document), rows.map(\.scores))
    }

    @Test func printsScoresInDocumentOrderEqualToCrossEncoder() throws {
        let g = try golden("bert_one_label")
        let r = try CLI.run(["rerank", Self.oneLabel, "--query", g.query] + g.documents)
        #expect(r.status == 0, "\(r.stderr)")
        let scores = try #require(try json(r.stdout) as? [NSNumber]).map(\.floatValue)
        #expect(scores.count == g.documents.count)
        for (ours, theirs) in zip(scores, g.scores) { #expect(abs(ours - theirs[0]) <= 1e-4) }
    }

    @Test func sortedAndTopKPrintIndexScoreObjectsBestFirst() throws {
        let g = try golden("bert_one_label")
        let docs = g.documents + ["a third document", "and a fourth"]
        let plain = try #require(try json(CLI.run(["rerank", Self.oneLabel, "--query", g.query] + docs).stdout) as? [NSNumber]).map(\.floatValue)
        let sorted = try CLI.run(["rerank", Self.oneLabel, "--query", g.query, "--sorted"] + docs)
        #expect(sorted.status == 0, "\(sorted.stderr)")
        let objects = try #require(try json(sorted.stdout) as? [[String: NSNumber]])
        let expected = plain.indices.sorted { plain[$0] != plain[$1] ? plain[$0] > plain[$1] : $0 < $1 }
        #expect(objects.map { $0["index"]!.intValue } == expected)
        #expect(objects.map { $0["score"]!.floatValue } == expected.map { plain[$0] })
        let top = try #require(try json(CLI.run(["rerank", Self.oneLabel, "--query", g.query, "--top-k", "2"] + docs).stdout) as? [[String: NSNumber]])
        #expect(top.map { $0["index"]!.intValue } == Array(expected.prefix(2)))
    }

    @Test func inputFileGivesTheSameScoresAsArguments() throws {
        let g = try golden("bert_one_label")
        let folder = try CLI.temporaryFolder()
        let input = folder.appendingPathComponent("docs.jsonl")
        try Data(g.documents.map { "{\"text\": \(String(decoding: try JSONSerialization.data(withJSONObject: $0, options: .fragmentsAllowed), as: UTF8.self))}" }
            .joined(separator: "\n").utf8).write(to: input)
        let fromFile = try CLI.run(["rerank", Self.oneLabel, "--query", g.query, "--input", input.path])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(fromFile.stdout == (try CLI.run(["rerank", Self.oneLabel, "--query", g.query] + g.documents)).stdout)
    }

    @Test func severalLabelsPrintOneArrayPerDocumentAndRefuseSorting() throws {
        let g = try golden("bert_three_labels")
        let r = try CLI.run(["rerank", Self.threeLabels, "--query", g.query] + g.documents)
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try #require(try json(r.stdout) as? [[NSNumber]])
        #expect(rows.count == g.documents.count && rows.allSatisfy { $0.count == 3 })
        for (row, golden) in zip(rows, g.scores) { for (a, b) in zip(row, golden) { #expect(abs(a.floatValue - b) <= 1e-4) } }
        let sorted = try CLI.run(["rerank", Self.threeLabels, "--query", g.query, "--sorted"] + g.documents)
        #expect(sorted.status == 1 && sorted.stdout.isEmpty)
        #expect(sorted.stderr.hasPrefix("error: ") && sorted.stderr.contains("3 labels"), "\(sorted.stderr)")
    }

    @Test func badInvocationsFailWithOneLine() throws {
        let noQuery = try CLI.run(["rerank", Self.oneLabel, "a document"])
        #expect(noQuery.status != 0 && noQuery.stderr.contains("--query"), "\(noQuery.stderr)")
        let noDocs = try CLI.run(["rerank", Self.oneLabel, "--query", "q"])
        #expect(noDocs.status != 0 && noDocs.stderr.contains("documents"), "\(noDocs.stderr)")
        let folder = try CLI.temporaryFolder()
        let empty = folder.appendingPathComponent("empty.txt")
        try Data().write(to: empty)
        let emptyFile = try CLI.run(["rerank", Self.oneLabel, "--query", "q", "--input", empty.path])
        #expect(emptyFile.status == 1 && emptyFile.stderr.contains("no documents"), "\(emptyFile.stderr)")
        let badTopK = try CLI.run(["rerank", Self.oneLabel, "--query", "q", "--top-k", "0", "d"])
        #expect(badTopK.status != 0 && badTopK.stderr.contains("--top-k"), "\(badTopK.stderr)")
        let embeddingModel = try CLI.run(["rerank", "Tests/SentenceEmbeddingsTests/Fixtures/pool_mean", "--query", "q", "d"])
        #expect(embeddingModel.status == 1 && embeddingModel.stderr.contains("BertModel"), "\(embeddingModel.stderr)")
    }
}
