import FileEmbedding
import Foundation
import SentenceEmbeddings
import Testing
import TestSupport

/// `--output-precision` in the batch engine: every writer stores the library's `quantize` rows,
/// int8/uint8 ranges come from the calibration set (fixed before the first row), shards and
/// resumes agree, and what cannot be done consistently is refused before anything is written.
@Suite(.serialized) struct CompactOutputTests {
    static let texts = FileEmbeddingJobTests.texts
    static let calibrationTexts = ["a calibration sentence", "another one, about guitars", "onions and knives", "東京", ""]

    func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compact-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try (Self.texts.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("corpus.txt"), atomically: true, encoding: .utf8)
        try (Self.calibrationTexts.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("calibration.txt"), atomically: true, encoding: .utf8)
        return folder
    }

    /// A float32 .npy [N, D], as numpy.save writes it.
    func writeNPY(_ values: [Float], rows: Int, columns: Int, to url: URL) throws {
        var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        dict += String(repeating: " ", count: 64 - (10 + dict.utf8.count + 1) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(dict.utf8.count & 0xFF), UInt8(dict.utf8.count >> 8)]
        bytes += Array(dict.utf8)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        try Data(bytes).write(to: url)
    }

    /// The header dictionary and the data bytes of a .npy the job wrote (128-byte header).
    func npy(_ url: URL) throws -> (header: String, data: [UInt8]) {
        let data = [UInt8](try Data(contentsOf: url))
        return (String(decoding: data.prefix(128), as: UTF8.self), Array(data.dropFirst(128)))
    }

    @Test func int8NPYWithACalibrationNPYIsTheLibrarysQuantizeAndShardsConcatenate() throws {
        let encoder = try DefaultModel.load()
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let calibration = try encoder.embed(Self.calibrationTexts)
        let npyPath = dir.appendingPathComponent("calibration.npy")
        try writeNPY(calibration.values, rows: calibration.count, columns: calibration.dimension, to: npyPath)
        let ranges = try QuantizationRanges(calibration: calibration)
        let expected = try quantize(try encoder.embed(Self.texts), precision: .int8, ranges: ranges)

        var job = FileEmbeddingJob(input: dir.appendingPathComponent("corpus.txt").path, output: dir.appendingPathComponent("all.npy").path)
        job.precision = .int8
        job.calibration = npyPath.path
        job.batchSize = 3
        try job.run(encoder)
        let whole = try npy(dir.appendingPathComponent("all.npy"))
        #expect(whole.header.contains("'descr': '|i1'") && whole.header.contains("'shape': (11, 384)"), "\(whole.header)")
        #expect(whole.data == expected.bytes)

        var parts: [UInt8] = []
        for k in 0..<2 {
            job.output = dir.appendingPathComponent("part-\(k).npy").path
            job.shard = Shard(index: k, count: 2)
            try job.run(encoder)
            parts += try npy(URL(fileURLWithPath: job.output!)).data
        }
        #expect(parts == expected.bytes, "shards share the calibration's ranges")

        // A calibration file of texts is embedded with the job's options first.
        job.shard = nil
        job.calibration = dir.appendingPathComponent("calibration.txt").path
        job.output = dir.appendingPathComponent("from-texts.npy").path
        try job.run(encoder)
        #expect(try npy(dir.appendingPathComponent("from-texts.npy")).data == expected.bytes)
    }

    @Test func binaryRowsInEveryFormat() throws {
        let encoder = try DefaultModel.load()
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let options = EncodingOptions(dimensions: 60)  // 60 bits: 8 bytes, the last half padding
        let embeddings = try encoder.embed(Self.texts, options: options)
        var job = FileEmbeddingJob(input: dir.appendingPathComponent("corpus.txt").path, output: nil)
        job.options = options
        job.batchSize = 4

        job.precision = .ubinary
        job.output = dir.appendingPathComponent("bits.safetensors").path
        try job.run(encoder)
        let ubinary = try quantize(embeddings, precision: .ubinary)
        let st = [UInt8](try Data(contentsOf: dir.appendingPathComponent("bits.safetensors")))
        let stHeader = String(decoding: st[8..<128], as: UTF8.self)
        #expect(stHeader.contains("\"dtype\":\"U8\",\"shape\":[11,8],\"data_offsets\":[0,88]"), "\(stHeader)")
        #expect(Array(st.dropFirst(128)) == ubinary.bytes)

        job.precision = .binary
        job.output = dir.appendingPathComponent("bits.jsonl").path
        try job.run(encoder)
        let binary = try quantize(embeddings, precision: .binary)
        let lines = try String(contentsOf: dir.appendingPathComponent("bits.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 11)
        for (i, line) in lines.enumerated() {
            #expect(line == "{\"index\":\(i),\"embedding\":[\(binary.integers(i).map(String.init).joined(separator: ","))]}")
        }

        job.output = dir.appendingPathComponent("bits.tsv").path
        try job.run(encoder)
        let tsv = try String(contentsOf: dir.appendingPathComponent("bits.tsv"), encoding: .utf8).split(separator: "\n")
        #expect(tsv.map(String.init) == (0..<11).map { binary.integers($0).map(String.init).joined(separator: "\t") })
    }

    @Test func textsInMemoryAreTheirOwnCalibrationInOneChunk() throws {
        let encoder = try DefaultModel.load()
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var job = FileEmbeddingJob(texts: Self.texts, output: dir.appendingPathComponent("u8.npy").path)
        job.precision = .uint8
        job.batchSize = 2  // ignored: the ranges need every text before the first row
        try job.run(encoder)
        let expected = try quantize(try encoder.embed(Self.texts), precision: .uint8)
        let written = try npy(dir.appendingPathComponent("u8.npy"))
        #expect(written.header.contains("'descr': '|u1'") && written.data == expected.bytes)

        job.texts = ["just one"]
        do {
            try job.run(encoder)
            Issue.record("uint8 ranges from one text were accepted")
        } catch {
            #expect("\(error)".contains("uint8 ranges cannot come from a single text") && "\(error)".contains("--calibration"), "\(error)")
        }
    }

    @Test func whatCannotBeConsistentIsRefusedFirst() throws {
        var job = FileEmbeddingJob(input: "corpus.txt", output: "out.npy")
        job.precision = .int8
        #expect(throws: FileEmbeddingJob.SettingsProblem.precisionNeedsCalibration(.int8)) { try job.validate() }
        #expect("\(FileEmbeddingJob.SettingsProblem.precisionNeedsCalibration(.int8))".contains("calibration"))
        job.precision = .binary
        try job.validate()
        job.dtype = .f16
        #expect(throws: FileEmbeddingJob.SettingsProblem.dtypeWithPrecision) { try job.validate() }
        job.dtype = .f32
        job.calibration = "cal.npy"
        #expect(throws: FileEmbeddingJob.SettingsProblem.calibrationNeedsRangedPrecision) { try job.validate() }

        let encoder = try DefaultModel.load()
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        job = FileEmbeddingJob(input: dir.appendingPathComponent("corpus.txt").path, output: dir.appendingPathComponent("out.npy").path)
        job.precision = .int8
        let bad = dir.appendingPathComponent("bad.npy")
        try writeNPY([Float](repeating: 0.5, count: 20), rows: 2, columns: 10, to: bad)
        job.calibration = bad.path
        do {
            try job.run(encoder)
            Issue.record("a 10-dimension calibration was accepted for 384-dimension embeddings")
        } catch {
            #expect("\(error)".contains("bad.npy: calibration embeddings have 10 dimensions but this run's have 384"), "\(error)")
        }
        try writeNPY([0.5, .nan], rows: 1, columns: 2, to: bad)
        job.options = EncodingOptions(dimensions: 2)
        #expect(throws: (any Error).self) { try job.run(encoder) }
        try Data([1, 2, 3]).write(to: bad)
        #expect(throws: (any Error).self) { try job.run(encoder) }
        #expect(!FileManager.default.fileExists(atPath: job.output!))
    }

    @Test func aResumeWithOtherRangesIsRefused() throws {
        let encoder = try DefaultModel.load()
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var job = FileEmbeddingJob(input: dir.appendingPathComponent("corpus.txt").path, output: dir.appendingPathComponent("out.jsonl").path)
        job.precision = .int8
        job.calibration = dir.appendingPathComponent("calibration.txt").path
        job.batchSize = 3
        #expect(throws: CancellationError.self) { try job.run(encoder) { p in if p.done >= 3 { throw CancellationError() } } }
        try "something else entirely\nand more\n".write(to: dir.appendingPathComponent("calibration.txt"), atomically: true, encoding: .utf8)
        job.resume = true
        do {
            try job.run(encoder)
            Issue.record("a resume with other quantization ranges was accepted")
        } catch {
            #expect("\(error)".contains("quantization ranges"), "\(error)")
        }
    }
}
