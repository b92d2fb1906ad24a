import Foundation
import SentenceEmbeddings

/// The file formats `encoder run --output` writes.
enum OutputFormat: String, CaseIterable {
    /// NumPy `.npy`: float32, little-endian, C order, shape [N, D].
    case npy
    /// One `{"index": i, "embedding": [...]}` object per line.
    case jsonl
    /// One row of tab-separated numbers per line.
    case tsv

    /// The format an output path's extension names.
    init(path: String) throws {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        guard let format = OutputFormat(rawValue: ext) else {
            throw CLIError("\(path): cannot tell the output format from the extension \".\(ext)\"; use .npy, .jsonl or .tsv")
        }
        self = format
    }
}

/// Writes embeddings row by row, in input order, to a file that appears only when complete.
///
/// Rows go to a temporary file beside the destination; ``finish()`` renames it into place,
/// so a run that fails or is killed never leaves a file that looks finished.
final class EmbeddingWriter {
    let destination: URL
    let format: OutputFormat
    let dimension: Int
    private let temporary: URL
    private let handle: FileHandle
    private var rows = 0
    private var finished = false

    /// Bytes reserved for the .npy header so the final row count can be written in place.
    private static let npyHeaderLength = 128

    init(destination: URL, format: OutputFormat, dimension: Int) throws {
        self.destination = destination
        self.format = format
        self.dimension = dimension
        let folder = destination.deletingLastPathComponent()
        temporary = folder.appendingPathComponent(".\(destination.lastPathComponent).partial-\(getpid())")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw CLIError("\(destination.path): cannot create a file in \(folder.path) (does the folder exist and is it writable?)")
        }
        handle = try FileHandle(forWritingTo: temporary)
        if format == .npy { try handle.write(contentsOf: Self.npyHeader(rows: 0, dimension: dimension)) }
    }

    deinit {
        if !finished { abandon() }
    }

    /// Appends every row of `embeddings`.
    func append(_ embeddings: Embeddings) throws {
        precondition(embeddings.dimension == dimension)
        var data = Data()
        switch format {
        case .npy:
            data.reserveCapacity(embeddings.values.count * 4)
            for value in embeddings.values {
                var bits = value.bitPattern.littleEndian
                withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) }
            }
        case .jsonl:
            for i in 0..<embeddings.count {
                data.append(contentsOf: "{\"index\":\(rows + i),\"embedding\":".utf8)
                data.append(contentsOf: try jsonArray(embeddings[i]).utf8)
                data.append(contentsOf: "}\n".utf8)
            }
        case .tsv:
            for i in 0..<embeddings.count {
                data.append(contentsOf: try formatted(embeddings[i]).joined(separator: "\t").utf8)
                data.append(0x0A)
            }
        }
        try handle.write(contentsOf: data)
        rows += embeddings.count
    }

    /// Completes the file and moves it into place.
    func finish() throws {
        if format == .npy {
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: Self.npyHeader(rows: rows, dimension: dimension))
        }
        try handle.synchronize()
        try handle.close()
        if FileManager.default.fileExists(atPath: destination.path) {
            _ = try FileManager.default.replaceItemAt(destination, withItemAt: temporary)
        } else {
            try FileManager.default.moveItem(at: temporary, to: destination)
        }
        finished = true
    }

    /// Removes the temporary file.
    func abandon() {
        try? handle.close()
        try? FileManager.default.removeItem(at: temporary)
        finished = true
    }

    /// The .npy version 1.0 header: magic, version, little-endian u16 length, then a Python
    /// dict literal padded with spaces and ended by a newline, the whole a multiple of 64 bytes.
    static func npyHeader(rows: Int, dimension: Int) -> Data {
        var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(dimension)), }"
        let prefix = 10  // magic (6) + version (2) + length (2)
        dict += String(repeating: " ", count: npyHeaderLength - prefix - dict.utf8.count - 1) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(dict.utf8.count)
        data.append(UInt8(length & 0xFF))
        data.append(UInt8(length >> 8))
        data.append(contentsOf: dict.utf8)
        return data
    }
}

/// The shortest decimal text that reads back as the same Float32, for every value;
/// non-finite values are an error, since JSON has no way to write them.
func formatted(_ vector: ArraySlice<Float>) throws -> [String] {
    try vector.map { value in
        guard value.isFinite else { throw CLIError("the model produced a non-finite value (\(value)); the checkpoint's weights may be corrupt") }
        return value.description
    }
}

/// A vector as a JSON array.
func jsonArray(_ vector: ArraySlice<Float>) throws -> String {
    "[" + (try formatted(vector)).joined(separator: ",") + "]"
}
