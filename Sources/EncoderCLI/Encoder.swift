import ArgumentParser

/// The `encoder` command: thin subcommands over the SentenceEmbeddings library.
@main
struct Encoder: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoder",
        abstract: "Sentence embeddings from BERT-family checkpoints, with the numbers sentence-transformers gives.",
        subcommands: [
            RunCommand.self,
            InspectCommand.self,
            TokenizeCommand.self,
            SimilarityCommand.self,
            RerankCommand.self,
            EvalSTSCommand.self,
            BenchTokenizerCommand.self,
            ServeCommand.self,
        ]
    )

    static func main() {
        MemoryPolicy.keepLargeBlocksMapped()
        main(nil)
    }
}
