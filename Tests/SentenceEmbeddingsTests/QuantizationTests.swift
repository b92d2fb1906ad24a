import Foundation
import StrictJSON
import Testing
import TestSupport
@testable import SentenceEmbeddings

/// Compact outputs against sentence-transformers' `quantize_embeddings`, bit for bit
/// (goldens by Scripts/generate-quantization-goldens.py).
@Suite struct QuantizationTests {
    struct Case {
        let name: String
        let dimension: Int
        let embeddings: [Float]
        let calibration: [Float]
        let ranges: (minimums: [Float], maximums: [Float])
        /// precision -> ("self" | "calibrated") -> rows of integers
        let outputs: [String: [String: [[Int]]]]
    }

    static func cases() throws -> [Case] {
        let url = TestPaths.goldens.appendingPathComponent("quantization.json")
        let document = try JSONParser.parse(try Data(contentsOf: url))
        let cases = try #require(document.objectValue?["cases"]?.arrayValue)
        func ints(_ v: JSONValue?) throws -> [[Int]] {
            try #require(v?.arrayValue).map { row in try #require(row.arrayValue).map { try #require($0.numberValue?.exactInt) } }
        }
        func floats(_ v: JSONValue?) throws -> [[Float]] {
            try ints(v).map { $0.map { Float(bitPattern: UInt32($0)) } }
        }
        return try cases.map { c in
            let o = try #require(c.objectValue)
            let ranges = try floats(o["calibration_ranges"])
            var outputs: [String: [String: [[Int]]]] = [:]
            for (precision, value) in try #require(o["outputs"]?.objectValue).members {
                let kinds = try #require(value.objectValue)
                outputs[precision] = ["self": try ints(kinds["self"]), "calibrated": try ints(kinds["calibrated"])]
            }
            return Case(
                name: try #require(o["name"]?.stringValue), dimension: try #require(o["dimension"]?.numberValue?.exactInt),
                embeddings: try floats(o["embeddings"]).flatMap { $0 }, calibration: try floats(o["calibration"]).flatMap { $0 },
                ranges: (ranges[0], ranges[1]), outputs: outputs)
        }
    }

    @Test func everyPrecisionEqualsSentenceTransformersBitForBit() throws {
        let cases = try Self.cases()
        #expect(cases.map(\.name) == ["minilm", "edges", "random"])
        for c in cases {
            let calibration = try QuantizationRanges(calibration: c.calibration, dimension: c.dimension)
            #expect(calibration.minimums.map(\.bitPattern) == c.ranges.minimums.map(\.bitPattern), "\(c.name) ranges")
            #expect(calibration.maximums.map(\.bitPattern) == c.ranges.maximums.map(\.bitPattern), "\(c.name) ranges")
            for precision in OutputPrecision.allCases {
                let golden = try #require(c.outputs[precision.rawValue])
                let alone = try quantize(c.embeddings, dimension: c.dimension, precision: precision)
                let calibrated = try quantize(c.embeddings, dimension: c.dimension, precision: precision, ranges: calibration)
                for (kind, q) in [("self", alone), ("calibrated", calibrated)] {
                    let expected = try #require(golden[kind])
                    #expect(q.count == expected.count)
                    #expect(q.bytesPerRow == expected.first?.count, "\(c.name) \(precision) \(kind)")
                    #expect((0..<q.count).map(q.integers) == expected, "\(c.name) \(precision) \(kind)")
                }
            }
        }
    }

    @Test func binaryPacksTheFirstDimensionIntoTheHighBit() throws {
        // 10 dimensions -> 2 bytes; positives at 0, 7 and 8; 0 and -0 are not positive.
        let v: [Float] = [1, 0, -0.0, -1, 0, 0, 0, 2, 3, 0]
        let q = try quantize(v, dimension: 10, precision: .ubinary)
        #expect(q.bytes == [0b1000_0001, 0b1000_0000])
        #expect(try quantize(v, dimension: 10, precision: .binary).integers(0) == [0b1000_0001 - 128, 0b1000_0000 - 128])
    }

    @Test func refusesWhatCannotBeQuantized() throws {
        let one: [Float] = [0.1, 0.2, 0.3]
        // sentence-transformers refuses int8 ranges from a single embedding; so do we.
        #expect(throws: SentenceEmbeddingsError.self) { try quantize(one, dimension: 3, precision: .int8) }
        #expect(try quantize(one, dimension: 3, precision: .binary).bytes == [0b1110_0000 ^ 0x80])
        let ranges = try QuantizationRanges(minimums: [0, 0], maximums: [1, 1])
        do {
            _ = try quantize(one, dimension: 3, precision: .uint8, ranges: ranges)
            Issue.record("a 2-dimension range for 3-dimension embeddings was accepted")
        } catch {
            #expect(error.description.contains("2 dimensions but the embeddings have 3"))
        }
        #expect(throws: SentenceEmbeddingsError.self) { try quantize([Float.nan, 0, 0], dimension: 3, precision: .binary) }
        #expect(throws: SentenceEmbeddingsError.self) { try QuantizationRanges(calibration: [0, .infinity], dimension: 2) }
        #expect(throws: SentenceEmbeddingsError.self) { try QuantizationRanges(calibration: [], dimension: 2) }
        #expect(throws: SentenceEmbeddingsError.self) { try QuantizationRanges(minimums: [1], maximums: [0]) }
        #expect(throws: SentenceEmbeddingsError.self) { try quantize([1, 2, 3], dimension: 2, precision: .binary) }
        // An empty batch is an empty result, as quantize_embeddings' (0, D) shape.
        #expect(try quantize([], dimension: 3, precision: .int8).count == 0)
        #expect(try quantize([], dimension: 3, precision: .ubinary).bytes.isEmpty)
    }
}
