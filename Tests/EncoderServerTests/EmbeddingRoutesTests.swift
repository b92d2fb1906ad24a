import EncoderServer
import Foundation
import Hummingbird
import HummingbirdTesting
import SentenceEmbeddings
import Testing
import TestSupport

/// End-to-end through the router with the real model: the vectors each route returns are the
/// library's (`SentenceEncoder.encode`), in every encoding and input form.
@Suite struct EmbeddingRoutesTests {
    static let texts = ["A man is playing a guitar.", "A woman slices an onion.", "Zwölf Boxkämpfer jagen Viktor quer über den Sylter Deich 🥊"]

    @Test func openAIFloatMatchesLibrary() async throws {
        let expected = try DefaultModel.load().encode(Self.texts)
        let tokenTotal = try Self.texts.map { try DefaultModel.load().tokenize($0).count }.reduce(0, +)
        let server = makeServer { try TestEngine() }
        try await server.makeApplication().test(.router) { client in
            try await waitUntilReady(server)
            let body = #"{"input": \#(jsonArray(Self.texts)), "model": "all-MiniLM-L6-v2"}"#
            let response = try await client.post("/v1/embeddings", body)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            let object = try #require(response.json as? [String: Any])
            #expect(object["object"] as? String == "list")
            #expect(object["model"] as? String == "all-MiniLM-L6-v2")
            let data = try #require(object["data"] as? [[String: Any]])
            #expect(data.count == 3)
            for (i, item) in data.enumerated() {
                #expect(item["index"] as? Int == i)
                #expect(item["object"] as? String == "embedding")
                let vector = try #require(floats(item["embedding"]))
                #expect(vector.count == 384)
                #expect(cosine(vector, expected[i]) >= 0.99999)
            }
            let usage = try #require(object["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == tokenTotal)
            #expect(usage["total_tokens"] as? Int == tokenTotal)
        }
    }

    @Test func openAIBase64DecodesToTheSameFloats() async throws {
        let expected = try DefaultModel.load().encode(Self.texts[0])
        let server = makeServer { try TestEngine() }
        try await server.makeApplication().test(.router) { client in
            try await waitUntilReady(server)
            let response = try await client.post("/v1/embeddings", #"{"input": "\#(Self.texts[0])", "encoding_format": "base64"}"#)
            #expect(response.status == .ok)
            let data = try #require((response.json as? [String: Any])?["data"] as? [[String: Any]])
            let encoded = try #require(data.first?["embedding"] as? String)
            let vector = try #require(decodeBase64Floats(encoded))
            #expect(vector.count == 384)
            #expect(cosine(vector, expected) >= 0.99999)
            // The float form of the same request: Float's shortest round-trip text parses back to the
            // very float32 values the base64 bytes carry.
            let plain = try await client.post("/v1/embeddings", #"{"input": "\#(Self.texts[0])"}"#)
            let plainData = try #require((plain.json as? [String: Any])?["data"] as? [[String: Any]])
            #expect(try #require(floats(plainData.first?["embedding"])) == vector)
        }
    }

    @Test func teiEmbedMatchesLibrary() async throws {
        let expected = try DefaultModel.load().encode(Self.texts)
        let server = makeServer { try TestEngine() }
        try await server.makeApplication().test(.router) { client in
            try await waitUntilReady(server)
            let response = try await client.post("/embed", #"{"inputs": \#(jsonArray(Self.texts))}"#)
            #expect(response.status == .ok)
            let rows = try #require(response.json as? [Any])
            #expect(rows.count == 3)
            for (i, row) in rows.enumerated() {
                let vector = try #require(floats(row))
                #expect(cosine(vector, expected[i]) >= 0.99999)
            }
            // A single string answers an array of one vector, as TEI.
            let single = try await client.post("/embed", #"{"inputs": "\#(Self.texts[1])", "normalize": false}"#)
            let one = try #require(single.json as? [Any])
            #expect(one.count == 1)
            #expect(cosine(try #require(floats(one[0])), expected[1]) >= 0.99999)
        }
    }

    @Test func tokenIDInputEmbedsLikeTheText() async throws {
        let encoder = try DefaultModel.load()
        let expected = try encoder.encode(Self.texts[0])
        let ids = encoder.tokenize(Self.texts[0]).ids.map(Int.init)
        let server = makeServer { try TestEngine() }
        try await server.makeApplication().test(.router) { client in
            try await waitUntilReady(server)
            // /tokenize gives the ids (with [CLS]/[SEP]) and byte offsets.
            let tokenized = try await client.post("/tokenize", #"{"inputs": "\#(Self.texts[0])"}"#)
            #expect(tokenized.status == .ok)
            let tokens = try #require((tokenized.json as? [[[String: Any]]])?.first)
            #expect(tokens.compactMap { $0["id"] as? Int } == ids)
            #expect(tokens.first?["special"] as? Bool == true)
            #expect(tokens.first?["text"] as? String == "[CLS]")
            #expect(tokens[1]["text"] as? String == "a")
            #expect(tokens[1]["start"] as? Int == 0 && tokens[1]["stop"] as? Int == 1)
            #expect(tokens[2]["start"] as? Int == 2 && tokens[2]["stop"] as? Int == 5)

            // Ids as /tokenize returns them, and without the special tokens: the same vector as the text.
            for list in [ids, Array(ids.dropFirst().dropLast())] {
                let response = try await client.post("/v1/embeddings", #"{"input": [\#(list.map(String.init).joined(separator: ","))]}"#)
                #expect(response.status == .ok)
                let data = try #require((response.json as? [String: Any])?["data"] as? [[String: Any]])
                #expect(cosine(try #require(floats(data[0]["embedding"])), expected) >= 0.99999)
            }
            // Several id lists on /embed.
            let two = try await client.post("/embed", #"{"inputs": [[\#(ids.map(String.init).joined(separator: ","))], [101, 7592, 102]]}"#)
            #expect(two.status == .ok)
            #expect((two.json as? [Any])?.count == 2)

            // Ids outside the vocabulary, negative, or not integers: 422.
            for bad in ["[101, 30522, 102]", "[101, -1, 102]", "[101, 7592.5, 102]", "[101, 99999999999999999999999, 102]"] {
                let response = try await client.post("/v1/embeddings", #"{"input": \#(bad)}"#)
                #expect(response.status == .unprocessableContent, "\(bad)")
                #expect(response.error?["type"] as? String == "validation_error")
            }
        }
    }

    @Test func dimensionsTruncateAndRenormalize() async throws {
        let full = try DefaultModel.load().encode(Self.texts[0])
        let head = Array(full.prefix(128))
        let norm = head.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let prefix = head.map { $0 / norm }
        let server = makeServer { try TestEngine() }
        try await server.makeApplication().test(.router) { client in
            try await waitUntilReady(server)
            let response = try await client.post("/v1/embeddings", #"{"input": "\#(Self.texts[0])", "dimensions": 128}"#)
            #expect(response.status == .ok)
            let data = try #require((response.json as? [String: Any])?["data"] as? [[String: Any]])
            let vector = try #require(floats(data[0]["embedding"]))
            #expect(vector.count == 128)
            #expect(cosine(vector, prefix) >= 0.99999)
            #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)

            let tei = try await client.post("/embed", #"{"inputs": "\#(Self.texts[0])", "dimensions": 64}"#)
            #expect((tei.json as? [[Any]])?.first?.count == 64)

            for bad in ["0", "-3", "385", "12.5", "\"64\"", "1e2"] {
                let r = try await client.post("/v1/embeddings", #"{"input": "x", "dimensions": \#(bad)}"#)
                #expect(r.status == .unprocessableContent, "dimensions \(bad)")
            }
        }
    }

    @Test func truncation() async throws {
        let encoder = try DefaultModel.load()
        let long = Array(repeating: "word", count: 400).joined(separator: " ")
        let truncated = try encoder.encode(long)  // the library truncates at max_seq_length, as sentence-transformers
        let server = makeServer { try TestEngine() }
        try await server.makeApplication().test(.router) { client in
            try await waitUntilReady(server)
            let refused = try await client.post("/embed", #"{"inputs": "\#(long)"}"#)
            #expect(refused.status == .unprocessableContent)
            #expect((refused.error?["message"] as? String)?.contains("Given: 402") == true)
            let openAIRefused = try await client.post("/v1/embeddings", #"{"input": "\#(long)"}"#)
            #expect(openAIRefused.status == .unprocessableContent)

            let cut = try await client.post("/embed", #"{"inputs": "\#(long)", "truncate": true}"#)
            #expect(cut.status == .ok)
            #expect(cosine(try #require(floats((cut.json as? [Any])?.first)), truncated) >= 0.99999)

            // all-MiniLM-L6-v2 defines no prompts (OnePathTests covers models that do).
            let unknown = try await client.post("/embed", #"{"inputs": "hello", "prompt_name": "passage"}"#)
            #expect(unknown.status == .unprocessableContent)
            #expect((unknown.error?["message"] as? String)?.contains("available: none") == true)
        }
    }

    @Test func modelsInfoAndMetrics() async throws {
        let server = makeServer { try TestEngine() }
        try await server.makeApplication().test(.router) { client in
            try await waitUntilReady(server)
            let models = try await client.execute(uri: "/v1/models", method: .get)
            let data = try #require((models.json as? [String: Any])?["data"] as? [[String: Any]])
            #expect(data.first?["id"] as? String == "all-MiniLM-L6-v2")

            let info = try #require(try await client.execute(uri: "/info", method: .get).json as? [String: Any])
            #expect(info["model_id"] as? String == "all-MiniLM-L6-v2")
            #expect(info["max_input_length"] as? Int == 256)
            #expect(info["dimension"] as? Int == 384)
            #expect(info["max_batch_tokens"] as? Int == 16384)
            #expect(info["max_client_batch_size"] as? Int == 32)
            #expect(((info["model_type"] as? [String: Any])?["embedding"] as? [String: Any])?["pooling"] as? String == "mean")

            _ = try await client.post("/v1/embeddings", #"{"input": ["one", "two"]}"#)
            _ = try await client.post("/embed", #"{"inputs": []}"#)
            _ = try await client.execute(uri: "/nowhere", method: .get)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            let text = metrics.text
            #expect(text.contains(#"encoder_http_requests_total{route="/v1/embeddings",status="200"} 1"#))
            #expect(text.contains(#"encoder_http_requests_total{route="/embed",status="400"} 1"#))
            #expect(text.contains(#"encoder_http_requests_total{route="unmatched",status="404"} 1"#))
            #expect(text.contains("encoder_http_request_duration_seconds_bucket"))
            #expect(text.contains("encoder_batch_size_inputs_bucket"))
            #expect(text.contains("encoder_batch_size_inputs_count 1"))  // one request's batch (the warm-up is not counted)
            #expect(text.contains("encoder_batch_size_inputs_sum 2.0"))
            #expect(text.contains("encoder_queue_depth_inputs 0"))
            // "one" and "two" are [CLS] x [SEP]: 3 tokens each.
            #expect(text.contains("encoder_tokens_processed_total 6"))
            #expect(text.contains("encoder_inputs_total 2"))
        }
    }
}

/// `texts` as a JSON array, escaped.
func jsonArray(_ texts: [String]) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: texts), as: UTF8.self)
}
