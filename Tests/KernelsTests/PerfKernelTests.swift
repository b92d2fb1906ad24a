import Foundation
import Kernels
import Testing

// Kernels added for the performance work, each against a naive reference.

@Suite struct PerfKernelTests {
    /// Q, K and V written side by side into one [N x 3M] buffer by three strided linears equal
    /// three contiguous reference linears, and nothing outside each column block is written.
    @Test(arguments: [(1, 3, 5), (17, 384, 32), (300, 33, 7)])
    func stridedLinearWritesItsColumnBlock(shape: (Int, Int, Int)) {
        let (n, k, m) = shape
        let x = randomFloats(n * k, seed: 21)
        let weights = (0..<3).map { randomFloats(m * k, seed: UInt64(30 + $0)) }
        let biases = (0..<3).map { randomFloats(m, seed: UInt64(40 + $0)) }
        var y = [Float](repeating: .nan, count: n * 3 * m + 5)  // 5 guard values past the end
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                for part in 0..<3 {
                    weights[part].withUnsafeBufferPointer { wp in
                        biases[part].withUnsafeBufferPointer { bp in
                            Gemm.linear(xp, rows: n, inFeatures: k, weight: wp, outFeatures: m,
                                        bias: part == 1 ? nil : bp, into: yp.baseAddress! + part * m, ldy: 3 * m)
                        }
                    }
                }
            }
        }
        for part in 0..<3 {
            let expected = Reference.linear(x, rows: n, inFeatures: k, weight: weights[part], outFeatures: m,
                                            bias: part == 1 ? nil : biases[part])
            var got: [Float] = []
            for r in 0..<n {
                let start = r * 3 * m + part * m
                got += y[start..<(start + m)]
            }
            #expect(maxAbsDiff(got, expected) <= 1e-5 * Float(k + 1), "part \(part) N=\(n) K=\(k) M=\(m)")
        }
        #expect(y[(n * 3 * m)...].allSatisfy { $0.isNaN })
    }
}
