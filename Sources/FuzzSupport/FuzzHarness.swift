import Foundation

/// What the four `Fuzz*` harnesses share: libFuzzer's input as bytes, and the `main` of a normal
/// build (without libFuzzer), which replays files through the harness to reproduce a crash input
/// under a debugger. Each harness keeps only its `fuzzOne` and the `LLVMFuzzerTestOneInput`
/// symbol, which must be defined in the executable itself.
public enum FuzzHarness {
    /// libFuzzer's `(data, size)` as an array (`data` may be null when `size` is 0).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// Runs `body` over the bytes of each file named on the command line, printing `ok: PATH`.
    public static func replay(_ body: ([UInt8]) -> Void) throws {
        for path in CommandLine.arguments.dropFirst() {
            body([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
            print("ok: \(path)")
        }
    }
}
