import EncoderServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SentenceEmbeddings
import ServiceLifecycle
import Testing
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Every refusal has its status and the one JSON error shape; readiness, backpressure, batching
/// and draining behave as documented.
@Suite struct ErrorAndLifecycleTests {
    @Test func errorStatusesAndShape() async throws {
        let server = makeServer({ try TestEngine() }) { c in
            c.maxBodyBytes = 4096
            c.maxClientBatchSize = 4
        }
        try await server.makeApplication().test(.router) { client in
            try await waitUntilReady(server)
            let cases: [(String, String, String?, HTTPResponse.Status, String)] = [
                ("/v1/embeddings", #"{"input": ["a", "b"#, "application/json", .badRequest, "invalid_request_error"),
                ("/v1/embeddings", #"{"input": "a", "input": "b"}"#, "application/json", .badRequest, "invalid_request_error"),
                ("/v1/embeddings", "", "application/json", .badRequest, "invalid_request_error"),
                ("/v1/embeddings", #"{"input": []}"#, "application/json", .badRequest, "invalid_request_error"),
                ("/embed", #"{"inputs": ["a", ""]}"#, "application/json", .badRequest, "invalid_request_error"),
                ("/embed", #"{"inputs": ""}"#, "application/json", .badRequest, "invalid_request_error"),
                ("/v1/embeddings", #"{"input": "a"}"#, "text/plain", .unsupportedMediaType, "unsupported_media_type_error"),
                ("/v1/embeddings", #"{"input": "a"}"#, nil, .unsupportedMediaType, "unsupported_media_type_error"),
                ("/v1/embeddings", #"{"input": "\#(String(repeating: "a", count: 5000))"}"#, "application/json", .contentTooLarge, "payload_too_large_error"),
                ("/v1/embeddings", #"{"input": ["a","b","c","d","e"]}"#, "application/json", .unprocessableContent, "validation_error"),
                ("/v1/embeddings", #"{"input": 5}"#, "application/json", .unprocessableContent, "validation_error"),
                ("/v1/embeddings", #"{"input": ["a", 5]}"#, "application/json", .unprocessableContent, "validation_error"),
                ("/v1/embeddings", #"["a"]"#, "application/json", .unprocessableContent, "validation_error"),
                ("/v1/embeddings", #"{"input": "a", "encoding_format": "int8"}"#, "application/json", .unprocessableContent, "validation_error"),
                ("/v1/embeddings", #"{"input": "a", "model": 3}"#, "application/json", .unprocessableContent, "validation_error"),
                ("/embed", #"{"inputs": "a", "truncate": "yes"}"#, "application/json", .unprocessableContent, "validation_error"),
                ("/embed", #"{"inputs": "a", "truncation_direction": "left"}"#, "application/json", .unprocessableContent, "validation_error"),
                ("/embed", #"{"inputs": "a", "prompt_name": "nope"}"#, "application/json", .unprocessableContent, "validation_error"),
                ("/tokenize", #"{"inputs": [1, 2]}"#, "application/json", .unprocessableContent, "validation_error"),
            ]
            for (uri, body, contentType, status, type) in cases {
                let response = try await client.post(uri, body, contentType: contentType)
                #expect(response.status == status, "\(uri) \(body.prefix(60))")
                #expect(response.headers[.contentType] == "application/json")
                let error = try #require(response.error, "\(uri) \(body.prefix(60)): \(response.text.prefix(200))")
                #expect(error["type"] as? String == type)
                #expect(error["code"] as? Int == Int(status.code))
                #expect((error["message"] as? String)?.isEmpty == false)
            }
            // Invalid UTF-8 in the body is a 400, not a silently replaced character.
            var bad = ByteBuffer(string: #"{"input": "a"#)
            bad.writeBytes([0xFF, 0xFE])
            bad.writeString(#""}"#)
            let invalid = try await client.execute(uri: "/v1/embeddings", method: .post, headers: [.contentType: "application/json"], body: bad)
            #expect(invalid.status == .badRequest)

            let missing = try await client.execute(uri: "/v2/embeddings", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.error?["type"] as? String == "not_found_error")
        }
    }

    @Test func healthIs503UntilLoadedAndWarm() async throws {
        let loadGate = Gate()
        let server = makeServer {
            loadGate.wait()
            return try TestEngine()
        }
        try await server.makeApplication().test(.router) { client in
            let before = try await client.execute(uri: "/health", method: .get)
            #expect(before.status == .serviceUnavailable)
            #expect(before.headers[.retryAfter] == "1")
            #expect(before.error?["type"] as? String == "unavailable_error")
            let early = try await client.post("/v1/embeddings", #"{"input": "a"}"#)
            #expect(early.status == .serviceUnavailable)
            #expect(try await client.execute(uri: "/info", method: .get).status == .serviceUnavailable)
            // Liveness-style routes answer while loading.
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .ok)

            loadGate.open()
            try await waitUntilReady(server)
            let after = try await client.execute(uri: "/health", method: .get)
            #expect(after.status == .ok)
            #expect(after.text == #"{"status":"ok"}"#)
            #expect(try await client.post("/v1/embeddings", #"{"input": "a"}"#).status == .ok)
        }
    }

    @Test func loadFailureIsReportedNotCrashed() async throws {
        let server = makeServer { throw Failure("no weights here") }
        // The batcher service fails (the service group, and so `encoder serve`, then ends with the
        // error: the CLI prints it and exits 1) ...
        await #expect(throws: Failure.self) { try await server.batcher.run() }
        // ... and until then /health says why.
        try await Application(router: server.makeRouter()).test(.router) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .serviceUnavailable)
            #expect((health.error?["message"] as? String)?.contains("no weights here") == true)
            let embed = try await client.post("/embed", #"{"inputs": "a"}"#)
            #expect(embed.status == .serviceUnavailable)
            #expect((embed.error?["message"] as? String)?.contains("no weights here") == true)
        }
    }

    @Test func queueFullIs429WithRetryAfter() async throws {
        let forwardGate = Gate()
        let gatedEngine = try TestEngine(gate: forwardGate)
        let gatedServer = makeServer({ gatedEngine }) { c in
            c.maxPendingInputs = 3
            c.maxClientBatchSize = 3
        }
        try await gatedServer.makeApplication().test(.router) { client in
            // The warm-up pass blocks at the gate too: the model is loaded but not ready yet.
            while forwardGate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(try await client.execute(uri: "/health", method: .get).status == .serviceUnavailable)
            forwardGate.passOne()
            try await waitUntilReady(gatedServer)

            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                group.addTask { try await client.post("/v1/embeddings", #"{"input": ["a", "b"]}"#).status }
                while forwardGate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
                // 2 inputs are pending; 2 more would pass the limit of 3.
                let refused = try await client.post("/v1/embeddings", #"{"input": ["c", "d"]}"#)
                #expect(refused.status == .tooManyRequests)
                #expect(refused.headers[.retryAfter] == "1")
                #expect(refused.error?["type"] as? String == "overloaded_error")
                forwardGate.open()
                for try await status in group { #expect(status == .ok) }
            }
            #expect(try await client.post("/v1/embeddings", #"{"input": ["c", "d"]}"#).status == .ok)
        }
    }

    @Test func concurrentRequestsShareBatches() async throws {
        let forwardGate = Gate()
        let engine = try TestEngine(gate: forwardGate)
        let server = makeServer { engine }
        try await server.makeApplication().test(.router) { client in
            while forwardGate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
            forwardGate.passOne()  // warm-up
            try await waitUntilReady(server)
            let expected = try DefaultModel.load().encode((0..<16).map { "sentence number \($0)" })
            try await withThrowingTaskGroup(of: (Int, [Float]?).self) { group in
                // The first request holds the forward pass; the 15 others queue behind it and are
                // merged into one batch.
                for i in 0..<16 {
                    group.addTask {
                        let r = try await client.post("/embed", #"{"inputs": "sentence number \#(i)"}"#)
                        return (i, floats((r.json as? [Any])?.first))
                    }
                    if i == 0 { while forwardGate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) } }
                }
                for _ in 0..<100 where engine.pendingInputsSeen(server) < 16 { try await Task.sleep(for: .milliseconds(20)) }
                forwardGate.open()
                for try await (i, vector) in group {
                    let v = try #require(vector)
                    #expect(cosine(v, expected[i]) >= 0.99999)
                }
            }
            let sizes = engine.recordedBatchSizes.dropFirst()  // the warm-up pass
            #expect(sizes.reduce(0, +) == 16)
            #expect(sizes.count == 2, "batch sizes \(Array(sizes))")
            #expect(sizes.max() == 15)
        }
    }

    @Test func nonFiniteOutputIsA500NotBrokenJSON() async throws {
        let server = makeServer { try TestEngine(poison: true) }
        // The warm-up pass sees the NaN and refuses to become ready: the server never serves that model.
        await #expect(throws: (any Error).self) { try await server.batcher.run() }
        guard case .failed(let message) = server.batcher.phase else { Issue.record("phase \(server.batcher.phase)"); return }
        #expect(message.contains("non-finite"))
        // A model that goes bad after warming up: the request gets a JSON 500.
        let flaky = try FlakyEngine()
        let later = makeServer { flaky }
        try await later.makeApplication().test(.router) { client in
            try await waitUntilReady(later)
            let r = try await client.post("/v1/embeddings", #"{"input": "a"}"#)
            #expect(r.status == .internalServerError)
            #expect(r.error?["type"] as? String == "server_error")
            #expect(!r.text.contains("nan"))
            #expect(try await client.post("/embed", #"{"inputs": "a"}"#).status == .internalServerError)
        }
    }

    /// SIGTERM's path without a signal: graceful shutdown of the service group while requests are in
    /// the forward pass. Every accepted request is answered 200 and the group ends without error.
    @Test func gracefulShutdownDrainsInFlightRequests() async throws {
        let forwardGate = Gate()
        let engine = try TestEngine(gate: forwardGate)
        let server = makeServer { engine }
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = server.makeApplication { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
        }
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = portStream.makeAsyncIterator()
            let port = try #require(await iterator.next())
            while forwardGate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
            forwardGate.passOne()
            try await waitUntilReady(server)

            let statuses = try await withThrowingTaskGroup(of: Int.self) { requests in
                for i in 0..<4 {
                    requests.addTask { try await httpPost(port: port, path: "/embed", json: #"{"inputs": "in flight \#(i)"}"#) }
                }
                // Wait until all 4 are accepted: one in the (blocked) forward pass, three queued.
                for _ in 0..<500 where engine.pendingInputsSeen(server) < 4 { try await Task.sleep(for: .milliseconds(10)) }
                #expect(engine.pendingInputsSeen(server) == 4)
                await group.triggerGracefulShutdown()
                try await Task.sleep(for: .milliseconds(200))
                forwardGate.open()
                var all: [Int] = []
                for try await s in requests { all.append(s) }
                return all
            }
            #expect(statuses == Array(repeating: 200, count: 4))
            try await tasks.next()
        }
    }
}

extension TestEngine {
    func pendingInputsSeen(_ server: EmbeddingServer) -> Int { server.pendingInputsSeen }
}

extension EmbeddingServer {
    /// The queue-depth gauge of /metrics: inputs queued or in the forward pass.
    var pendingInputsSeen: Int { Int(metric("encoder_queue_depth_inputs") ?? 0) }

    /// The value of the un-labelled series `name` in the /metrics exposition, if it is there.
    func metric(_ name: String) -> Double? {
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + " ") }) else { return nil }
        return Double(line.split(separator: " ").last ?? "")
    }
}

/// Finite while warming up, NaN afterwards.
final class FlakyEngine: EmbeddingEngine, @unchecked Sendable {
    let base: TestEngine
    let poisoned: TestEngine
    private let lock = NSLock()
    private var calls = 0

    init() throws {
        base = try TestEngine()
        poisoned = try TestEngine(poison: true)
    }

    var encoder: SentenceEncoder { base.encoder }

    func embed(_ requests: [EmbeddingRequest]) throws -> [Embeddings] {
        let n = lock.withLock { () -> Int in
            calls += 1
            return calls
        }
        return n == 1 ? try base.embed(requests) : try poisoned.embed(requests)
    }
}

/// One HTTP/1.1 POST over loopback with URLSession; returns the status.
func httpPost(port: Int, path: String, json: String) async throws -> Int {
    try await httpExchange(port: port, path: path, json: json).status
}

/// One HTTP/1.1 POST over loopback with `session` (by default the shared one, which opens at most
/// a few connections to one host at a time); returns the status and the body.
func httpExchange(port: Int, path: String, json: String, session: URLSession = .shared) async throws -> (status: Int, body: String) {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    request.httpMethod = "POST"
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.httpBody = Data(json.utf8)
    let (data, response) = try await session.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? -1, String(decoding: data, as: UTF8.self))
}

@Suite struct BatchBudgetAndConfigurationTests {
    /// With a budget of 10 tokens, queued 5-token inputs ("[CLS] a b c [SEP]") go two to a batch;
    /// an input larger than the budget still runs, alone.
    @Test func batchesRespectTheTokenBudget() async throws {
        let forwardGate = Gate()
        let engine = try TestEngine(gate: forwardGate)
        let server = makeServer({ engine }) { $0.maxBatchTokens = 10 }
        try await server.makeApplication().test(.router) { client in
            while forwardGate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
            forwardGate.passOne()  // warm-up
            try await waitUntilReady(server)
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                group.addTask { try await client.post("/embed", #"{"inputs": "first"}"#).status }
                while forwardGate.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
                // Queued behind it: four 5-token inputs (two fit in 10 tokens) and one 12-token input.
                for text in ["a b c", "d e f", "g h i", "j k l", "one two three four five six seven eight nine ten"] {
                    group.addTask { try await client.post("/embed", #"{"inputs": "\#(text)"}"#).status }
                }
                for _ in 0..<300 where engine.pendingInputsSeen(server) < 6 { try await Task.sleep(for: .milliseconds(10)) }
                forwardGate.open()
                for try await status in group { #expect(status == .ok) }
            }
            let sizes = Array(engine.recordedBatchSizes.dropFirst())
            #expect(sizes.reduce(0, +) == 6)
            // At most two 5-token inputs fit in 10 tokens, and the 12-token one runs alone, so at least
            // 4 batches ([first], then e.g. [5, 5], [5, 5], [12]; the arrival order of the 5 varies).
            #expect(sizes.max() == 2, "batch sizes \(sizes)")
            #expect(sizes.count >= 4, "batch sizes \(sizes)")
        }
    }

    @Test func contradictoryConfigurationsAreRefused() {
        #expect(ServerConfiguration().problem() == nil)
        var c = ServerConfiguration()
        c.maxPendingInputs = 8
        #expect(c.problem()?.contains("--max-pending-inputs") == true)
        c = ServerConfiguration()
        c.port = 70000
        #expect(c.problem()?.contains("--port") == true)
        c = ServerConfiguration()
        c.maxBatchTokens = 0
        #expect(c.problem()?.contains("--max-batch-tokens") == true)
        c = ServerConfiguration()
        c.maxBodyBytes = 0
        #expect(c.problem() != nil)
    }
}
