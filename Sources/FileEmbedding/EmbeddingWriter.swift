import Foundation
import SentenceEmbeddings

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file formats `encoder run --output` writes.
public enum OutputFormat: String, CaseIterable, Sendable {
    /// NumPy `.npy`: float32 (or float16), little-endian, C order, shape [N, D].
    case npy
    /// One `{"index": i, "embedding": [...]}` object per line (with `"id"` first under `--id-field`).
    case jsonl
    /// One row of tab-separated numbers per line.
    case tsv
    /// One tensor "embeddings" [N, D], F32 (or F16).
    case safetensors

    /// The format an output path's extension names.
    init(path: String) throws {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        guard let format = OutputFormat(rawValue: ext) else {
            throw FileEmbeddingError("\(path): cannot tell the output format from the extension \".\(ext)\"; use .npy, .jsonl, .tsv or .safetensors, or give --output-format")
        }
        self = format
    }

    /// Formats whose header holds the row count, written last: they need a seekable file.
    var needsSeek: Bool { self == .npy || self == .safetensors }
}

/// The number type of float `.npy` and `.safetensors` outputs (an ``OutputPrecision`` stores bytes instead).
public enum OutputDType: String, CaseIterable, Sendable {
    case f32, f16
}

/// How rows are stored: floats (``OutputDType``), or compact bytes quantized with fixed ranges.
struct RowEncoding {
    let dtype: OutputDType
    let precision: OutputPrecision?
    /// The int8/uint8 ranges, the same for every chunk (and shard) of a job.
    let ranges: QuantizationRanges?

    init(dtype: OutputDType = .f32, precision: OutputPrecision? = nil, ranges: QuantizationRanges? = nil) {
        self.dtype = dtype
        self.precision = precision
        self.ranges = ranges
    }

    /// Values per stored row for embeddings of `dimension` (bytes for the binary precisions).
    func width(dimension: Int) -> Int { precision?.bytesPerRow(dimension: dimension) ?? dimension }
    /// Bytes per stored value.
    var itemSize: Int { precision != nil ? 1 : dtype == .f16 ? 2 : 4 }
    /// NumPy's `descr`.
    var npyDescr: String {
        switch precision {
        case .int8?, .binary?: "|i1"
        case .uint8?, .ubinary?: "|u1"
        case nil: dtype == .f16 ? "<f2" : "<f4"
        }
    }
    /// The safetensors dtype.
    var safetensorsDType: String {
        switch precision {
        case .int8?, .binary?: "I8"
        case .uint8?, .ubinary?: "U8"
        case nil: dtype == .f16 ? "F16" : "F32"
        }
    }
}

/// A file written beside its destination under a hidden name and renamed into place only when
/// complete, so a run that fails or is killed never leaves a file that looks finished.
///
/// The hidden name is fixed (not per process) so that `--resume` finds it again.
public final class StagedFile {
    let destination: URL
    let partial: URL
    private(set) var descriptor: Int32 = -1
    private(set) var size = 0

    static func partialURL(for destination: URL) -> URL {
        destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).partial")
    }

    /// Opens the partial file: empty, or (`resumeAt`) cut back to the length a checkpoint recorded.
    public init(destination: URL, resumeAt: Int? = nil) throws {
        self.destination = destination
        partial = Self.partialURL(for: destination)
        let flags = O_WRONLY | O_CLOEXEC | (resumeAt == nil ? O_CREAT | O_TRUNC : 0)
        descriptor = open(partial.path, flags, 0o644)
        guard descriptor >= 0 else {
            if resumeAt != nil { throw FileEmbeddingError("\(partial.path): the partial output of the interrupted run is missing (\(String(cString: strerror(errno)))); run without --resume to start over") }
            throw FileEmbeddingError("\(destination.path): cannot create \(partial.lastPathComponent) in \(destination.deletingLastPathComponent().path) (\(String(cString: strerror(errno)))); does the folder exist and is it writable?")
        }
        if let resumeAt {
            var st = stat()
            guard fstat(descriptor, &st) == 0, Int(st.st_size) >= resumeAt else {
                close(descriptor)
                throw FileEmbeddingError("\(partial.path) is shorter than its checkpoint says (\(resumeAt) bytes); run without --resume to start over")
            }
            // Bytes after the checkpoint were written by a chunk whose checkpoint never landed.
            guard ftruncate(descriptor, off_t(resumeAt)) == 0, lseek(descriptor, off_t(resumeAt), SEEK_SET) >= 0 else {
                close(descriptor)
                throw FileEmbeddingError("\(partial.path): cannot truncate to \(resumeAt) bytes (\(String(cString: strerror(errno))))")
            }
            size = resumeAt
        }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    public func write(_ bytes: [UInt8]) throws {
        try writeAll(descriptor, bytes, what: partial.path)
        size += bytes.count
    }

    /// Overwrites bytes at `offset` (a header whose row count is known only at the end).
    func write(_ bytes: [UInt8], at offset: Int) throws {
        let n = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
        guard n == bytes.count else { throw FileEmbeddingError("\(partial.path): cannot write (\(String(cString: strerror(errno))))") }
    }

    /// Waits until the bytes are on disk (before a checkpoint that counts them is written).
    func sync() throws {
        guard fsync(descriptor) == 0 else { throw FileEmbeddingError("\(partial.path): fsync failed (\(String(cString: strerror(errno))))") }
    }

    /// Flushes, closes and renames the file into place.
    public func commit() throws {
        try sync()
        close(descriptor)
        descriptor = -1
        guard rename(partial.path, destination.path) == 0 else {
            throw FileEmbeddingError("\(destination.path): cannot rename \(partial.lastPathComponent) into place (\(String(cString: strerror(errno))))")
        }
        syncFolder(of: destination)
    }

    /// Closes and removes the partial file.
    public func discard() {
        if descriptor >= 0 { close(descriptor); descriptor = -1 }
        unlink(partial.path)
    }
}

/// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws {
    try bytes.withUnsafeBytes { (b: UnsafeRawBufferPointer) throws in
        var offset = 0
        while offset < b.count {
            let n = systemWrite(fd, b.baseAddress! + offset, b.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileEmbeddingError("\(what): cannot write (\(String(cString: strerror(errno))))")
            }
            offset += n
        }
    }
}

/// fsync of a folder, so a rename in it survives a power cut (best effort).
func syncFolder(of url: URL) {
    let fd = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd >= 0 { fsync(fd); close(fd) }
}

/// The row an embedding belongs to: its record index in the input, and the id carried through.
struct RowInfo {
    var index: Int
    var id: String?
}

/// Writes embeddings row by row, in input order, to a staged file or to standard output.
///
/// `.npy` and `.safetensors` reserve a fixed 128-byte header, written with the final row count
/// by ``finish()``: rows stream out in constant memory and a resumed run continues the same bytes.
final class EmbeddingWriter {
    /// `nil` writes to standard output; `.jsonArrays` (bare `[...]` lines) only goes there.
    enum Layout: Equatable, CustomStringConvertible {
        case file(OutputFormat)
        case jsonArrays

        /// A stable spelling, recorded in `--resume` checkpoints.
        var description: String {
            switch self {
            case .file(let format): format.rawValue
            case .jsonArrays: "json arrays"
            }
        }
    }

    let layout: Layout
    let encoding: RowEncoding
    /// The embeddings' dimension (a stored row of a binary precision holds `ceil(dimension / 8)` bytes).
    let dimension: Int
    private let file: StagedFile?
    private(set) var rows: Int

    /// Bytes reserved for the `.npy` / `.safetensors` header so the row count can be written in place.
    static let headerLength = 128
    /// Rows encoded and written at a time by ``append(_:rows:)``.
    static let rowsPerWrite = 256

    /// A writer to `destination` (nil = stdout). `resume` continues a partial file at a checkpoint.
    init(destination: URL?, layout: Layout, encoding: RowEncoding, dimension: Int, resume: (bytes: Int, rows: Int)? = nil) throws {
        self.layout = layout
        self.encoding = encoding
        self.dimension = dimension
        rows = resume?.rows ?? 0
        if let destination {
            let file = try StagedFile(destination: destination, resumeAt: resume?.bytes)
            self.file = file
            if resume == nil, case .file(let f) = layout, f.needsSeek {
                try file.write([UInt8](repeating: 0x20, count: Self.headerLength))  // placeholder, rewritten by finish()
            }
        } else {
            file = nil
        }
    }

    /// Bytes of the output so far (for the checkpoint).
    var size: Int { file?.size ?? 0 }

    /// Appends every row of `embeddings`; `rows[i]` describes row `i`.
    func append(_ embeddings: Embeddings, rows info: [RowInfo]) throws {
        precondition(embeddings.dimension == dimension && info.count == embeddings.count)
        var compact: QuantizedEmbeddings?
        if let precision = encoding.precision {
            do { compact = try quantize(embeddings, precision: precision, ranges: encoding.ranges) } catch {
                throw FileEmbeddingError("cannot write \(precision.rawValue) output: \(error)")
            }
        }
        // The numbers of row i as text: floats in their shortest round-trip form, or integers.
        let fields: (Int) throws -> [String] = compact.map { c in { c.integers($0).map(String.init) } } ?? { try formatted(embeddings[$0]) }
        let write: ([UInt8]) throws -> Void = { out in
            if let file = self.file { try file.write(out) } else { try writeAll(1, out, what: "standard output") }
        }
        if let compact, case .file(let format) = layout, format == .npy || format == .safetensors {
            try write(compact.bytes)
            rows += embeddings.count
            return
        }
        // Encoded and written `Self.rowsPerWrite` rows at a time: the bytes of a whole chunk (6 MB
        // for 4,096 rows of 384 floats in .npy, more as text) are never held beside its floats.
        var out: [UInt8] = []
        for first in stride(from: 0, to: embeddings.count, by: Self.rowsPerWrite) {
            let last = min(first + Self.rowsPerWrite, embeddings.count)
            out.removeAll(keepingCapacity: true)
            switch layout {
            case .file(.npy), .file(.safetensors):
                let dtype = encoding.dtype
                out.reserveCapacity((last - first) * dimension * encoding.itemSize)
                for value in embeddings.values[(first * dimension)..<(last * dimension)] {
                    if dtype == .f16 {
                        let bits = Float16(value).bitPattern
                        out.append(UInt8(truncatingIfNeeded: bits)); out.append(UInt8(truncatingIfNeeded: bits >> 8))
                    } else {
                        let bits = value.bitPattern
                        out.append(UInt8(truncatingIfNeeded: bits)); out.append(UInt8(truncatingIfNeeded: bits >> 8))
                        out.append(UInt8(truncatingIfNeeded: bits >> 16)); out.append(UInt8(truncatingIfNeeded: bits >> 24))
                    }
                }
            case .file(.jsonl):
                for i in first..<last {
                    if let id = info[i].id { out += Array("{\"id\":\(id),".utf8) } else { out += Array("{".utf8) }
                    out += Array("\"index\":\(info[i].index),\"embedding\":[".utf8)
                    out += Array(try fields(i).joined(separator: ",").utf8)
                    out += Array("]}\n".utf8)
                }
            case .file(.tsv):
                for i in first..<last {
                    out += Array(try fields(i).joined(separator: "\t").utf8)
                    out.append(0x0A)
                }
            case .jsonArrays:
                for i in first..<last {
                    out += Array(("[" + (try fields(i)).joined(separator: ",") + "]\n").utf8)
                }
            }
            try write(out)
        }
        rows += embeddings.count
    }

    func sync() throws { try file?.sync() }

    /// Writes the header, then moves the file into place.
    func finish() throws {
        guard let file else { return }
        if case .file(let f) = layout, f.needsSeek {
            let width = encoding.width(dimension: dimension)
            let header = f == .npy
                ? Self.npyHeader(rows: rows, width: width, encoding: encoding)
                : Self.safetensorsHeader(rows: rows, width: width, encoding: encoding)
            try file.write(header, at: 0)
        }
        try file.commit()
    }

    func abandon() { file?.discard() }

    /// The .npy version 1.0 header: magic, version, little-endian u16 length, then a Python
    /// dict literal padded with spaces and ended by a newline, the whole a multiple of 64 bytes.
    /// `width`: values per row ([N, width]).
    static func npyHeader(rows: Int, width: Int, encoding: RowEncoding = RowEncoding()) -> [UInt8] {
        var dict = "{'descr': '\(encoding.npyDescr)', 'fortran_order': False, 'shape': (\(rows), \(width)), }"
        let prefix = 10  // magic (6) + version (2) + length (2)
        dict += String(repeating: " ", count: headerLength - prefix - dict.utf8.count - 1) + "\n"
        var data: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(dict.utf8.count)
        data.append(UInt8(length & 0xFF))
        data.append(UInt8(length >> 8))
        data += Array(dict.utf8)
        return data
    }

    /// A safetensors header for one tensor "embeddings" [rows, dimension], as SafeTensorsWriter
    /// lays it out (u64 little-endian length, then the JSON header, padded with spaces so the
    /// data starts at a multiple of 8), padded here to a fixed 128 bytes so rows can be
    /// streamed before the count is known. The safetensors format allows trailing spaces.
    static func safetensorsHeader(rows: Int, width: Int, encoding: RowEncoding = RowEncoding()) -> [UInt8] {
        let bytes = rows * width * encoding.itemSize
        var json = Array("{\"embeddings\":{\"dtype\":\"\(encoding.safetensorsDType)\",\"shape\":[\(rows),\(width)],\"data_offsets\":[0,\(bytes)]}}".utf8)
        precondition(json.count <= headerLength - 8, "safetensors header of \(json.count) bytes")
        json += [UInt8](repeating: 0x20, count: headerLength - 8 - json.count)
        let n = UInt64(json.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> ($0 * 8)) } + json
    }
}

/// The shortest decimal text that reads back as the same Float32, for every value;
/// non-finite values are an error, since JSON has no way to write them.
func formatted(_ vector: ArraySlice<Float>) throws -> [String] {
    try vector.map { value in
        guard value.isFinite else { throw FileEmbeddingError("the model produced a non-finite value (\(value)); the checkpoint's weights may be corrupt") }
        return value.description
    }
}

/// POSIX `write(2)` under one name on Linux and Darwin.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, buffer, count)
    #else
    Darwin.write(fd, buffer, count)
    #endif
}
