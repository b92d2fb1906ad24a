// Vectorized transcendental functions on SIMD8<Float> (8 lanes = one AVX2 register).
//
// Shapes: every function maps a SIMD8<Float> to a SIMD8<Float>, lane by lane.
// Each one is tested against the C library's scalar function (Reference) in KernelsTests.

/// Lane-wise math used by the fused kernels.
public enum VectorMath {
    /// e^x, Cephes `expf` scheme: x = n·ln2 + r with |r| <= ln2/2, e^r by a degree-6
    /// polynomial, 2^n built in the exponent bits. Inputs above 88.7 are clamped (e^88.7 is
    /// near the largest float); inputs below -87.3 (near the smallest normal) give exactly 0,
    /// so masked attention keys get probability 0 as in PyTorch.
    @inlinable
    public static func exp(_ xIn: SIMD8<Float>) -> SIMD8<Float> {
        let x = clamp(xIn, -87.3, 88.7)
        // Round x·log2(e) to nearest with the 1.5·2^23 magic constant: the integer lands
        // in the low mantissa bits, so no float->int conversion call is needed.
        let magic = SIMD8<Float>(repeating: 12_582_912)  // 1.5 * 2^23
        let t = x * 1.442_695_04 + magic
        let n = t - magic
        let nBits = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        // r = x - n·ln2, ln2 split in a high part exact in float and a low correction.
        var r = x - n * 0.693_359_375
        r = r + n * 2.121_944_4e-4
        let r2 = r * r
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let er = p * r2 + r + 1
        let scale = unsafeBitCast((nBits &+ 127) &<< 23, to: SIMD8<Float>.self)
        return (er * scale).replacing(with: 0, where: xIn .< -87.3)
    }

    /// erf(x) as x·P(x²)/Q(x²) on [-4, 4] (erf is ±1 in float beyond), the rational
    /// approximation used by Eigen's `generic_fast_erf_float` / XLA's ErfImpl32.
    @inlinable
    public static func erf(_ xIn: SIMD8<Float>) -> SIMD8<Float> {
        let x = clamp(xIn, -4, 4)
        let x2 = x * x
        var p = SIMD8<Float>(repeating: -2.726_142_258_013_06e-10)
        p = p * x2 + 2.770_681_424_959_02e-08
        p = p * x2 + -2.101_024_020_825_08e-06
        p = p * x2 + -5.692_506_394_623_46e-05
        p = p * x2 + -7.349_906_303_268_55e-04
        p = p * x2 + -2.954_599_808_540_25e-03
        p = p * x2 + -1.609_603_332_624_15e-02
        p = p * x
        var q = SIMD8<Float>(repeating: -1.456_607_184_649_96e-05)
        q = q * x2 + -2.133_740_552_789_05e-04
        q = q * x2 + -1.682_826_974_382_03e-03
        q = q * x2 + -7.373_329_167_204_68e-03
        q = q * x2 + -1.426_473_905_141_89e-02
        return p / q
    }

    /// Lane-wise min(max(x, lower), upper) as two compare-and-blend steps. The standard
    /// library's `clamped(lowerBound:upperBound:)` / `pointwiseMin` went through an
    /// unspecialized per-lane loop here (4 % of a whole embedding run in `perf`).
    @inlinable @inline(__always)
    public static func clamp(_ x: SIMD8<Float>, _ lower: Float, _ upper: Float) -> SIMD8<Float> {
        let lo = SIMD8<Float>(repeating: lower), hi = SIMD8<Float>(repeating: upper)
        return x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
    }

    /// Lane-wise maximum (NaN-free inputs), compare-and-blend like ``clamp(_:_:_:)``.
    @inlinable @inline(__always)
    public static func max(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        a.replacing(with: b, where: b .> a)
    }

    /// tanh(x) = 1 - 2 / (e^(2x) + 1), saturating cleanly through `exp`'s clamp.
    /// Near 0 this loses relative (not absolute) accuracy, which GELU's 0.5·x·(1+tanh)
    /// does not notice.
    @inlinable
    public static func tanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let e = exp(x + x)
        return 1 - 2 / (e + 1)
    }
}
