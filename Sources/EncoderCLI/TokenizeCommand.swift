import ArgumentParser
import Foundation
import Tokenization

/// `encoder tokenize`: token ids (or strings) of texts, one JSON array per line.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of each text as a JSON array, [CLS] and [SEP] included.",
        discussion: """
            Texts come from the arguments, then from --input (one output line per text, in order).
            Nothing is truncated unless --max-length is given.
            """
    )

    @Argument(help: "The model folder, or a file inside it (e.g. model.safetensors).")
    var model: String

    @Argument(help: "Texts to tokenize.")
    var texts: [String] = []

    @Option(name: .long, help: "A file of texts: .txt (one per line), .jsonl (strings or objects), .csv/.tsv (with --column), or - for stdin.")
    var input: String?

    @Option(name: .long, help: "The .jsonl object field holding the text.")
    var field: String = "text"

    @Option(name: .long, help: "The .csv/.tsv column: a 1-based number, or a header name.")
    var column: String?

    @Option(name: .long, help: "Truncate to at most this many tokens, [CLS] and [SEP] included (at least 2).")
    var maxLength: Int?

    @Flag(name: .long, help: "Print token strings instead of ids.")
    var tokens = false

    func validate() throws {
        if let m = maxLength, m < 2 {
            throw ValidationError("--max-length must be at least 2 ([CLS] and [SEP]); got \(m)")
        }
        if texts.isEmpty && input == nil {
            throw ValidationError("give texts as arguments or a file with --input")
        }
    }

    func run() throws {
        do {
            let tokenizer = try BertTokenizer(folder: modelFolder(model))
            for w in tokenizer.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
            var records = texts.map { TextRecord(text: $0, line: 0) }
            if let input {
                let format = try TextInput.format(of: input, field: field, column: column)
                records += try TextInput.read(path: input, format: format)
            }
            var out = OutputBuffer()
            for r in records {
                let e = tokenizer.encode(r.text, maxLength: maxLength)
                if tokens {
                    out.append("[" + e.tokens.map(jsonString).joined(separator: ",") + "]\n")
                } else {
                    out.append("[" + e.ids.map { String($0) }.joined(separator: ",") + "]\n")
                }
            }
            out.flush()
        } catch let error as TokenizationError {
            fail("\(error)")
        } catch let error as TextInputError {
            fail("\(error)")
        }
    }
}

/// The folder of `path`: itself when it is a directory, else the directory holding it.
func modelFolder(_ path: String) -> URL {
    var isDirectory: ObjCBool = false
    let url = URL(fileURLWithPath: path)
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
        return url.deletingLastPathComponent()
    }
    return url
}

/// Prints `error: message` on stderr and exits with status 1.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    Foundation.exit(1)
}

/// A JSON string literal (RFC 8259): `"` `\` and control characters escaped, the rest as UTF-8.
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where u.value < 0x20 || u.value == 0x7F:
            out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
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
struct BenchTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-tokenizer",
        abstract: "Measure single-threaded tokenizer throughput (tokens/s).",
        shouldDisplay: false
    )

    @Argument(help: "The model folder, or a file inside it.")
    var model: String

    @Option(name: .long, help: "Texts (.txt/.jsonl/.csv/.tsv).")
    var input: String

    @Option(name: .long, parsing: .singleValue, help: "Columns of a .csv/.tsv input (repeatable; all are read).")
    var column: [String] = []

    @Option(name: .long, help: "Timed passes over all texts; the best pass is reported.")
    var repeats: Int = 20

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
        do {
            let tokenizer = try BertTokenizer(folder: modelFolder(model))
            var texts: [String] = []
            for c in column.isEmpty ? [nil] : column.map(Optional.some) {
                texts += try TextInput.read(path: input, format: TextInput.format(of: input, field: nil, column: c)).map(\.text)
            }
            var tokenCount = 0
            for t in texts { tokenCount += tokenizer.encode(t).count }  // warm-up and count
            var best = Duration.seconds(1_000_000)
            let clock = ContinuousClock()
            for _ in 0..<repeats {
                var sink = 0
                let d = clock.measure {
                    for t in texts { sink &+= tokenizer.encode(t).count }
                }
                precondition(sink == tokenCount)
                best = min(best, d)
            }
            let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) * 1e-18
            print("swift encode: \(texts.count) texts, \(tokenCount) tokens, best of \(repeats): \(String(format: "%.4f", seconds)) s, \(Int(Double(tokenCount) / seconds)) tokens/s")
        } catch let error as TokenizationError {
            fail("\(error)")
        } catch let error as TextInputError {
            fail("\(error)")
        }
    }
}
