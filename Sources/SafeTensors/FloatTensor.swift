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

    /// Drops this process's mapping of the whole pages that lie inside the tensor, when the
    /// tensor is read in place from a memory-mapped file; otherwise does nothing. The pages stay
    /// in the page cache and the next read maps them again (a minor fault), with the same
    /// values: the mapping is private and read-only, so nothing can be lost.
    ///
    /// Why: Linux maps up to 16 neighbouring pages on every read fault of a file mapping
    /// ("fault-around"), so gathering a few thousand rows of a 45 MiB embedding table makes
    /// most of it resident. Releasing the table after each gather keeps the resident set
    /// to the rows in use; `MADV_RANDOM` does not stop fault-around.
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
