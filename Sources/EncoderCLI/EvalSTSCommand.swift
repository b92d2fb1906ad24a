import ArgumentParser
import Foundation
import SentenceEmbeddings

struct EvalSTSCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-sts",
        abstract: "Correlate cosine similarity with the gold scores of an STS benchmark file.",
        discussion: """
            The file is tab-separated, one pair per line: the gold score in column 5, the two \
            sentences in columns 6 and 7 (the layout of the STS benchmark's sts-test.csv). \
            Prints Spearman's and Pearson's correlation, as sentence-transformers' \
            EmbeddingSimilarityEvaluator reports them for cosine similarity.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOption

    @Argument(help: "The STS file (tab-separated: score in column 5, sentences in 6 and 7).")
    var file: String

    func execute() throws {
        let pairs = try Self.readPairs(file)
        let encoder = try model.load(options: precision.options())
        let embeddings = try encoder.embed(pairs.map(\.0) + pairs.map(\.1))
        let n = pairs.count
        let cosines = (0..<n).map { cosineSimilarity(embeddings[$0], embeddings[n + $0]) }
        let gold = pairs.map(\.2)
        print(String(format: "pairs: %d\nspearman: %.5f\npearson: %.5f", n, Correlation.spearman(cosines, gold), Correlation.pearson(cosines, gold)))
    }

    static func readPairs(_ path: String) throws -> [(String, String, Double)] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("\(path): cannot read the file") }
        guard let text = String(validating: data, as: UTF8.self) else { throw CLIError("\(path): not valid UTF-8") }
        var pairs: [(String, String, Double)] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = line.hasSuffix("\r") ? line.dropLast() : line
            if line.isEmpty { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 7 else {
                throw CLIError("\(path):\(number + 1): expected at least 7 tab-separated columns, found \(fields.count)")
            }
            guard let score = Double(fields[4]), score.isFinite else {
                throw CLIError("\(path):\(number + 1): column 5 should be the gold score, found \"\(fields[4])\"")
            }
            pairs.append((String(fields[5]), String(fields[6]), score))
        }
        guard pairs.count >= 2 else { throw CLIError("\(path): needs at least two scored pairs") }
        return pairs
    }
}
