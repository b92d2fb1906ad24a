#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only view of Float32 values in row-major (C) order with its shape.
///
/// The values live either inside a memory-mapped checkpoint (zero-copy) or in a
/// buffer the tensor owns (after an F16/BF16 conversion, or when built from an
/// array). `storage` keeps that memory alive for as long as the view exists.
public struct FloatTensor: @unchecked Sendable {
    /// Dimensions, outermost first; `[]` is a scalar.
    public let shape: [Int]
    /// `shape.reduce(1, *)` values.
    ///
    /// Valid only while this tensor (or another reference to `storage`) is alive: in
    /// `Array(file.floatTensor("w").values)` the temporary tensor may be released before the copy,
    /// freeing converted (F16/BF16, misaligned F32) values. Keep the tensor in a variable, or use
    /// ``withValues(_:)`` / ``array``.
    public let values: UnsafeBufferPointer<Float>
    /// Whatever owns the memory behind `values`.
    public let storage: AnyObject

    public init(shape: [Int], values: UnsafeBufferPointer<Float>, storage: AnyObject) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        self.values = values
        self.storage = storage
    }

    /// A tensor that owns a copy of `array` (for tests and small computed tensors).
    public init(shape: [Int], _ array: [Float]) {
        let box = OwnedFloats(array)
        self.init(shape: shape, values: UnsafeBufferPointer(box.pointer), storage: box)
    }

    public var count: Int { values.count }

    /// Calls `body` with the values while guaranteeing that their memory stays alive.
    public func withValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) { try body(values) }
    }

    /// A copy of the values.
    public var array: [Float] { withValues { Array($0) } }
}

/// Heap memory for Float32 values, freed with its owner.
final class OwnedFloats: @unchecked Sendable {
    let pointer: UnsafeMutableBufferPointer<Float>

    init(_ array: [Float]) {
        pointer = .allocate(capacity: array.count)
        _ = pointer.initialize(from: array)
    }

    init(count: Int) {
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: 0)
    }

    deinit { pointer.deallocate() }
}

extension FloatTensor {
    /// Whether the values are read in place from a memory-mapped file.
    public var isMemoryMapped: Bool { (storage as? FileBytes)?.kind == .mapped }

    /// Copies `values[range]` to `destination`. Read in place from a mapped file, they are read
    /// from the file instead of through the mapping, so no page of the tensor becomes resident:
    /// for gathering rows of a large table (embeddings) a few at a time. Same values as
    /// `values[range]` in every case.
    public func copyValues(_ range: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= values.count, "FloatTensor.copyValues: \(range) outside 0..<\(values.count)")
        guard !range.isEmpty else { return }
        let source = values.baseAddress! + range.lowerBound
        let bytes = range.count * MemoryLayout<Float>.stride
        if let file = storage as? FileBytes {
            file.copy(from: UnsafeRawPointer(source), byteCount: bytes, into: UnsafeMutableRawPointer(destination))
        } else {
            destination.update(from: source, count: range.count)
        }
    }

    /// Drops this process's mapping of the whole pages that lie inside the tensor, when the
    /// tensor is read in place from a memory-mapped file; otherwise does nothing. The pages stay
    /// in the page cache and the next read maps them again (a minor fault), with the same
    /// values: the mapping is private and read-only, so nothing can be lost.
    ///
    /// Why: pages read once (weights packed at load) otherwise stay resident as long as the
    /// mapping, and Linux maps up to 16 neighbouring pages on every read fault of a file mapping
    /// ("fault-around"; `MADV_RANDOM` does not stop it). To read a few values of a large tensor
    /// without mapping any page, use ``copyValues(_:into:)``.
    public func releaseResidentPages() {
        guard isMemoryMapped, let base = values.baseAddress, values.count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        let start = (Int(bitPattern: base) + page - 1) / page * page
        let end = (Int(bitPattern: base) + values.count * MemoryLayout<Float>.stride) / page * page
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(pointer, end - start, MADV_DONTNEED)
    }
}
