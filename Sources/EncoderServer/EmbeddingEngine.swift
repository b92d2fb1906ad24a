import SentenceEmbeddings

/// What the server embeds with: the library's ``SentenceEncoder``, which tokenizes, pools and
/// normalizes every request (the server only parses, schedules and serializes), and the call
/// that runs a batch of requests.
///
/// ``SentenceEncoderEngine`` is the real one; tests wrap it to slow it down or make it fail.
public protocol EmbeddingEngine: Sendable {
    /// The model, for preparing and tokenizing requests and describing itself.
    var encoder: SentenceEncoder { get }
    /// Embeds requests merged by the batcher, each under its own options; result `k` belongs to
    /// `requests[k]`. Blocking: call off the event loop.
    func embed(_ requests: [EmbeddingRequest]) throws -> [Embeddings]
    /// The int8/uint8 ranges of the server's calibration set (`encoder serve --calibration`), if
    /// any; without them a request's own embeddings are its calibration.
    var quantizationRanges: QuantizationRanges? { get }
    /// The SPLADE model behind `POST /embed_sparse`; nil (the default) for a dense model.
    var sparse: SparseEncoder? { get }
    /// Encodes SPLADE requests merged by the batcher, each with its own prompt, truncation and
    /// top-k; result `k` belongs to `requests[k]`. Blocking: call off the event loop. The default
    /// runs ``sparse``'s merged call, and throws for a dense model.
    func embedSparse(_ requests: [SparseRequest]) throws -> [SparseEmbeddings]
}

extension EmbeddingEngine {
    public var quantizationRanges: QuantizationRanges? { nil }
    public var sparse: SparseEncoder? { nil }

    public func embedSparse(_ requests: [SparseRequest]) throws -> [SparseEmbeddings] {
        guard let sparse else { throw EngineError.wrongKind("this model produces dense vectors; sparse vectors need a SPLADE model") }
        return try sparse.embed(requests)
    }
}

/// An engine asked for what its model does not produce (the routes refuse such requests first).
enum EngineError: Error, CustomStringConvertible {
    case wrongKind(String)

    var description: String {
        switch self {
        case .wrongKind(let message): message
        }
    }
}

/// ``EmbeddingEngine`` over the library's ``SentenceEncoder``: the same vectors `encoder run` writes.
public struct SentenceEncoderEngine: EmbeddingEngine {
    public let encoder: SentenceEncoder
    public let quantizationRanges: QuantizationRanges?

    public init(_ encoder: SentenceEncoder, quantizationRanges: QuantizationRanges? = nil) {
        self.encoder = encoder
        self.quantizationRanges = quantizationRanges
    }

    public func embed(_ requests: [EmbeddingRequest]) throws -> [Embeddings] {
        try encoder.embed(requests)
    }
}

/// ``EmbeddingEngine`` over a ``SparseEncoder``: `POST /embed_sparse` answers with its vectors
/// (``embedSparse(_:)``, the requests the batcher merged in one set of forward passes), the dense
/// routes refuse it.
public struct SparseEncoderEngine: EmbeddingEngine {
    public let sparseEncoder: SparseEncoder
    public var encoder: SentenceEncoder { sparseEncoder.base }
    public var sparse: SparseEncoder? { sparseEncoder }

    public init(_ sparseEncoder: SparseEncoder) { self.sparseEncoder = sparseEncoder }

    public func embedSparse(_ requests: [SparseRequest]) throws -> [SparseEmbeddings] {
        try sparseEncoder.embed(requests)
    }

    /// Dense vectors a SPLADE model does not have: the dense routes answer 422 before asking.
    public func embed(_ requests: [EmbeddingRequest]) throws -> [Embeddings] {
        throw EngineError.wrongKind("this model produces sparse vectors (SPLADE); use POST /embed_sparse")
    }
}

/// What the server scores pairs with: the library's ``Reranker`` (tokenizing, the head and the
/// activation are the library's), and the call that runs a batch of requests.
public protocol RerankEngine: Sendable {
    var reranker: Reranker { get }
    /// Scores requests merged by the batcher; result `k` belongs to `requests[k]`. Blocking.
    func rerank(_ requests: [RerankRequest]) throws -> [PairScores]
}

/// ``RerankEngine`` over the library's ``Reranker``: the scores `encoder rerank` prints.
public struct RerankerEngine: RerankEngine {
    public let reranker: Reranker

    public init(_ reranker: Reranker) { self.reranker = reranker }

    public func rerank(_ requests: [RerankRequest]) throws -> [PairScores] {
        try reranker.score(requests)
    }
}

/// The one model a server runs: an embedding model (the embedding routes) or a cross-encoder
/// (the rerank routes), as TEI serves one or the other.
public enum ServedModel: Sendable {
    case embedding(any EmbeddingEngine)
    case reranking(any RerankEngine)

    /// What the model is, for messages.
    var kind: String {
        switch self {
        case .embedding: "an embedding model"
        case .reranking: "a reranker (cross-encoder)"
        }
    }
}
