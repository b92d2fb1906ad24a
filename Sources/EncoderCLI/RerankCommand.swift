import ArgumentParser
import Foundation
import SentenceEmbeddings

struct RerankCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "rerank",
        abstract: "Score documents against a query with a cross-encoder (sentence-transformers' CrossEncoder.predict).",
        discussion: """
            MODEL is a sequence-classification checkpoint (BertForSequenceClassification, \
            XLMRobertaForSequenceClassification, ...), as CrossEncoder.save writes it or as older \
            cross-encoders were published. Each (query, document) pair is one sequence of the \
            tokenizer's pair template, truncated longest-first to the model's max length. Prints one \
            JSON array of scores in the documents' order (an array per document for a model with \
            several labels); with --sorted or --top-k, {"index":..,"score":..} objects best first.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOption

    @Option(help: "The query every document is scored against.")
    var query: String

    @Argument(help: "Documents to score (or use --input).")
    var documents: [String] = []

    @OptionGroup var input: InputOptions

    @Option(name: .customLong("top-k"), help: "Print only the N best documents, best first, as {\"index\":..,\"score\":..} objects.")
    var topK: Int?

    @Flag(help: "Print every document as {\"index\":..,\"score\":..}, best first.")
    var sorted = false

    @Flag(help: "Print the logits, without the activation the model names (Sigmoid by default for one label).")
    var rawScores = false

    @Flag(name: .shortAndLong, help: "Do not print the summary line on stderr (printed with --input).")
    var quiet = false

    func validate() throws {
        guard documents.isEmpty != (input.input == nil) else {
            throw ValidationError(documents.isEmpty ? "give documents to score as arguments or with --input FILE" : "give documents as arguments or with --input, not both")
        }
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1, found \(topK)") }
    }

    func execute() throws {
        let loadStart = ContinuousClock.now
        let reranker = try model.loadReranker(options: precision.options())
        let loaded = ContinuousClock.now - loadStart
        let documents = input.input == nil ? self.documents : try input.readTexts()
        guard !documents.isEmpty else { throw CLIError("\(input.input ?? "input"): no documents to score") }
        let start = ContinuousClock.now
        let scores = try reranker.score(query: query, documents: documents, rawScores: rawScores)
        let seconds = (ContinuousClock.now - start).seconds
        if !quiet && input.input != nil {
            // The same summary `run` prints, in pairs (Scripts/bench reads it).
            let tokens = scores.tokenCounts.reduce(0, +)
            Stderr.write(String(
                format: "reranked %d pairs (%d tokens, %d truncated) in %.2f s: %.1f pairs/s, %.0f tokens/s (model loaded in %.2f s)\n",
                scores.count, tokens, scores.truncatedCount, seconds, Double(scores.count) / max(seconds, 1e-9),
                Double(tokens) / max(seconds, 1e-9), loaded.seconds))
        }
        if let bad = scores.values.first(where: { !$0.isFinite }) {
            throw CLIError("the model produced a non-finite score (\(bad)); the checkpoint's weights may be corrupt")
        }
        if sorted || topK != nil {
            guard reranker.numLabels == 1 else {
                throw CLIError("\(model.model): the model has \(reranker.numLabels) labels, so there is no single score to sort by; leave out --sorted and --top-k to print every label's score")
            }
            let ranked = scores.ranked(topK: topK).map { "{\"index\":\($0.index),\"score\":\($0.score.description)}" }
            print("[" + ranked.joined(separator: ",") + "]")
        } else if reranker.numLabels == 1 {
            print("[" + scores.values.map(\.description).joined(separator: ",") + "]")
        } else {
            let rows = (0..<scores.count).map { "[" + scores[$0].map(\.description).joined(separator: ",") + "]" }
            print("[" + rows.joined(separator: ",") + "]")
        }
    }
}
