// Seeded random data for kernel tests (SplitMix64 from TestSupport: deterministic across platforms).
import TestSupport


func randomFloats(_ count: Int, in range: ClosedRange<Float> = -1...1, seed: UInt64) -> [Float] {
    var g = SplitMix64(seed: seed)
    return (0..<count).map { _ in Float.random(in: range, using: &g) }
}

/// Largest |a[i] - b[i]|.
func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// The odd shapes every kernel is tried on.
let oddSizes = [1, 3, 17, 384]
