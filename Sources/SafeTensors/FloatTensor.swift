/// A read-only view of Float32 values in row-major (C) order with its shape.
///
/// The values live either inside a memory-mapped checkpoint (zero-copy) or in a
/// buffer the tensor owns (after an F16/BF16 conversion, or when built from an
/// array). `storage` keeps that memory alive for as long as the view exists.
public struct FloatTensor: @unchecked Sendable {
    /// Dimensions, outermost first; `[]` is a scalar.
    public let shape: [Int]
    /// `shape.reduce(1, *)` values.
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
