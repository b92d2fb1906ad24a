import ArgumentParser
import FileEmbedding
import Foundation
import SentenceEmbeddings

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

extension BadRecordPolicy: ExpressibleByArgument {}
extension OutputFormat: ExpressibleByArgument {}
extension OutputDType: ExpressibleByArgument {}
extension OutputPrecision: ExpressibleByArgument {}
extension TextInput.Quoting: ExpressibleByArgument {}

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

            --output-precision int8|uint8|binary|ubinary writes compact rows, as sentence-transformers' \
            quantize_embeddings: integers in JSON and .tsv, |i1/|u1 in .npy, I8/U8 in .safetensors; \
            binary and ubinary pack one bit per dimension (set when the value is positive) eight to a \
            byte. int8 and uint8 bucket each dimension within its range over --calibration FILE (a .npy \
            of float32 embeddings, or a file of texts embedded like the input); without it, texts given \
            as arguments are their own calibration (two or more needed), and --input needs --calibration.

            Input is read, embedded and written in chunks of --batch-size texts, so memory does not \
            grow with the file. A file output appears only when complete; after every chunk a \
            checkpoint is saved beside it, and --resume continues a run that was killed, with \
            byte-identical output. --shard K/N embeds the K-th (from 0) of N contiguous parts \
            (whole chunks of --batch-size records); the N outputs concatenated in order equal a \
            single run's output.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOption

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

    @Option(help: "Compact rows instead of floats, as sentence-transformers' quantize_embeddings: int8, uint8, binary, ubinary.")
    var outputPrecision: OutputPrecision?

    @Option(help: "The int8/uint8 calibration set: a .npy of float32 embeddings [N, D], or a file of texts (.txt, .jsonl, .csv, .tsv; read with --field/--column) to embed; the per-dimension min and max are the ranges.")
    var calibration: String?

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
    var maxLineBytes: Int = FileEmbeddingJob.defaultMaxRecordBytes

    @Flag(help: "Continue an interrupted run from its last checkpoint (same options and input).")
    var resume = false

    @Option(help: "Embed only part K of N (K from 0): contiguous ranges of whole chunks, for many machines.")
    var shard: String?

    @Flag(name: .shortAndLong, help: "Do not print progress or the summary line on stderr.")
    var quiet = false

    /// The library's job for these arguments.
    var job: FileEmbeddingJob {
        var job = FileEmbeddingJob(input: input.input, output: output)
        job.texts = texts
        job.field = input.field
        job.column = input.column
        job.inputFormat = inputFormat
        job.quoting = quoting
        job.idField = idField
        job.maxRecordBytes = maxLineBytes
        job.outputFormat = outputFormat
        job.dtype = dtype
        job.precision = outputPrecision
        job.calibration = calibration
        job.batchSize = batchSize
        job.onError = onError
        job.resume = resume
        job.shard = shard.flatMap(Shard.init)
        var options = encoding.options
        options.truncation = longInputs.policy(overlap: windowOverlap)
        job.options = options
        job.countTotal = showsProgress
        return job
    }

    /// A progress line on a terminal, for file inputs.
    var showsProgress: Bool { !quiet && input.input != nil && ProgressLine.stderrIsTerminal }

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
        if let shard, Shard(shard) == nil {
            throw ValidationError("--shard must be K/N with 0 <= K < N (K counts from 0), e.g. --shard 0/4; got \"\(shard)\"")
        }
        // The job's own checks, in the flags' words.
        do { try job.validate() } catch {
            let message: String = switch error {
            case .batchSizeBelowOne: "--batch-size must be at least 1"
            case .maxRecordBytesBelowOne: "--max-line-bytes must be at least 1"
            case .unknownOutputFormat(let message): message
            case .formatNeedsFile(let f): "--output-format \(f.rawValue) needs a file (its header is written last); stream jsonl or tsv to stdout instead"
            case .f16NeedsBinaryOutput: "--dtype f16 applies to .npy and .safetensors outputs"
            case .idFieldNeedsJSONLOutput: "--id-field needs a .jsonl output (ids are written as \"id\")"
            case .idFieldNeedsFieldedInput: "--id-field needs a .jsonl, .csv or .tsv input (a .txt line has no fields)"
            case .idFieldNeedsInputFile: "--id-field needs --input"
            case .resumeNeedsOutputFile: "--resume needs --output FILE (a stream cannot be resumed)"
            case .shardNeedsInputFile: "--shard needs --input FILE: records are counted first to cut the input into contiguous parts"
            case .dtypeWithPrecision: "--dtype f16 cannot be combined with --output-precision, which stores bytes"
            case .calibrationNeedsRangedPrecision: "--calibration applies only to --output-precision int8 or uint8"
            case .precisionNeedsCalibration(let p): "--output-precision \(p.rawValue) with --input needs --calibration FILE (a .npy of embeddings or a file of texts): the output is written chunk by chunk, so the per-dimension ranges must be fixed before the first row and be the same for every chunk, resume and shard"
            }
            throw ValidationError(message)
        }
    }

    func execute() throws {
        if SparseEncoder.describes(folder: model.folder) { return try executeSparse() }
        let loadStart = ContinuousClock.now
        var options = precision.options()
        options.maxBatchTokens = batchTokens
        options.threads = threads
        let encoder = try model.load(options: options)
        let loaded = ContinuousClock.now
        let reports = !quiet && input.input != nil
        for warning in encoder.warnings where reports {
            Stderr.write("warning: \(warning)\n")
        }
        let line = ProgressLine(enabled: showsProgress, total: nil)
        let stats: FileEmbeddingSummary
        do {
            stats = try job.run(encoder, progress: { p in
                line.total = p.total
                line.update(done: p.done, fresh: p.fresh, tokens: p.tokens)
            }, warning: { message in
                guard !quiet || message.hasPrefix("warning:") else { return }
                line.clear()
                Stderr.write(message + "\n")
            })
        } catch {
            line.clear()
            throw error
        }
        line.clear()
        if reports {
            var summary = String(
                format: "embedded %d texts (%d tokens, %d truncated) in %.2f s: %.1f texts/s, %.0f tokens/s (model loaded in %.2f s)",
                stats.texts, stats.tokens, stats.truncated, stats.seconds,
                Double(stats.texts) / max(stats.seconds, 1e-9), Double(stats.tokens) / max(stats.seconds, 1e-9),
                (loaded - loadStart).seconds)
            if stats.skipped > 0 { summary += ", \(stats.skipped) skipped" + (stats.errorsFile.map { " (see \($0.path))" } ?? "") }
            if stats.split > 0 { summary += ", \(stats.split) split into windows" }
            if stats.resumedAfter > 0 { summary += "; resumed after \(stats.resumedAfter) input records" }
            Stderr.write(summary + "\n")
        }
    }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
