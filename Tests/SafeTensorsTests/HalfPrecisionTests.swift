import TestSupport
import Testing
@testable import SafeTensors

/// F16/BF16 widening against bit patterns whose values are known from the IEEE 754 definitions,
/// and exhaustively against independent implementations.
@Suite struct HalfPrecisionTests {
    @Test func f16KnownPatterns() {
        #expect(floatFromF16Bits(0x3C00) == 1.0)
        #expect(floatFromF16Bits(0xC100) == -2.5)  // sign 1, exponent 16 (2^1), fraction 0x100 (1.25)
        #expect(floatFromF16Bits(0x7BFF) == 65504)  // largest finite: (2 - 2^-10) * 2^15
        #expect(floatFromF16Bits(0x0001) == 5.960464477539063e-08)  // smallest subnormal 2^-24
        #expect(floatFromF16Bits(0x0001) == 0x1p-24)
        #expect(floatFromF16Bits(0x03FF) == 1023 * 0x1p-24)  // largest subnormal
        #expect(floatFromF16Bits(0x0400) == 0x1p-14)  // smallest normal
        #expect(floatFromF16Bits(0x8001) == -0x1p-24)
        #expect(floatFromF16Bits(0x7C00) == .infinity)
        #expect(floatFromF16Bits(0xFC00) == -.infinity)
        #expect(floatFromF16Bits(0x0000).bitPattern == 0)
        #expect(floatFromF16Bits(0x8000).bitPattern == 0x8000_0000)  // -0 keeps its sign
        #expect(floatFromF16Bits(0x7E00).isNaN)
        #expect(floatFromF16Bits(0x7E00).bitPattern == 0x7FC0_0000)  // quiet NaN stays quiet
        #expect(floatFromF16Bits(0x7C01).isNaN)  // signalling NaN is still a NaN, not infinity
        #expect(floatFromF16Bits(0x3555) == 0.333251953125)  // 0x3555 = 1.0101010101b * 2^-2
    }

    @Test func bf16KnownPatterns() {
        #expect(floatFromBF16Bits(0x3F80) == 1.0)
        #expect(floatFromBF16Bits(0xC020) == -2.5)
        #expect(floatFromBF16Bits(0x7F7F) == 3.3895313892515355e38)  // largest finite: (2 - 2^-7) * 2^127
        #expect(floatFromBF16Bits(0x0001) == 0x1p-133)  // smallest subnormal: 2^-126 * 2^-7
        #expect(floatFromBF16Bits(0x7F80) == .infinity)
        #expect(floatFromBF16Bits(0xFF80) == -.infinity)
        #expect(floatFromBF16Bits(0x7FC0).isNaN)
        #expect(floatFromBF16Bits(0x8000).bitPattern == 0x8000_0000)
    }

    /// All 65,536 patterns against Swift's own `Float16` (compiler-rt's `__extendhfsf2` on x86_64),
    /// an implementation independent of the bit manipulation under test.
    @Test func f16ExhaustivelyMatchesSwiftFloat16() {
        #if arch(x86_64) || arch(arm64)
        var mismatches: [UInt16] = []
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let actual = floatFromF16Bits(bits)
            let same = expected.isNaN ? actual.isNaN && actual.sign == expected.sign : actual.bitPattern == expected.bitPattern
            if !same { mismatches.append(bits) }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(5).map { String($0, radix: 16) })")
        #else
        Issue.record("Float16 is not available on this architecture; the exhaustive check did not run")
        #endif
    }

    /// All 65,536 BF16 patterns against the value defined by the fields:
    /// (-1)^s * 2^(e-127) * (1 + f/128) for normals, (-1)^s * 2^-126 * f/128 for subnormals.
    @Test func bf16ExhaustivelyMatchesTheDefinition() {
        var mismatches: [UInt16] = []
        for bits in 0...UInt16.max {
            let sign: Float = bits & 0x8000 == 0 ? 1 : -1
            let exponent = Int(bits >> 7) & 0xFF
            let fraction = Float(bits & 0x7F)
            let actual = floatFromBF16Bits(bits)
            let ok: Bool
            switch exponent {
            case 0xFF: ok = fraction == 0 ? actual == sign * .infinity : actual.isNaN
            case 0: ok = actual == sign * Float(sign: .plus, exponent: -126, significand: fraction / 128) && actual.sign == (sign < 0 ? .minus : .plus)
            default: ok = actual == sign * Float(sign: .plus, exponent: exponent - 127, significand: 1 + fraction / 128)
            }
            if !ok { mismatches.append(bits) }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(5).map { String($0, radix: 16) })")
    }

    @Test func f16TensorThroughTheReaderAtAnOddAddress() throws {
        // A U8 tensor first makes the F16 data start at an odd address: conversion must use unaligned loads.
        let patterns: [UInt16] = [0x3C00, 0xC100, 0x7BFF, 0x0001, 0x7C00]
        var header = "{" + entry("a", "U8", shape: [1], 0, 1) + "," + entry("h", "F16", shape: [5], 1, 11) + "}"
        while (8 + header.utf8.count) % 8 != 0 { header += " " }
        let file = try SafeTensorsFile(bytes: rawFile(header, data: [9] + patterns.flatMap { le($0) }))
        #expect((file.dataStart + 1) % 2 == 1)
        let h = try file.floatTensor("h")
        #expect(h.array == [1, -2.5, 65504, 0x1p-24, .infinity])
    }
}
