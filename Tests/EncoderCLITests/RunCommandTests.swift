import Foundation
import Testing

/// `encoder run`, `inspect`, `similarity`, `eval-sts` through the built binary.
@Suite(.serialized) struct RunCommandTests {
    func vectors(_ stdout: String) throws -> [[Double]] {
        try stdout.split(separator: "\n").map { line in
            let array = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [NSNumber])
            return array.map(\.doubleValue)
        }
    }

    @Test func runPrintsOne384FloatVectorPerText() throws {
        try CLI.requireModel()
        let result = try CLI.run(["run", "Models/all-MiniLM-L6-v2/model.safetensors", "hello world"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try vectors(result.stdout)
        #expect(rows.count == 1 && rows[0].count == 384)
        let norm = rows[0].reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(norm - 1) < 1e-4, "all-MiniLM-L6-v2 normalizes: norm \(norm)")

        let two = try CLI.run(["run", "Models/all-MiniLM-L6-v2", "hello world", "A second, longer text to embed."])
        let both = try vectors(two.stdout)
        #expect(both.count == 2)
        #expect(zip(both[0], rows[0]).allSatisfy { abs($0 - $1) < 1e-5 }, "row order or batching changed the first vector")
    }

    @Test func runWritesNpyJsonlAndTsvInInputOrder() throws {
        try CLI.requireModel()
        let folder = try CLI.temporaryFolder()
        let input = folder.appendingPathComponent("texts.txt")
        let texts = ["first line", "", "the third line is a bit longer than the others", "fourth"]
        try Data((texts.joined(separator: "\n") + "\n").utf8).write(to: input)
        let reference = try vectors(CLI.run(["run", "Models/all-MiniLM-L6-v2"] + texts).stdout)
        #expect(reference.count == 4)

        let npy = folder.appendingPathComponent("out.npy")
        let r1 = try CLI.run(["run", "Models/all-MiniLM-L6-v2", "--input", input.path, "--output", npy.path])
        #expect(r1.status == 0, "\(r1.stderr)")
        #expect(r1.stderr.contains("embedded 4 texts"), "summary line: \(r1.stderr)")
        let bytes = try [UInt8](Data(contentsOf: npy))
        #expect(Array(bytes[0..<6]) == [0x93] + Array("NUMPY".utf8))
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.contains("'descr': '<f4'") && header.contains("'shape': (4, 384)"), "\(header)")
        #expect(bytes.count == 10 + headerLength + 4 * 384 * 4)
        let values = stride(from: 10 + headerLength, to: bytes.count, by: 4).map { i in
            Double(Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24))
        }
        for row in 0..<4 {
            #expect(zip(values[(row * 384)..<((row + 1) * 384)], reference[row]).allSatisfy { abs($0 - $1) < 1e-5 }, "npy row \(row)")
        }

        let jsonl = folder.appendingPathComponent("out.jsonl")
        #expect(try CLI.run(["run", "Models/all-MiniLM-L6-v2", "--input", input.path, "--output", jsonl.path, "--quiet"]).status == 0)
        let lines = try String(contentsOf: jsonl, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        for (i, line) in lines.enumerated() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect((object["index"] as? NSNumber)?.intValue == i)
            #expect((object["embedding"] as? [NSNumber])?.count == 384)
        }

        let tsv = folder.appendingPathComponent("out.tsv")
        #expect(try CLI.run(["run", "Models/all-MiniLM-L6-v2", "--input", input.path, "--output", tsv.path, "--quiet"]).status == 0)
        let rows = try String(contentsOf: tsv, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").compactMap { Double($0) } }
        #expect(rows.count == 4 && rows.allSatisfy { $0.count == 384 })
        #expect(zip(rows[2], reference[2]).allSatisfy { abs($0 - $1) < 1e-5 })
        // Nothing temporary is left beside the outputs.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }.isEmpty)
    }

    @Test func runReplacesAnExistingOutputFile() throws {
        try CLI.requireModel()
        let output = try CLI.temporaryFolder().appendingPathComponent("out.jsonl")
        try Data("old contents\n".utf8).write(to: output)
        for text in ["first run", "second run"] {
            let result = try CLI.run(["run", "Models/all-MiniLM-L6-v2", text, "--output", output.path, "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("{\"index\":0,"), "\(lines.first ?? "")")
    }

    @Test func inspectSummarisesTheFolderFromEitherPath() throws {
        try CLI.requireModel()
        for path in ["Models/all-MiniLM-L6-v2", "Models/all-MiniLM-L6-v2/model.safetensors"] {
            let result = try CLI.run(["inspect", path])
            #expect(result.status == 0, "\(result.stderr)")
            let out = result.stdout
            #expect(out.contains("6 layers, hidden 384, 12 heads"))
            #expect(out.contains("Dimension       384"))
            #expect(out.contains("Pooling         mean"))
            #expect(out.contains("Normalize       yes"))
            #expect(out.contains("Max sequence    256 tokens: max_seq_length of sentence_bert_config.json"))
            #expect(out.contains("tokenizer.json truncation 128"))
            #expect(out.contains("max_position_embeddings 512"))
            #expect(out.contains("Warnings") && out.contains("tokenizer.json truncates at 128"))
        }
    }

    @Test func similarityRanksTheRelatedSentenceFirst() throws {
        try CLI.requireModel()
        let result = try CLI.run(["similarity", "Models/all-MiniLM-L6-v2", "A man is playing a guitar.", "A man plays the guitar.", "A woman slices an onion."])
        #expect(result.status == 0, "\(result.stderr)")
        let scores = result.stdout.split(separator: "\n").compactMap { Double($0.split(separator: "\t")[0]) }
        #expect(scores.count == 2 && scores[0] > 0.8 && scores[1] < 0.3, "\(result.stdout)")
    }

    @Test func evalSTSReadsTheBenchmarkLayout() throws {
        try CLI.requireModel()
        let file = try CLI.temporaryFolder().appendingPathComponent("sts.tsv")
        let lines = [
            "g\tx\ty\t1\t5.0\tA man is playing a guitar.\tA man plays the guitar.",
            "g\tx\ty\t2\t0.2\tA man is playing a guitar.\tA woman slices an onion.",
            "g\tx\ty\t3\t2.5\tA dog runs in the park.\tA cat sleeps in the park.\textra\tcolumns",
        ]
        try Data(lines.joined(separator: "\n").utf8).write(to: file)
        let result = try CLI.run(["eval-sts", "Models/all-MiniLM-L6-v2", file.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("pairs: 3") && result.stdout.contains("spearman: 1.00000"), "\(result.stdout)")

        try Data("g\tx\ty\t1\tnot-a-score\ta\tb\n".utf8).write(to: file)
        let bad = try CLI.run(["eval-sts", "Models/all-MiniLM-L6-v2", file.path])
        #expect(bad.status == 1 && bad.stderrLines.count == 1 && bad.stderr.hasPrefix("error: \(file.path):1: column 5"), "\(bad.stderr)")
    }
}
