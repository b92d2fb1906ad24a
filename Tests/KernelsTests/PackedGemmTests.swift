import Testing

@testable import Kernels

// The packed linear layers (oneDNN's matmul on weights packed at load): int8, with this package's
// quantization and dequantization, against Reference.int8Linear bit for bit and against the FP32
// product within the quantization error; float32 against Reference.linear. Every row-block size,
// odd K and N, strided outputs, and the column parts split between threads.

struct PackedGemmTests {
    /// x · Wᵀ (+ b) by PackedGemm into rows of stride `ld` first filled with 42, for every layer of
    /// `weights`, each written at column offset `part · n`, packed in `parts` column parts run by
    /// a team of `threads`; returns the buffer.
    static func run(_ kind: PackedGemmKind = .int8, x: [Float], rows n: Int, k: Int, weights: [[Float]], outFeatures m: Int,
                    bias: [Float]?, ld: Int, parts: Int = 1, threads: Int = 1) throws -> [Float] {
        let plans = PackedGemmPlans()
        var y = [Float](repeating: 42, count: n * ld)
        let linears = try weights.map { w in
            try w.withUnsafeBufferPointer { wp in
                if let bias {
                    return try bias.withUnsafeBufferPointer {
                        try PackedLinear(kind, weight: wp, bias: $0, outFeatures: m, outputStride: ld, parts: parts, plans: plans)
                    }
                }
                return try PackedLinear(kind, weight: wp, bias: nil, outFeatures: m, outputStride: ld, parts: parts, plans: plans)
            }
        }
        let team = threads > 1 ? ThreadTeam(size: threads) : nil
        let contexts = (0..<max(parts, threads)).map { _ in PackedGemmContext() }
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                let layers = linears.enumerated().map { PackedLinearLayer($1, into: yp.baseAddress! + $0 * m) }
                PackedGemm.linears(xp, rows: n, inFeatures: k, layers, team: team, contexts: contexts)
            }
        }
        return y
    }

    /// Activations with the shapes quantization meets: mixed signs, all positive (lo = 0), all
    /// negative (hi = 0), all zero, and one outlier that sets a row's scale.
    static func activations(rows n: Int, k: Int, seed: UInt64) -> [Float] {
        var x = randomFloats(n * k, in: -2...2, seed: seed)
        for r in 0..<n {
            let row = (r * k)..<((r + 1) * k)
            switch r % 5 {
            case 1: for i in row { x[i] = abs(x[i]) }
            case 2: for i in row { x[i] = -abs(x[i]) }
            case 3: for i in row { x[i] = 0 }
            case 4: x[row.lowerBound] = 40
            default: break
            }
        }
        return x
    }

    /// Rows 1 to past two 256-row blocks: exact-row primitives (calls of up to 64 rows) and the
    /// binary split above that (65 = 64 + 1, 200 = 128 + 64 + 8, 300 = 256 + 32 + 8 + 4), K and N
    /// odd, below and past the 16-wide vector loops, with and without bias, output stride wider than N.
    @Test(arguments: [(1, 1, 1), (3, 17, 5), (7, 384, 19), (31, 33, 384), (65, 24, 20), (200, 17, 9), (300, 40, 16), (517, 19, 33)])
    func equalsTheReferenceBitForBit(n: Int, k: Int, m: Int) throws {
        let x = Self.activations(rows: n, k: k, seed: UInt64(n * 7 + k))
        let w = randomFloats(m * k, in: -0.3...0.3, seed: UInt64(m * 13 + k))
        let b = randomFloats(m, seed: UInt64(m))
        let (values, scales) = w.withUnsafeBufferPointer { PackedLinear.quantizeWeights($0, outFeatures: m) }
        for bias in [Optional(b), nil] {
            let expected = Reference.int8Linear(x, rows: n, inFeatures: k, values: values, scales: scales, bias: bias)
            let ld = m + 3
            let y = try Self.run(x: x, rows: n, k: k, weights: [w], outFeatures: m, bias: bias, ld: ld, parts: m >= 32 ? 2 : 1, threads: 2)
            var mismatches = 0, untouched = true
            for r in 0..<n {
                for c in 0..<ld {
                    if c < m {
                        if y[r * ld + c].bitPattern != expected[r * m + c].bitPattern { mismatches += 1 }
                    } else {
                        untouched = untouched && y[r * ld + c] == 42
                    }
                }
            }
            #expect(mismatches == 0, "N=\(n) K=\(k) M=\(m) bias=\(bias != nil): \(mismatches) outputs differ from the reference")
            #expect(untouched, "N=\(n) K=\(k) M=\(m): wrote outside its columns")
        }
    }

    /// The quantized product stays within the error quantization allows of the FP32 one: each
    /// product term errs by at most scale/2 · |w| + |x| · wscale/2 (plus the cross term).
    @Test func staysCloseToTheFloatProduct() throws {
        let (n, k, m) = (40, 384, 64)
        let x = Self.activations(rows: n, k: k, seed: 3)
        let w = randomFloats(m * k, in: -0.3...0.3, seed: 4)
        let exact = Reference.linear(x, rows: n, inFeatures: k, weight: w, outFeatures: m, bias: nil)
        let y = try Self.run(x: x, rows: n, k: k, weights: [w], outFeatures: m, bias: nil, ld: m)
        for r in 0..<n {
            let row = x[(r * k)..<((r + 1) * k)]
            let scale = (max(row.max()!, 0) - min(row.min()!, 0)) / 255
            for c in 0..<m {
                let wrow = w[(c * k)..<((c + 1) * k)]
                let wscale = wrow.map(abs).max()! / 127
                let bound = zip(row, wrow).reduce(Float(0)) { $0 + scale / 2 * abs($1.1) + abs($1.0) * wscale / 2 + scale * wscale / 4 }
                #expect(abs(y[r * m + c] - exact[r * m + c]) <= bound * 1.01 + 1e-5, "row \(r) column \(c)")
            }
        }
        // And the test can fail: on the rows without an outlier (which widens its row's scale 10x),
        // the error is far below the values themselves.
        let plain = (0..<n).filter { $0 % 5 != 4 }.flatMap { r in (0..<m).map { r * m + $0 } }
        let err = maxAbsDiff(plain.map { y[$0] }, plain.map { exact[$0] }), size = plain.map { abs(exact[$0]) }.max()!
        #expect(err < 0.02 * size, "int8 error \(err) against values up to \(size)")
    }

    /// Q, K and V side by side (three layers, one quantization of x, output stride 3N), in two
    /// column parts on two threads: equal to each layer alone, in one part, on one thread, bit for bit.
    @Test func sharedInputAndThreadsChangeNothing() throws {
        let (n, k, m) = (45, 64, 48)
        let x = Self.activations(rows: n, k: k, seed: 9)
        let ws = (0..<3).map { randomFloats(m * k, in: -0.3...0.3, seed: 20 + UInt64($0)) }
        let b = randomFloats(m, seed: 30)
        let fused = try Self.run(x: x, rows: n, k: k, weights: ws, outFeatures: m, bias: b, ld: 3 * m, parts: 2, threads: 2)
        for (part, w) in ws.enumerated() {
            let alone = try Self.run(x: x, rows: n, k: k, weights: [w], outFeatures: m, bias: b, ld: m)
            for r in 0..<n {
                #expect(Array(fused[(r * 3 * m + part * m)..<(r * 3 * m + (part + 1) * m)]) == Array(alone[(r * m)..<((r + 1) * m)]),
                        "layer \(part) row \(r)")
            }
        }
    }

    /// Weight quantization: the largest magnitude of a row maps to ±127, zero rows get scale 1.
    @Test func weightsArePerOutputChannel() {
        let w: [Float] = [0.5, -1, 0.25, 0, 0, 0, 3, 1.5, -3]
        let (values, scales) = w.withUnsafeBufferPointer { PackedLinear.quantizeWeights($0, outFeatures: 3) }
        #expect(scales == [1 / 127, 1, 3 / 127])
        #expect(values == [64, -127, 32, 0, 0, 0, 127, 64, -127])
    }

    /// float32 on packed weights: within float rounding of the reference on every kind of row split,
    /// with and without bias, strided, in 1 to 3 column parts on 1 or 2 threads, nothing written
    /// outside its columns.
    @Test(arguments: [(1, 1, 1), (3, 17, 5), (14, 384, 384), (31, 33, 100), (64, 20, 7), (200, 21, 40), (300, 40, 48), (517, 19, 33)])
    func float32MatchesTheReference(n: Int, k: Int, m: Int) throws {
        let x = randomFloats(n * k, in: -2...2, seed: UInt64(n + k))
        let w = randomFloats(m * k, in: -0.3...0.3, seed: UInt64(m + 5))
        let b = randomFloats(m, seed: UInt64(m + 9))
        for bias in [Optional(b), nil] {
            let expected = Reference.linear(x, rows: n, inFeatures: k, weight: w, outFeatures: m, bias: bias)
            for (parts, threads) in [(1, 1), (2, 2), (3, 2)] {
                let ld = m + 2
                let y = try Self.run(.float32, x: x, rows: n, k: k, weights: [w], outFeatures: m, bias: bias, ld: ld,
                                     parts: parts, threads: threads)
                var worst: Float = 0, untouched = true
                for r in 0..<n {
                    for c in 0..<ld {
                        if c < m { worst = max(worst, abs(y[r * ld + c] - expected[r * m + c])) } else { untouched = untouched && y[r * ld + c] == 42 }
                    }
                }
                #expect(worst <= 2e-6 * Float(k + 1), "N=\(n) K=\(k) M=\(m) bias=\(bias != nil) parts=\(parts): error \(worst)")
                #expect(untouched, "N=\(n) K=\(k) M=\(m) parts=\(parts): wrote outside its columns")
            }
        }
    }
}
