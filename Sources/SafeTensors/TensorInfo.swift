/// One tensor entry of a validated header.
public struct TensorInfo: Sendable, Equatable {
    /// The name exactly as in the file (compare by UTF-8 bytes; see ``SafeTensorsFile/info(_:)``).
    public let name: String
    public let dtype: DType
    /// Dimensions, outermost first; `[]` is a scalar, a 0 dimension makes an empty tensor.
    public let shape: [Int]
    /// Byte range relative to the start of the data buffer (which begins at file offset `8 + N`).
    public let dataOffsets: Range<Int>

    public init(name: String, dtype: DType, shape: [Int], dataOffsets: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.dataOffsets = dataOffsets
    }

    /// Number of elements, `product(shape)`; validated not to overflow for tensors read from a file.
    public var elementCount: Int { shape.reduce(1, *) }

    public static func == (lhs: TensorInfo, rhs: TensorInfo) -> Bool {
        lhs.name.utf8.elementsEqual(rhs.name.utf8) && lhs.dtype == rhs.dtype && lhs.shape == rhs.shape
            && lhs.dataOffsets == rhs.dataOffsets
    }
}
