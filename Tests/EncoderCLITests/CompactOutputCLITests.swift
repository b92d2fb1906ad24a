import Foundation
import SentenceEmbeddings
import Testing

/// `encoder run --output-precision` through the built binary: the rows are the library's
/// `quantize` of the library's vectors, and the refusals name the flag and the fix.
@Suite(.serialized) struct CompactOutputCLITests {
    static let texts = ["A man is playing a guitar.", "A woman slices an onion.", "", "東京は日本の首都です。"]

    func integerRows(_ stdout: String) throws -> [[Int]] {
        try stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [NSNumber]).map(\.intValue)
        }
    }

    @Test func textArgumentsPrintIntegerRows() throws {
        try CLI.requireModel()
        let encoder = try SentenceEncoder(contentsOf: CLI.defaultModel)
        let embeddings = try encoder.embed(Self.texts)
        for precision in OutputPrecision.allCases {
            let result = try CLI.run(["run", "Models/all-MiniLM-L6-v2", "--output-precision", precision.rawValue] + Self.texts)
            #expect(result.status == 0, "\(result.stderr)")
            // Without --calibration, int8/uint8 arguments are their own calibration set.
            let expected = try quantize(embeddings, precision: precision)
            #expect(try integerRows(result.stdout) == (0..<Self.texts.count).map(expected.integers), "\(precision)")
        }
        let one = try CLI.run(["run", "Models/all-MiniLM-L6-v2", "--output-precision", "int8", "only one"])
        #expect(one.status == 1 && one.stdout.isEmpty)
        #expect(one.stderr.contains("int8 ranges cannot come from a single text") && one.stderr.contains("--calibration"), "\(one.stderr)")
    }

    @Test func anInputFileNeedsACalibrationAndThenMatchesTheLibrary() throws {
        try CLI.requireModel()
        let folder = try CLI.temporaryFolder()
        let input = folder.appendingPathComponent("texts.txt")
        try Data((Self.texts.joined(separator: "\n") + "\n").utf8).write(to: input)
        let calibration = folder.appendingPathComponent("calibration.jsonl")
        let calibrationTexts = ["guitars and onions", "a quiet street at night", "numbers 1 2 3"]
        try Data(calibrationTexts.map { #"{"text": "\#($0)"}"# }.joined(separator: "\n").utf8).write(to: calibration)
        let out = folder.appendingPathComponent("out.npy")

        let refused = try CLI.run(["run", "Models/all-MiniLM-L6-v2", "--input", input.path, "--output", out.path, "--output-precision", "uint8"])
        #expect(refused.status != 0 && refused.stderr.contains("--output-precision uint8 with --input needs --calibration FILE"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))

        let result = try CLI.run(["run", "Models/all-MiniLM-L6-v2", "--input", input.path, "--output", out.path,
                                  "--output-precision", "uint8", "--calibration", calibration.path, "--dimensions", "32", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let encoder = try SentenceEncoder(contentsOf: CLI.defaultModel)
        let options = EncodingOptions(dimensions: 32)
        let ranges = try QuantizationRanges(calibration: try encoder.embed(calibrationTexts, options: options))
        let expected = try quantize(try encoder.embed(Self.texts, options: options), precision: .uint8, ranges: ranges)
        let bytes = try [UInt8](Data(contentsOf: out))
        let header = String(decoding: bytes.prefix(128), as: UTF8.self)
        #expect(header.contains("'descr': '|u1'") && header.contains("'shape': (4, 32)"), "\(header)")
        #expect(Array(bytes.dropFirst(128)) == expected.bytes)

        let f16 = try CLI.run(["run", "Models/all-MiniLM-L6-v2", "--input", input.path, "--output", out.path, "--output-precision", "binary", "--dtype", "f16"])
        #expect(f16.status != 0 && f16.stderr.contains("--dtype f16 cannot be combined with --output-precision"), "\(f16.stderr)")
        let stray = try CLI.run(["run", "Models/all-MiniLM-L6-v2", "--output-precision", "binary", "--calibration", calibration.path, "a", "b"])
        #expect(stray.status != 0 && stray.stderr.contains("--calibration applies only to --output-precision int8 or uint8"), "\(stray.stderr)")
        let unknown = try CLI.run(["run", "Models/all-MiniLM-L6-v2", "--output-precision", "int4", "a"])
        #expect(unknown.status != 0 && unknown.stderr.contains("--output-precision"), "\(unknown.stderr)")
    }
}
