import TransformerEncoder
import Foundation
import Testing
import TestSupport

/// all-MiniLM-L6-v2 against transformers' EncoderModel (goldens from Scripts/generate-bert-goldens.py).
@Suite struct PyTorchParityTests {
    struct Manifest: Decodable {
        struct Sequence: Decodable {
            let text: String
            let ids: [Int32]
            let type_ids: [Int32]
            let first_row: Int
            let rows: Int
        }
        let shape: [Int]
        let values_file: String
        let sequences: [Sequence]
    }

    static let modelDir = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Models/all-MiniLM-L6-v2")

    @Test func lastHiddenStateMatchesPyTorch() throws {
        let weightsURL = Self.modelDir.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            Issue.record("\(weightsURL.path) is missing: run Scripts/fetch-model to download all-MiniLM-L6-v2")
            return
        }
        let goldens = try #require(Bundle.module.url(forResource: "Goldens", withExtension: nil))
        let manifest = try JSONDecoder().decode(
            Manifest.self, from: Data(contentsOf: goldens.appendingPathComponent("minilm-last-hidden-state.json")))
        let raw = try Data(contentsOf: goldens.appendingPathComponent(manifest.values_file))
        let hidden = manifest.shape[1]
        let expected: [Float] = raw.withUnsafeBytes { b in
            (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        #expect(expected.count == manifest.shape[0] * hidden)

        let config = try EncoderConfig.load(from: Self.modelDir.appendingPathComponent("config.json"))
        let model = try EncoderModel(config: config, weights: MiniSafeTensors(url: weightsURL))
        #expect(model.unexpectedTensors == ["embeddings.position_ids", "pooler.dense.bias", "pooler.dense.weight"]
            || model.unexpectedTensors == ["pooler.dense.bias", "pooler.dense.weight"])

        // All sequences in one packed batch (the golden ran each alone).
        let batch = manifest.sequences.map { TokenSequence(ids: $0.ids, typeIds: $0.type_ids) }
        let out = try model.forward(batch)
        #expect(out.sequenceRanges == manifest.sequences.map { $0.first_row..<($0.first_row + $0.rows) })
        var worstCosine = 1.0
        var worstDiff: Float = 0
        for t in 0..<manifest.shape[0] {
            let row = (t * hidden)..<((t + 1) * hidden)
            let cos = cosine(out.values[row], expected[row])
            worstCosine = min(worstCosine, cos)
            worstDiff = max(worstDiff, maxAbsDiff(out.values[row], expected[row]))
            #expect(cos >= 0.99999, "token row \(t): cosine \(cos)")
        }
        print("PyTorch parity over \(manifest.shape[0]) tokens: min cosine \(worstCosine), max abs diff \(worstDiff)")
    }
}
