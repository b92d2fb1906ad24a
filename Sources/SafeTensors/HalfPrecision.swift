/// Exact widening of 16-bit floats to Float32 (every F16 and BF16 value is representable in Float32).

/// IEEE 754 binary16 -> binary32. binary16: 1 sign, 5 exponent (bias 15), 10 fraction bits;
/// binary32: bias 127, so a normal exponent e becomes e + 112 and the fraction moves up 13 bits.
/// Subnormals are `fraction * 2^-24` (exact in Float32); inf and NaN keep sign and payload
/// (the quiet bit, fraction bit 9, lands on Float32's quiet bit 22), as F16C's VCVTPH2PS does.
@inline(__always)
func floatFromF16Bits(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1F
    let fraction = UInt32(h & 0x3FF)
    switch exponent {
    case 0x1F:
        return Float(bitPattern: sign | 0x7F80_0000 | fraction << 13)
    case 0:
        if fraction == 0 { return Float(bitPattern: sign) }  // +-0
        let magnitude = Float(fraction) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    default:
        return Float(bitPattern: sign | (exponent + 112) << 23 | fraction << 13)
    }
}

/// bfloat16 is the high half of a binary32: same sign and 8-bit exponent, 7 fraction bits.
@inline(__always)
func floatFromBF16Bits(_ b: UInt16) -> Float {
    Float(bitPattern: UInt32(b) << 16)
}
