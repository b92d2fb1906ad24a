import Foundation
import Testing

/// `--prompt-name`, `--prompt`, `--dimensions`, `--normalize` through the built binary, on the
/// tiny fixture checkpoints (goldens from sentence-transformers 6.2).
@Suite(.serialized) struct EncodingFlagsTests {
    static let fixtures = "Tests/SentenceEmbeddingsTests/Fixtures"

    /// The golden embeddings of one case of a fixture, row per text.
    func golden(_ variant: String, _ caseName: String) throws -> (texts: [String], rows: [[Double]]) {
        let url = CLI.repository.appendingPathComponent("\(Self.fixtures)/\(variant)/goldens.json")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let cases = try #require(doc["cases"] as? [[String: Any]])
        let c = try #require(cases.first { $0["name"] as? String == caseName })
        let rows = try #require(c["rows"] as? [[String: Any]])
        return (rows.map { $0["text"] as! String }, rows.map { ($0["embedding"] as! [NSNumber]).map(\.doubleValue) })
    }

    func vectors(_ stdout: String) throws -> [[Double]] {
        try stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [NSNumber]).map(\.doubleValue)
        }
    }

    func cosine(_ a: [Double], _ b: [Double]) -> Double {
        let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        return dot / (a.reduce(0) { $0 + $1 * $1 } * b.reduce(0) { $0 + $1 * $1 }).squareRoot()
    }

    @Test func promptNameAndPromptTextGiveSentenceTransformersVectors() throws {
        let (texts, query) = try golden("prompts_default_query", "query")
        let picked = [texts[2], texts[3]]
        let byName = try CLI.run(["run", "\(Self.fixtures)/prompts_default_query", "--prompt-name", "passage"] + picked)
        #expect(byName.status == 0, "\(byName.stderr)")
        let passage = try golden("prompts_default_query", "passage").rows
        for (ours, want) in zip(try vectors(byName.stdout), [passage[2], passage[3]]) { #expect(cosine(ours, want) >= 0.99999) }

        let byText = try CLI.run(["run", "\(Self.fixtures)/prompts_default_query", "--prompt", "query: "] + picked)
        for (ours, want) in zip(try vectors(byText.stdout), [query[2], query[3]]) { #expect(cosine(ours, want) >= 0.99999) }

        // No flag: the model's default_prompt_name (query) applies.
        let byDefault = try CLI.run(["run", "\(Self.fixtures)/prompts_default_query"] + picked)
        #expect(try vectors(byDefault.stdout) == vectors(byText.stdout))

        // --prompt "" switches the default prompt off.
        let empty = try golden("prompts_default_query", "empty_prompt").rows
        let none = try CLI.run(["run", "\(Self.fixtures)/prompts_default_query", "--prompt", ""] + picked)
        for (ours, want) in zip(try vectors(none.stdout), [empty[2], empty[3]]) { #expect(cosine(ours, want) >= 0.99999) }
    }

    @Test func dimensionsTruncateAfterNormalizeAndNormalizeRenormalizes() throws {
        let (texts, eight) = try golden("matryoshka_truncate16", "truncate_dim_8")
        let r = try CLI.run(["run", "\(Self.fixtures)/matryoshka_truncate16", "--dimensions", "8", texts[2]])
        #expect(r.status == 0, "\(r.stderr)")
        let v = try #require(try vectors(r.stdout).first)
        #expect(v.count == 8)
        #expect(cosine(v, eight[2]) >= 0.99999)
        #expect(abs(v.reduce(0) { $0 + $1 * $1 }.squareRoot() - 1) > 0.01, "truncated after Normalize: not unit length")

        let n = try CLI.run(["run", "\(Self.fixtures)/matryoshka_truncate16", "--normalize", texts[2]])
        let unit = try #require(try vectors(n.stdout).first)
        #expect(unit.count == 16)
        #expect(abs(unit.reduce(0) { $0 + $1 * $1 }.squareRoot() - 1) < 1e-5)
        let sim = try CLI.run(["similarity", "\(Self.fixtures)/matryoshka_truncate16", "--dimensions", "4", "a", "b"])
        #expect(sim.status == 0, "\(sim.stderr)")
    }

    @Test func badChoicesAreOneErrorLine() throws {
        let unknown = try CLI.run(["run", "\(Self.fixtures)/prompts_default_query", "--prompt-name", "question", "x"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "error: prompt name \"question\" is unknown; this model's prompts are: \"document\", \"passage\", \"query\"\n")

        let tooMany = try CLI.run(["similarity", "\(Self.fixtures)/matryoshka_truncate16", "--dimensions", "33", "a", "b"])
        #expect(tooMany.status == 1)
        #expect(tooMany.stderr.contains("choose 1...32"), "\(tooMany.stderr)")

        let both = try CLI.run(["run", "\(Self.fixtures)/prompts_default_query", "--prompt-name", "query", "--prompt", "q: ", "x"])
        #expect(both.status != 0 && both.stderr.contains("not both"), "\(both.stderr)")
        let zero = try CLI.run(["run", "\(Self.fixtures)/prompts_default_query", "--dimensions", "0", "x"])
        #expect(zero.status != 0 && zero.stderr.contains("at least 1"), "\(zero.stderr)")
    }

    @Test func tokenizeLowercasesFirstWhenSentenceBertConfigSaysSo() throws {
        // tok_st_lower_on_cased: a cased tokenizer with do_lower_case true in sentence_bert_config.json.
        let url = CLI.repository.appendingPathComponent("\(Self.fixtures)/tok_st_lower_on_cased/goldens.json")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let rows = try #require((doc["cases"] as? [[String: Any]])?.first?["rows"] as? [[String: Any]])
        let row = try #require(rows.first { ($0["text"] as? String)?.hasPrefix("ΟΔΟΣ") == true })
        let r = try CLI.run(["tokenize", "\(Self.fixtures)/tok_st_lower_on_cased", row["text"] as! String])
        #expect(r.status == 0, "\(r.stderr)")
        let ids = (row["token_ids"] as! [NSNumber]).map { "\($0)" }.joined(separator: ",")
        #expect(r.stdout == "[\(ids)]\n")
    }

    @Test func unsupportedArchitecturesAreRefusedByName() throws {
        for (variant, word) in [("refused_roberta", "roberta"), ("refused_distilbert", "distilbert"), ("refused_relative_key", "relative_key")] {
            let r = try CLI.run(["run", "\(Self.fixtures)/\(variant)", "x"])
            #expect(r.status == 1)
            #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains(word) && r.stdout.isEmpty, "\(r.stderr)")
        }
    }
}
