import EncoderServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import SentenceEmbeddings
import ServiceLifecycle
import Testing
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real SPLADE engine of a fixture, with a gate before each forward pass and a record of the
/// requests each pass merged.
final class TestSparseEngine: EmbeddingEngine {
    let real: SparseEncoderEngine
    let gate: Gate?
    private let batches = NIOLockedValueBox<[[SparseRequest]]>([])

    init(_ folder: URL, gate: Gate? = nil) throws {
        real = SparseEncoderEngine(try SparseEncoder(contentsOf: folder))
        self.gate = gate
    }

    var encoder: SentenceEncoder { real.encoder }
    var sparse: SparseEncoder? { real.sparse }
    /// The requests of each forward pass, the warm-up's first.
    var recordedBatches: [[SparseRequest]] { batches.withLockedValue { $0 } }

    func embed(_ requests: [EmbeddingRequest]) throws -> [Embeddings] { try real.embed(requests) }

    func embedSparse(_ requests: [SparseRequest]) throws -> [SparseEmbeddings] {
        gate?.wait()
        batches.withLockedValue { $0.append(requests) }
        return try real.embedSparse(requests)
    }
}

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

    /// 16 clients at once over real loopback connections, one text each: the first holds the
    /// (gated) forward pass, the 15 others queue behind it and run as one merged pass. Each answer
    /// is, bit for bit, the library's merged call over the requests of its pass, and equals the
    /// text encoded alone up to float32 rounding (a pass of another size can take another GEMM
    /// kernel; SparseParityTests.mergedRequestsKeepTheirOwnTopK).
    @Test func concurrentRequestsShareForwardPasses() async throws {
        let gate = Gate()
        let engine = try TestSparseEngine(Self.folder, gate: gate)
        let server = makeServer { engine }
        // The goldens' texts but the empty one (a 400), and two more.
        let texts = try SparseFixtures.goldens("splade_tied_max").cases[0].rows.map(\.text).filter { !$0.isEmpty }
            + ["one more sentence", "and the last one"]
        try #require(Set(texts).count == 16)
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = server.makeApplication { channel in portContinuation.yield(channel.localAddress?.port ?? 0) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "test")))
        // URLSession.shared opens only a few connections to one host; these clients need one each.
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 64
        let session = URLSession(configuration: configuration)
        let answers = try await withThrowingTaskGroup(of: [(status: Int, body: String)].self) { tasks in
            tasks.addTask { try await group.run(); return [] }
            var ports = portStream.makeAsyncIterator()
            let port = try #require(await ports.next())
            try await waitUntilBlocked(gate)
            gate.passOne()  // the warm-up pass
            try await waitUntilReady(server)
            let answers = try await withThrowingTaskGroup(of: (Int, (status: Int, body: String)).self) { requests in
                for (i, text) in texts.enumerated() {
                    requests.addTask {
                        (i, try await httpExchange(port: port, path: "/embed_sparse", json: #"{"inputs": \#(jsonArray([text])), "truncate": true}"#, session: session))
                    }
                    if i == 0 { try await waitUntilBlocked(gate) }
                }
                for _ in 0..<500 where server.pendingInputsSeen < texts.count { try await Task.sleep(for: .milliseconds(10)) }
                #expect(server.pendingInputsSeen == texts.count)
                gate.open()
                var out = [(status: Int, body: String)](repeating: (0, ""), count: texts.count)
                for try await (i, answer) in requests { out[i] = answer }
                return out
            }
            await group.triggerGracefulShutdown()
            _ = try await tasks.next()  // the service group, ended
            return answers
        }
        session.finishTasksAndInvalidate()

        let passes = Array(engine.recordedBatches.dropFirst())  // the warm-up pass
        #expect(passes.map(\.count) == [1, texts.count - 1], "requests per forward pass")
        #expect(server.metric("encoder_batch_size_inputs_count") == 2)
        #expect(server.metric("encoder_batch_size_inputs_sum") == Double(texts.count))
        // The library's vectors of each pass, by the token ids of the (one) input of each request.
        let sparse = try #require(engine.sparse)
        var merged: [[Int32]: SparseVector] = [:]
        for pass in passes {
            for (request, result) in zip(pass, try sparse.embed(pass)) { merged[request.tokenized.inputs[0].encoding.ids] = result.vectors[0] }
        }
        for (i, answer) in answers.enumerated() {
            #expect(answer.status == 200, "text \(i): \(answer.body.prefix(200))")
            let served = try exactSparseRows(answer.body, dimension: sparse.dimension)
            try #require(served.count == 1, "text \(i)")
            #expect(served[0] == merged[sparse.base.tokenize(texts[i]).ids], "text \(i): the library's merged call")
            let alone = try sparse.encode([texts[i]])[0]
            #expect(served[0].indices == alone.indices, "text \(i) alone")
            #expect(zip(served[0].values, alone.values).allSatisfy { abs($0 - $1) <= 1e-4 * $1 + 1e-5 }, "text \(i) alone")
        }
    }

    /// The dense routes' contract: 503 until the warm-up pass is done, then 429 with Retry-After
    /// once a request's inputs would take the pending count over --max-pending-inputs.
    @Test func loadingIs503AndQueueFullIs429() async throws {
        let gate = Gate()
        let engine = try TestSparseEngine(Self.folder, gate: gate)
        let server = makeServer({ engine }) { c in
            c.maxPendingInputs = 3
            c.maxClientBatchSize = 3
        }
        // Through the router, as the dense routes' 429 test: the live test client sends its requests
        // one at a time on one connection, so a second request could not overtake a gated one.
        try await server.makeApplication().test(.router) { client in
            while gate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
            let loading = try await client.post("/embed_sparse", #"{"inputs": "a"}"#)
            #expect(loading.status == .serviceUnavailable)
            #expect(loading.error?["type"] as? String == "unavailable_error")
            gate.passOne()  // the warm-up pass
            try await waitUntilReady(server)
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                group.addTask { try await client.post("/embed_sparse", #"{"inputs": ["a", "b"]}"#).status }
                while gate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
                // 2 inputs are pending; 2 more would pass the limit of 3. (Were the route to bypass
                // the queue, this request would wait behind the gated one: 10 s, then the gate opens.)
                let opener = Task {
                    try await Task.sleep(for: .seconds(10))
                    gate.open()
                }
                let refused = try await client.post("/embed_sparse", #"{"inputs": ["c", "d"]}"#)
                opener.cancel()
                #expect(refused.status == .tooManyRequests)
                #expect(refused.headers[.retryAfter] == "1")
                #expect(refused.error?["type"] as? String == "overloaded_error")
                gate.open()
                for try await status in group { #expect(status == .ok) }
            }
            #expect(try await client.post("/embed_sparse", #"{"inputs": ["c", "d"]}"#).status == .ok)
            #expect(server.pendingInputsSeen == 0)
        }
    }
}

/// `/embed_sparse`'s `[[{"index":..,"value":..},...],...]` body as sparse vectors, each value
/// parsed as a Float from its text (no detour through Double, whose rounding could hide or fake a
/// one-bit difference).
func exactSparseRows(_ body: String, dimension: Int) throws -> [SparseVector] {
    guard body.hasPrefix("["), body.hasSuffix("]") else { throw Failure("not an array: \(body.prefix(200))") }
    let inner = body.dropFirst().dropLast()
    guard !inner.isEmpty else { return [] }
    guard inner.hasPrefix("["), inner.hasSuffix("]") else { throw Failure("not an array of lists: \(body.prefix(200))") }
    return try inner.dropFirst().dropLast().components(separatedBy: "],[").map { list in
        var indices: [Int] = [], values: [Float] = []
        for entry in list.isEmpty ? [] : list.dropFirst().dropLast().components(separatedBy: "},{") {
            let fields = entry.split(separator: ",")
            guard fields.count == 2, fields[0].hasPrefix(#""index":"#), fields[1].hasPrefix(#""value":"#),
                  let index = Int(fields[0].dropFirst(8)), let value = Float(String(fields[1].dropFirst(8)))
            else { throw Failure("not an {index, value} entry: \(entry)") }
            indices.append(index)
            values.append(value)
        }
        return SparseVector(indices: indices, values: values, dimension: dimension)
    }
}

/// Waits (bounded) until a thread is blocked at `gate`, so that a request that never reaches the
/// forward pass fails the test instead of hanging it.
func waitUntilBlocked(_ gate: Gate) async throws {
    for _ in 0..<1000 where gate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
    guard gate.waiting > 0 else { throw Failure("nothing reached the forward pass in 10 s") }
}
