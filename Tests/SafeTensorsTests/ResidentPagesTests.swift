import Foundation
import SafeTensors
import Testing

/// `FloatTensor.releaseResidentPages` drops the mapping of a file-backed tensor, never its values.
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
}
