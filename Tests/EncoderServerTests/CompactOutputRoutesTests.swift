import EncoderServer
import Foundation
import Hummingbird
import HummingbirdTesting
import SentenceEmbeddings
import Testing
import TestSupport

/// `precision` on `/embed` and `/v1/embeddings`, through real requests: the integer rows are the
/// library's `quantize` of the library's vectors (as sentence-transformers' `encode(precision=)`),
/// and what cannot be answered is a 422 naming the field.
@Suite struct CompactOutputRoutesTests {
    static let texts = EmbeddingRoutesTests.texts

    func integers(_ any: Any?) -> [Int]? { (any as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } }

    @Test func bothRoutesAnswerTheLibrarysCompactRows() async throws {
        let encoder = try DefaultModel.load()
        // The options each route builds: TEI normalizes by default; OpenAI re-normalizes a
        // normalizing model's vectors cut to `dimensions`.
        let tei = try encoder.embed(Self.texts, options: EncodingOptions(normalize: true))
        let openAI = try encoder.embed(Self.texts, options: EncodingOptions(dimensions: 100, normalize: true))
        let server = makeServer { try TestEngine() }
        try await server.makeApplication().test(.router) { client in
            try await waitUntilReady(server)
            for precision in OutputPrecision.allCases {
                let expected = try quantize(tei, precision: precision)
                let response = try await client.post("/embed", #"{"inputs": \#(jsonArray(Self.texts)), "precision": "\#(precision.rawValue)"}"#)
                #expect(response.status == .ok, "\(response.text)")
                let rows = try #require(response.json as? [Any])
                #expect(rows.map(integers) == (0..<3).map(expected.integers), "/embed \(precision)")

                let compact = try quantize(openAI, precision: precision)
                let o = try await client.post("/v1/embeddings", #"{"input": \#(jsonArray(Self.texts)), "dimensions": 100, "precision": "\#(precision.rawValue)"}"#)
                #expect(o.status == .ok, "\(o.text)")
                let data = try #require((o.json as? [String: Any])?["data"] as? [[String: Any]])
                #expect(data.map { integers($0["embedding"]) } == (0..<3).map(compact.integers), "/v1/embeddings \(precision)")
                #expect(data.first.flatMap { integers($0["embedding"]) }?.count == precision.bytesPerRow(dimension: 100))
            }
            // "float32" is the default, spelled out: the library's vector of that text (embedded alone,
            // as the request is; in a batch its float rounding may differ with the GEMM's row blocks).
            let alone = try encoder.embed([Self.texts[0]], options: EncodingOptions(normalize: true))
            let plain = try await client.post("/embed", #"{"inputs": "\#(Self.texts[0])", "precision": "float32"}"#)
            #expect(plain.status == .ok && floats((plain.json as? [Any])?.first) == Array(alone[0]))
        }
    }

    @Test func aServerCalibrationFixesInt8RangesForEveryRequest() async throws {
        let encoder = try DefaultModel.load()
        let ranges = try QuantizationRanges(calibration: encoder.embed(["a calibration text", "a second one, about guitars", "onions"]))
        let server = makeServer { try TestEngine(quantizationRanges: ranges) }
        try await server.makeApplication().test(.router) { client in
            try await waitUntilReady(server)
            // One input is enough: its buckets no longer depend on the rest of the request.
            let one = try await client.post("/embed", #"{"inputs": "\#(Self.texts[0])", "precision": "int8"}"#)
            #expect(one.status == .ok, "\(one.text)")
            let expected = try quantize(encoder.embed([Self.texts[0]], options: EncodingOptions(normalize: true)), precision: .int8, ranges: ranges)
            #expect((one.json as? [Any])?.map(integers) == [expected.integers(0)])

            let o = try await client.post("/v1/embeddings", #"{"input": \#(jsonArray(Self.texts)), "precision": "uint8"}"#)
            let data = try #require((o.json as? [String: Any])?["data"] as? [[String: Any]])
            let rows = try quantize(encoder.embed(Self.texts), precision: .uint8, ranges: ranges)
            #expect(data.map { integers($0["embedding"]) } == (0..<3).map(rows.integers))

            let cut = try await client.post("/v1/embeddings", #"{"input": "a", "dimensions": 100, "precision": "int8"}"#)
            #expect(cut.status == .unprocessableContent)
            #expect((cut.error?["message"] as? String)?.contains("calibration ranges (--calibration), which have 384 dimensions") == true, "\(cut.text)")
        }
    }

    @Test func whatCannotBeAnsweredIsA422NamingTheField() async throws {
        let server = makeServer { try TestEngine() }
        try await server.makeApplication().test(.router) { client in
            try await waitUntilReady(server)
            let cases: [(String, String, String)] = [
                ("/embed", #"{"inputs": "one text", "precision": "int8"}"#, "two or more inputs"),
                ("/v1/embeddings", #"{"input": ["one text"], "precision": "uint8"}"#, "two or more inputs"),
                ("/embed", #"{"inputs": "a", "precision": "int4"}"#, "`precision` must be"),
                ("/embed", #"{"inputs": "a", "precision": 8}"#, "`precision` must be"),
                ("/v1/embeddings", #"{"input": "a", "precision": "binary", "encoding_format": "base64"}"#, "encoding_format"),
            ]
            for (route, body, message) in cases {
                let response = try await client.post(route, body)
                #expect(response.status == .unprocessableContent, "\(route) \(body): \(response.text)")
                #expect((response.error?["message"] as? String)?.contains(message) == true, "\(route) \(body): \(response.text)")
            }
        }
    }
}
