// The public model: configuration + bound weights + the padding-free forward pass.
// Port of modeling_bert.py L597-L728 `BertModel` without the pooler (sentence encoders
// pool the last hidden state themselves), for every EncoderFamily.
import Kernels
import SafeTensors

/// One tokenized sequence. Positions are 0..<ids.count (after the padding id for RoBERTa and MPNet).
public struct TokenSequence: Sendable, Equatable {
    /// Word-piece ids, each in 0..<vocab_size.
    public var ids: [Int32]
    /// Segment ids (token_type_ids), same count as `ids`, each in 0..<type_vocab_size; ignored by
    /// the families without token types (MPNet, DistilBERT).
    public var typeIds: [Int32]

    public init(ids: [Int32], typeIds: [Int32]) {
        self.ids = ids
        self.typeIds = typeIds
    }

    /// A single-segment sequence (all type ids 0).
    public init(ids: [Int32]) {
        self.init(ids: ids, typeIds: [Int32](repeating: 0, count: ids.count))
    }
}

/// The last hidden state of a batch: every token of every sequence, packed row after row.
public struct HiddenStates: Sendable {
    public let hiddenSize: Int
    /// [tokens x hidden], row-major.
    public let values: [Float]
    /// Token rows of each input sequence, in input order (empty for an empty sequence).
    public let sequenceRanges: [Range<Int>]

    public init(hiddenSize: Int, values: [Float], sequenceRanges: [Range<Int>]) {
        precondition(values.count == (sequenceRanges.last?.upperBound ?? 0) * hiddenSize,
                     "HiddenStates: values do not match the ranges")
        self.hiddenSize = hiddenSize
        self.values = values
        self.sequenceRanges = sequenceRanges
    }

    /// Total token rows.
    public var tokenCount: Int { values.count / max(hiddenSize, 1) }

    /// The [length x hidden] rows of sequence `index`.
    public func sequence(_ index: Int) -> ArraySlice<Float> {
        let r = sequenceRanges[index]
        return values[(r.lowerBound * hiddenSize)..<(r.upperBound * hiddenSize)]
    }
}

/// A transformer encoder of any ``EncoderFamily``, ready to run: immutable after init, safe
/// to share between threads.
public final class EncoderModel: Sendable {
    public let config: EncoderConfig
    /// Checkpoint tensors that were not needed (pooler, position_ids, task heads), for information.
    public let unexpectedTensors: [String]
    /// "" or the family's task-model prefix ("bert.", "roberta.", ...), whichever form the
    /// checkpoint's keys use.
    public let keyPrefix: String
    /// The arithmetic of the linear layers (``Precision``), fixed at load.
    public let precision: Precision
    /// Why the FP32 linear layers run on OpenBLAS with the checkpoint's weights in place instead of
    /// on weights packed at load (oneDNN refused the shapes), or nil when they are packed.
    public let packingFallback: String?
    /// The column parts each packed linear layer was cut into: the `threads` given at load.
    let packedParts: Int
    let embeddings: EmbeddingLayer
    let encoder: LayerStack

    /// Binds every tensor the configuration requires, checking each shape. Fails with one
    /// error listing all missing, mis-shaped and unreadable tensors. The linear layers' weights are
    /// then packed for oneDNN's matmul (as float, or quantized at ``Precision/int8``) in `threads`
    /// column parts, one per thread that will share a text alone, and their checkpoint values let
    /// go. FP32 falls back to OpenBLAS on the weights in place when oneDNN cannot pack them
    /// (``packingFallback`` says why); int8 then fails.
    public convenience init(config: EncoderConfig, weights: some TensorProvider, precision: Precision = .float32,
                            threads: Int = 1) throws(EncoderError) {
        try config.validate()
        let binder = Self.binder(config: config, weights: weights)
        try self.init(config: config, binder: binder, precision: precision, threads: threads)
        if binder.hasProblems { throw .weightsDoNotMatchConfig(binder.problems) }
    }

    /// The binder for `config`'s family: keys with or without the task-model prefix.
    static func binder(config: EncoderConfig, weights: some TensorProvider) -> WeightBinder {
        let names = config.family.names
        return WeightBinder(weights, probe: names.wordEmbeddings + ".weight", prefix: names.prefix)
    }

    /// Binds the encoder's tensors through `binder`, leaving any problem in it (a task model
    /// binds its head through the same binder, so one error lists every problem at once), then
    /// packs them when there is none (see ``init(config:weights:precision:threads:)``).
    init(config: EncoderConfig, binder: WeightBinder, precision: Precision, threads: Int) throws(EncoderError) {
        precondition(threads >= 1, "EncoderModel: threads must be at least 1")
        let names = config.family.names
        let root = WeightPath(root: binder)
        self.config = config
        self.precision = precision
        self.embeddings = EmbeddingLayer(root, names: names, config: config)
        let encoder = LayerStack(root, names: names, config: config)
        packedParts = threads
        guard !binder.hasProblems else {
            // The caller throws the binder's problems; nothing is bound to pack.
            self.encoder = encoder
            packingFallback = "not packed: the checkpoint does not match the config"
            self.unexpectedTensors = binder.unexpected
            self.keyPrefix = binder.keyPrefix
            return
        }
        do {
            self.encoder = try encoder.packed(Packing(kind: precision.kind, parts: packedParts))
            packingFallback = nil
        } catch {
            if precision == .int8 { throw .int8Unavailable(reason: error.description) }
            self.encoder = encoder
            packingFallback = error.description
        }
        self.unexpectedTensors = binder.unexpected
        self.keyPrefix = binder.keyPrefix
    }

    /// Checks that every id indexes inside the embedding tables and every sequence fits the
    /// position table. `forward` calls this first; it is public for callers that want to
    /// reject a request before queueing it.
    public func validate(_ batch: [TokenSequence]) throws(EncoderError) {
        let c = config
        for (s, input) in batch.enumerated() {
            guard input.ids.count == input.typeIds.count else {
                throw .invalidInput(sequence: s, reason: "\(input.ids.count) ids but \(input.typeIds.count) type ids")
            }
            guard input.ids.count <= c.maxSequenceLength else {
                let table = c.firstPosition == 0 ? "max_position_embeddings \(c.maxPositionEmbeddings)"
                    : "the \(c.maxSequenceLength) positions after padding_idx \(c.firstPosition - 1) of max_position_embeddings \(c.maxPositionEmbeddings)"
                throw .invalidInput(sequence: s, reason: "\(input.ids.count) tokens exceed \(table); truncate the input")
            }
            if let p = input.ids.firstIndex(where: { $0 < 0 || Int($0) >= c.vocabSize }) {
                throw .invalidInput(sequence: s, reason:
                    "token id \(input.ids[p]) at position \(p) is outside the vocabulary 0..<\(c.vocabSize)")
            }
            if c.family.hasTokenTypes, let p = input.typeIds.firstIndex(where: { $0 < 0 || Int($0) >= c.typeVocabSize }) {
                throw .invalidInput(sequence: s, reason:
                    "token type id \(input.typeIds[p]) at position \(p) is outside 0..<\(c.typeVocabSize)")
            }
        }
    }

    /// Token rows of each sequence when packed one after another.
    static func packedRanges(_ batch: [TokenSequence]) -> [Range<Int>] {
        var start = 0
        return batch.map { input in
            defer { start += input.ids.count }
            return start..<(start + input.ids.count)
        }
    }

    /// The last hidden state of every token (EncoderModel(...).last_hidden_state without padding).
    ///
    /// All tokens of the batch are packed into one [N x H] matrix, so each linear layer is a
    /// single GEMM with N rows; attention runs per sequence, so no padding or mask exists and
    /// a sequence's result does not depend on the rest of the batch (up to GEMM blocking).
    public func forward(_ batch: [TokenSequence]) throws(EncoderError) -> HiddenStates {
        try forward(batch, scratch: EncoderScratch())
    }

    /// ``forward(_:)`` using `scratch` for the intermediate activations, so a thread that runs
    /// many batches allocates (and page-faults) its working memory once. A scratch must not
    /// be used by two calls at the same time.
    ///
    /// `threads` > 1 shares this one forward between that many threads of our own: every
    /// linear layer splits its output columns (the column parts packed at load), attention its
    /// heads (each thread those in its Q/K/V columns, right after them) and the activation its
    /// FFN columns. For a batch that has the machine to itself, such as one interactive text;
    /// OpenBLAS must be at one thread then (``setBLASThreadCount(_:)``). The values match a
    /// one-thread run up to GEMM blocking.
    ///
    /// At both precisions, measured with `encoder run --batch-size 1` on the 2,758 STS-B
    /// sentences (2 cores, one text per call, alternating runs): FP32 408 -> 415 texts/s (median
    /// of 6) when attention and the activation joined the GEMM regions; int8 664 texts/s on one
    /// thread over weights packed in one part against 755 shared (median of 5). The price of
    /// two parts for int8 is in batches, which run one forward per thread: the short set in
    /// batches 1,985 -> 1,803 texts/s, long passages 82 -> 80.
    public func forward(_ batch: [TokenSequence], scratch: EncoderScratch, threads: Int = 1) throws(EncoderError) -> HiddenStates {
        precondition(threads >= 1, "EncoderModel.forward: threads must be at least 1")
        try validate(batch)
        let ranges = Self.packedRanges(batch)
        let n = ranges.last?.upperBound ?? 0
        let h = config.hiddenSize
        let maxLength = batch.map(\.ids.count).max() ?? 0
        var hidden = [Float](repeating: 0, count: n * h)  // [N x H], becomes the output
        guard n > 0 else { return HiddenStates(hiddenSize: h, values: hidden, sequenceRanges: ranges) }
        let ws = scratch.workspace(tokens: n, maxLength: maxLength, threads: threads,
                                   packedContexts: packingFallback == nil ? max(threads, packedParts) : 0, config: config)
        hidden.withUnsafeMutableBufferPointer { x in
            embeddings.forward(batch, ranges: ranges, into: x)
            encoder.forward(x, ranges: ranges, ws: ws)
        }
        return HiddenStates(hiddenSize: h, values: hidden, sequenceRanges: ranges)
    }
}

/// Working memory for ``BertModel/forward(_:scratch:)``: one block that grows to the largest
/// batch seen and is reused after. Not thread-safe: give each thread its own.
public final class EncoderScratch: @unchecked Sendable {
    private var block = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    /// The threads of forwards with threads > 1, kept (asleep when idle) for the next one.
    private var team: ThreadTeam?
    /// The packed kernels' per-thread state, created by the first forward that needs it.
    private var packed: [PackedGemmContext] = []

    public init() {}

    deinit { block.deallocate() }

    /// Floats currently held (for tests and memory accounting).
    public var capacity: Int { block.count }

    func workspace(tokens n: Int, maxLength: Int, threads: Int, packedContexts: Int, config: EncoderConfig) -> Workspace {
        let scoreSlots = max(threads, packedContexts)
        let needed = Workspace.sizes(tokens: n, maxLength: maxLength, scoreSlots: scoreSlots, config: config).reduce(0, +)
        if needed > block.count {
            block.deallocate()
            block = .allocate(capacity: needed)
            block.initialize(repeating: 0)
        }
        if threads > 1, team?.size != threads { team = ThreadTeam(size: threads) }
        while packed.count < packedContexts { packed.append(PackedGemmContext()) }
        return Workspace(block: block, tokens: n, maxLength: maxLength, scoreSlots: scoreSlots, team: threads > 1 ? team : nil,
                         packed: packed, config: config)
    }
}

extension EncoderModel {
    /// OpenBLAS's thread count for the whole process (OPENBLAS_NUM_THREADS or the core count).
    public static var blasThreadCount: Int { Gemm.threadCount }

    /// Sets OpenBLAS's thread count for the whole process. Set 1 before running forwards from
    /// several threads of your own: OpenBLAS threads and application threads must never be
    /// combined (its threaded calls serialize on a global lock and its idle threads spin).
    public static func setBLASThreadCount(_ count: Int) { Gemm.setThreadCount(count) }
}
