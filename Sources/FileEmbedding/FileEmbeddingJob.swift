import Foundation
import SentenceEmbeddings
import StrictJSON

/// Why a file embedding job stopped: a file that cannot be read, written or renamed, a checkpoint
/// that cannot be used, a non-finite vector. Bad input records are ``TextInputError``s, naming the
/// file and line.
public struct FileEmbeddingError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// What to do with a record that cannot be embedded (invalid UTF-8, bad JSON, missing field or
/// column, or too long under ``TruncationPolicy/error``).
public enum BadRecordPolicy: String, CaseIterable, Sendable {
    /// Stop with `FILE:LINE: ...` and leave no output.
    case stop
    /// Leave it out and list it in `OUTPUT.errors.jsonl` (or report it through `warning`).
    case skip
}

/// The K-th (from 0) of N contiguous parts of the input.
public struct Shard: Equatable, Sendable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init?(index: Int, count: Int) {
        guard count >= 1, index >= 0, index < count else { return nil }
        self.index = index
        self.count = count
    }

    /// `K/N`, as `--shard` spells it.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        self.init(index: k, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// The records `[start, end)` of this shard when the input has `records` records.
    ///
    /// The input is cut into chunks of `batchSize` records (the last may be shorter); shard K
    /// gets chunks `[C*K/N, C*(K+1)/N)` of the `C` chunks. Ranges are contiguous and in order,
    /// so the N outputs concatenated in order are the single run's output, and every shard
    /// embeds the very chunks a single run embeds, so the bytes are the same too.
    func range(records: Int, batchSize: Int) -> Range<Int> {
        let chunks = (records + batchSize - 1) / batchSize
        let first = chunks * index / count, last = chunks * (index + 1) / count
        return min(first * batchSize, records)..<min(last * batchSize, records)
    }
}

/// Where a job stands, for a progress display.
public struct FileEmbeddingProgress: Sendable {
    /// Records done (embedded or skipped), of this shard, counting those a resumed run had done.
    public var done: Int
    /// Records in all (of this shard), when known: the input was counted (``FileEmbeddingJob/countTotal``,
    /// a shard) or given as texts.
    public var total: Int?
    /// Records this process embedded or skipped, and the tokens it embedded (for rates).
    public var fresh: Int
    public var tokens: Int
}

/// What a finished job did.
public struct FileEmbeddingSummary: Sendable {
    /// Of this process's work: texts embedded, their tokens, how many were truncated, skipped
    /// (bad records), split into windows.
    public var texts = 0, tokens = 0, truncated = 0, skipped = 0, split = 0
    public var seconds = 0.0
    /// Records a resumed run found already done.
    public var resumedAfter = 0
    /// Where skipped records are listed, if anywhere.
    public var errorsFile: URL?
}

/// A file (or stdin, or texts in memory) embedded into a file (or stdout), streaming: read in
/// chunks of ``batchSize`` records, embedded through ``SentenceEncoder``, written in input order.
///
/// ```swift
/// var job = FileEmbeddingJob(input: "corpus.jsonl", output: "vectors.npy")
/// job.field = "text"
/// let summary = try job.run(encoder) { progress in print(progress.done) }
/// ```
///
/// A file output appears only when complete: rows go to a hidden partial file renamed into place
/// at the end, and a failed run removes it. After every chunk a checkpoint is saved beside the
/// output, so a killed run continues with ``resume`` and gives byte-identical output. ``shard``
/// embeds one of N contiguous parts (whole chunks), whose outputs concatenate to a single run's.
public struct FileEmbeddingJob: Sendable {
    /// The input file (`.txt`, `.jsonl`, `.csv`, `.tsv`, each optionally `.gz`), or `-` for stdin;
    /// nil embeds ``texts`` instead.
    public var input: String?
    /// Texts to embed when there is no ``input`` (record `i` is `texts[i]`).
    public var texts: [String] = []
    /// The `.jsonl` object field holding the text.
    public var field = "text"
    /// The `.csv`/`.tsv` column: a 1-based number, or a header name.
    public var column: String?
    /// Read the input as this format (`txt`, `jsonl`, `csv`, `tsv`, optionally `.gz`), whatever its extension.
    public var inputFormat: String?
    /// Quotes in `.csv`/`.tsv`.
    public var quoting: TextInput.Quoting = .auto
    /// A `.jsonl` field or `.csv`/`.tsv` column carried to a `.jsonl` output as `"id"`.
    public var idField: String?
    /// The longest record in bytes; a longer one stops the job naming its line.
    public var maxRecordBytes = FileEmbeddingJob.defaultMaxRecordBytes
    /// The output file, `-` for stdout (`.jsonl` unless ``outputFormat`` says otherwise), or nil
    /// for one bare JSON array per line on stdout.
    public var output: String?
    /// The output format, whatever the extension.
    public var outputFormat: OutputFormat?
    /// The number type of `.npy` and `.safetensors` outputs.
    public var dtype: OutputDType = .f32
    /// Compact rows (sentence-transformers' `quantize_embeddings`) instead of floats: bytes in
    /// `.npy` (`|i1`/`|u1`) and `.safetensors` (I8/U8), integers in the text formats. Binary
    /// precisions store `ceil(D / 8)` bytes per row.
    public var precision: OutputPrecision?
    /// The calibration set that fixes int8/uint8 ranges (per-dimension min and max): a `.npy` of
    /// float32 embeddings [N, D], or a text file (read as ``input`` is, with ``field`` and
    /// ``column``) embedded with the job's ``options``. Required for int8/uint8 with an ``input``
    /// file: a stream is written chunk by chunk, so ranges cannot wait for the last text. Without
    /// it, int8/uint8 of ``texts`` take their ranges from all those texts, embedded in one chunk.
    public var calibration: String?
    /// Records read, embedded and written per chunk (and per checkpoint).
    public var batchSize = 4096
    /// What a bad record does.
    public var onError: BadRecordPolicy = .stop
    /// Continue an interrupted run from its checkpoint (same options and input).
    public var resume = false
    /// Embed only this part of the input.
    public var shard: Shard?
    /// How every text becomes a vector: prompt, dimensions, normalization, long inputs.
    public var options = EncodingOptions()
    /// Count the input's records first, so progress has a total (costs one extra read of a file).
    public var countTotal = false

    /// 64 MiB.
    public static let defaultMaxRecordBytes = RecordReader.defaultMaxRecordBytes

    public init(input: String? = nil, output: String? = nil) {
        self.input = input
        self.output = output
    }

    /// A job over texts in memory.
    public init(texts: [String], output: String? = nil) {
        self.texts = texts
        self.output = output
    }

    /// The output file, when it is a file.
    public var destination: URL? {
        guard let output, output != "-" else { return nil }
        return URL(fileURLWithPath: output)
    }

    /// Where skipped records are listed: beside a file output under ``BadRecordPolicy/skip``.
    public var errorsDestination: URL? {
        onError == .skip ? destination.map { URL(fileURLWithPath: $0.path + ".errors.jsonl") } : nil
    }

    /// The layout rows are written in: bare JSON arrays on stdout unless a format is asked for.
    func layout() throws -> EmbeddingWriter.Layout {
        if let outputFormat { return .file(outputFormat) }
        guard let output else { return .jsonArrays }
        if output == "-" { return .file(.jsonl) }
        return .file(try OutputFormat(path: output))
    }

    /// The input's format, from its extension or ``inputFormat``.
    func inputFormat(of path: String) throws(TextInputError) -> TextInput.Format {
        try TextInput.format(of: path, field: field, column: column, override: inputFormat, quoting: quoting)
    }

    /// A combination of settings that cannot run.
    public enum SettingsProblem: Error, Equatable, Sendable, CustomStringConvertible {
        case batchSizeBelowOne
        case maxRecordBytesBelowOne
        /// The output path's extension names no format (the message says which ones exist).
        case unknownOutputFormat(String)
        /// `.npy` and `.safetensors` write their header last, so they need a file.
        case formatNeedsFile(OutputFormat)
        case f16NeedsBinaryOutput
        case idFieldNeedsJSONLOutput
        case idFieldNeedsFieldedInput
        case idFieldNeedsInputFile
        case resumeNeedsOutputFile
        case shardNeedsInputFile
        case dtypeWithPrecision
        case calibrationNeedsRangedPrecision
        /// int8/uint8 of an input file without a calibration set.
        case precisionNeedsCalibration(OutputPrecision)

        public var description: String {
            switch self {
            case .batchSizeBelowOne: "the batch size must be at least 1"
            case .maxRecordBytesBelowOne: "the longest record must be at least 1 byte"
            case .unknownOutputFormat(let message): message
            case .formatNeedsFile(let f): "the \(f.rawValue) format needs a file (its header is written last); stream jsonl or tsv to stdout instead"
            case .f16NeedsBinaryOutput: "f16 applies to .npy and .safetensors outputs"
            case .idFieldNeedsJSONLOutput: "an id field needs a .jsonl output (ids are written as \"id\")"
            case .idFieldNeedsFieldedInput: "an id field needs a .jsonl, .csv or .tsv input (a .txt line has no fields)"
            case .idFieldNeedsInputFile: "an id field needs an input file"
            case .resumeNeedsOutputFile: "resuming needs an output file (a stream cannot be resumed)"
            case .shardNeedsInputFile: "a shard needs an input file: records are counted first to cut the input into contiguous parts"
            case .dtypeWithPrecision: "f16 and a compact precision cannot be combined: a compact precision stores bytes"
            case .calibrationNeedsRangedPrecision: "a calibration set applies only to the int8 and uint8 precisions"
            case .precisionNeedsCalibration(let p): Self.needsCalibration(p)
            }
        }
    }

    /// Why these settings cannot run, checked before anything is read or written.
    public func validate() throws(SettingsProblem) {
        guard batchSize >= 1 else { throw .batchSizeBelowOne }
        guard maxRecordBytes >= 1 else { throw .maxRecordBytesBelowOne }
        let layout: EmbeddingWriter.Layout
        do { layout = try self.layout() } catch { throw .unknownOutputFormat(String(describing: error)) }
        if case .file(let f) = layout, f.needsSeek, destination == nil { throw .formatNeedsFile(f) }
        if dtype == .f16, layout != .file(.npy), layout != .file(.safetensors) { throw .f16NeedsBinaryOutput }
        if idField != nil {
            guard layout == .file(.jsonl) else { throw .idFieldNeedsJSONLOutput }
            if let input, case .lines? = (try? inputFormat(of: input))?.kind { throw .idFieldNeedsFieldedInput }
            guard input != nil else { throw .idFieldNeedsInputFile }
        }
        if resume && destination == nil { throw .resumeNeedsOutputFile }
        if shard != nil, input == nil || input == "-" { throw .shardNeedsInputFile }
        if precision != nil, dtype != .f32 { throw .dtypeWithPrecision }
        if calibration != nil, !(precision?.needsRanges ?? false) { throw .calibrationNeedsRangedPrecision }
        if let precision, precision.needsRanges, calibration == nil, input != nil { throw .precisionNeedsCalibration(precision) }
    }

    /// Embeds the input with `encoder`. `progress` is called after every chunk (and checkpoint);
    /// `warning` with a skipped record's `FILE:LINE: message` when there is no errors file to
    /// list it in, and with notes on resuming. Throws on the first bad record under
    /// ``BadRecordPolicy/stop``, on an unreadable or unwritable file, and on a refused resume
    /// (options or input changed); the partial output is then removed.
    ///
    /// To stop early and continue later, throw `CancellationError()` from `progress`: the partial
    /// output and its checkpoint are kept, as after a kill, and the same job with ``resume``
    /// continues where it stopped.
    @discardableResult
    public func run(
        _ encoder: SentenceEncoder,
        progress: (FileEmbeddingProgress) throws -> Void = { _ in },
        warning: (String) -> Void = { _ in }
    ) throws -> FileEmbeddingSummary {
        try validate()
        return try withoutActuallyEscaping(progress) { progress in
            try withoutActuallyEscaping(warning) { warning in
                try JobRun(job: self, encoder: encoder, progress: progress, warning: warning).run()
            }
        }
    }

    /// What must match for a resume to continue a checkpoint's bytes.
    func checkpointOptions(model folder: URL, ranges: QuantizationRanges?) -> [String: String] {
        var o: [String: String] = [
            "model": folder.standardizedFileURL.path,
            "output format": String(describing: (try? layout()) ?? .jsonArrays),
            "dtype": dtype.rawValue,
            "batch size": "\(batchSize)",
            "on error": onError.rawValue,
            "shard": shard?.description ?? "none",
        ]
        if let precision { o["output precision"] = precision.rawValue }
        if let ranges {
            // The ranges themselves, not the calibration file's name: a resume must bucket alike.
            let bytes = (ranges.minimums + ranges.maximums).flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> ($0 * 8)) } }
            o["quantization ranges"] = hex(fnv1a(bytes))
        }
        switch options.truncation {
        case .truncate: o["long inputs"] = "truncate"
        case .error: o["long inputs"] = "error"
        case .chunk(let overlap):
            o["long inputs"] = "chunk"
            o["window overlap"] = "\(overlap)"
        }
        if let p = options.promptName { o["prompt name"] = p }
        if let p = options.prompt { o["prompt"] = p }
        if let p = options.includePrompt { o["include prompt"] = "\(p)" }
        if let d = options.dimensions { o["dimensions"] = "\(d)" }
        if options.normalize { o["normalize"] = "yes" }
        if let path = input {
            o["input"] = URL(fileURLWithPath: path).standardizedFileURL.path
            o["input format"] = (try? inputFormat(of: path)).map { "\($0)" } ?? "?"
        }
        if let idField { o["id field"] = idField }
        let weights = folder.appendingPathComponent("model.safetensors").path
        if let size = (try? FileManager.default.attributesOfItem(atPath: weights))?[.size] as? Int { o["model bytes"] = "\(size)" }
        return o
    }
}

/// A refusal to resume: the partial files are kept so the user can fix the options and retry.
struct ResumeRefused: Error, CustomStringConvertible {
    let description: String
}

/// One run of a ``FileEmbeddingJob``: read records in chunks, embed, write, checkpoint.
private final class JobRun {
    let job: FileEmbeddingJob
    let encoder: SentenceEncoder
    let progress: (FileEmbeddingProgress) throws -> Void
    let warning: (String) -> Void
    /// The job's encoding options, resolved once for the model.
    let prepared: PreparedEncoding
    let destination: URL?
    let errorsDestination: URL?
    let checkpointURL: URL?
    let file: String

    init(job: FileEmbeddingJob, encoder: SentenceEncoder, progress: @escaping (FileEmbeddingProgress) throws -> Void,
         warning: @escaping (String) -> Void) throws {
        self.job = job
        self.encoder = encoder
        self.progress = progress
        self.warning = warning
        let prepared = try encoder.prepare(job.options)
        self.prepared = prepared
        destination = job.destination
        errorsDestination = job.errorsDestination
        checkpointURL = destination.map(Checkpoint.url)
        file = job.input.map { $0 == "-" ? "<stdin>" : $0 } ?? "argument"
        let ranges = try job.calibration.map { try job.calibrationRanges($0, encoder: encoder, dimension: prepared.dimension) }
        self.ranges = ranges
        // int8/uint8 of in-memory texts without a calibration set: ranges from all of them, so
        // they are embedded as one chunk (validate() refuses this for a streamed input file).
        let rangesFromTexts = job.precision?.needsRanges == true && ranges == nil
        if rangesFromTexts, job.texts.count == 1, let p = job.precision {
            // _get_quantization_ranges refuses one embedding too: every range would be zero-wide.
            throw FileEmbeddingError("\(p.rawValue) ranges cannot come from a single text; give two or more texts, or a calibration set (--calibration FILE)")
        }
        batchSize = rangesFromTexts ? max(1, job.texts.count) : job.batchSize
    }

    /// The int8/uint8 ranges from the calibration set, fixed before the first row is written.
    let ranges: QuantizationRanges?
    /// Records per chunk: the job's, or every text when they are their own calibration.
    let batchSize: Int

    private var writer: EmbeddingWriter!
    private var errorsFile: StagedFile?
    private var stats = FileEmbeddingSummary()
    private var totals = (rows: 0, tokens: 0, truncated: 0, skipped: 0, split: 0)
    private var total: Int?
    /// Records before this run's range (a shard's start), so progress counts from 0.
    private var progressBase = 0

    /// Records from the input, or the texts as records.
    private func makeReader() throws -> (next: () throws -> RawRecord?, reader: RecordReader?) {
        if let path = job.input {
            let reader = try openReader(path)
            return ({ try reader.next() }, reader)
        }
        var iterator = job.texts.enumerated().makeIterator()
        return ({
            guard let (i, t) = iterator.next() else { return nil }
            return RawRecord(index: i, line: i + 1, bytes: Array(t.utf8))
        }, nil)
    }

    private func openReader(_ path: String) throws -> RecordReader {
        let format = try job.inputFormat(of: path)
        return try RecordReader(source: openByteSource(path: path, gzip: format.gzip), file: file, format: format,
                                idField: job.idField, maxRecordBytes: job.maxRecordBytes)
    }

    func run() throws -> FileEmbeddingSummary {
        // Resume: check the checkpoint before touching any file.
        var checkpoint: Checkpoint? = nil
        if let checkpointURL {
            if job.resume {
                checkpoint = try Checkpoint.load(from: checkpointURL)
                if let c = checkpoint {
                    let now = job.checkpointOptions(model: encoder.folder, ranges: ranges)
                    let changed = Set(c.options.keys).union(now.keys).sorted().filter { c.options[$0] != now[$0] }
                    guard changed.isEmpty else {
                        throw ResumeRefused(description: "cannot resume \(destination!.path): options changed since the interrupted run (" +
                            changed.map { "\($0): \(c.options[$0] ?? "none") then, \(now[$0] ?? "none") now" }.joined(separator: "; ") +
                            "); use the same options, or run without --resume to start over")
                    }
                } else {
                    warning("note: no checkpoint beside \(destination!.path); starting from the beginning")
                }
            } else {
                Checkpoint.remove(at: checkpointURL)
            }
        }
        writer = try EmbeddingWriter(
            destination: destination, layout: try job.layout(),
            encoding: RowEncoding(dtype: job.dtype, precision: job.precision, ranges: ranges), dimension: prepared.dimension,
            resume: checkpoint.map { ($0.outputBytes, $0.rows) })
        do {
            if let errorsDestination { errorsFile = try StagedFile(destination: errorsDestination, resumeAt: checkpoint?.errorsBytes) }
            if let c = checkpoint {
                totals = (c.rows, c.tokens, c.truncated, c.skipped, c.split)
                stats.resumedAfter = c.records
            }
            try stream(checkpoint: checkpoint)
            if let errorsFile { try errorsFile.sync() }
            // Order: errors file in place, checkpoint gone, then the output: a kill anywhere
            // leaves either a resumable partial or a complete output, never a stale checkpoint
            // pointing at a renamed file.
            if let errorsFile { try errorsFile.commit() }
            if let checkpointURL { Checkpoint.remove(at: checkpointURL) }
            try writer.finish()
        } catch let kept as ResumeRefused {
            throw kept
        } catch let kept as CancellationError {
            // Stopped on purpose after a checkpoint: keep what a resume needs.
            throw kept
        } catch {
            writer.abandon()
            errorsFile?.discard()
            if let checkpointURL { Checkpoint.remove(at: checkpointURL) }
            throw error
        }
        stats.errorsFile = errorsFile.map { _ in errorsDestination! }
        return stats
    }

    private func stream(checkpoint: Checkpoint?) throws {
        let batchSize = self.batchSize
        let (next, reader) = try makeReader()

        var range = 0..<Int.max
        total = job.input == nil ? job.texts.count : nil
        if let shard = job.shard {
            range = shard.range(records: try countRecords(), batchSize: batchSize)
            total = range.count
        } else if job.countTotal, let path = job.input, path != "-" {
            total = try countRecords()
        }
        progressBase = range.lowerBound

        let resumeAt = checkpoint?.records ?? 0
        let skipUntil = max(range.lowerBound, resumeAt)
        var verified = resumeAt == 0
        let streaming = destination == nil
        var chunk: [RawRecord] = []
        chunk.reserveCapacity(min(batchSize, 1 << 16))
        let start = ContinuousClock.now
        defer { stats.seconds = (ContinuousClock.now - start).seconds }

        while true {
            // A stream stage embeds what it has rather than wait for a slow producer.
            if streaming, !chunk.isEmpty, let reader, !reader.hasRecordReady {
                try process(&chunk, recordsRead: chunk.last!.index + 1, reader: reader)
            }
            guard let raw = try next() else { break }
            if raw.index < skipUntil {
                if raw.index == resumeAt - 1, let reader, let c = checkpoint {
                    guard reader.consumedBytes == c.inputBytes, hex(reader.hash) == c.inputHash else {
                        throw ResumeRefused(description: "\(file): the first \(c.records) records differ from those the interrupted run read (\(reader.consumedBytes) bytes, hash \(hex(reader.hash)); the checkpoint has \(c.inputBytes) bytes, hash \(c.inputHash)); run without --resume to start over")
                    }
                    verified = true
                }
                continue
            }
            guard raw.index < range.upperBound else { break }
            chunk.append(raw)
            // File outputs cut chunks at multiples of the batch size from the start of the input,
            // so a resumed run or a shard embeds exactly the chunks a single run embeds.
            if streaming ? chunk.count >= batchSize : (raw.index + 1) % batchSize == 0 {
                try process(&chunk, recordsRead: raw.index + 1, reader: reader)
            }
        }
        guard verified else {
            throw ResumeRefused(description: "\(file): the input has fewer records than the \(resumeAt) the interrupted run had read; run without --resume to start over")
        }
        if !chunk.isEmpty { try process(&chunk, recordsRead: chunk.last!.index + 1, reader: reader) }
    }

    /// Records of the input (a pass that frames without parsing), for a shard and the progress total.
    private func countRecords() throws -> Int {
        guard let path = job.input else { return job.texts.count }
        let reader = try openReader(path)
        var n = 0
        while try reader.next() != nil { n += 1 }
        return n
    }

    /// Embeds and writes one chunk, then saves the checkpoint.
    private func process(_ chunk: inout [RawRecord], recordsRead: Int, reader: RecordReader?) throws {
        let parse: (RawRecord) -> ParsedRecord = reader.map { r in { r.parse($0) } } ?? { .text(String(decoding: $0.bytes, as: UTF8.self), id: nil) }
        var inputs: [TokenizedInput] = []
        var rows: [RowInfo] = []
        var errors: [UInt8] = []
        inputs.reserveCapacity(chunk.count)
        rows.reserveCapacity(chunk.count)

        func bad(_ raw: RawRecord, _ message: String) throws {
            guard job.onError == .skip else { throw TextInputError(file: file, line: raw.line, message: message) }
            totals.skipped += 1
            stats.skipped += 1
            if errorsFile != nil {
                errors += Array("{\"line\":\(raw.line),\"index\":\(raw.index),\"error\":\(JSONWriter.quoted(message))}\n".utf8)
            } else {
                warning("warning: \(file):\(raw.line): \(message) (skipped)")
            }
        }

        for raw in chunk {
            switch parse(raw) {
            case .bad(let message):
                try bad(raw, message)
            case .text(let text, let id):
                switch Result(catching: { () throws(SentenceEmbeddingsError) in try encoder.tokenize(.text(text), prepared: prepared) }) {
                case .success(let input):
                    inputs.append(input)
                    rows.append(RowInfo(index: raw.index, id: id))
                case .failure(.inputTooLong(_, let tokens, let limit)):
                    try bad(raw, "text has \(tokens) tokens, more than the model's \(limit)")
                case .failure(let error):
                    throw error
                }
            }
        }
        chunk.removeAll(keepingCapacity: true)

        let embeddings = try encoder.embed(EmbeddingRequest(inputs: inputs, prepared: prepared))
        try writer.append(embeddings, rows: rows)
        if !errors.isEmpty { try errorsFile?.write(errors) }
        let tokens = embeddings.tokenCounts.reduce(0, +)
        stats.texts += embeddings.count
        stats.tokens += tokens
        stats.truncated += embeddings.truncatedCount
        stats.split += embeddings.chunkedCount
        totals.rows += embeddings.count
        totals.tokens += tokens
        totals.truncated += embeddings.truncatedCount
        totals.split += embeddings.chunkedCount

        if let checkpointURL, let reader {
            try writer.sync()
            try errorsFile?.sync()
            try Checkpoint(
                options: job.checkpointOptions(model: encoder.folder, ranges: ranges), records: recordsRead, rows: writer.rows, outputBytes: writer.size,
                errorsBytes: errorsFile?.size ?? 0, inputBytes: reader.consumedBytes, inputHash: hex(reader.hash),
                tokens: totals.tokens, truncated: totals.truncated, skipped: totals.skipped, split: totals.split
            ).save(to: checkpointURL)
        }
        try progress(FileEmbeddingProgress(done: recordsRead - progressBase, total: total, fresh: stats.texts + stats.skipped, tokens: stats.tokens))
    }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
