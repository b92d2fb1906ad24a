import ArgumentParser
import SentenceEmbeddings

struct SimilarityCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "similarity",
        abstract: "Print the cosine similarity of the first text to each of the others.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOption

    @Argument(help: "Two or more texts; the first is compared with each of the rest.")
    var texts: [String]

    @OptionGroup var encoding: EncodingFlags

    func validate() throws {
        guard texts.count >= 2 else { throw ValidationError("give at least two texts: the first is compared with each of the others") }
    }

    func execute() throws {
        let encoder = try model.load(options: precision.options())
        let embeddings = try encoder.embed(texts, options: encoding.options)
        for i in 1..<texts.count {
            let score = cosineSimilarity(embeddings[0], embeddings[i])
            print("\(String(format: "%.4f", score))\t\(texts[i])")
        }
    }
}
