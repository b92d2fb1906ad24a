import ArgumentParser
import SentenceEmbeddings

/// `--prompt-name`, `--prompt`, `--dimensions`, `--normalize`: the per-call choices of
/// sentence-transformers' `encode` (prompt_name, prompt, truncate_dim, normalize_embeddings).
struct EncodingFlags: ParsableArguments {
    @Option(name: .long, help: "Prepend the model's prompt of this name (config_sentence_transformers.json prompts), e.g. query.")
    var promptName: String?

    @Option(name: .long, help: "Prepend this text to every input, e.g. \"query: \" (\"\" disables the model's default prompt).")
    var prompt: String?

    @Option(name: .long, help: "Keep the first N values of each embedding (Matryoshka truncate_dim), 1 to the model's dimension.")
    var dimensions: Int?

    @Flag(name: .long, help: "Scale each embedding to unit length after truncation (normalize_embeddings).")
    var normalize = false

    func validate() throws {
        if promptName != nil && prompt != nil {
            throw ValidationError("give --prompt-name or --prompt, not both")
        }
        if let dimensions, dimensions < 1 {
            throw ValidationError("--dimensions must be at least 1")
        }
    }

    var options: EncodingOptions {
        EncodingOptions(promptName: promptName, prompt: prompt, dimensions: dimensions, normalize: normalize)
    }
}
