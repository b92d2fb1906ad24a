import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers
import SentenceEmbeddings
import ServiceLifecycle

/// Loads the model, warms it up, then merges concurrent requests into batches.
///
/// Requests call ``submit(_:)`` with their inputs tokenized by the library under their own
/// options; they wait in a FIFO queue. One batcher task takes queued requests in order until the
/// next would pass `maxBatchTokens` (the first is always taken, so an input longer than the budget
/// still runs, alone), has the library embed them together on a dedicated dispatch queue — never
/// on the event loop or the cooperative pool — and resumes each request with its own embeddings. So 64 clients sending one sentence each are embedded as one batch,
/// as TEI's `core/src/queue.rs` does.
///
/// Backpressure is immediate, as TEI's semaphore: a request whose inputs would bring the pending
/// count over `maxPendingInputs` is refused with 429 instead of waiting without bound.
///
/// As a `Service` it runs beside the HTTP server, which the service group shuts down first
/// (services stop in reverse order), so every accepted request is answered before the batcher stops.
public final class EmbeddingBatcher: Service, Sendable {
    /// Where the model is in its life.
    public enum Phase: Sendable, Equatable {
        case loading
        case ready
        case failed(String)
    }

    /// One request's work: texts to embed (dense or, for a SPLADE model, sparse) or pairs to
    /// score, whichever the served model does.
    enum Work: Sendable {
        case embed(EmbeddingRequest)
        case embedSparse(SparseRequest)
        case rerank(RerankRequest)

        /// Inputs (texts or pairs): what the pending limit counts.
        var count: Int {
            switch self {
            case .embed(let r): r.inputs.count
            case .embedSparse(let r): r.tokenized.inputs.count
            case .rerank(let r): r.encodings.count
            }
        }

        var tokens: Int {
            switch self {
            case .embed(let r): r.tokenCount
            case .embedSparse(let r): r.tokenCount
            case .rerank(let r): r.tokenCount
            }
        }

        /// Why `served` cannot do this work (a route's own check comes first), or nil when it can.
        func refusal(_ served: ServedModel?) -> String? {
            switch (self, served) {
            case (.embed, .embedding(let e)?): e.sparse == nil ? nil : "the model served is a SPLADE model; use POST /embed_sparse"
            case (.embedSparse, .embedding(let e)?): e.sparse != nil ? nil : "the model served produces dense vectors; POST /embed_sparse needs a SPLADE model"
            case (.rerank, .reranking?): nil
            default: "the model served is \(served?.kind ?? "not loaded"); this route needs the other kind"
            }
        }
    }

    enum Output: Sendable {
        case embeddings(Embeddings)
        case sparse(SparseEmbeddings)
        case scores(PairScores)
    }

    struct Job {
        let work: Work
        let tokens: Int
        /// Where the batcher leaves the result before it resumes the request: read under a lock,
        /// for the reason ``onWorkQueue(_:)`` gives.
        let outcome: NIOLockedValueBox<Result<Output, any Error>?>
        let continuation: CheckedContinuation<Void, Never>

        func resume(_ result: Result<Output, any Error>) {
            outcome.withLockedValue { $0 = result }
            continuation.resume()
        }
    }

    struct State {
        var phase: Phase = .loading
        var served: ServedModel?
        var queue: [Job] = []
        var queueHead = 0
        var pendingInputs = 0
        var waiter: CheckedContinuation<Void, Never>?
        var stopping = false

        var queuedCount: Int { queue.count - queueHead }
    }

    /// A pthread mutex, not `Synchronization.Mutex`: on Linux that hands a contended lock over in the
    /// kernel (a priority-inheritance futex), which ThreadSanitizer cannot see, so it reports the
    /// state it guards as raced (`Scripts/sanitize` refuses `Mutex` for that reason).
    private let state = NIOLockedValueBox(State())
    private let load: @Sendable () throws -> ServedModel
    private let maxBatchTokens: Int
    private let maxPendingInputs: Int
    private let metrics: ServerMetrics
    private let logger: Logger
    private let workQueue = DispatchQueue(label: "encoder.batcher.forward", qos: .userInitiated)

    /// - Parameters:
    ///   - load: builds the engine; called once, on a background thread, when the service starts.
    public init(
        maxBatchTokens: Int, maxPendingInputs: Int, metrics: ServerMetrics, logger: Logger,
        load: @escaping @Sendable () throws -> ServedModel
    ) {
        self.load = load
        self.maxBatchTokens = maxBatchTokens
        self.maxPendingInputs = maxPendingInputs
        self.metrics = metrics
        self.logger = logger
    }

    /// The current phase (for `/health`).
    public var phase: Phase { state.withLockedValue { $0.phase } }

    /// The model once it is loaded and warmed up, else nil.
    public var served: ServedModel? {
        state.withLockedValue { $0.phase == .ready ? $0.served : nil }
    }

    /// The embedding engine once it is loaded and warmed up; nil while loading or when the model is a reranker.
    public var engine: (any EmbeddingEngine)? {
        if case .embedding(let engine) = served { engine } else { nil }
    }

    /// Runs `body` on the forward-pass queue and waits for it without blocking a cooperative thread.
    ///
    /// The result comes back through a lock, not in the continuation: when the queue finishes
    /// before the task has suspended, Swift's runtime hands a resumed continuation over with
    /// atomics that ThreadSanitizer cannot see, and it then reported the forward pass's output as
    /// raced (CI, 3 reports in one run); the lock is an edge it sees.
    private func onWorkQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let outcome = NIOLockedValueBox<Result<T, any Error>?>(nil)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            workQueue.async {
                let result = Result { try body() }
                outcome.withLockedValue { $0 = result }
                continuation.resume()
            }
        }
        guard let result = outcome.withLockedValue({ $0 }) else {
            preconditionFailure("onWorkQueue: resumed without a result")
        }
        return try result.get()
    }

    // MARK: Service

    public func run() async throws {
        let started = ContinuousClock.now
        let engine: ServedModel
        do {
            engine = try await onWorkQueue(load)
            // One real forward pass before /health says 200: the first pass allocates and faults in
            // the weights (and, for a SPLADE model, the MLM head's vocabulary-sized decoder).
            let warm = try await onWorkQueue { () throws -> [Float] in
                switch engine {
                case .embedding(let engine):
                    let prepared = try engine.encoder.prepare(EncodingOptions())
                    let request = EmbeddingRequest(inputs: [try engine.encoder.tokenize(.text("warm up"), prepared: prepared)], prepared: prepared)
                    if engine.sparse != nil {
                        return try engine.embedSparse([SparseRequest(request)]).flatMap { $0.vectors.flatMap(\.values) }
                    }
                    return try engine.embed([request]).flatMap(\.values)
                case .reranking(let engine):
                    let pair = try engine.reranker.tokenize(RerankPair(query: "warm", document: "up"))
                    return try engine.rerank([RerankRequest(encodings: [pair], activation: engine.reranker.activation)]).flatMap(\.values)
                }
            }
            guard warm.allSatisfy(\.isFinite) else {
                throw BatcherError.nonFinite("the warm-up pass produced non-finite values; the weights are broken")
            }
        } catch {
            let message = String(describing: error)
            state.withLockedValue { $0.phase = .failed(message) }
            logger.error("model failed to load: \(message)")
            throw error
        }
        state.withLockedValue {
            $0.served = engine
            $0.phase = .ready
        }
        logger.info("model ready", metadata: ["load_seconds": "\(ContinuousClock.now - started)"])

        await withGracefulShutdownHandler {
            await self.loop(engine)
        } onGracefulShutdown: {
            self.state.withLockedValue {
                $0.stopping = true
                $0.waiter?.resume()
                $0.waiter = nil
            }
        }
    }

    /// Takes batches until asked to stop and the queue is empty.
    private func loop(_ engine: ServedModel) async {
        while true {
            let batch: [Job]? = await nextBatch()
            guard let batch else { return }
            await process(batch, engine)
        }
    }

    /// The next batch, waiting for work; nil when stopping with nothing left.
    private func nextBatch() async -> [Job]? {
        while true {
            let taken: [Job]? = state.withLockedValue { s in
                guard s.queuedCount > 0 else { return nil }
                var jobs: [Job] = []
                var tokens = 0
                while s.queueHead < s.queue.count {
                    let job = s.queue[s.queueHead]
                    if !jobs.isEmpty, tokens + job.tokens > maxBatchTokens { break }
                    jobs.append(job)
                    tokens += job.tokens
                    s.queueHead += 1
                }
                if s.queueHead == s.queue.count {
                    s.queue.removeAll(keepingCapacity: true)
                    s.queueHead = 0
                } else if s.queueHead > 1024 {
                    s.queue.removeFirst(s.queueHead)
                    s.queueHead = 0
                }
                return jobs
            }
            if let taken { return taken }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLockedValue { s -> Bool in
                    if s.stopping || s.queuedCount > 0 { return true }
                    s.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            let stop = state.withLockedValue { $0.stopping && $0.queuedCount == 0 }
            if stop { return nil }
        }
    }

    private func process(_ jobs: [Job], _ engine: ServedModel) async {
        let work = jobs.map(\.work)
        let inputs = work.reduce(0) { $0 + $1.count }
        let tokens = jobs.reduce(0) { $0 + $1.tokens }
        metrics.batchInputs.record(Double(inputs))
        metrics.batchTokens.record(Double(tokens))
        let start = ContinuousClock.now
        let result: Result<[Output], any Error>
        do {
            // submit() admits only the work the served model does, so every job is of that kind.
            result = .success(try await onWorkQueue { () throws -> [Output] in
                switch engine {
                case .embedding(let engine) where engine.sparse != nil:
                    let requests = work.compactMap { if case .embedSparse(let r) = $0 { r } else { nil } }
                    return try engine.embedSparse(requests).map(Output.sparse)
                case .embedding(let engine):
                    let requests = work.compactMap { if case .embed(let r) = $0 { r } else { nil } }
                    return try engine.embed(requests).map(Output.embeddings)
                case .reranking(let engine):
                    let requests = work.compactMap { if case .rerank(let r) = $0 { r } else { nil } }
                    return try engine.rerank(requests).map(Output.scores)
                }
            })
        } catch {
            result = .failure(error)
        }
        metrics.inference.record(ContinuousClock.now - start)
        metrics.tokensProcessed.increment(by: Int64(tokens))
        let pending = state.withLockedValue { s -> Int in
            s.pendingInputs -= inputs
            return s.pendingInputs
        }
        metrics.pendingInputs.set(Double(pending))

        switch result {
        case .failure(let error):
            logger.error("forward pass failed: \(error)")
            for job in jobs { job.resume(.failure(BatcherError.engine(String(describing: error)))) }
        case .success(let all):
            for (job, output) in zip(jobs, all) { job.resume(.success(output)) }
        }
    }

    // MARK: Requests

    /// Queues `request` for the next batch and returns its embeddings (row `i` for input `i`).
    ///
    /// Throws ``APIError`` 503 before the model is ready, 429 when the queue is full, 500 when the
    /// forward pass fails.
    public func submit(_ request: EmbeddingRequest) async throws(APIError) -> Embeddings {
        guard case .embeddings(let embeddings) = try await submit(.embed(request)) else { throw .server("submit: not embeddings") }
        return embeddings
    }

    /// Queues a SPLADE `request` for the next batch and returns its sparse vectors (element `i` for
    /// input `i`), with the same limits and errors as dense embeddings.
    public func submit(_ request: SparseRequest) async throws(APIError) -> SparseEmbeddings {
        guard case .sparse(let vectors) = try await submit(.embedSparse(request)) else { throw .server("submit: not sparse vectors") }
        return vectors
    }

    /// Queues `request`'s pairs for the next batch and returns their scores (row `i` for pair
    /// `i`), with the same limits and errors as embeddings.
    public func submit(_ request: RerankRequest) async throws(APIError) -> PairScores {
        guard case .scores(let scores) = try await submit(.rerank(request)) else { throw .server("submit: not scores") }
        return scores
    }

    private func submit(_ work: Work) async throws(APIError) -> Output {
        let count = work.count
        let outcome = NIOLockedValueBox<Result<Output, any Error>?>(nil)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let job = Job(work: work, tokens: work.tokens, outcome: outcome, continuation: continuation)
            let admitted: Result<Int, APIError> = state.withLockedValue { s in
                guard s.phase == .ready else { return .failure(.unavailable("the model is loading")) }
                if let refusal = work.refusal(s.served) { return .failure(.invalidRequest(refusal)) }
                guard !s.stopping else { return .failure(.unavailable("the server is shutting down")) }
                guard s.pendingInputs + count <= maxPendingInputs else {
                    return .failure(.overloaded(pending: s.pendingInputs, limit: maxPendingInputs))
                }
                s.pendingInputs += count
                s.queue.append(job)
                s.waiter?.resume()
                s.waiter = nil
                return .success(s.pendingInputs)
            }
            switch admitted {
            case .success(let pending): metrics.pendingInputs.set(Double(pending))
            case .failure(let refusal): job.resume(.failure(refusal))
            }
        }
        guard let result = outcome.withLockedValue({ $0 }) else { preconditionFailure("submit: resumed without a result") }
        switch result {
        case .success(let output): return output
        case .failure(let error as APIError): throw error
        case .failure(let error as BatcherError): throw .server(error.description)
        case .failure(let error): throw .server(String(describing: error))
        }
    }
}

/// Failures inside the batcher, reported to clients as 500.
enum BatcherError: Error, CustomStringConvertible {
    case engine(String)
    case nonFinite(String)

    var description: String {
        switch self {
        case .engine(let message): "the forward pass failed: \(message)"
        case .nonFinite(let message): message
        }
    }
}
