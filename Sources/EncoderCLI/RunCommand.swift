import ArgumentParser
import Foundation
import SentenceEmbeddings
import StrictJSON
import Tokenization

/// What to do with a text longer than the model's maximum sequence length.
enum LongInputPolicy: String, CaseIterable, ExpressibleByArgument {
    /// Cut at the maximum length, as sentence-transformers does (counted as truncated).
    case truncate
    /// Embed overlapping windows and average them, weighted by token count.
    case chunk
    /// Stop (or skip, with --on-error skip) with `FILE:LINE: text has N tokens, more than the model's M`.
    case error

    /// The library's policy, windows sharing `overlap` tokens.
    func policy(overlap: Int) -> TruncationPolicy {
        switch self {
        case .truncate: .truncate
        case .chunk: .chunk(overlap: overlap)
        case .error: .error
        }
    }
}

/// What to do with a record that cannot be embedded (invalid UTF-8, bad JSON, missing field or column).
enum BadRecordPolicy: String, CaseIterable, ExpressibleByArgument {
    case stop, skip
}

/// `--shard K/N`: the K-th (from 0) of N contiguous parts of the input.
struct Shard: Equatable, CustomStringConvertible {
    var index: Int
    var count: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 0, k < n else { return nil }
        index = k
        count = n
    }

    var description: String { "\(index)/\(count)" }

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

struct RunCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Embed texts: one row per input, in input order.",
        discussion: """
            Texts come from the arguments or from --input (.txt, .jsonl, .csv, .tsv, each optionally \
            .gz; - for stdin). Without --output each embedding is printed as a JSON array on its own \
            line. With --output the format follows the extension (or --output-format): .npy \
            (float32 [N, D], or float16 with --dtype f16), .jsonl ({"index": i, "embedding": [...]} \
            per line, "id" first with --id-field), .tsv or .safetensors (one tensor "embeddings" [N, D]). \
            --output - streams to stdout.

            Input is read, embedded and written in chunks of --batch-size texts, so memory does not \
            grow with the file. A file output appears only when complete; after every chunk a \
            checkpoint is saved beside it, and --resume continues a run that was killed, with \
            byte-identical output. --shard K/N embeds the K-th (from 0) of N contiguous parts \
            (whole chunks of --batch-size records); the N outputs concatenated in order equal a \
            single run's output.
            """)

    @OptionGroup var model: ModelOptions

    @Argument(help: "Texts to embed (or use --input).")
    var texts: [String] = []

    @OptionGroup var input: InputOptions

    @OptionGroup var encoding: EncodingFlags

    @Option(help: "Read --input as this format (txt, jsonl, csv, tsv, optionally .gz), whatever its extension.")
    var inputFormat: String?

    @Option(help: "Quotes in .csv/.tsv: auto (RFC 4180 for .csv, none for .tsv), rfc4180, none.")
    var quoting: TextInput.Quoting = .auto

    @Option(help: "A .jsonl field or .csv/.tsv column (name or 1-based number) to carry to the .jsonl output as \"id\".")
    var idField: String?

    @Option(name: .shortAndLong, help: "Write the embeddings to this file (.npy, .jsonl, .tsv or .safetensors); - for stdout.")
    var output: String?

    @Option(help: "The output format, whatever the extension: npy, jsonl, tsv, safetensors.")
    var outputFormat: OutputFormat?

    @Option(help: "The number type of .npy and .safetensors outputs: f32 or f16.")
    var dtype: OutputDType = .f32

    @Option(help: "Texts read, embedded and written per chunk (and per checkpoint).")
    var batchSize: Int = 4096

    @Option(help: "The most tokens in one forward pass.")
    var batchTokens: Int = SentenceEncoder.Options().maxBatchTokens

    @Option(help: "Threads running forward passes (1 = OpenBLAS's own threading).")
    var threads: Int = SentenceEncoder.Options().threads

    @Option(help: "Texts longer than the model's maximum: truncate (as sentence-transformers), chunk (average overlapping windows), error.")
    var longInputs: LongInputPolicy = .truncate

    @Option(help: "Tokens shared by consecutive windows with --long-inputs chunk.")
    var windowOverlap: Int = 32

    @Option(help: "A bad line (invalid UTF-8, bad JSON, missing field): stop, or skip it and list it in OUTPUT.errors.jsonl.")
    var onError: BadRecordPolicy = .stop

    @Option(help: "The longest input line (or .csv record) in bytes; a longer one stops the run with its line number.")
    var maxLineBytes: Int = RecordReader.defaultMaxRecordBytes

    @Flag(help: "Continue an interrupted run from its last checkpoint (same options and input).")
    var resume = false

    @Option(help: "Embed only part K of N (K from 0): contiguous ranges of whole chunks, for many machines.")
    var shard: String?

    @Flag(name: .shortAndLong, help: "Do not print progress or the summary line on stderr.")
    var quiet = false

    var destination: URL? {
        guard let output, output != "-" else { return nil }
        return URL(fileURLWithPath: output)
    }

    /// The layout rows are written in: bare JSON arrays on stdout unless a format is asked for.
    func layout() throws -> EmbeddingWriter.Layout {
        if let outputFormat { return .file(outputFormat) }
        guard let output else { return .jsonArrays }
        if output == "-" { return .file(.jsonl) }
        return .file(try OutputFormat(path: output))
    }

    func validate() throws {
        guard texts.isEmpty != (input.input == nil) else {
            throw ValidationError(texts.isEmpty ? "give texts to embed as arguments or with --input FILE" : "give texts as arguments or with --input, not both")
        }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard batchTokens >= 1 else { throw ValidationError("--batch-tokens must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard windowOverlap >= 0 else { throw ValidationError("--window-overlap must be 0 or more") }
        guard maxLineBytes >= 1 else { throw ValidationError("--max-line-bytes must be at least 1") }
        if longInputs == .chunk, encoding.promptName != nil || (encoding.prompt.map { !$0.isEmpty } ?? false) {
            throw ValidationError("--long-inputs chunk cannot be combined with --prompt-name or --prompt: a window after the first would hold no prompt")
        }
        let layout: EmbeddingWriter.Layout
        do { layout = try self.layout() } catch { throw ValidationError(String(describing: error)) }
        if case .file(let f) = layout, f.needsSeek, destination == nil {
            throw ValidationError("--output-format \(f.rawValue) needs a file (its header is written last); stream jsonl or tsv to stdout instead")
        }
        if dtype == .f16, layout != .file(.npy), layout != .file(.safetensors) {
            throw ValidationError("--dtype f16 applies to .npy and .safetensors outputs")
        }
        if idField != nil {
            guard layout == .file(.jsonl) else { throw ValidationError("--id-field needs a .jsonl output (ids are written as \"id\")") }
            if let path = input.input, case .lines? = (try? inputFormatOf(path))?.kind {
                throw ValidationError("--id-field needs a .jsonl, .csv or .tsv input (a .txt line has no fields)")
            }
            if input.input == nil { throw ValidationError("--id-field needs --input") }
        }
        if resume && destination == nil { throw ValidationError("--resume needs --output FILE (a stream cannot be resumed)") }
        if let shard {
            guard Shard(shard) != nil else {
                throw ValidationError("--shard must be K/N with 0 <= K < N (K counts from 0), e.g. --shard 0/4; got \"\(shard)\"")
            }
            guard let path = input.input, path != "-" else {
                throw ValidationError("--shard needs --input FILE: records are counted first to cut the input into contiguous parts")
            }
        }
    }

    func inputFormatOf(_ path: String) throws -> TextInput.Format {
        try TextInput.format(of: path, field: input.field, column: input.column, override: inputFormat, quoting: quoting)
    }

    /// What must match for `--resume` to continue a checkpoint's bytes.
    func checkpointOptions(model folder: URL) -> [String: String] {
        var o: [String: String] = [
            "model": folder.standardizedFileURL.path,
            "output format": String(describing: (try? layout()) ?? .jsonArrays),
            "dtype": dtype.rawValue,
            "batch size": "\(batchSize)",
            "batch tokens": "\(batchTokens)",
            "long inputs": longInputs.rawValue,
            "on error": onError.rawValue,
            "shard": shard ?? "none",
        ]
        if longInputs == .chunk { o["window overlap"] = "\(windowOverlap)" }
        if let p = encoding.promptName { o["prompt name"] = p }
        if let p = encoding.prompt { o["prompt"] = p }
        if let d = encoding.dimensions { o["dimensions"] = "\(d)" }
        if encoding.normalize { o["normalize"] = "yes" }
        if let path = input.input {
            o["input"] = URL(fileURLWithPath: path).standardizedFileURL.path
            o["input format"] = (try? inputFormatOf(path)).map { "\($0)" } ?? "?"
        }
        if let idField { o["id field"] = idField }
        let weights = folder.appendingPathComponent("model.safetensors").path
        if let size = (try? FileManager.default.attributesOfItem(atPath: weights))?[.size] as? Int { o["model bytes"] = "\(size)" }
        return o
    }

    func execute() throws {
        let loadStart = ContinuousClock.now
        var options = SentenceEncoder.Options()
        options.maxBatchTokens = batchTokens
        options.threads = threads
        let encoder = try SentenceEncoder(contentsOf: URL(fileURLWithPath: model.model), options: options)
        let loaded = ContinuousClock.now
        for warning in encoder.warnings where !quiet && input.input != nil {
            Stderr.write("warning: \(warning)\n")
        }
        let job = try EmbeddingJob(command: self, encoder: encoder)
        let stats = try job.run()
        if !quiet && input.input != nil {
            var line = String(
                format: "embedded %d texts (%d tokens, %d truncated) in %.2f s: %.1f texts/s, %.0f tokens/s (model loaded in %.2f s)",
                stats.texts, stats.tokens, stats.truncated, stats.seconds,
                Double(stats.texts) / max(stats.seconds, 1e-9), Double(stats.tokens) / max(stats.seconds, 1e-9),
                (loaded - loadStart).seconds)
            if stats.skipped > 0 { line += ", \(stats.skipped) skipped" + (job.errorsDestination.map { " (see \($0.path))" } ?? "") }
            if stats.split > 0 { line += ", \(stats.split) split into windows" }
            if stats.resumedAfter > 0 { line += "; resumed after \(stats.resumedAfter) input records" }
            Stderr.write(line + "\n")
        }
    }
}

/// Counts for the summary line: of this process's work, except `resumedAfter`.
struct RunStats {
    var texts = 0, tokens = 0, truncated = 0, skipped = 0, split = 0
    var seconds = 0.0
    var resumedAfter = 0
}

/// A refusal to resume: the partial files are kept so the user can fix the options and retry.
struct ResumeRefused: Error, CustomStringConvertible {
    let description: String
}

/// One `encoder run`: read records in chunks, embed, write, checkpoint.
final class EmbeddingJob {
    let command: RunCommand
    let encoder: SentenceEncoder
    /// The prompt, dimensions and normalization of --prompt-name/--prompt/--dimensions/--normalize.
    let prepared: PreparedEncoding
    let destination: URL?
    let errorsDestination: URL?
    let checkpointURL: URL?
    let file: String

    init(command: RunCommand, encoder: SentenceEncoder) throws {
        self.command = command
        self.encoder = encoder
        var options = command.encoding.options
        options.truncation = command.longInputs.policy(overlap: command.windowOverlap)
        prepared = try encoder.prepare(options)
        destination = command.destination
        errorsDestination = command.onError == .skip ? destination.map { URL(fileURLWithPath: $0.path + ".errors.jsonl") } : nil
        checkpointURL = destination.map(Checkpoint.url)
        file = command.input.input.map { $0 == "-" ? "<stdin>" : $0 } ?? "argument"
    }

    private var writer: EmbeddingWriter!
    private var errorsFile: StagedFile?
    private var progress: ProgressLine!
    private var stats = RunStats()
    private var totals = (rows: 0, tokens: 0, truncated: 0, skipped: 0, split: 0)

    /// Records from --input, or the argument texts as records.
    private func makeReader() throws -> (next: () throws -> RawRecord?, parse: (RawRecord) -> ParsedRecord, reader: RecordReader?) {
        if let path = command.input.input {
            let format = try command.inputFormatOf(path)
            let reader = try RecordReader(source: openByteSource(path: path, gzip: format.gzip), file: file, format: format, idField: command.idField,
                                      maxRecordBytes: command.maxLineBytes)
            return ({ try reader.next() }, { reader.parse($0) }, reader)
        }
        var iterator = command.texts.enumerated().makeIterator()
        return ({
            guard let (i, t) = iterator.next() else { return nil }
            return RawRecord(index: i, line: i + 1, bytes: Array(t.utf8))
        }, { .text(String(decoding: $0.bytes, as: UTF8.self), id: nil) }, nil)
    }

    func run() throws -> RunStats {
        // Resume: check the checkpoint before touching any file.
        var checkpoint: Checkpoint? = nil
        if let checkpointURL {
            if command.resume {
                checkpoint = try Checkpoint.load(from: checkpointURL)
                if let c = checkpoint {
                    let now = command.checkpointOptions(model: encoder.folder)
                    let changed = Set(c.options.keys).union(now.keys).sorted().filter { c.options[$0] != now[$0] }
                    guard changed.isEmpty else {
                        throw ResumeRefused(description: "cannot resume \(destination!.path): options changed since the interrupted run (" +
                            changed.map { "\($0): \(c.options[$0] ?? "none") then, \(now[$0] ?? "none") now" }.joined(separator: "; ") +
                            "); use the same options, or run without --resume to start over")
                    }
                } else if !command.quiet {
                    Stderr.write("note: no checkpoint beside \(destination!.path); starting from the beginning\n")
                }
            } else {
                Checkpoint.remove(at: checkpointURL)
            }
        }
        writer = try EmbeddingWriter(
            destination: destination, layout: try command.layout(), dtype: command.dtype, dimension: prepared.dimension,
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
        } catch let refused as ResumeRefused {
            progress?.clear()
            throw refused
        } catch {
            progress?.clear()
            writer.abandon()
            errorsFile?.discard()
            if let checkpointURL { Checkpoint.remove(at: checkpointURL) }
            throw error
        }
        progress.clear()
        return stats
    }

    private func stream(checkpoint: Checkpoint?) throws {
        let batchSize = command.batchSize
        let (next, _, reader) = try makeReader()

        var range = 0..<Int.max
        var total: Int? = command.texts.isEmpty ? nil : command.texts.count
        let showProgress = !command.quiet && command.input.input != nil && ProgressLine.stderrIsTerminal
        if let shardText = command.shard, let shard = Shard(shardText) {
            let count = try countRecords()
            range = shard.range(records: count, batchSize: batchSize)
            total = range.count
        } else if showProgress, let path = command.input.input, path != "-" {
            total = try countRecords()
        }
        progress = ProgressLine(enabled: showProgress, total: total)
        progressBase = range.lowerBound == 0 ? 0 : range.lowerBound

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
            // File outputs cut chunks at multiples of --batch-size from the start of the input,
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

    /// Records of the input (a pass that frames without parsing), for --shard and the progress total.
    private func countRecords() throws -> Int {
        guard let path = command.input.input else { return command.texts.count }
        let format = try command.inputFormatOf(path)
        let reader = try RecordReader(source: openByteSource(path: path, gzip: format.gzip), file: file, format: format, idField: command.idField,
                                      maxRecordBytes: command.maxLineBytes)
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
            guard command.onError == .skip else { throw TextInputError(file: file, line: raw.line, message: message) }
            totals.skipped += 1
            stats.skipped += 1
            if errorsFile != nil {
                errors += Array("{\"line\":\(raw.line),\"index\":\(raw.index),\"error\":\(JSONWriter.quoted(message))}\n".utf8)
            } else {
                progress.clear()
                Stderr.write("warning: \(file):\(raw.line): \(message) (skipped)\n")
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
        stats.split += embeddings.chunkedCount
        totals.split += embeddings.chunkedCount
        try writer.append(embeddings, rows: rows)
        if !errors.isEmpty { try errorsFile?.write(errors) }
        let tokens = embeddings.tokenCounts.reduce(0, +)
        stats.texts += embeddings.count
        stats.tokens += tokens
        stats.truncated += embeddings.truncatedCount
        totals.rows += embeddings.count
        totals.tokens += tokens
        totals.truncated += embeddings.truncatedCount

        if let checkpointURL, let reader {
            try writer.sync()
            try errorsFile?.sync()
            let options = command.checkpointOptions(model: encoder.folder)
            try Checkpoint(
                options: options, records: recordsRead, rows: writer.rows, outputBytes: writer.size,
                errorsBytes: errorsFile?.size ?? 0, inputBytes: reader.consumedBytes, inputHash: hex(reader.hash),
                tokens: totals.tokens, truncated: totals.truncated, skipped: totals.skipped, split: totals.split
            ).save(to: checkpointURL)
        }
        progress.update(done: recordsRead - max(0, progressBase), fresh: stats.texts + stats.skipped, tokens: stats.tokens)
    }

    /// Records before this run's range (a shard's start), so progress counts from 0.
    private var progressBase = 0
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
