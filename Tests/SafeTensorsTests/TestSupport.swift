import Foundation
import Testing
@testable import SafeTensors
import StrictJSON

/// A file built by hand: the 8-byte little-endian length (the header's own length unless `declared`
/// is given), the header text as UTF-8, then `data`.
func rawFile(_ header: String, data: [UInt8] = [], declared: UInt64? = nil) -> [UInt8] {
    rawFile(bytes: Array(header.utf8), data: data, declared: declared)
}

func rawFile(bytes header: [UInt8], data: [UInt8] = [], declared: UInt64? = nil) -> [UInt8] {
    le(declared ?? UInt64(header.count)) + header + data
}

func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
}

/// The error opening `bytes` throws, or nil when it opens.
func openError(_ bytes: [UInt8], limits: SafeTensorsFile.Limits = .default) -> SafeTensorsError? {
    do {
        _ = try SafeTensorsFile(bytes: bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

/// The JSON error kind inside an `invalidHeaderJSON` error, or nil.
func jsonKind(_ error: SafeTensorsError?) -> JSONError.Kind? {
    if case .invalidHeaderJSON(_, let json)? = error { return json.kind }
    return nil
}

/// One F32 tensor entry in header JSON.
func entry(_ name: String, _ dtype: String = "F32", shape: [Int], _ begin: Int, _ end: Int) -> String {
    "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(begin),\(end)]}"
}

let memory = "<memory>"

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator so property tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Location of the real checkpoint fetched by Scripts/fetch-model.
let realModelURL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Models/all-MiniLM-L6-v2/model.safetensors")
