/// The element types the safetensors format defines (reference: `safetensors/src/tensor.rs`, `enum Dtype`,
/// HEAD `24b0b28`). Names are case-sensitive in the file, exactly as spelled here.
///
/// A file is validated with every dtype the format knows, so a checkpoint that carries, say, an `F8_E4M3`
/// tensor is reported as "unsupported dtype for tensor X" when that tensor is read, never as a corrupt file.
public enum DType: String, Sendable, CaseIterable {
    case BOOL
    case U8, I8
    case I16, U16
    case F16, BF16
    case I32, U32
    case F32, F64
    case I64, U64
    /// Complex number: two little-endian F32 (real, imaginary).
    case C64
    case F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ
    /// MXFP4: two values per byte.
    case F4
    case F6_E2M3, F6_E3M2

    /// Bits per element, as in the reference's `Dtype::bitsize()`.
    public var bitSize: Int {
        switch self {
        case .F4: 4
        case .F6_E2M3, .F6_E3M2: 6
        case .BOOL, .U8, .I8, .F8_E5M2, .F8_E4M3, .F8_E8M0, .F8_E4M3FNUZ, .F8_E5M2FNUZ: 8
        case .I16, .U16, .F16, .BF16: 16
        case .I32, .U32, .F32: 32
        case .F64, .I64, .U64, .C64: 64
        }
    }

    /// The alignment (in bytes) a reader needs to reinterpret the data in place: the size of one scalar
    /// (C64 is a pair of F32, so 4), and 1 for sub-byte and byte types.
    var scalarAlignment: Int {
        switch self {
        case .C64: 4
        default: max(1, bitSize / 8)
        }
    }
}
