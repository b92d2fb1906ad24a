import EncoderServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import SentenceEmbeddings
import Testing
import TestSupport

/// A gate that blocking code waits on until the test opens it.
final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false
    private var permits = 0
    private var waiters = 0

    func wait() {
        condition.lock()
        waiters += 1
        while !isOpen && permits == 0 { condition.wait() }
        if !isOpen { permits -= 1 }
        waiters -= 1
        condition.unlock()
    }

    /// Lets one waiter (now or later) through and keeps the gate closed.
    func passOne() {
        condition.lock()
        permits += 1
        condition.broadcast()
        condition.unlock()
    }

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }

    /// Threads blocked in ``wait()`` now.
    var waiting: Int {
        condition.lock()
        defer { condition.unlock() }
        return waiters
    }
}

/// The real engine (the default model, or `model`), with hooks: a gate before each forward pass,
/// a record of batch sizes (inputs), poisoned output.
final class TestEngine: EmbeddingEngine {
    let encoder: SentenceEncoder
    let gate: Gate?
    let poison: Bool
    let quantizationRanges: QuantizationRanges?
    private let batchSizes = NIOLockedValueBox<[Int]>([])

    init(gate: Gate? = nil, poison: Bool = false, model: String? = nil, quantizationRanges: QuantizationRanges? = nil) throws {
        encoder = try model.map(VariantFixtures.encoder) ?? DefaultModel.load()
        self.gate = gate
        self.poison = poison
        self.quantizationRanges = quantizationRanges
    }

    var recordedBatchSizes: [Int] { batchSizes.withLockedValue { $0 } }

    func embed(_ requests: [EmbeddingRequest]) throws -> [Embeddings] {
        gate?.wait()
        batchSizes.withLockedValue { $0.append(requests.reduce(0) { $0 + $1.inputs.count }) }
        let all = try encoder.embed(requests)
        guard poison else { return all }
        return all.map { e in
            var values = e.values
            values[0] = .nan
            return Embeddings(dimension: e.dimension, values: values, tokenCounts: e.tokenCounts, truncatedCount: e.truncatedCount, chunkedCount: e.chunkedCount)
        }
    }
}

/// A server over `engine` with `configure` applied to the default configuration.
func makeServer(
    _ engine: @escaping @Sendable () throws -> any EmbeddingEngine,
    _ configure: (inout ServerConfiguration) -> Void = { _ in }
) -> EmbeddingServer {
    makeServer(model: { .embedding(try engine()) }, modelID: "all-MiniLM-L6-v2", configure)
}

/// A server over a cross-encoder's `engine` with `configure` applied to the default configuration.
func makeRerankServer(
    _ engine: @escaping @Sendable () throws -> any RerankEngine,
    _ configure: (inout ServerConfiguration) -> Void = { _ in }
) -> EmbeddingServer {
    makeServer(model: { .reranking(try engine()) }, modelID: "bert_one_label", configure)
}

private func makeServer(
    model: @escaping @Sendable () throws -> ServedModel, modelID: String,
    _ configure: (inout ServerConfiguration) -> Void
) -> EmbeddingServer {
    var c = ServerConfiguration()
    c.port = 0
    c.modelID = modelID
    configure(&c)
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    return EmbeddingServer(configuration: c, logger: logger, loadModel: model)
}

/// Waits (bounded) until the model is ready; the batcher loads it in the background.
func waitUntilReady(_ server: EmbeddingServer) async throws {
    for _ in 0..<600 {
        if server.batcher.phase == .ready { return }
        if case .failed(let message) = server.batcher.phase { throw Failure("model failed to load: \(message)") }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw Failure("the model did not become ready in 30 s")
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension TestClientProtocol {
    /// POSTs `json` with `Content-Type: application/json`.
    func post(_ uri: String, _ json: String, contentType: String? = "application/json") async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let contentType { headers[.contentType] = contentType }
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: json))
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) }

    /// The `error` object of the JSON error shape.
    var error: [String: Any]? { (json as? [String: Any])?["error"] as? [String: Any] }
}

func floats(_ any: Any?) -> [Float]? {
    (any as? [Any])?.compactMap { ($0 as? NSNumber)?.floatValue }
}

/// Decodes OpenAI's base64 embedding: little-endian float32 bytes.
func decodeBase64Floats(_ s: String) -> [Float]? {
    guard let data = Data(base64Encoded: s), data.count % 4 == 0 else { return nil }
    return stride(from: 0, to: data.count, by: 4).map { i in
        let bits = UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
        return Float(bitPattern: bits)
    }
}
