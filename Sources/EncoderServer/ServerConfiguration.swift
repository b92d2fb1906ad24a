import Logging
import SentenceEmbeddings

/// Limits and addresses of an ``EmbeddingServer``; the defaults follow text-embeddings-inference (TEI).
public struct ServerConfiguration: Sendable {
    /// Address to listen on. Loopback by default: the server has no authentication.
    public var host: String = "127.0.0.1"
    /// TCP port; 0 lets the system choose (tests).
    public var port: Int = 8080
    /// The model name reported by `/v1/models`, `/info` and in OpenAI responses.
    public var modelID: String = "model"
    /// Most tokens (`[CLS]`/`[SEP]` included) merged into one forward pass by the batcher (TEI: 16384).
    public var maxBatchTokens: Int = 16384
    /// The model's linear layers (`--precision`); /info reports it as model_dtype.
    public var precision: Precision = .float32
    /// Most inputs in one HTTP request; more is a 422 (TEI `--max-client-batch-size`, 32).
    public var maxClientBatchSize: Int = 32
    /// Largest request body in bytes; more is a 413 (TEI `--payload-limit`, 2,000,000).
    public var maxBodyBytes: Int = 2_000_000
    /// Most inputs queued or being embedded at once; a request that would exceed it gets 429 at once
    /// (TEI's `--max-concurrent-requests` semaphore, one permit per input, 512).
    public var maxPendingInputs: Int = 512
    /// What `truncate` means when a request does not say: false (an over-long input is a 422) or
    /// true (cut at the model's maximum sequence length, as sentence-transformers does).
    public var autoTruncate: Bool = false
    /// Seconds a connection may stay idle (also bounds slow-body clients).
    public var idleTimeoutSeconds: Int = 60
    /// The version reported by `/info`.
    public var version: String = "0.1.0"

    public init() {}

    /// Characters allowed per input before tokenizing when truncation is off, as TEI's
    /// `max_input_length × 250` pre-check: enough for any text that fits, bounded work otherwise.
    func maxInputCharacters(maxSequenceLength: Int) -> Int {
        maxSequenceLength.multipliedReportingOverflow(by: 250).overflow ? Int.max : maxSequenceLength * 250
    }

    /// Why this configuration cannot serve, or nil.
    public func problem() -> String? {
        if !(0...65535).contains(port) { return "--port must be in 0...65535, got \(port)" }
        if maxBatchTokens < 1 { return "--max-batch-tokens must be at least 1, got \(maxBatchTokens)" }
        if maxClientBatchSize < 1 { return "--max-client-batch-size must be at least 1, got \(maxClientBatchSize)" }
        if maxBodyBytes < 1 { return "--max-body-bytes must be at least 1, got \(maxBodyBytes)" }
        if maxPendingInputs < maxClientBatchSize {
            return "--max-pending-inputs (\(maxPendingInputs)) must be at least --max-client-batch-size (\(maxClientBatchSize)), or a full request could never be accepted"
        }
        if idleTimeoutSeconds < 1 { return "--idle-timeout must be at least 1 second, got \(idleTimeoutSeconds)" }
        return nil
    }
}
