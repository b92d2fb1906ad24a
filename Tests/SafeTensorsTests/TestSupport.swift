import TestSupport
import Foundation
import Testing
@testable import SafeTensors
import StrictJSON

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

let memory = "<memory>"


/// Location of the real checkpoint fetched by Scripts/fetch-model.
let realModelURL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Models/all-MiniLM-L6-v2/model.safetensors")
