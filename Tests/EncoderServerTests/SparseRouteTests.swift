import EncoderServer
import Foundation
import Hummingbird
import HummingbirdTesting
import SentenceEmbeddings
import Testing
import TestSupport

/// TEI's `POST /embed_sparse` over real HTTP, on the SPLADE fixtures.
@Suite struct SparseRouteTests {
    static let folder = SparseFixtures.root.appendingPathComponent("splade_tied_max")

    static func sparseServer() -> EmbeddingServer {
        makeServer { SparseEncoderEngine(try SparseEncoder(contentsOf: Self.folder)) }
    }

    /// A list per input of {"index", "value"} objects: the golden indices, values within 1e-4 relative.
    @Test func embedSparseGivesTheGoldenVectors() async throws {
        let rows = try SparseFixtures.goldens("splade_tied_max").cases[0].rows
        let texts = [rows[2].text, rows[3].text, rows[8].text]
        let golden = [rows[2], rows[3], rows[8]]
        let server = Self.sparseServer()
        try await server.makeApplication().test(.live) { client in
            try await waitUntilReady(server)
            let response = try await client.post("/embed_sparse", #"{"inputs": \#(jsonArray(texts))}"#)
            #expect(response.status == .ok, "\(response.text)")
            let lists = try #require(response.json as? [[[String: Any]]])
            #expect(lists.count == 3)
            for (list, row) in zip(lists, golden) {
                let indices = list.compactMap { ($0["index"] as? NSNumber)?.intValue }
                let values = list.compactMap { ($0["value"] as? NSNumber)?.floatValue }
                #expect(indices == row.indices)
                #expect(zip(values, row.values).allSatisfy { abs($0 - $1) <= 1e-4 * $1 + 1e-5 })
            }
            // One string is one input too.
            let one = try await client.post("/embed_sparse", #"{"inputs": "\#(texts[0])"}"#)
            #expect(((one.json as? [[[String: Any]]])?.first?.count) == golden[0].indices.count)
            let info = try #require(try await client.execute(uri: "/info", method: .get).json as? [String: Any])
            #expect(((info["model_type"] as? [String: Any])?["embedding"] as? [String: Any])?["pooling"] as? String == "splade")
            #expect(info["dimension"] as? Int == 432)
            #expect(info["normalized"] as? Bool == false)
        }
    }

    /// The dense routes refuse a SPLADE model and /embed_sparse a dense one, naming the other route.
    @Test func routesRefuseTheOtherKindOfModel() async throws {
        let server = Self.sparseServer()
        try await server.makeApplication().test(.live) { client in
            try await waitUntilReady(server)
            let dense = try await client.post("/embed", #"{"inputs": "hello"}"#)
            #expect(dense.status == .unprocessableContent)
            #expect((dense.text).contains("/embed_sparse"), "\(dense.text)")
            let openAI = try await client.post("/v1/embeddings", #"{"input": "hello"}"#)
            #expect(openAI.status == .unprocessableContent)
            let bad = try await client.post("/embed_sparse", #"{"inputs": 3}"#)
            #expect(bad.status.code >= 400 && bad.status.code < 500)
        }
        let denseServer = makeServer { try TestEngine(model: "pool_max") }
        try await denseServer.makeApplication().test(.live) { client in
            try await waitUntilReady(denseServer)
            let response = try await client.post("/embed_sparse", #"{"inputs": "hello"}"#)
            #expect(response.status == .unprocessableContent)
            #expect(response.text.contains("/embed"), "\(response.text)")
        }
    }
}
