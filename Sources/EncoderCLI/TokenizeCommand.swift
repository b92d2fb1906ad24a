import ArgumentParser
import FileEmbedding
import Foundation
import StrictJSON
import Tokenization

/// `encoder tokenize`: token ids (or strings) of texts, one JSON array per line.
struct TokenizeCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of each text as a JSON array, the special tokens ([CLS] … [SEP], <s> … </s>) included.",
        discussion: """
            Texts come from the arguments, then from --input (one output line per text, in order).
            Nothing is truncated unless --max-length is given.
            """
    )

    @OptionGroup var model: ModelOptions

    @Argument(help: "Texts to tokenize.")
    var texts: [String] = []

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: "Truncate to at most this many tokens, the special tokens ([CLS] … [SEP], <s> … </s>) included (at least 2).")
    var maxLength: Int?

    @Flag(name: .long, help: "Print token strings instead of ids.")
    var tokens = false

    func validate() throws {
        if let m = maxLength, m < 2 {
            throw ValidationError("--max-length must be at least 2 ([CLS] and [SEP]); got \(m)")
        }
        if texts.isEmpty && input.input == nil {
            throw ValidationError("give texts as arguments or a file with --input")
        }
    }

    func execute() throws {
        let tokenizer = try folderTokenizer(model.folder)
        for w in tokenizer.warnings { Stderr.write("warning: \(w)\n") }
        let records = texts.map { TextRecord(text: $0, line: 0) } + (try input.readRecords())
        var out = OutputBuffer()
        for r in records {
            let e = tokenizer.encode(r.text, maxLength: maxLength)
            if tokens {
                out.append("[" + e.tokens.map(JSONWriter.quoted).joined(separator: ",") + "]\n")
            } else {
                out.append("[" + e.ids.map { String($0) }.joined(separator: ",") + "]\n")
            }
        }
        out.flush()
    }
}

/// Buffers stdout writes (one `write` per 64 KiB instead of per line).
struct OutputBuffer {
    private var data = Data()
    mutating func append(_ s: String) {
        data.append(contentsOf: s.utf8)
        if data.count >= 1 << 16 { flush() }
    }
    mutating func flush() {
        FileHandle.standardOutput.write(data)
        data.removeAll(keepingCapacity: true)
    }
}

/// `encoder bench-tokenizer` (hidden): single-threaded tokenizer throughput on a file of texts.
struct BenchTokenizerCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-tokenizer",
        abstract: "Measure single-threaded tokenizer throughput (tokens/s).",
        shouldDisplay: false
    )

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: "Texts (.txt/.jsonl/.csv/.tsv).")
    var input: String

    @Option(name: .long, parsing: .singleValue, help: "Columns of a .csv/.tsv input (repeatable; all are read).")
    var column: [String] = []

    @Option(name: .long, help: "Timed passes over all texts; the best pass is reported.")
    var repeats: Int = 20

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }

    func execute() throws {
        // Load time first (best of 3: a 250k-piece tokenizer.json is 17 MB of JSON to read).
        let clock = ContinuousClock()
        var loadBest = Duration.seconds(1_000_000)
        var loaded: (any Tokenizer)? = nil
        for _ in 0..<3 {
            let d = try clock.measure { loaded = try folderTokenizer(model.folder) }
            loadBest = min(loadBest, d)
        }
        let tokenizer = loaded!
        print("swift load: \(tokenizer.vocabularySize) pieces, best of 3: \(String(format: "%.4f", loadBest.seconds)) s")
        var texts: [String] = []
        for c in column.isEmpty ? [nil] : column.map(Optional.some) {
            texts += try TextInput.read(path: input, format: TextInput.format(of: input, field: nil, column: c)).map(\.text)
        }
        var tokenCount = 0
        for t in texts { tokenCount += tokenizer.encode(t).count }  // warm-up and count
        var best = Duration.seconds(1_000_000)
        for _ in 0..<repeats {
            var sink = 0
            let d = clock.measure {
                for t in texts { sink &+= tokenizer.encode(t).count }
            }
            precondition(sink == tokenCount)
            best = min(best, d)
        }
        let seconds = best.seconds
        print("swift encode: \(texts.count) texts, \(tokenCount) tokens, best of \(repeats): \(String(format: "%.4f", seconds)) s, \(Int(Double(tokenCount) / seconds)) tokens/s")
    }
}

/// The tokenizer of a model folder as sentence-transformers runs it: with `do_lower_case` of
/// sentence_bert_config.json, it lowercases first. A folder with only tokenizer files (no
/// modules.json) has no such setting.
func folderTokenizer(_ folder: URL) throws -> any Tokenizer {
    let tokenizer = try loadTokenizer(folder: folder)
    let sbert = folder.appendingPathComponent("sentence_bert_config.json")
    if FileManager.default.fileExists(atPath: sbert.path),
       let object = try JSONParser.parse(Data(contentsOf: sbert)).objectValue,
       object["do_lower_case"]?.boolValue == true {
        return tokenizer.lowercasingFirst()
    }
    return tokenizer
}
