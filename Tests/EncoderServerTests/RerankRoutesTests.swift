import EncoderServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SentenceEmbeddings
import Testing
import TestSupport

/// The reranker engine of a fixture, with a gate before each forward pass.
final class TestRerankEngine: RerankEngine {
    let reranker: Reranker
    let gate: Gate?

    init(_ name: String, gate: Gate? = nil) throws {
        reranker = try CrossEncoderFixtures.reranker(name)
        self.gate = gate
    }

    func rerank(_ requests: [RerankRequest]) throws -> [PairScores] {
        gate?.wait()
        return try reranker.score(requests)
    }
}

/// `POST /rerank` (TEI) and `POST /v1/rerank` (Cohere, Jina) through real HTTP requests on a
/// loopback socket (the queue test through the router), against the library and
/// sentence-transformers' goldens.
@Suite struct RerankRoutesTests {
    static let name = "bert_one_label"

    /// The goldens' pairs of the first query (all of them share it).
    static func golden() throws -> (query: String, texts: [String], scores: [Float]) {
        let g = try CrossEncoderFixtures.goldens(name)
        let rows = g.rows.filter { $0.query == g.rows[0].query }
        return (rows[0].query, rows.map(\.document), rows.map { $0.scores[0] })
    }

    static func json(_ value: Any) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]), as: UTF8.self)
    }

    @Test func teiRerankIsSortedAndEqualsTheLibraryAndCrossEncoder() async throws {
        let g = try Self.golden()
        let reranker = try CrossEncoderFixtures.reranker(Self.name)
        let library = try reranker.score(query: g.query, documents: g.texts)
        let logits = try reranker.score(query: g.query, documents: g.texts, rawScores: true)
        let server = makeRerankServer { try TestRerankEngine(Self.name) }
        try await server.makeApplication().test(.live) { client in
            try await waitUntilReady(server)
            let response = try await client.post("/rerank", Self.json(["query": g.query, "texts": g.texts, "return_text": true]))
            #expect(response.status == .ok, "\(response.text)")
            let items = try #require(response.json as? [[String: Any]])
            #expect(items.count == g.texts.count)
            let scores = items.map { ($0["score"] as! NSNumber).floatValue }
            #expect(scores == scores.sorted(by: >), "best first")
            for item in items {
                let index = try #require(item["index"] as? Int)
                let score = (item["score"] as! NSNumber).floatValue
                #expect(score == library.values[index], "the library's score, bit for bit")
                #expect(abs(score - g.scores[index]) <= 1e-4, "CrossEncoder.predict")
                #expect(item["text"] as? String == g.texts[index])
            }
            let raw = try await client.post("/rerank", Self.json(["query": g.query, "texts": g.texts, "raw_scores": true]))
            let rawItems = try #require(raw.json as? [[String: Any]])
            #expect(rawItems.allSatisfy { $0["text"] == nil })
            for item in rawItems { #expect((item["score"] as! NSNumber).floatValue == logits.values[item["index"] as! Int]) }
        }
    }

    @Test func v1RerankAnswersInTheCohereAndJinaShape() async throws {
        let g = try Self.golden()
        let library = try CrossEncoderFixtures.reranker(Self.name).score(query: g.query, documents: g.texts)
        let expected = library.ranked()
        let server = makeRerankServer { try TestRerankEngine(Self.name) }
        try await server.makeApplication().test(.live) { client in
            try await waitUntilReady(server)
            // Documents as strings and as {"text": ...} objects, as Cohere's and Jina's clients send them.
            let documents: [Any] = g.texts.enumerated().map { $0.offset % 2 == 0 ? $0.element as Any : ["text": $0.element] as Any }
            let response = try await client.post("/v1/rerank", Self.json(
                ["model": "bert_one_label", "query": g.query, "documents": documents, "top_n": 2, "return_documents": true]))
            #expect(response.status == .ok, "\(response.text)")
            let object = try #require(response.json as? [String: Any])
            #expect(object["model"] as? String == "bert_one_label")
            let results = try #require(object["results"] as? [[String: Any]])
            #expect(results.count == 2)
            for (result, want) in zip(results, expected) {
                #expect(result["index"] as? Int == want.index)
                #expect((result["relevance_score"] as! NSNumber).floatValue == want.score)
                #expect((result["document"] as? [String: Any])?["text"] as? String == g.texts[want.index])
            }
            let usage = try #require(object["usage"] as? [String: Any])
            #expect(usage["total_tokens"] as? Int == library.tokenCounts.reduce(0, +))
            let all = try await client.post("/v1/rerank", Self.json(["query": g.query, "documents": g.texts]))
            let allResults = try #require((all.json as? [String: Any])?["results"] as? [[String: Any]])
            #expect(allResults.map { $0["index"] as! Int } == expected.map(\.index))
            #expect(allResults.allSatisfy { $0["document"] == nil })
        }
    }

    @Test func errorsFollowTheEmbeddingRoutesContract() async throws {
        let server = makeRerankServer({ try TestRerankEngine(Self.name) }) { c in
            c.maxClientBatchSize = 3
            c.maxBodyBytes = 4000
        }
        let long = String(repeating: "the committee reviewed the proposal ", count: 30)
        try await server.makeApplication().test(.live) { client in
            try await waitUntilReady(server)
            func check(_ uri: String, _ body: String, _ status: HTTPResponse.Status, _ words: String, contentType: String? = "application/json") async throws {
                let r = try await client.post(uri, body, contentType: contentType)
                #expect(r.status == status, "\(uri) \(body.prefix(80)): \(r.text)")
                let message = r.error?["message"] as? String ?? ""
                #expect(message.contains(words), "\(uri) \(body.prefix(80)): \(message)")
                #expect(r.error?["code"] as? Int == Int(status.code))
            }
            for uri in ["/rerank", "/v1/rerank"] {
                let list = uri == "/rerank" ? "texts" : "documents"
                try await check(uri, #"{"query": "q", "\#(list)": ["a"]}"#, .unsupportedMediaType, "application/json", contentType: "text/plain")
                try await check(uri, #"{"query": "q", "\#(list)": ["a"]"#, .badRequest, "not valid JSON")
                try await check(uri, #"{"query": "q", "\#(list)": []}"#, .badRequest, "cannot be empty")
                try await check(uri, #"{"query": "q", "\#(list)": ["a", ""]}"#, .badRequest, "`\(list)[1]` cannot be empty")
                try await check(uri, #"{"query": "", "\#(list)": ["a"]}"#, .badRequest, "`query` cannot be empty")
                try await check(uri, #"{"\#(list)": ["a"]}"#, .unprocessableContent, "`query` is required")
                try await check(uri, #"{"query": 3, "\#(list)": ["a"]}"#, .unprocessableContent, "`query` must be")
                try await check(uri, #"{"query": "q"}"#, .unprocessableContent, "`\(list)` is required")
                try await check(uri, #"{"query": "q", "\#(list)": ["a", "b", "c", "d"]}"#, .unprocessableContent, "maximum allowed batch size 3")
                try await check(uri, #"{"query": "q", "\#(list)": ["\#(String(repeating: "x", count: 5000))"]}"#, .contentTooLarge, "4000 bytes")
                #expect(try await client.post(uri, #"{"ignored": 1, "query": "q", "\#(list)": ["a"]}"#).status == .ok)
            }
            try await check("/embed", #"{"inputs": "a"}"#, .badRequest, "POST /rerank")
            try await check("/rerank", #"{"query": "q", "texts": [1, 2]}"#, .unprocessableContent, "array of strings")
            try await check("/v1/rerank", #"{"query": "q", "documents": [{"title": "a"}]}"#, .unprocessableContent, "`documents[0]`")
            try await check("/v1/rerank", #"{"query": "q", "documents": ["a"], "top_n": 0}"#, .unprocessableContent, "`top_n` must be at least 1")
            // Over the model's 48 tokens: refused unless truncated; /v1/rerank always truncates.
            try await check("/rerank", #"{"query": "q", "texts": ["a", "\#(long)"]}"#, .unprocessableContent, "`texts[1]` with the query must have at most 48 tokens")
            #expect(try await client.post("/rerank", #"{"query": "q", "texts": ["a", "\#(long)"], "truncate": true}"#).status == .ok)
            #expect(try await client.post("/v1/rerank", #"{"query": "q", "documents": ["a", "\#(long)"]}"#).status == .ok)
            let info = try await client.execute(uri: "/info", method: .get)
            let modelType = try #require((info.json as? [String: Any])?["model_type"] as? [String: Any])
            #expect(modelType["reranker"] != nil, "\(info.text)")
        }
    }

    @Test func severalLabelsCannotRerankAndAnEmbeddingModelPointsToItsRoutes() async throws {
        let labels = makeRerankServer { try TestRerankEngine("bert_three_labels") }
        try await labels.makeApplication().test(.live) { client in
            try await waitUntilReady(labels)
            let r = try await client.post("/rerank", #"{"query": "q", "texts": ["a"]}"#)
            #expect(r.status == .unprocessableContent)
            #expect((r.error?["message"] as? String)?.contains("3 labels") == true, "\(r.text)")
        }
        let embedding = makeServer { try TestEngine(model: "pool_mean") }
        try await embedding.makeApplication().test(.live) { client in
            try await waitUntilReady(embedding)
            let r = try await client.post("/v1/rerank", #"{"query": "q", "documents": ["a"]}"#)
            #expect(r.status == .badRequest)
            #expect((r.error?["message"] as? String)?.contains("embedding model") == true, "\(r.text)")
        }
    }

    @Test func queueFullIs429AndConcurrentRequestsShareBatches() async throws {
        let forwardGate = Gate()
        let engine = try TestRerankEngine(Self.name, gate: forwardGate)
        let server = makeRerankServer({ engine }) { c in
            c.maxPendingInputs = 3
            c.maxClientBatchSize = 3
        }
        // Through the router, as the embedding routes' 429 test: the live test client sends its
        // requests one at a time on one connection, so a second request could not overtake a gated one.
        try await server.makeApplication().test(.router) { client in
            while forwardGate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(try await client.execute(uri: "/health", method: .get).status == .serviceUnavailable)
            forwardGate.passOne()  // warm-up
            try await waitUntilReady(server)
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                group.addTask { try await client.post("/rerank", #"{"query": "q", "texts": ["a", "b"]}"#).status }
                while forwardGate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
                // 2 pairs are pending; 2 more would pass the limit of 3.
                let refused = try await client.post("/v1/rerank", #"{"query": "q", "documents": ["c", "d"]}"#)
                #expect(refused.status == .tooManyRequests)
                #expect(refused.headers[.retryAfter] == "1")
                #expect(refused.error?["type"] as? String == "overloaded_error")
                forwardGate.open()
                for try await status in group { #expect(status == .ok) }
            }
            #expect(try await client.post("/v1/rerank", #"{"query": "q", "documents": ["c", "d"]}"#).status == .ok)
        }
    }
}
