import Foundation
import Testing
import TestSupport

/// `encoder run` on a SparseEncoder (SPLADE) folder, through the built binary.
@Suite struct SparseRunTests {
    struct Line: Decodable { let indices: [Int]; let values: [Float] }

    static func lines(_ stdout: String) throws -> [Line] {
        try stdout.split(separator: "\n").map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
    }

    static let model = SparseFixtures.root.appendingPathComponent("splade_untied_topk").path

    /// Every golden text through --input (JSON Lines, so "" and control characters survive), to a
    /// .jsonl --output: the vectors of SparseEncoder.encode with the model's max_active_dims.
    @Test func inputFileGivesTheGoldenVectors() throws {
        let goldens = try SparseFixtures.goldens("splade_untied_topk").cases[0]
        let folder = try CLI.temporaryFolder()
        let input = folder.appendingPathComponent("texts.jsonl")
        let encoded = try goldens.rows.map { String(decoding: try JSONSerialization.data(withJSONObject: $0.text, options: .fragmentsAllowed), as: UTF8.self) }
        try Data((encoded.joined(separator: "\n") + "\n").utf8).write(to: input)
        let output = folder.appendingPathComponent("sparse.jsonl")
        let result = try CLI.run(["run", Self.model, "--input", input.path, "--output", output.path, "--batch-size", "4"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try Self.lines(String(decoding: try Data(contentsOf: output), as: UTF8.self))
        #expect(rows.count == goldens.rows.count)
        for (i, (ours, golden)) in zip(rows, goldens.rows).enumerated() {
            #expect(ours.indices == golden.indices, "text \(i)")
            #expect(zip(ours.values, golden.values).allSatisfy { abs($0 - $1) <= 1e-4 * $1 + 1e-5 }, "text \(i)")
        }
    }

    /// Texts on the command line go to stdout, one line each, in order.
    @Test func argumentsPrintOneLinePerText() throws {
        let goldens = try SparseFixtures.goldens("splade_untied_topk").cases[0]
        let texts = [goldens.rows[2].text, goldens.rows[3].text]
        let result = try CLI.run(["run", Self.model] + texts)
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try Self.lines(result.stdout)
        #expect(rows.map(\.indices) == [goldens.rows[2].indices, goldens.rows[3].indices])
    }

    /// Outputs that cannot hold sparse vectors are refused, naming the flag.
    @Test func denseOnlyFlagsAreRefusedByName() throws {
        let folder = try CLI.temporaryFolder()
        for (flags, named) in [(["--output", folder.appendingPathComponent("x.npy").path], "--output"),
                               (["--output-format", "tsv", "--output", "-"], "--output-format"),
                               (["--dimensions", "8"], "--dimensions"),
                               (["--long-inputs", "chunk"], "--long-inputs")] {
            let result = try CLI.run(["run", Self.model, "hello"] + flags)
            #expect(result.status == 1, "\(flags)")
            #expect(result.stderr.hasPrefix("error: \(named)"), "\(flags): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.npy").path))
    }
}
