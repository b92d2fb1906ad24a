import FileEmbedding
import Foundation
import SentenceEmbeddings
import Testing
import TestSupport

/// The batch engine called from Swift, as an application would: the rows it writes are the
/// library's vectors, progress is reported through the callback, a cancelled job resumes to the
/// same bytes, and shards concatenate to the whole.
@Suite(.serialized) struct FileEmbeddingJobTests {
    static let texts = (0..<11).map { i in "record \(i): " + Array(repeating: "word\(i % 4)", count: 1 + i * 3).joined(separator: " ") }

    /// A folder with `corpus.jsonl` (one `{"id", "text"}` per record).
    func corpus() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("file-embedding-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lines = try Self.texts.enumerated().map { i, t in
            String(decoding: try JSONSerialization.data(withJSONObject: ["id": "r\(i)", "text": t], options: [.sortedKeys]), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("corpus.jsonl"), atomically: true, encoding: .utf8)
        return folder
    }

    /// The rows of a float32 `.npy` written by the job (128-byte header, little-endian).
    func npyRows(_ url: URL, dimension: Int) throws -> [[Float]] {
        let data = try Data(contentsOf: url)
        let header = String(decoding: data.prefix(128), as: UTF8.self)
        #expect(Array(data.prefix(6)) == [0x93] + Array("NUMPY".utf8))
        #expect(header.contains("'shape': (\(Self.texts.count), \(dimension))"), "\(header)")
        let floats = data.dropFirst(128).withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        return stride(from: 0, to: floats.count, by: dimension).map { Array(floats[$0..<($0 + dimension)]) }
    }

    @Test func aJSONLFileBecomesTheLibrarysVectorsWithProgress() throws {
        let encoder = try DefaultModel.load()
        let folder = try corpus()
        defer { try? FileManager.default.removeItem(at: folder) }
        let options = EncodingOptions(dimensions: 64, normalize: true)
        var job = FileEmbeddingJob(input: folder.appendingPathComponent("corpus.jsonl").path, output: folder.appendingPathComponent("vectors.npy").path)
        job.options = options
        job.countTotal = true
        var seen: [FileEmbeddingProgress] = []
        let summary = try job.run(encoder) { seen.append($0) }
        #expect(summary.texts == Self.texts.count && summary.skipped == 0 && summary.resumedAfter == 0)
        #expect(seen.map(\.done) == [Self.texts.count] && seen.last?.total == Self.texts.count)

        let written = try npyRows(folder.appendingPathComponent("vectors.npy"), dimension: 64)
        let library = try encoder.embed(Self.texts, options: options)
        #expect(written == (0..<library.count).map { Array(library[$0]) }, "the job's rows are the library's, bit for bit")
        #expect(summary.tokens == library.tokenCounts.reduce(0, +))
        // Nothing left beside the output: no partial file, no checkpoint.
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(left == ["corpus.jsonl", "vectors.npy"], "\(left)")
    }

    @Test func aCancelledJobResumesToTheSameBytes() throws {
        let encoder = try DefaultModel.load()
        let folder = try corpus()
        defer { try? FileManager.default.removeItem(at: folder) }
        var job = FileEmbeddingJob(input: folder.appendingPathComponent("corpus.jsonl").path, output: folder.appendingPathComponent("whole.jsonl").path)
        job.batchSize = 3
        job.idField = "id"
        var chunks: [Int] = []
        try job.run(encoder) { chunks.append($0.done) }
        #expect(chunks == [3, 6, 9, 11])

        job.output = folder.appendingPathComponent("resumed.jsonl").path
        #expect(throws: CancellationError.self) {
            try job.run(encoder) { p in if p.done >= 6 { throw CancellationError() } }
        }
        #expect(!FileManager.default.fileExists(atPath: job.output!), "no output before the job completes")
        job.resume = true
        var resumed: [Int] = []
        let summary = try job.run(encoder) { resumed.append($0.done) }
        #expect(summary.resumedAfter == 6 && summary.texts == 5 && resumed == [9, 11])
        #expect(try Data(contentsOf: folder.appendingPathComponent("resumed.jsonl")) == Data(contentsOf: folder.appendingPathComponent("whole.jsonl")))

        // Resuming with other options is refused, naming what changed.
        job.output = folder.appendingPathComponent("changed.jsonl").path
        job.resume = false
        #expect(throws: CancellationError.self) { try job.run(encoder) { _ in throw CancellationError() } }
        job.resume = true
        job.options = EncodingOptions(normalize: true)
        do {
            try job.run(encoder)
            Issue.record("a resume with other options ran")
        } catch {
            #expect("\(error)".contains("normalize: none then, yes now"), "\(error)")
        }
    }

    @Test func shardsConcatenateToTheWhole() throws {
        let encoder = try DefaultModel.load()
        let folder = try corpus()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("corpus.jsonl").path
        var whole = FileEmbeddingJob(input: input, output: folder.appendingPathComponent("whole.tsv").path)
        whole.batchSize = 2
        try whole.run(encoder)
        var parts = Data()
        for k in 0..<3 {
            var job = whole
            job.output = folder.appendingPathComponent("part\(k).tsv").path
            job.shard = Shard(index: k, count: 3)
            try job.run(encoder)
            parts += try Data(contentsOf: URL(fileURLWithPath: job.output!))
        }
        #expect(parts == (try Data(contentsOf: folder.appendingPathComponent("whole.tsv"))))
    }

    @Test func settingsThatCannotRunAreRefusedBeforeAnythingIsRead() {
        var job = FileEmbeddingJob(input: "missing.jsonl", output: nil)
        job.outputFormat = .npy
        #expect(throws: FileEmbeddingJob.SettingsProblem.formatNeedsFile(.npy)) { try job.validate() }
        job = FileEmbeddingJob(input: "in.txt", output: "out.jsonl")
        job.idField = "id"
        #expect(throws: FileEmbeddingJob.SettingsProblem.idFieldNeedsFieldedInput) { try job.validate() }
        job = FileEmbeddingJob(input: "-", output: "out.npy")
        job.shard = Shard("1/2")
        #expect(throws: FileEmbeddingJob.SettingsProblem.shardNeedsInputFile) { try job.validate() }
        job = FileEmbeddingJob(texts: ["a"], output: "out.vec")
        #expect(throws: FileEmbeddingJob.SettingsProblem.self) { try job.validate() }
    }
}
