import Foundation
import SentenceEmbeddings

extension FileEmbeddingJob.SettingsProblem {
    static func needsCalibration(_ p: OutputPrecision) -> String {
        "\(p.rawValue) output of an input file needs a calibration set (--calibration FILE: a .npy of embeddings or a file of texts): the file is written chunk by chunk, so the per-dimension ranges must be fixed before the first row and be the same for every chunk, resume and shard"
    }
}

extension FileEmbeddingJob {
    /// The int8/uint8 ranges of the calibration set at `path`: a `.npy` of float32 embeddings
    /// [N, D], whose per-dimension minimum and maximum are taken as they are (sentence-transformers'
    /// `calibration_embeddings`); any other file is read as texts (as ``input`` is, with ``field``
    /// and ``column``) and embedded with ``options`` first.
    public func calibrationRanges(_ path: String, encoder: SentenceEncoder, dimension: Int) throws -> QuantizationRanges {
        let values: [Float]
        let rows: Int
        if URL(fileURLWithPath: path).pathExtension.lowercased() == "npy" {
            let matrix = try readFloat32Matrix(npy: path)
            guard matrix.columns == dimension else {
                throw FileEmbeddingError("\(path): calibration embeddings have \(matrix.columns) dimensions but this run's have \(dimension); make them with the same model and --dimensions")
            }
            (values, rows) = (matrix.values, matrix.rows)
        } else {
            let format = try TextInput.format(of: path, field: field, column: column, quoting: quoting)
            let texts = try TextInput.read(path: path, format: format).map(\.text)
            let embeddings = try encoder.embed(texts, options: options)
            (values, rows) = (embeddings.values, embeddings.count)
        }
        guard rows > 0 else { throw FileEmbeddingError("\(path): the calibration set is empty; int8 and uint8 ranges need at least one embedding") }
        do { return try QuantizationRanges(calibration: values, dimension: dimension) } catch {
            throw FileEmbeddingError("\(path): \(error)")
        }
    }
}

/// A float32, C-order, 2-D `.npy` (versions 1-3), validated with checked arithmetic.
func readFloat32Matrix(npy path: String) throws -> (rows: Int, columns: Int, values: [Float]) {
    func bad(_ why: String) -> FileEmbeddingError {
        FileEmbeddingError("\(path): \(why); a calibration .npy holds float32 embeddings [N, D] (numpy.save of a float32 matrix, or `encoder run --output FILE.npy`)")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw FileEmbeddingError("\(path): cannot read the calibration file; does it exist?")
    }
    let bytes = [UInt8](data)
    guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else { throw bad("not a .npy file") }
    let major = bytes[6]
    guard (1...3).contains(major) else { throw bad("unknown .npy version \(major)") }
    let start = major == 1 ? 10 : 12
    guard bytes.count >= start else { throw bad("truncated header") }
    let length = major == 1
        ? Int(bytes[8]) | Int(bytes[9]) << 8
        : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
    guard length <= bytes.count - start else { throw bad("truncated header") }
    let header = String(decoding: bytes[start..<(start + length)], as: UTF8.self)
    guard header.contains("'descr': '<f4'") else { throw bad("dtype is not little-endian float32 ('<f4')") }
    guard header.contains("'fortran_order': False") else { throw bad("Fortran order is not supported") }
    guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
        throw bad("no shape in the header")
    }
    let dims = header[open.upperBound..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard dims.count == 2, let rows = Int(dims[0]), let columns = Int(dims[1]), rows >= 0, columns >= 1 else {
        throw bad("shape (\(header[open.upperBound..<close])) is not 2-D")
    }
    let (count, o1) = rows.multipliedReportingOverflow(by: columns)
    let (size, o2) = count.multipliedReportingOverflow(by: 4)
    let data0 = start + length
    guard !o1, !o2, bytes.count - data0 == size else {
        throw bad("\(bytes.count - data0) data bytes, but shape (\(rows), \(columns)) needs \(o1 || o2 ? "more than can be addressed" : String(size))")
    }
    var values = [Float](repeating: 0, count: count)
    values.withUnsafeMutableBytes { out in
        bytes.withUnsafeBytes { out.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[data0...])) }
    }
    // The file is little-endian; so is every platform this builds for (x86_64, arm64).
    return (rows, columns, values)
}
