import ArgumentParser
import FileEmbedding

/// `--input FILE` with the options that pick the text out of each record.
struct InputOptions: ParsableArguments {
    @Option(name: .long, help: "A file of texts: .txt (one per line), .jsonl (strings or objects), .csv/.tsv (with --column), or - for stdin.")
    var input: String?

    @Option(name: .long, help: "The .jsonl object field holding the text.")
    var field: String = "text"

    @Option(name: .long, help: "The .csv/.tsv column: a 1-based number, or a header name.")
    var column: String?

    /// The texts of `--input`, in file order.
    func readRecords() throws -> [TextRecord] {
        guard let input else { return [] }
        return try TextInput.read(path: input, format: TextInput.format(of: input, field: field, column: column))
    }

    func readTexts() throws -> [String] { try readRecords().map(\.text) }
}
