import Foundation
import FuzzSupport
import SafeTensors

// libFuzzer target `safetensors` (Scripts/fuzz safetensors SECONDS): arbitrary bytes as a
// .safetensors file, validated in memory exactly as a file on disk is. A file that validates
// must then serve every tensor without trapping; a file that does not must throw a
// SafeTensorsError whose message renders.

func fuzzOne(_ bytes: [UInt8]) {
    let file: SafeTensorsFile
    do {
        file = try SafeTensorsFile(bytes: bytes, name: "fuzz.safetensors")
    } catch {
        _ = error.description
        return
    }
    precondition(file.fileSize == bytes.count)
    for tensor in file.tensors {
        precondition(file.info(tensor.name) == tensor, "info(\(tensor.name)) does not find its own tensor")
        precondition(tensor.dataOffsets.upperBound <= file.fileSize, "tensor data past the end of the file")
        let byteCount = try! file.withUnsafeBytes(of: tensor.name) { $0.count }
        precondition(byteCount == tensor.dataOffsets.count)
        do {
            let values = try file.floatTensor(tensor.name)
            precondition(values.shape == tensor.shape)
            precondition(values.count == tensor.shape.reduce(1, *))
            var sum: Float = 0
            values.withValues { for v in $0 { sum += v } }
            _ = sum
        } catch {
            _ = error.description
        }
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(FuzzHarness.bytes(data, size))
    return 0
}
#else
/// A normal build: `FuzzX FILE...` replays files through the harness (FuzzSupport).
@main enum Replay {
    static func main() throws { try FuzzHarness.replay(fuzzOne) }
}
#endif
