/// UTF-8 <-> Unicode scalar values, for the loops that work on raw bytes (the tokenizers'
/// hot paths, which never build a String per word).

/// The scalar at byte `i` of valid UTF-8 and its length in bytes.
@inline(__always)
func decodeScalar(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int) {
    let b0 = p[i]
    if b0 < 0x80 { return (UInt32(b0), 1) }
    if b0 < 0xE0 { return (UInt32(b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
    if b0 < 0xF0 { return (UInt32(b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3) }
    return (UInt32(b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F), 4)
}

/// Appends the UTF-8 encoding of scalar `s`.
@inline(__always)
func appendUTF8(_ s: UInt32, to bytes: inout [UInt8]) {
    if s < 0x80 {
        bytes.append(UInt8(s))
    } else if s < 0x800 {
        bytes.append(UInt8(0xC0 | s >> 6)); bytes.append(UInt8(0x80 | s & 0x3F))
    } else if s < 0x10000 {
        bytes.append(UInt8(0xE0 | s >> 12)); bytes.append(UInt8(0x80 | s >> 6 & 0x3F)); bytes.append(UInt8(0x80 | s & 0x3F))
    } else {
        bytes.append(UInt8(0xF0 | s >> 18)); bytes.append(UInt8(0x80 | s >> 12 & 0x3F))
        bytes.append(UInt8(0x80 | s >> 6 & 0x3F)); bytes.append(UInt8(0x80 | s & 0x3F))
    }
}
