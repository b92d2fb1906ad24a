// exp, erf and tanh over arrays, on CElementwise's kernels: the functions inside the softmax and
// activation passes (Softmax.swift, Activations.swift), exposed for tests and reports.
//
// The kernels run 16 lanes at a time, compiled for AVX-512, AVX2 + FMA and the x86-64 baseline;
// the first call picks the widest this CPU runs. Every target gives the same values bit for bit.
import CElementwise

/// Lane-wise math of the fused kernels.
public enum VectorMath {
    /// e^x: 2^n · e^r with |r| <= ln2/2 and a degree-6 polynomial (Cephes `expf`). Inputs above
    /// 88.7 are clamped; inputs below -87.3 give exactly 0, so masked keys get probability 0.
    public static func exp(_ x: [Float]) -> [Float] { map(x, ew_exp) }

    /// erf(x) as x·P(x²)/Q(x²) on [-4, 4] (±1 in float beyond): Eigen's `generic_fast_erf_float`.
    public static func erf(_ x: [Float]) -> [Float] { map(x, ew_erf) }

    /// tanh(x) = 1 - 2 / (e^(2x) + 1): relative (not absolute) accuracy is lost near 0, which
    /// GELU's 0.5·x·(1 + tanh) does not notice.
    public static func tanh(_ x: [Float]) -> [Float] { map(x, ew_tanh) }

    /// The instruction set the kernels run: "avx512", "avx2" or "baseline".
    public static var target: String { String(cString: ew_target()) }

    /// Makes the kernels run `target` (for tests comparing the targets); false when this CPU
    /// cannot. Process-wide; harmless to calls running meanwhile (every target gives the same values).
    @discardableResult
    public static func use(target: String) -> Bool { ew_use_target(target) == 0 }

    /// The targets this CPU runs, widest first.
    public static var targets: [String] {
        let current = target
        defer { use(target: current) }
        return ["avx512", "avx2", "baseline"].filter { use(target: $0) }
    }

    private static func map(_ x: [Float], _ f: (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { f(xp.baseAddress, $0.baseAddress, x.count) } }
        return y
    }
}
