import TestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The bad-input suite: the catalogue of hostile inputs (model files, configs, tokenizer files,
/// input lines; cases numbered 1-104) end to end through the built `encoder` binary where a user
/// can meet them. Every refusal here checks the exit status,
/// that stderr is exactly one `error: ...` line naming the file (and line, tensor) and the
/// problem, and that no output file and no hidden `.partial`/checkpoint is left behind.
///
/// Where each case is tested (S = Tests/SafeTensorsTests, T = Tests/TokenizationTests,
/// B = Tests/TransformerEncoderTests, E = Tests/SentenceEmbeddingsTests, C = Tests/EncoderCLITests,
/// H = Tests/EncoderServerTests; "this file" = BadInputSuiteTests):
///
/// | #      | Input                                   | Library test                                   | Through the CLI                                   |
/// |--------|-----------------------------------------|------------------------------------------------|---------------------------------------------------|
/// | 1-12   | short file, header length, UTF-8, JSON  | S MalformedFileTests.case01...case12           | this file: safetensorsCatalog (shared cases)      |
/// | 13     | dtype the runtime cannot read (F8, C64) | S case13 (validates; floatTensor refuses)      | n/a: refused when a tensor is read (B)            |
/// | 14-25  | offsets, holes, overlap, trailing, shape| S case14...case25                              | this file: safetensorsCatalog (23 incl. [2^32,2^32], 2^64-2) |
/// | 26     | zero-size tensor, scalar                | S case26 (accepted)                            | n/a (accepted, as the reference)                  |
/// | 27-34  | duplicates, __metadata__, names, depth  | S case27...case34                              | this file: safetensorsCatalog (31: "", NUL, 1 MB) |
/// | 35, 36 | misaligned F32, NaN weights             | S case35, case36; H nonFiniteOutputIsA500...   | n/a (accepted by design)                          |
/// | 37     | all-zero weights                        | only a golden test can tell (E ParityTests)    | n/a                                               |
/// | 38     | missing tensor                          | S case38_39, B BertModelTests                  | C BadModelTests.aCheckpointWithoutTheModelsTensors|
/// | 39     | wrong shape                             | S case38_39 (shapeMismatch)                    | not separately: needs a 90 MB rewritten checkpoint|
/// | 40, 41 | extra tensors, mixed dtypes             | E (unusedTensors), S case41                    | n/a (accepted)                                    |
/// | 42     | sharded index                           | n/a: single-file checkpoints only              | n/a                                               |
/// | 43     | file truncated while mapped             | S FileSystemTests.case43_copyMode...           | n/a                                               |
/// | 44-51  | config.json / ST configs                | B EncoderConfigTests, E ConfigTests               | C BadModelTests.badConfigsAreRefusedNamingTheValue|
/// | 52     | tokenizer_config.json missing           | T LoadingTests.withoutAConfig...               | n/a (documented default)                          |
/// | 53     | invalid UTF-8 in vocab                  | T LoadingTests.vocabErrorsNameTheLine          | C BadModelTests.badTokenizerFilesAreRefused       |
/// | 54, 55 | CRLF, BOM in vocab                      | T LoadingTests.vocabTxtWithCRLFAndBOM          | n/a (accepted)                                    |
/// | 56, 57 | duplicate line, no [UNK]                | T LoadingTests.vocabErrorsNameTheLine          | C BadModelTests.badTokenizerFilesAreRefused       |
/// | 58     | no [CLS]/[SEP]/[PAD]                    | T LoadingTests                                 | this file: tokenizerFiles                         |
/// | 59     | vocab larger than the embedding matrix  | -                                              | C BadModelTests (2 extra); this file: hugeVocabularies (10M lines, big tokenizer.json) |
/// | 60     | unknown tokenizer.json component        | T LoadingTests.unsupportedComponentsAreNamed   | C BadModelTests.badTokenizerFilesAreRefused       |
/// | 61     | regex components, huge added_tokens     | T (whitelist: unsupportedComponents)           | this file: hugeVocabularies (size cap)            |
/// | 62     | normalizer disagreeing                  | T LoadingTests (warnings)                      | C RunCommandTests.inspect... (warnings)           |
/// | 63, 64 | stride, max_length < specials           | T StageTests.truncationKeepsSeparator... (64)  | n/a: no stride; tokenizer.json truncation is overridden (warning) |
/// | 65-67  | "", whitespace, NUL/control-only        | T PropertyTests                                | this file: textPolicies (embedded as [CLS][SEP], like sentence-transformers) |
/// | 68     | invalid UTF-8 in a batch file           | T StageTests.byteInputRejectsInvalidUTF8       | this file: textPolicies (line and byte); C BatchRunTests |
/// | 69     | lone surrogate escape in JSON           | StrictJSONTests                                | this file: textPolicies (.jsonl line)             |
/// | 70-78  | NUL, format chars, Unicode parity       | T GoldenParityTests (corpus, every scalar)     | this file: textPolicies (70: NUL joins words)     |
/// | 79     | 101-char word, 1 MB word                | T LongInputTests.hugeWord, wordLimit, overlong | this file: textPolicies (1 MB word)               |
/// | 80     | 1 MB / 10 MB single line                | T tenMegabyteLine, earlyStop...; E aTenMegabyteLine... | this file: resourceLimits (10 MB .txt line) |
/// | 81     | exactly max tokens, max+1               | T LongInputTests.longText                      | this file: textPolicies (256/257, truncate and error) |
/// | 82-95  | HTTP body, batch size, types, 415, ids, dimensions, prompts, 429, 503, drain, timeouts | H ErrorAndLifecycleTests, EmbeddingRoutesTests | n/a: HTTP only |
/// | 96     | NaN output                              | H nonFiniteOutputIsA500NotBrokenJSON           | n/a                                               |
/// | 97     | CRLF, no final newline, blank line      | C RecordReaderTests                            | this file: batchFiles                             |
/// | 98     | NUL bytes, binary file                  | C RecordReaderTests                            | this file: batchFiles                             |
/// | 99     | huge file, unbounded stdin              | C BatchRunTests.stdinToStdout... (streaming)   | this file: resourceLimits (100 MB .jsonl line)    |
/// | 100    | one over-long line among many           | C RecordReaderTests                            | this file: batchFiles (--max-line-bytes)          |
/// | 101    | --batch-size 0, -1, abc, 1e9            | -                                              | this file: arguments; C BatchRunTests             |
/// | 102    | --max-length out of range               | E ConfigTests.maxSequenceLength... (clamped)   | this file: arguments (tokenize --max-length)      |
/// | 103    | output not writable, folder missing     | -                                              | this file: outputs                                |
/// | 104    | model is /dev/zero link, FIFO, folder   | S FileSystemTests.case104_*                    | this file: modelPaths                             |
///
/// Argument errors (101, 102) follow ArgumentParser: exit status 64 and one `Error: ...` line,
/// followed by the usage lines; every other failure is exit status 1 and exactly one line.
@Suite(.serialized) struct BadInputSuiteTests {
    let model = "Models/all-MiniLM-L6-v2"

    /// Files in `folder` that look like output: anything but the listed inputs.
    func leftovers(_ folder: URL, inputs: Set<String>) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !inputs.contains($0) }.sorted()
    }

    /// Checks a failed run: status, one `error:` line containing every word, nothing written.
    func expectRefused(_ r: CLI.Result, _ words: [String], status: Int32 = 1, folder: URL? = nil, inputs: Set<String> = [],
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "exit status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, "stdout: \(r.stdout.prefix(200))", sourceLocation: sourceLocation)
        let errorLines = r.stderrLines.filter { $0.lowercased().hasPrefix("error:") }
        #expect(errorLines.count == 1, "expected one error line:\n\(r.stderr)", sourceLocation: sourceLocation)
        // The model's own load warnings (printed for --input runs) may precede it; nothing else.
        if status == 1 {
            #expect(r.stderrLines.filter { !$0.hasPrefix("warning: ") }.count == 1, "expected only the error line:\n\(r.stderr)", sourceLocation: sourceLocation)
        }
        let line = String(errorLines.first ?? "")
        for word in words {
            #expect(line.contains(word), "\"\(word)\" is not in: \(line.prefix(400))", sourceLocation: sourceLocation)
        }
        if let folder {
            #expect(leftovers(folder, inputs: inputs).isEmpty, "left behind: \(leftovers(folder, inputs: inputs))", sourceLocation: sourceLocation)
        }
    }

    func write(_ bytes: [UInt8], _ name: String, in folder: URL) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// The rows of a .jsonl output.
    func rows(_ url: URL) throws -> [[Float]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try #require(o["embedding"] as? [NSNumber]).map(\.floatValue)
        }
    }

    /// Runs `encoder run` on `lines` (bytes of a .txt or .jsonl file) into a .jsonl output.
    func embed(_ bytes: [UInt8], ext: String = "txt", _ extra: [String] = []) throws -> (CLI.Result, URL, URL) {
        let folder = try CLI.temporaryFolder()
        let input = try write(bytes, "in.\(ext)", in: folder)
        let out = folder.appendingPathComponent("out.jsonl")
        return (try CLI.run(["run", model, "--input", input.path, "--output", out.path] + extra), folder, input)
    }

    // MARK: 4.1 every malformed checkpoint of the shared catalog

    @Test func safetensorsCatalog() throws {
        try CLI.requireModel()
        for c in MalformedSafeTensors.cases {
            let folder = try CLI.modelFolder(replacing: ["model.safetensors": c.bytes])
            let out = try CLI.temporaryFolder()
            let r = try CLI.run(["run", folder.path, "hello", "--output", out.appendingPathComponent("out.npy").path])
            expectRefused(r, [folder.appendingPathComponent("model.safetensors").path] + c.mentions, folder: out)
            if r.status != 1 { Issue.record("case \(c.number) (\(c.what)) was not refused") }
            try? FileManager.default.removeItem(at: folder)
        }
    }

    // MARK: 4.3 tokenizer files

    @Test func tokenizerFiles() throws {
        try CLI.requireModel()
        let vocab = try String(contentsOf: CLI.defaultModel.appendingPathComponent("vocab.txt"), encoding: .utf8)
        for token in ["[CLS]", "[SEP]", "[PAD]"] {
            let folder = try CLI.modelFolder(replacing: ["vocab.txt": Array(vocab.replacingOccurrences(of: token + "\n", with: "[X\(token.dropFirst())\n").utf8), "tokenizer.json": nil])
            expectRefused(try CLI.run(["run", folder.path, "hello"]), ["vocab.txt", token, "not in the vocabulary"])
        }
    }

    /// Resource limit: a vocabulary of 10 million entries is refused by the size of its
    /// file, before it is read; one just under the size cap by its token count.
    @Test func hugeVocabularies() throws {
        try CLI.requireModel()
        let base = try [UInt8](Data(contentsOf: CLI.defaultModel.appendingPathComponent("vocab.txt")))
        // 10,000,000 lines, 99 MB: written here, deleted at the end.
        var big = base
        big.reserveCapacity(100_000_000)
        for i in 0..<(10_000_000 - 30_522) { big += Array("zz\(i)\n".utf8) }
        let folder = try CLI.modelFolder(replacing: ["vocab.txt": big, "tokenizer.json": nil])
        big = []
        defer { try? FileManager.default.removeItem(at: folder) }
        let started = ContinuousClock.now
        let r = try CLI.run(["run", folder.path, "hello"])
        let took = ContinuousClock.now - started
        expectRefused(r, ["config.json", "vocab_size is 30522", "vocab.txt", "bytes", "do not belong to these weights"])
        #expect(took < .seconds(5), "refusing took \(took)")

        // 40,000 short entries fit the size cap but not the matrix: refused by count.
        let more = base + Array((0..<(40_000 - 30_522)).map { "y\($0)\n" }.joined().utf8)
        let counted = try CLI.modelFolder(replacing: ["vocab.txt": more, "tokenizer.json": nil])
        expectRefused(try CLI.run(["run", counted.path, "hello"]), ["vocab_size is 30522", "vocab.txt has 40000 tokens"])

        // A tokenizer.json past the size cap (30,522 x 256 bytes + 1 MiB) is refused before parsing.
        let json = try [UInt8](Data(contentsOf: CLI.defaultModel.appendingPathComponent("tokenizer.json")))
        let padded = Array(json.dropLast(2)) + [UInt8](repeating: 0x20, count: 9_000_000) + Array(json.suffix(2))
        let bigJSON = try CLI.modelFolder(replacing: ["tokenizer.json": padded])
        expectRefused(try CLI.run(["run", bigJSON.path, "hello"]), ["vocab_size is 30522", "tokenizer.json has", "bytes"])
    }

    // MARK: 4.4 input text, as arguments and as batch lines

    @Test func textPolicies() throws {
        try CLI.requireModel()
        // 65-67: empty, whitespace-only and control-only texts embed as [CLS][SEP], as in sentence-transformers.
        let args = try CLI.run(["run", model, "", " \t ", "\u{1}\u{7}"])
        #expect(args.status == 0, "\(args.stderr)")
        let vectors = args.stdout.split(separator: "\n")
        #expect(vectors.count == 3 && vectors[0] == vectors[1] && vectors[1] == vectors[2])

        // 70: NUL inside a line is deleted and the words join, as in the reference.
        let (nul, folder, _) = try embed(Array("hello\u{0}world\nhelloworld\n".utf8))
        #expect(nul.status == 0, "\(nul.stderr)")
        let joined = try rows(folder.appendingPathComponent("out.jsonl"))
        #expect(joined.count == 2 && joined[0] == joined[1])

        // 68: invalid UTF-8 names the line and the byte.
        let (bad, badFolder, badInput) = try embed(Array("ok\n".utf8) + [0x61, 0x62, 0xFF, 0x63, 0x0A])
        expectRefused(bad, ["\(badInput.path):2: invalid UTF-8 at byte 3 of the line"], folder: badFolder, inputs: ["in.txt"])
        // 69: a lone surrogate escape in a .jsonl line.
        let (surrogate, sFolder, sInput) = try embed(Array(#"{"text": "\ud800"}"#.utf8) + [0x0A], ext: "jsonl")
        expectRefused(surrogate, ["\(sInput.path):1: invalid JSON", "surrogate"], folder: sFolder, inputs: ["in.jsonl"])

        // 79: a 1 MB word is one [UNK], like a 101-character word.
        let word = String(repeating: "q", count: 1 << 20)
        let (w, wFolder, _) = try embed(Array((word + "\n" + String(repeating: "q", count: 101) + "\n").utf8))
        #expect(w.status == 0, "\(w.stderr)")
        let unk = try rows(wFolder.appendingPathComponent("out.jsonl"))
        #expect(unk.count == 2 && unk[0] == unk[1])

        // 81: 254 words = 256 tokens with [CLS] and [SEP] fit; 255 words do not.
        let fits = Array(repeating: "hello", count: 254).joined(separator: " ")
        let over = fits + " hello"
        let (t, _, _) = try embed(Array((fits + "\n" + over + "\n").utf8))
        #expect(t.status == 0 && t.stderr.contains("(512 tokens, 1 truncated)"), "\(t.stderr)")
        let (e, eFolder, eInput) = try embed(Array((fits + "\n" + over + "\n").utf8), ["--long-inputs", "error"])
        expectRefused(e, ["\(eInput.path):2: text has 257 tokens, more than the model's 256"], folder: eFolder, inputs: ["in.txt"])
        let (ok, _, _) = try embed(Array((fits + "\n").utf8), ["--long-inputs", "error"])
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    // MARK: 4.5 batch files and arguments

    @Test func batchFiles() throws {
        try CLI.requireModel()
        // 97: CRLF is one separator; a last line without newline counts; a blank line is an empty text.
        let (lf, lfFolder, _) = try embed(Array("first\nsecond\n\nthird".utf8))
        let (crlf, crlfFolder, _) = try embed(Array("first\r\nsecond\r\n\r\nthird\r\n".utf8))
        #expect(lf.status == 0 && crlf.status == 0, "\(lf.stderr) \(crlf.stderr)")
        #expect(try Data(contentsOf: lfFolder.appendingPathComponent("out.jsonl")) == Data(contentsOf: crlfFolder.appendingPathComponent("out.jsonl")))
        #expect(try rows(lfFolder.appendingPathComponent("out.jsonl")).count == 4)

        // 98: a binary file is refused at its first line that is not UTF-8.
        let binary = try [UInt8](Data(contentsOf: CLI.executable)).prefix(1 << 16)
        let (b, bFolder, bInput) = try embed(Array(binary))
        expectRefused(b, ["\(bInput.path):1: invalid UTF-8 at byte"], folder: bFolder, inputs: ["in.txt"])
        // NUL bytes in a .jsonl line are not JSON (control characters must be escaped).
        let (n, nFolder, nInput) = try embed(Array("{\"text\": \"a".utf8) + [0] + Array("b\"}\n".utf8), ext: "jsonl")
        expectRefused(n, ["\(nInput.path):1: invalid JSON"], folder: nFolder, inputs: ["in.jsonl"])

        // 100: one over-long line among short ones stops the run naming it, with the flag to raise.
        let long = String(repeating: "x ", count: 1000)
        let lines = Array("a\nb\n\(long)\nc\n".utf8)
        let (o, oFolder, oInput) = try embed(lines, ["--max-line-bytes", "1000"])
        expectRefused(o, ["\(oInput.path):3: line longer than 1000 bytes", "--max-line-bytes"], folder: oFolder, inputs: ["in.txt"])
        let (raised, _, _) = try embed(lines, ["--max-line-bytes", "2000"])
        #expect(raised.status == 0, "\(raised.stderr)")
    }

    @Test func arguments() throws {
        try CLI.requireModel()
        // 101: ArgumentParser's convention: exit status 64, one "Error:" line naming the option.
        for value in ["0", "-1", "abc", "1e9"] {
            let r = try CLI.run(["run", model, "--input", "x.txt", "--batch-size=\(value)"])
            expectRefused(r, ["--batch-size"], status: 64)
        }
        for option in ["--max-line-bytes=0", "--batch-tokens=0", "--threads=0"] {
            expectRefused(try CLI.run(["run", model, "--input", "x.txt", option]), [String(option.split(separator: "=")[0])], status: 64)
        }
        // A huge but valid batch size allocates nothing up front.
        let huge = try CLI.run(["run", model, "hello", "--batch-size", "1000000000"])
        #expect(huge.status == 0 && huge.stdout.split(separator: "\n").count == 1, "\(huge.stderr)")
        // 102: tokenize --max-length below the two special tokens.
        expectRefused(try CLI.run(["tokenize", model, "hi", "--max-length=1"]), ["--max-length must be at least 2"], status: 64)
    }

    @Test func outputs() throws {
        try CLI.requireModel()
        // 103: a missing folder, and a "folder" that is a file.
        let folder = try CLI.temporaryFolder()
        let missing = folder.appendingPathComponent("no/such/out.npy")
        expectRefused(try CLI.run(["run", model, "hello", "--output", missing.path]), [missing.path, "does the folder exist"], folder: folder)
        let file = try write(Array("x".utf8), "file.txt", in: folder)
        let under = file.appendingPathComponent("out.npy")
        expectRefused(try CLI.run(["run", model, "hello", "--output", under.path]), [under.path, "Not a directory"], folder: folder, inputs: ["file.txt"])
    }

    @Test func modelPaths() throws {
        // 104: a symlink to /dev/zero, a FIFO and a folder named model.safetensors are refused at once.
        let folder = try CLI.temporaryFolder()
        let link = folder.appendingPathComponent("zero.safetensors")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "/dev/zero")
        expectRefused(try CLI.run(["run", link.path, "hello"]), [link.path, "not a regular file"])
        let fifo = folder.appendingPathComponent("fifo.safetensors")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        expectRefused(try CLI.run(["run", fifo.path, "hello"]), [fifo.path, "not a regular file"])
        let weightsFolder = try CLI.temporaryFolder()
        try FileManager.default.createDirectory(at: weightsFolder.appendingPathComponent("model.safetensors"), withIntermediateDirectories: true)
        expectRefused(try CLI.run(["run", weightsFolder.path, "hello"]), ["model.safetensors", "not a regular file"])
    }

    // MARK: resource limits

    /// A 10 MB line of text: truncated to 256 tokens in bounded time. A 100 MB .jsonl line:
    /// refused at the 64 MiB line cap, naming the line, without buffering the rest.
    @Test func resourceLimits() throws {
        try CLI.requireModel()
        let phrase = "the quick brown fox jumps over the lazy dog , "
        let line = String(repeating: phrase, count: 10_000_000 / phrase.utf8.count + 1)
        let prefixWords = Array(repeating: phrase, count: 30).joined()  // 300 tokens, also cut at 256
        var started = ContinuousClock.now
        let (t, tFolder, _) = try embed(Array((line + "\n" + prefixWords + "\n").utf8))
        var took = ContinuousClock.now - started
        #expect(t.status == 0 && t.stderr.contains("(512 tokens, 2 truncated)"), "\(t.stderr)")
        let r = try rows(tFolder.appendingPathComponent("out.jsonl"))
        #expect(r.count == 2 && r[0] == r[1], "the 10 MB line embeds as its first 254 tokens")
        #expect(took < .seconds(10), "took \(took)")
        try? FileManager.default.removeItem(at: tFolder)

        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("in.jsonl")
        _ = FileManager.default.createFile(atPath: input.path, contents: nil)
        let handle = try FileHandle(forWritingTo: input)
        try handle.write(contentsOf: Data("{\"text\": \"short\"}\n{\"text\": \"".utf8))
        let block = Data(repeating: 0x61, count: 1 << 20)
        for _ in 0..<100 { try handle.write(contentsOf: block) }
        try handle.write(contentsOf: Data("\"}\n".utf8))
        try handle.close()
        let out = folder.appendingPathComponent("out.npy")
        started = ContinuousClock.now
        let j = try CLI.run(["run", model, "--input", input.path, "--output", out.path])
        took = ContinuousClock.now - started
        expectRefused(j, ["\(input.path):2: line longer than 67108864 bytes", "--max-line-bytes"], folder: folder, inputs: ["in.jsonl"])
        #expect(took < .seconds(10), "took \(took)")
    }
}
