import ArgumentParser
import Foundation
import SentenceEmbeddings

struct RunCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Embed texts: one row per input, in input order.",
        discussion: """
            Texts come from the arguments or from --input. Without --output each embedding is \
            printed as a JSON array on its own line. With --output the format follows the \
            extension: .npy (float32 [N, D], loadable by numpy.load), .jsonl \
            ({"index": i, "embedding": [...]} per line) or .tsv; the file appears only when complete.
            """)

    @OptionGroup var model: ModelOptions

    @Argument(help: "Texts to embed (or use --input).")
    var texts: [String] = []

    @OptionGroup var input: InputOptions

    @Option(name: .shortAndLong, help: "Write the embeddings to this file (.npy, .jsonl or .tsv).")
    var output: String?

    @Option(help: "The most tokens in one forward pass.")
    var batchTokens: Int = SentenceEncoder.Options().maxBatchTokens

    @Option(help: "Threads running forward passes (1 = OpenBLAS's own threading).")
    var threads: Int = SentenceEncoder.Options().threads

    @Flag(name: .shortAndLong, help: "Do not print the summary line on stderr.")
    var quiet = false

    func validate() throws {
        guard texts.isEmpty != (input.input == nil) else {
            throw ValidationError(texts.isEmpty ? "give texts to embed as arguments or with --input FILE" : "give texts as arguments or with --input, not both")
        }
        guard batchTokens >= 1 else { throw ValidationError("--batch-tokens must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        if let output { _ = try OutputFormat(path: output) }
    }

    func execute() throws {
        let loadStart = ContinuousClock.now
        var options = SentenceEncoder.Options()
        options.maxBatchTokens = batchTokens
        options.threads = threads
        let encoder = try SentenceEncoder(contentsOf: URL(fileURLWithPath: model.model), options: options)
        let loaded = ContinuousClock.now
        let texts = input.input == nil ? self.texts : try input.readTexts()
        for warning in encoder.warnings where !quiet && input.input != nil {
            Stderr.write("warning: \(warning)\n")
        }

        let embedStart = ContinuousClock.now
        let embeddings = try encoder.embed(texts)
        let seconds = (ContinuousClock.now - embedStart).seconds

        if let output {
            let writer = try EmbeddingWriter(
                destination: URL(fileURLWithPath: output), format: try OutputFormat(path: output), dimension: encoder.dimension)
            try writer.append(embeddings)
            try writer.finish()
        } else {
            var out = ""
            for i in 0..<embeddings.count {
                out += try jsonArray(embeddings[i])
                out += "\n"
            }
            FileHandle.standardOutput.write(Data(out.utf8))
        }

        if !quiet && input.input != nil {
            let tokens = embeddings.tokenCounts.reduce(0, +)
            Stderr.write(String(
                format: "embedded %d texts (%d tokens, %d truncated) in %.2f s: %.1f texts/s, %.0f tokens/s (model loaded in %.2f s)\n",
                embeddings.count, tokens, embeddings.truncatedCount, seconds,
                Double(embeddings.count) / max(seconds, 1e-9), Double(tokens) / max(seconds, 1e-9),
                (loaded - loadStart).seconds))
        }
    }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
