import Foundation

/// A validated safetensors checkpoint (format: https://github.com/huggingface/safetensors, README).
///
/// Opening a file validates all of it before anything can be read: the header length against the cap
/// and the file size, the JSON header strictly (see ``SafeTensorsError`` for every check), and the data
/// layout (tensors contiguous from 0, no hole, no overlap, byte counts equal to `product(shape) * bits / 8`
/// with checked arithmetic, nothing after the last tensor). The file is memory-mapped; F32 tensors are
/// handed out as zero-copy views into the mapping when 4-byte aligned.
public final class SafeTensorsFile: @unchecked Sendable {
    /// Caps that bound the work and memory an untrusted header can demand.
    public struct Limits: Sendable, Equatable {
        /// The reference's `MAX_HEADER_SIZE` (100,000,000 bytes).
        public var maxHeaderBytes = 100_000_000
        /// Tensor entries (excluding `__metadata__`).
        public var maxTensorCount = 100_000
        /// Longest tensor name in UTF-8 bytes.
        public var maxNameBytes = 1024
        /// JSON nesting; a valid header needs 3 (object, entry, shape array).
        public var maxJSONDepth = 8

        public init() {}
        public static let `default` = Limits()
    }

    /// How the bytes of a file are brought into memory.
    public enum Loading: Sendable {
        /// `mmap(PROT_READ, MAP_PRIVATE)`: nothing is copied; F32 tensors are views into the mapping.
        /// If another process truncates the file while it is mapped, touching the lost pages raises
        /// SIGBUS; no in-process check can prevent that.
        case memoryMap
        /// `pread` the whole file into memory owned by this object: immune to later changes of the file,
        /// at the cost of the file's size in RAM.
        case copy
    }

    /// Where the file was read from (`nil` for ``init(bytes:name:limits:)``).
    public let url: URL?
    /// The name used in error messages: the path, or the name passed to ``init(bytes:name:limits:)``.
    public let name: String
    /// `__metadata__` (string to string); empty when absent or null.
    public let metadata: [String: String]
    /// Every tensor, sorted by data offset.
    public let tensors: [TensorInfo]

    let bytes: FileBytes
    /// File offset of the data buffer, `8 + N`.
    let dataStart: Int
    /// Tensor index by the UTF-8 bytes of the name: Swift `String` equality is canonical, which would
    /// merge names such as "café" (NFC) and "cafe\u{301}" that the file keeps distinct.
    private let index: [[UInt8]: Int]

    /// Maps (or copies) and validates the file at `url`.
    ///
    /// The path must name a regular file (after following symlinks): directories, FIFOs and devices such
    /// as `/dev/zero` are refused before they are read.
    public convenience init(
        contentsOf url: URL, loading: Loading = .memoryMap, limits: Limits = .default
    ) throws(SafeTensorsError) {
        let path = url.path
        guard url.isFileURL else { throw .cannotOpen(file: url.absoluteString, errno: 0, reason: "not a file URL") }
        try self.init(validating: try FileBytes.load(path: path, file: path, mode: loading), url: url, name: path, limits: limits)
    }

    /// Validates an in-memory file exactly as ``init(contentsOf:loading:limits:)`` does (for tests and
    /// fuzzing). The bytes are copied once into 64-byte-aligned memory that tensors then view.
    public convenience init(bytes: [UInt8], name: String = "<memory>", limits: Limits = .default) throws(SafeTensorsError) {
        try self.init(validating: bytes.withUnsafeBytes { FileBytes(copying: $0) }, url: nil, name: name, limits: limits)
    }

    /// Validates `bytes` (mapped, read or copied) and indexes its tensors.
    private init(validating bytes: FileBytes, url: URL?, name: String, limits: Limits) throws(SafeTensorsError) {
        let header = try validateSafeTensors(bytes.buffer, file: name, limits: limits)
        self.url = url
        self.name = name
        self.bytes = bytes
        self.metadata = header.metadata
        self.tensors = header.tensors
        self.dataStart = 8 + header.headerLength
        self.index = Self.makeIndex(header.tensors)
    }

    private static func makeIndex(_ tensors: [TensorInfo]) -> [[UInt8]: Int] {
        var index: [[UInt8]: Int] = [:]
        index.reserveCapacity(tensors.count)
        for (i, info) in tensors.enumerated() { index[Array(info.name.utf8)] = i }
        return index
    }

    /// Size of the whole file in bytes.
    public var fileSize: Int { bytes.count }

    /// True when the tensors' bytes are a memory mapping of the file (not a copy).
    public var isMemoryMapped: Bool { bytes.kind == .mapped }

    /// The entry for `name` (compared byte for byte), or nil.
    public func info(_ name: String) -> TensorInfo? {
        index[Array(name.utf8)].map { tensors[$0] }
    }

    /// The raw little-endian bytes of a tensor, valid only inside `body` (for dtypes other than
    /// the float ones, e.g. the I64 `position_ids` buffer).
    public func withUnsafeBytes<R>(
        of name: String, _ body: (UnsafeRawBufferPointer) -> R
    ) throws(SafeTensorsError) -> R {
        let info = try require(name)
        return withExtendedLifetime(bytes) { body(rawData(info)) }
    }

    /// The tensor as Float32 values.
    ///
    /// F32 data is not copied when it is 4-byte aligned in memory (the view keeps the mapping alive
    /// through ``FloatTensor/storage``); misaligned F32 data is copied with `memcpy`, never loaded through
    /// a misaligned pointer. F16 and BF16 are widened exactly. Any other dtype throws
    /// ``SafeTensorsError/unsupportedDType(file:tensor:dtype:)``.
    public func floatTensor(_ name: String) throws(SafeTensorsError) -> FloatTensor {
        let info = try require(name)
        let raw = rawData(info)
        let count = info.elementCount  // validated: product * bits did not overflow
        switch info.dtype {
        case .F32:
            #if _endian(little)
            if let base = raw.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
                let floats = base.bindMemory(to: Float.self, capacity: count)
                return FloatTensor(shape: info.shape, values: UnsafeBufferPointer(start: floats, count: count), storage: bytes)
            }
            let owned = OwnedFloats(count: count)
            if count > 0, let source = raw.baseAddress {
                UnsafeMutableRawPointer(owned.pointer.baseAddress!).copyMemory(from: source, byteCount: count * 4)
            }
            return FloatTensor(shape: info.shape, values: UnsafeBufferPointer(owned.pointer), storage: owned)
            #else
            return convert(info, raw) { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: $1 * 4, as: UInt32.self))) }
            #endif
        case .F16:
            return convert(info, raw) { floatFromF16Bits(UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: $1 * 2, as: UInt16.self))) }
        case .BF16:
            return convert(info, raw) { floatFromBF16Bits(UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: $1 * 2, as: UInt16.self))) }
        default:
            throw .unsupportedDType(file: self.name, tensor: name, dtype: info.dtype)
        }
    }

    /// ``floatTensor(_:)`` that also requires the shape the model expects.
    public func floatTensor(_ name: String, shape expected: [Int]) throws(SafeTensorsError) -> FloatTensor {
        let info = try require(name)
        guard info.shape == expected else {
            throw .shapeMismatch(file: self.name, tensor: name, expected: expected, actual: info.shape)
        }
        return try floatTensor(name)
    }

    private func require(_ name: String) throws(SafeTensorsError) -> TensorInfo {
        guard let info = info(name) else { throw .tensorNotFound(file: self.name, tensor: name) }
        return info
    }

    private func rawData(_ info: TensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(
            start: bytes.base + dataStart + info.dataOffsets.lowerBound, count: info.dataOffsets.count)
    }

    private func convert(
        _ info: TensorInfo, _ raw: UnsafeRawBufferPointer, _ element: (UnsafeRawBufferPointer, Int) -> Float
    ) -> FloatTensor {
        let count = info.elementCount
        let owned = OwnedFloats(count: count)
        for i in 0..<count { owned.pointer[i] = element(raw, i) }
        return FloatTensor(shape: info.shape, values: UnsafeBufferPointer(owned.pointer), storage: owned)
    }
}
