// How `SentenceEncoder.embed(_:)` splits work: length-sorted, token-budgeted batches
// handed to a few workers of our own, each running whole forward passes with OpenBLAS set to
// one thread: independent single-threaded workers outrun OpenBLAS's own threads on large
// GEMMs, and do not collapse when another process competes for the cores (Scripts/BENCHMARKS.md).
// With fewer batches than workers, the spare workers share each forward pass instead
// (EncoderModel.forward(_:scratch:threads:)), so one interactive text uses every thread too.
import TransformerEncoder
import Dispatch
import Foundation
import Tokenization

/// Texts grouped into forward passes.
struct BatchPlan: Equatable {
    /// Each batch lists text indices, longest text first; batches come longest first.
    var batches: [[Int]]

    /// Sorts texts by length (longest first, ties by index, so the plan is deterministic) and
    /// cuts the sorted list into batches of about `budget` tokens, where the batch count is
    /// rounded up to a multiple of `workers` so every worker gets an equal share even when
    /// the whole request fits in one budget. A text longer than the budget gets a batch alone.
    static func make(lengths: [Int], maxBatchTokens: Int, workers: Int) -> BatchPlan {
        precondition(maxBatchTokens >= 1 && workers >= 1, "BatchPlan: budget and workers must be positive")
        guard !lengths.isEmpty else { return BatchPlan(batches: []) }
        let order = lengths.indices.sorted { lengths[$0] != lengths[$1] ? lengths[$0] > lengths[$1] : $0 < $1 }
        let total = lengths.reduce(0, +)
        var count = (total + maxBatchTokens - 1) / maxBatchTokens
        count = ((count + workers - 1) / workers) * workers
        count = max(1, min(count, lengths.count))
        let budget = max(1, min(maxBatchTokens, (total + count - 1) / count))
        var batches: [[Int]] = []
        var current: [Int] = []
        var tokens = 0
        for i in order {
            if !current.isEmpty && tokens + lengths[i] > budget {
                batches.append(current)
                current = []
                tokens = 0
            }
            current.append(i)
            tokens += lengths[i]
        }
        if !current.isEmpty { batches.append(current) }
        return BatchPlan(batches: batches)
    }
}

/// Hands out batch indices to workers and keeps the first error.
private final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let count: Int
    private(set) var error: EncoderError?

    init(count: Int) { self.count = count }

    /// The next batch to run, or nil when all are taken or a worker failed.
    func take() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard error == nil, next < count else { return nil }
        next += 1
        return next - 1
    }

    func fail(_ e: EncoderError) {
        lock.lock()
        defer { lock.unlock() }
        if error == nil { error = e }
    }

    var firstError: EncoderError? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }
}

/// Scratch memory kept between calls, so an interactive caller does not page-fault a fresh
/// workspace for every request. At most `limit` are kept (one per worker).
final class ScratchPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [EncoderScratch] = []
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func take() -> EncoderScratch {
        lock.lock()
        defer { lock.unlock() }
        return free.popLast() ?? EncoderScratch()
    }

    func give(_ scratch: EncoderScratch) {
        lock.lock()
        defer { lock.unlock() }
        if free.count < limit { free.append(scratch) }
    }
}

/// A buffer whose disjoint parts several workers write; the caller guarantees disjointness.
struct SharedRows<Element>: @unchecked Sendable {
    let base: UnsafeMutableBufferPointer<Element>
}

/// The forward passes of one call, shared by every model kind of a folder (``SentenceEncoder``
/// pools each sequence, ``Reranker`` runs its classification head on the first token): texts
/// sorted by length, cut into batches of about `options.maxBatchTokens` tokens, run on up to
/// `options.threads` workers, each with scratch memory kept in `scratchPool`.
struct ForwardBatches: Sendable {
    let model: EncoderModel
    let options: SentenceEncoder.Options
    let scratchPool: ScratchPool

    /// Workers used for `count` independent pieces of work.
    func workerCount(for count: Int) -> Int { max(1, min(options.threads, count)) }

    /// Runs `body(i)` for i in 0..<count on up to `workers` threads (the calling thread alone
    /// when one suffices).
    static func parallel(_ workers: Int, _ body: @Sendable (Int) -> Void) {
        if workers <= 1 {
            body(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: workers, execute: body)
        }
    }

    /// Runs forward passes over `encodings` and hands each batch's hidden states to `reduce`,
    /// with the indices of its members in batch order (sequence k of the hidden states is
    /// `encodings[members[k]]`) and `values`, of which `reduce` writes only its members' rows.
    /// `reduce` runs on the workers, several batches at once.
    func run(_ encodings: [Encoding], into values: inout [Float],
             reduce: @Sendable (HiddenStates, _ members: [Int], _ values: UnsafeMutableBufferPointer<Float>) -> Void) throws(EncoderError) {
        try values.withUnsafeMutableBufferPointer { (buffer) throws(EncoderError) in
            let out = SharedRows(base: buffer)
            try forEach(encodings) { members, hidden in reduce(hidden, members, out.base) }
        }
    }

    /// The forward passes of `encodings`: `each(members, hidden)` runs on the worker that ran the
    /// batch, `members` being the indices into `encodings` of its sequences in `hidden`'s order;
    /// workers call it concurrently for different batches, and each encoding is in exactly one batch.
    func forEach(_ encodings: [Encoding], _ each: @Sendable (_ members: [Int], _ hidden: HiddenStates) -> Void) throws(EncoderError) {
        let plan = BatchPlan.make(lengths: encodings.map(\.ids.count), maxBatchTokens: options.maxBatchTokens,
                                  workers: options.threads)
        let workers = workerCount(for: plan.batches.count)
        // Threads left over when there are fewer batches than threads (one text: one batch)
        // share each forward pass instead of idling. Threads = 1 leaves threading to OpenBLAS.
        let threadsPerForward = max(1, options.threads / workers)
        let queue = WorkQueue(count: plan.batches.count)
        Self.parallel(workers) { _ in
            let scratch = scratchPool.take()
            defer { scratchPool.give(scratch) }
            while let b = queue.take() {
                let members = plan.batches[b]
                let inputs = members.map { TokenSequence(ids: encodings[$0].ids, typeIds: encodings[$0].typeIds) }
                let hidden: HiddenStates
                do throws(EncoderError) { hidden = try model.forward(inputs, scratch: scratch, threads: threadsPerForward) } catch {
                    queue.fail(error)
                    return
                }
                each(members, hidden)
            }
        }
        if let error = queue.firstError { throw error }
    }
}

extension SentenceEncoder {
    /// Forward passes and pooling for `embed(_:)`: fills `values` [count x pooling.outputDimension]
    /// with pooled (not yet post-processed) vectors, sequence `i`'s first `poolingSkips[i]` rows
    /// left out of pooling.
    func embedBatches(_ encodings: [Encoding], poolingSkips: [Int], into values: inout [Float]) throws(EncoderError) {
        let d = pooling.outputDimension
        let pooling = pooling
        try forwardBatches.run(encodings, into: &values) { hidden, members, out in
            hidden.values.withUnsafeBufferPointer { h in
                for (k, i) in members.enumerated() {
                    let row = UnsafeMutableBufferPointer(rebasing: out[(i * d)..<((i + 1) * d)])
                    pooling.pool(h, rows: hidden.sequenceRanges[k], skip: poolingSkips[i], into: row)
                }
            }
        }
    }
}
