import Foundation
import StrictJSON

/// A JSON response body written straight into bytes: embeddings are large arrays of floats, and
/// the shortest round-trip form of each `Float` (Swift's `description`) is exactly what a client
/// parsing into float32 needs.
struct JSONOutput {
    var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }
    mutating func string(_ s: String) { raw(JSONWriter.quoted(s)) }
    mutating func int(_ n: Int) { raw(String(n)) }

    /// Writes `[x0,x1,...]`. The values must be finite (checked by the caller, see ``EmbeddingServer``):
    /// JSON has no NaN or infinity.
    mutating func floats(_ values: ArraySlice<Float>) {
        bytes.append(UInt8(ascii: "["))
        var first = true
        for x in values {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            raw(x.description)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes `[n0,n1,...]` (compact embeddings).
    mutating func integers(_ values: [Int]) {
        raw("[" + values.map(String.init).joined(separator: ",") + "]")
    }

    /// Writes the values as OpenAI's `encoding_format: "base64"` does: the little-endian float32
    /// bytes, base64-encoded, in a JSON string.
    mutating func base64Floats(_ values: ArraySlice<Float>) {
        var data = Data(capacity: values.count * 4)
        for x in values {
            withUnsafeBytes(of: x.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        }
        bytes.append(UInt8(ascii: "\""))
        raw(data.base64EncodedString())
        bytes.append(UInt8(ascii: "\""))
    }
}
