import TestSupport
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


/// Location of the real checkpoint fetched by Scripts/fetch-model.
let realModelURL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Models/all-MiniLM-L6-v2/model.safetensors")
