import Foundation
import SentenceEmbeddings
import Testing
import TestSupport

/// `encoder run` turns text into vectors only through the library: on the fixture checkpoints
/// with prompts (pooled and not), Matryoshka dimensions, Normalize and Dense modules, every
/// combination of --prompt-name, --prompt, --dimensions, --normalize and --long-inputs prints
/// exactly — bit for bit — what `SentenceEncoder.embed(_:options:)` returns for the same texts
/// and options (and OnePathTests in EncoderServerTests holds the server's routes to the same).
@Suite(.serialized) struct OnePathCLITests {
    static let variants = [
        "prompts_exclude_mean", "prompts_exclude_cls", "prompts_default_query", "matryoshka_truncate16", "mean_normalize", "dense_tanh",
    ]

    /// Each printed line (a JSON array) as floats parsed from their text, not through Double.
    func exactVectors(_ stdout: String) throws -> [[Float]] {
        try stdout.split(separator: "\n").map { line in
            guard line.hasPrefix("["), line.hasSuffix("]") else { throw CLI.Failure("not a JSON array: \(line.prefix(100))") }
            return try line.dropFirst().dropLast().split(separator: ",").map { text in
                guard let value = Float(String(text)) else { throw CLI.Failure("not a number: \(text)") }
                return value
            }
        }
    }

    @Test(arguments: variants)
    func runPrintsTheLibrarysVectors(_ name: String) throws {
        let encoder = try VariantFixtures.encoder(name)
        let goldens = try VariantFixtures.goldens(name)
        let texts = goldens.cases[0].rows.map(\.text)
        var combinations: [(flags: [String], options: EncodingOptions)] = goldens.cases.map { golden in
            let o = golden.options
            var flags: [String] = []
            if let p = o.prompt_name { flags += ["--prompt-name", p] }
            if let p = o.prompt { flags += ["--prompt", p] }
            if let d = o.truncate_dim { flags += ["--dimensions", "\(d)"] }
            if o.normalize_embeddings { flags.append("--normalize") }
            return (flags, o.encodingOptions)
        }
        let half = encoder.fullDimension / 2
        combinations.append((["--dimensions", "\(half)", "--normalize"], EncodingOptions(dimensions: half, normalize: true)))
        // Long inputs: the fixtures' window is 96 tokens and some texts are longer.
        let noPrompt = encoder.sentenceConfig.defaultPromptName == nil ? [String]() : ["--prompt", ""]
        combinations.append((noPrompt + ["--long-inputs", "chunk", "--window-overlap", "8"],
                             EncodingOptions(prompt: noPrompt.isEmpty ? nil : "", truncation: .chunk(overlap: 8))))
        #expect(texts.contains { encoder.tokenizer.encode($0).count > encoder.maxSequenceLength }, "a text longer than the window")

        // Through a file, since an argument cannot hold the NUL one of the texts has.
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("texts.jsonl")
        let lines = try texts.map { String(decoding: try JSONSerialization.data(withJSONObject: ["text": $0]), as: UTF8.self) }
        try (lines.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)
        for (flags, options) in combinations {
            let r = try CLI.run(["run", VariantFixtures.folder(name).path, "--input", input.path, "--quiet"] + flags)
            #expect(r.status == 0, "\(name) \(flags): \(r.stderr)")
            let printed = try exactVectors(r.stdout)
            let library = try encoder.embed(texts, options: options)
            #expect(printed.count == texts.count, "\(name) \(flags)")
            for i in 0..<min(printed.count, library.count) {
                #expect(printed[i] == Array(library[i]), "\(name) \(flags) text \(i): encoder run differs from the library")
            }
        }
    }
}

/// `encoder run ORG/NAME` finds a model another tool downloaded into the Hugging Face cache.
@Suite struct ModelIDCLITests {
    @Test func runFindsAModelIDInTheCacheAndSaysWhereItLookedWhenAbsent() throws {
        let root = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let repo = root.appendingPathComponent("models--org--tiny")
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("snapshots"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("refs"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: repo.appendingPathComponent("snapshots/0123abcd"), withDestinationURL: VariantFixtures.folder("dense_tanh"))
        try "0123abcd".write(to: repo.appendingPathComponent("refs/main"), atomically: true, encoding: .utf8)

        let byID = try CLI.run(["run", "org/tiny", "a man plays a guitar"], environment: ["HF_HUB_CACHE": root.path])
        #expect(byID.status == 0, "\(byID.stderr)")
        let byPath = try CLI.run(["run", VariantFixtures.folder("dense_tanh").path, "a man plays a guitar"])
        #expect(byID.stdout == byPath.stdout && !byID.stdout.isEmpty)

        let absent = try CLI.run(["run", "org/absent", "x"], environment: ["HF_HUB_CACHE": root.path])
        #expect(absent.status == 1)
        #expect(absent.stderrLines.count == 1 && absent.stderr.contains(root.appendingPathComponent("models--org--absent").path), "\(absent.stderr)")
    }
}
