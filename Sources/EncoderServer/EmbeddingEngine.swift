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
    /// The SPLADE model behind `POST /embed_sparse`; nil (the default) for a dense model.
    var sparse: SparseEncoder? { get }
}

/// ``EmbeddingEngine`` over the library's ``SentenceEncoder``: the same vectors `encoder run` writes.
public struct SentenceEncoderEngine: EmbeddingEngine {
    public let encoder: SentenceEncoder

    public init(_ encoder: SentenceEncoder) { self.encoder = encoder }

    public func embed(_ requests: [EmbeddingRequest]) throws -> [Embeddings] {
        try encoder.embed(requests)
    }
}

extension EmbeddingEngine {
    public var sparse: SparseEncoder? { nil }
}

/// ``EmbeddingEngine`` over a ``SparseEncoder``: `POST /embed_sparse` answers with its vectors, the
/// dense routes refuse it. ``embed(_:)`` (the batcher's warm-up pass) runs the sparse forward and
/// returns rows of no dense values.
public struct SparseEncoderEngine: EmbeddingEngine {
    public let sparseEncoder: SparseEncoder
    public var encoder: SentenceEncoder { sparseEncoder.base }
    public var sparse: SparseEncoder? { sparseEncoder }

    public init(_ sparseEncoder: SparseEncoder) { self.sparseEncoder = sparseEncoder }

    public func embed(_ requests: [EmbeddingRequest]) throws -> [Embeddings] {
        try requests.map { request in
            let vectors = try sparseEncoder.embed(request)
            return Embeddings(dimension: 0, values: [], tokenCounts: vectors.tokenCounts, truncatedCount: vectors.truncatedCount, chunkedCount: 0)
        }
    }
}
