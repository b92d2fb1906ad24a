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
}

extension EmbeddingEngine {
    public var quantizationRanges: QuantizationRanges? { nil }
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
