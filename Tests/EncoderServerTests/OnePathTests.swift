import EncoderServer
import Foundation
import Hummingbird
import HummingbirdTesting
import SentenceEmbeddings
import Testing
import TestSupport

/// The server turns text into vectors only through the library: on fixture checkpoints with
/// prompts (pooled and not: `include_prompt: false`), a Matryoshka `truncate_dim`, a Normalize
/// module and a Dense head, every route answers exactly — bit for bit — what
/// `SentenceEncoder.embed(_:options:)` gives for the same options, and that is what
/// sentence-transformers gave (cosine >= 0.99999, goldens of Scripts/generate-variant-fixtures.py).
@Suite struct OnePathTests {
    static let variants = [
        "prompts_exclude_mean", "prompts_exclude_cls", "prompts_default_query", "matryoshka_truncate16", "mean_normalize", "dense_tanh",
    ]

    /// The non-empty texts of a golden case (an empty input is a 400 on both APIs, as in TEI).
    static func rows(_ golden: VariantFixtures.Goldens.Case) -> [VariantFixtures.Goldens.Row] {
        golden.rows.filter { !$0.text.isEmpty }
    }

    @Test(arguments: variants)
    func teiEmbedIsTheLibraryAndSentenceTransformers(_ name: String) async throws {
        let encoder = try VariantFixtures.encoder(name)
        let goldens = try VariantFixtures.goldens(name)
        let server = makeServer({ try TestEngine(model: name) }) { $0.autoTruncate = true }
        try await server.makeApplication().test(.router) { client in
            try await waitUntilReady(server)
            var checked = 0
            // TEI names prompts only by name: cases with a literal prompt are the library's and the CLI's.
            for golden in goldens.cases where golden.options.prompt == nil {
                let rows = Self.rows(golden)
                let o = golden.options
                var fields = [#""inputs": \#(jsonArray(rows.map(\.text)))"#, #""normalize": \#(o.normalize_embeddings)"#]
                if let p = o.prompt_name { fields.append(#""prompt_name": "\#(p)""#) }
                if let d = o.truncate_dim { fields.append(#""dimensions": \#(d)"#) }
                let response = try await client.post("/embed", "{" + fields.joined(separator: ",") + "}")
                #expect(response.status == .ok, "\(name)/\(golden.name): \(response.text)")
                let served = try exactRows(response.text)
                let library = try encoder.embed(rows.map(\.text), options: o.encodingOptions)
                #expect(served.count == rows.count)
                for (i, row) in rows.enumerated() {
                    let label = "\(name)/\(golden.name) text \(row.text.prefix(30).debugDescription)"
                    #expect(served[i] == Array(library[i]), "\(label): /embed differs from the library")
                    #expect(cosine(served[i], row.embedding) >= 0.99999, "\(label): /embed against sentence-transformers")
                }
                checked += 1
            }
            #expect(checked >= 1)
        }
    }

    @Test(arguments: variants)
    func openAIDimensionsAreTheLibraryAndSentenceTransformers(_ name: String) async throws {
        let encoder = try VariantFixtures.encoder(name)
        let goldens = try VariantFixtures.goldens(name)
        let texts = Self.rows(goldens.cases[0]).map(\.text)
        let server = makeServer({ try TestEngine(model: name) }) { $0.autoTruncate = true }
        try await server.makeApplication().test(.router) { client in
            try await waitUntilReady(server)
            for dimensions in [nil, 1, encoder.fullDimension / 2, encoder.fullDimension] as [Int?] {
                var body = #"{"input": \#(jsonArray(texts)), "encoding_format": "base64""#
                if let dimensions { body += #", "dimensions": \#(dimensions)"# }
                let response = try await client.post("/v1/embeddings", body + "}")
                #expect(response.status == .ok, "\(name) dimensions \(String(describing: dimensions)): \(response.text)")
                let data = try #require((response.json as? [String: Any])?["data"] as? [[String: Any]])
                // OpenAI's rule, in the library's terms: a vector cut below the model's output is
                // re-normalized when the model normalizes.
                let renormalize = dimensions.map { $0 < encoder.fullDimension && encoder.normalizes } ?? false
                let library = try encoder.embed(texts, options: EncodingOptions(dimensions: dimensions, normalize: renormalize))
                let vectors = try data.map { item in
                    guard let text = item["embedding"] as? String, let v = decodeBase64Floats(text) else { throw Failure("not base64 floats: \(item)") }
                    return v
                }
                #expect(vectors.count == texts.count)
                for i in texts.indices {
                    let served = vectors[i]
                    #expect(served == Array(library[i]), "\(name) dimensions \(String(describing: dimensions)) text \(i): differs from the library")
                }
                // Against sentence-transformers: the model's own output (default prompt, truncate_dim),
                // or its truncate_dim=N case; re-normalizing does not change a cosine.
                let golden = goldens.cases.first { c in
                    c.options.prompt_name == nil && c.options.prompt == nil && !c.options.normalize_embeddings
                        && c.options.truncate_dim == dimensions
                }
                if let golden {
                    let rows = Self.rows(golden)
                    for (i, row) in rows.enumerated() {
                        #expect(cosine(vectors[i], row.embedding) >= 0.99999, "\(name)/\(golden.name) text \(i) against sentence-transformers")
                    }
                }
            }
        }
    }

    /// Requests with different options merged into one batch by the batcher: each keeps its own
    /// prompt, pooling, dimensions and normalization, bit for bit what the library gives for the
    /// same requests embedded together (and, alone, the same up to rounding: another batch shape
    /// sums the GEMMs in another order).
    @Test func mixedOptionsInOneBatchKeepTheirOwnVectors() async throws {
        let name = "prompts_exclude_mean"
        let encoder = try VariantFixtures.encoder(name)
        let texts = Self.rows(try VariantFixtures.goldens(name).cases[0]).map(\.text).prefix(6)
        let requests: [(body: String, options: EncodingOptions)] = [
            (#""normalize": false"#, EncodingOptions()),
            (#""normalize": false, "prompt_name": "query""#, EncodingOptions(promptName: "query")),
            (#""normalize": true, "prompt_name": "passage", "dimensions": 7"#, EncodingOptions(promptName: "passage", dimensions: 7, normalize: true)),
            (#""normalize": true, "truncate": true"#, EncodingOptions(normalize: true)),
        ]
        let gate = Gate()
        let engine = try TestEngine(gate: gate, model: name)
        let server = makeServer({ engine }) { $0.autoTruncate = true }
        try await server.makeApplication().test(.router) { client in
            while gate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
            gate.passOne()  // the warm-up pass
            try await waitUntilReady(server)
            let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for (k, r) in requests.enumerated() {
                    group.addTask { (k, try await client.post("/embed", #"{"inputs": \#(jsonArray(Array(texts))), \#(r.body)}"#).text) }
                }
                // Held at the gate until all four are queued, so they run as one batch.
                for _ in 0..<500 where engine.pendingInputsSeen(server) < requests.count * texts.count {
                    try await Task.sleep(for: .milliseconds(10))
                }
                gate.open()
                var out = [String](repeating: "", count: requests.count)
                for try await (k, text) in group { out[k] = text }
                return out
            }
            #expect(engine.recordedBatchSizes.dropFirst().first == requests.count * texts.count, "one merged batch: \(engine.recordedBatchSizes)")
            let together = try encoder.embed(requests.map { r in
                let prepared = try encoder.prepare(r.options)
                return EmbeddingRequest(inputs: try texts.map { try encoder.tokenize(.text($0), prepared: prepared) }, prepared: prepared)
            })
            for (k, r) in requests.enumerated() {
                let served = try exactRows(answers[k])
                #expect(served == (0..<together[k].count).map { Array(together[k][$0]) }, "request \(k) (\(r.body))")
                let alone = try encoder.embed(Array(texts), options: r.options)
                #expect(served.count == alone.count)
                for i in served.indices { #expect(cosine(served[i], alone[i]) >= 0.999999, "request \(k) text \(i) alone") }
            }
        }
    }
}

/// TEI's `[[...],[...]]` body as floats, each number parsed as a Float from its text (no detour
/// through Double, whose rounding could hide or fake a one-bit difference).
func exactRows(_ body: String) throws -> [[Float]] {
    guard body.hasPrefix("[["), body.hasSuffix("]]") else { throw Failure("not an array of vectors: \(body.prefix(200))") }
    return try body.dropFirst(2).dropLast(2).components(separatedBy: "],[").map { row in
        try row.split(separator: ",").map { text in
            guard let value = Float(String(text)) else { throw Failure("not a number: \(text)") }
            return value
        }
    }
}
