// A minimal, test-only safetensors reader (F32 only) used to feed the real checkpoint to
// EncoderModel while the validating SafeTensors reader is developed separately. It trusts
// the file more than production code may: it is a test utility, not a loader.
import TransformerEncoder
import Foundation
import SafeTensors

struct MiniSafeTensors: TensorProvider {
    struct Entry { let dtype: String; let shape: [Int]; let begin: Int; let end: Int }
    struct Failure: Error, CustomStringConvertible { let description: String }

    let data: Data
    let dataStart: Int
    let entries: [String: Entry]

    init(url: URL) throws {
        data = try Data(contentsOf: url, options: .alwaysMapped)
        guard data.count >= 8 else { throw Failure(description: "\(url.path): shorter than 8 bytes") }
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard headerLength > 0, 8 + headerLength <= data.count else { throw Failure(description: "bad header length") }
        dataStart = 8 + headerLength
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<dataStart)) as? [String: Any] ?? [:]
        var entries: [String: Entry] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw Failure(description: "bad header entry \(name)") }
            entries[name] = Entry(dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
        }
        self.entries = entries
    }

    var tensorNames: [String] { entries.keys.sorted() }

    func floatTensor(_ name: String) throws -> FloatTensor {
        guard let e = entries[name] else { throw Failure(description: "no tensor \(name)") }
        guard e.dtype == "F32" else { throw Failure(description: "\(name) is \(e.dtype), this test reader reads F32 only") }
        let count = e.shape.reduce(1, *)
        guard e.end - e.begin == count * 4, dataStart + e.end <= data.count else {
            throw Failure(description: "\(name): offsets do not match shape")
        }
        let floats = data.withUnsafeBytes { raw in
            (0..<count).map { i in
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: dataStart + e.begin + 4 * i, as: UInt32.self)))
            }
        }
        return FloatTensor(shape: e.shape, floats)
    }
}
