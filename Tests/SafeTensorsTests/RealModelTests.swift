import Foundation
import Testing
@testable import SafeTensors

/// The real all-MiniLM-L6-v2 checkpoint (Models/all-MiniLM-L6-v2, fetched by Scripts/fetch-model).
/// Missing weights fail these tests: nothing is skipped silently.
@Suite struct RealModelTests {
    func open() throws -> SafeTensorsFile {
        try #require(
            FileManager.default.fileExists(atPath: realModelURL.path),
            "\(realModelURL.path) is missing: run Scripts/fetch-model to download all-MiniLM-L6-v2")
        return try SafeTensorsFile(contentsOf: realModelURL)
    }

    @Test func headerOfTheRealCheckpoint() throws {
        let file = try open()
        #expect(file.fileSize == 90_868_376)
        #expect(file.metadata == ["format": "pt"])
        #expect(file.tensors.count == 104)  // 103 F32 weights + the I64 position_ids buffer
        #expect(file.tensors.filter { $0.dtype == .F32 }.count == 103)
        let expected: [(String, [Int])] = [
            ("embeddings.word_embeddings.weight", [30522, 384]),
            ("embeddings.position_embeddings.weight", [512, 384]),
            ("embeddings.token_type_embeddings.weight", [2, 384]),
            ("encoder.layer.0.attention.self.query.weight", [384, 384]),
            ("encoder.layer.5.intermediate.dense.weight", [1536, 384]),
            ("encoder.layer.5.output.dense.weight", [384, 1536]),
            ("pooler.dense.weight", [384, 384]),
        ]
        for (name, shape) in expected {
            let info = try #require(file.info(name), "\(name) missing")
            #expect(info.dtype == .F32 && info.shape == shape, "\(name)")
        }
        #expect(file.info("embeddings.position_ids") == TensorInfo(name: "embeddings.position_ids", dtype: .I64, shape: [1, 512], dataOffsets: 0..<4096))
    }

    /// Values read by the reference reader: safetensors 0.8.0 + numpy 2.4.6,
    /// `load_file(path)["embeddings.word_embeddings.weight"][101, :3]` and `[...LayerNorm.bias][-2:]`, printed with float.hex().
    @Test func valuesMatchTheReferenceReader() throws {
        let file = try open()
        let embeddings = try file.floatTensor("embeddings.word_embeddings.weight", shape: [30522, 384])
        embeddings.withValues { v in
            #expect(Array(v[(101 * 384)..<(101 * 384 + 3)]) == [-0x1.20ad1cp-6, -0x1.f21c10p-8, 0x1.81e37cp-5])
        }
        let bias = try file.floatTensor("encoder.layer.5.output.LayerNorm.bias")
        #expect(Array(bias.array.suffix(2)) == [-0x1.db3e14p-5, 0x1.0ed808p-4])
        let ids = try file.withUnsafeBytes(of: "embeddings.position_ids") { raw in
            (0..<512).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        }
        #expect(ids == (0..<512).map(Int64.init))
        #expect(throws: SafeTensorsError.unsupportedDType(file: realModelURL.path, tensor: "embeddings.position_ids", dtype: .I64)) {
            try file.floatTensor("embeddings.position_ids")
        }
    }

    /// Zero-copy evidence: every F32 tensor is a view whose pointer lies inside the mapping, and taking
    /// all 103 views (without touching the values) costs almost no resident memory, where a copy would
    /// add the ~90 MB of weights.
    @Test func f32TensorsAreViewsIntoTheMapping() throws {
        let before = residentKiB()
        let file = try open()
        #expect(file.isMemoryMapped)
        let region = file.bytes.base..<(file.bytes.base + file.fileSize)
        var tensors: [FloatTensor] = []
        for info in file.tensors where info.dtype == .F32 {
            let t = try file.floatTensor(info.name)
            let start = UnsafeRawPointer(t.values.baseAddress!)
            #expect(ObjectIdentifier(t.storage) == ObjectIdentifier(file.bytes), "\(info.name) was copied")
            #expect(start == file.bytes.base + file.dataStart + info.dataOffsets.lowerBound, "\(info.name)")
            #expect(region.contains(start) && start + info.dataOffsets.count <= region.upperBound, "\(info.name)")
            tensors.append(t)
        }
        #expect(tensors.count == 103)
        let after = residentKiB()
        let grownKiB = after - before
        // Other tests run in parallel in this process, so allow slack; a copy would be >= 88,000 KiB.
        #expect(grownKiB < 16_384, "resident memory grew by \(grownKiB) KiB while opening and viewing the checkpoint")
        if ProcessInfo.processInfo.environment["SAFETENSORS_REPORT"] != nil {
            print("RSS before open: \(before) KiB, after open + 103 views: \(after) KiB, growth \(grownKiB) KiB")
        }
    }

    /// Opening = stat, open, mmap, read the 8-byte prefix, parse and validate the 11 KB header.
    @Test func openingIsFast() throws {
        _ = try open()
        var best = Duration.seconds(1000)
        for _ in 0..<5 {
            let clock = ContinuousClock()
            let start = clock.now
            _ = try SafeTensorsFile(contentsOf: realModelURL)
            best = min(best, clock.now - start)
        }
        #expect(best < .milliseconds(50), "best of 5 opens took \(best)")
        if ProcessInfo.processInfo.environment["SAFETENSORS_REPORT"] != nil { print("open + validate, best of 5: \(best)") }
    }
}

/// VmRSS of this process from /proc/self/status, in KiB (0 when unavailable).
func residentKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
    }
    return 0
}
