import Foundation
import SafeTensors
import Testing

/// `FloatTensor.releaseResidentPages` drops the mapping of a file-backed tensor, never its values;
/// `FloatTensor.copyValues` reads values of a mapped tensor without mapping them.
@Suite struct ResidentPagesTests {
    /// 3 pages and a bit of floats, so whole pages lie inside the tensor.
    static let count = 3 * 1024 + 77
    static let values = (0..<count).map { Float($0) * 0.25 - 100 }

    static func file() throws -> [UInt8] {
        let bytes = values.flatMap { SafeTensorsWriter.littleEndianBytes($0.bitPattern) }
        return SafeTensorsWriter.serialize([(name: "t", dtype: .F32, shape: [count], bytes: bytes)])
    }

    @Test func mappedTensorKeepsItsValuesAfterRelease() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("resident-\(UUID().uuidString).safetensors")
        try Data(try Self.file()).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let file = try SafeTensorsFile(contentsOf: url)
        let tensor = try file.floatTensor("t")
        #expect(tensor.isMemoryMapped)
        #expect(tensor.array == Self.values)
        for _ in 0..<3 {
            tensor.releaseResidentPages()
            #expect(tensor.array == Self.values)
        }
    }

    @Test func heapTensorIsLeftAlone() throws {
        // An in-memory file and an array-backed tensor are anonymous memory: MADV_DONTNEED would
        // zero them, so release must do nothing.
        let tensor = try SafeTensorsFile(bytes: try Self.file()).floatTensor("t")
        #expect(!tensor.isMemoryMapped)
        tensor.releaseResidentPages()
        #expect(tensor.array == Self.values)
        let owned = FloatTensor(shape: [Self.count], Self.values)
        #expect(!owned.isMemoryMapped)
        owned.releaseResidentPages()
        #expect(owned.array == Self.values)
    }

    @Test func copyValuesGivesTheValuesWithoutMappingTheirPages() throws {
        // 1 MiB of floats: rows of 384 values (one embedding row each), read one in every 40.
        let rows = 682, width = 384
        let values = (0..<(rows * width)).map { Float($0 % 9973) * 0.5 - 7 }
        let bytes = values.flatMap { SafeTensorsWriter.littleEndianBytes($0.bitPattern) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("copy-\(UUID().uuidString).safetensors")
        try Data(SafeTensorsWriter.serialize([(name: "table", dtype: .F32, shape: [rows, width], bytes: bytes)])).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let tensor = try SafeTensorsFile(contentsOf: url).floatTensor("table")
        #expect(tensor.isMemoryMapped)
        let base = tensor.values.baseAddress!
        let chosen = Array(stride(from: 1, to: rows, by: 40))
        var row = [Float](repeating: .nan, count: width)

        let before = try #require(mappingResidentKiB(containing: UnsafeRawPointer(base)))
        for r in chosen {
            row.withUnsafeMutableBufferPointer { tensor.copyValues((r * width)..<((r + 1) * width), into: $0.baseAddress!) }
            #expect(row == Array(values[(r * width)..<((r + 1) * width)]), "row \(r)")
        }
        let afterCopies = try #require(mappingResidentKiB(containing: UnsafeRawPointer(base)))
        #expect(afterCopies == before, "copyValues mapped \(afterCopies - before) KiB of the file")

        // The control: the same rows read through the mapping do become resident, so the
        // measurement above can see a mapped page.
        var sum: Float = 0
        for r in chosen { sum += tensor.values[r * width] }
        #expect(sum.isFinite)
        let afterReads = try #require(mappingResidentKiB(containing: UnsafeRawPointer(base)))
        #expect(afterReads >= before + chosen.count * 4, "reading \(chosen.count) rows through the mapping mapped only \(afterReads - before) KiB")
    }

    @Test func copyValuesOfInMemoryTensorsGivesTheValues() throws {
        let inMemory = try SafeTensorsFile(bytes: try Self.file()).floatTensor("t")
        let owned = FloatTensor(shape: [Self.count], Self.values)
        for tensor in [inMemory, owned] {
            var out = [Float](repeating: .nan, count: 100)
            out.withUnsafeMutableBufferPointer { tensor.copyValues(3000..<3100, into: $0.baseAddress!) }
            #expect(out == Array(Self.values[3000..<3100]))
        }
    }
}

/// Rss of the mapping of this process that holds `address`, from /proc/self/smaps, in KiB.
func mappingResidentKiB(containing address: UnsafeRawPointer) -> Int? {
    // Read to the end: /proc files report size 0, and String(contentsOfFile:) stops after one page.
    let fd = open("/proc/self/smaps", O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { break }
        bytes += chunk[0..<n]
    }
    let smaps = String(decoding: bytes, as: UTF8.self)
    let target = UInt(bitPattern: address)
    var inside = false
    for line in smaps.split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
            let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
            inside = bounds.count == 2 && bounds[0] <= target && target < bounds[1]
        } else if inside, fields.first == "Rss:", fields.count >= 2 {
            return Int(fields[1])
        }
    }
    return nil
}
