import Foundation
import Synchronization
import Kernels
import Testing

// Every fast kernel against its naive scalar reference on odd shapes with seeded data.

@Suite struct GemmTests {
    @Test(arguments: [(1, 3, 17), (3, 17, 1), (17, 384, 3), (384, 17, 384), (17, 1, 384)])
    func linearMatchesReference(shape: (Int, Int, Int)) {
        let (n, k, m) = shape
        let x = randomFloats(n * k, seed: 1)
        let w = randomFloats(m * k, seed: 2)
        let b = randomFloats(m, seed: 3)
        for bias in [Optional(b), nil] {
            let expected = Reference.linear(x, rows: n, inFeatures: k, weight: w, outFeatures: m, bias: bias)
            var y = [Float](repeating: .nan, count: n * m)
            x.withUnsafeBufferPointer { xp in
                w.withUnsafeBufferPointer { wp in
                    y.withUnsafeMutableBufferPointer { yp in
                        if let bias {
                            bias.withUnsafeBufferPointer { bp in
                                Gemm.linear(xp, rows: n, inFeatures: k, weight: wp, outFeatures: m, bias: bp, into: yp)
                            }
                        } else {
                            Gemm.linear(xp, rows: n, inFeatures: k, weight: wp, outFeatures: m, bias: nil, into: yp)
                        }
                    }
                }
            }
            // Each output sums k products of values in [-1, 1]: allow float rounding of that sum.
            #expect(maxAbsDiff(y, expected) <= 1e-5 * Float(k + 1), "N=\(n) K=\(k) M=\(m) bias=\(bias != nil)")
        }
    }

    /// Output columns split between threads: the same values as the naive reference, for M
    /// not a multiple of the column block, too small to split, and written with ldy > M.
    @Test(arguments: [(5, 384, 1152, 2), (12, 1536, 384, 2), (3, 17, 33, 3), (7, 9, 16, 2), (2, 20, 100, 5)])
    func threadedLinearMatchesReference(shape: (Int, Int, Int, Int)) {
        let (n, k, m, threads) = shape
        let ldy = m + 3
        let team = ThreadTeam(size: threads)
        let x = randomFloats(n * k, seed: 11), w = randomFloats(m * k, seed: 12), b = randomFloats(m, seed: 13)
        let expected = Reference.linear(x, rows: n, inFeatures: k, weight: w, outFeatures: m, bias: b)
        var y = [Float](repeating: 42, count: n * ldy)
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                b.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { yp in
                        Gemm.linear(xp, rows: n, inFeatures: k, weight: wp, outFeatures: m, bias: bp,
                                    into: yp.baseAddress!, ldy: ldy, team: team)
                    }
                }
            }
        }
        let got = (0..<n).flatMap { r in y[(r * ldy)..<(r * ldy + m)] }
        #expect(maxAbsDiff(got, expected) <= 1e-5 * Float(k + 1), "N=\(n) K=\(k) M=\(m) threads=\(threads)")
        // The columns past M in each row are not written.
        #expect((0..<n).allSatisfy { r in y[(r * ldy + m)..<(r * ldy + ldy)].allSatisfy { $0 == 42 } })
    }

    /// OpenBLAS 0.3.21 runs SSE3 (Prescott) kernels on CPU models it does not know; Gemm replaces
    /// them by the kernels of what the CPU can do, unless the user chose with OPENBLAS_CORETYPE.
    @Test func openBLASRunsKernelsOfWhatTheCPUCanDo() {
        // A core the user chose is OpenBLAS's to honour, whatever it is: nothing to check then.
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil else { return }
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? []
        let has = { (flag: String) in flags.contains(flag) }
        if has("avx512f") && has("avx512bw") && has("avx512dq") && has("avx512vl") || has("avx2") && has("fma") {
            #expect(Gemm.core != "Prescott", "OpenBLAS runs \(Gemm.core)'s kernels on a CPU with \(has("avx512f") ? "AVX-512" : "AVX2")")
        }
    }

    @Test func columnRangesCoverInOrderOnCacheLineBounds() {
        for m in [1, 15, 16, 17, 31, 32, 33, 100, 384, 1152, 1536] {
            for threads in 1...5 {
                let parts = Gemm.columnRanges(m, threads: threads)
                #expect(parts.first?.lowerBound == 0 && parts.last?.upperBound == m, "M=\(m) T=\(threads)")
                #expect(zip(parts, parts.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
                #expect(parts.allSatisfy { !$0.isEmpty && $0.lowerBound % Gemm.columnBlock == 0 })
                #expect(parts.count == max(1, min(threads, m / Gemm.columnBlock)), "M=\(m) T=\(threads): \(parts)")
            }
        }
    }

    @Test func stridedMultiplyReadsViews() {
        // A [3 x 17] and B [17 x 5] embedded in wider buffers (ld 20 and 9), C written with ldc 7.
        let m = 3, n = 5, k = 17, lda = 20, ldb = 9, ldc = 7
        let aBig = randomFloats(m * lda, seed: 4), bBig = randomFloats(k * ldb, seed: 5)
        let a = (0..<m).flatMap { r in aBig[(r * lda)..<(r * lda + k)] }
        let b = (0..<k).flatMap { r in bBig[(r * ldb)..<(r * ldb + n)] }
        let expected = Reference.matmul(a, b, m: m, n: n, k: k).map { $0 * 0.5 }
        var c = [Float](repeating: 42, count: m * ldc)
        Gemm.multiply(m: m, n: n, k: k, alpha: 0.5, a: aBig, lda: lda, b: bBig, ldb: ldb, c: &c, ldc: ldc)
        let got = (0..<m).flatMap { r in c[(r * ldc)..<(r * ldc + n)] }
        #expect(maxAbsDiff(got, expected) <= 1e-5 * Float(k))
        // Columns beyond n untouched.
        #expect((0..<m).allSatisfy { r in c[(r * ldc + n)..<(r * ldc + ldc)].allSatisfy { $0 == 42 } })
    }

    @Test func transposedMultiplyMatchesReference() {
        // Q·Kᵀ as in attention: Q [4 x 3], K [6 x 3] -> [4 x 6].
        let q = randomFloats(12, seed: 6), kMat = randomFloats(18, seed: 7)
        let kT = (0..<3).flatMap { p in (0..<6).map { j in kMat[j * 3 + p] } }
        let expected = Reference.matmul(q, kT, m: 4, n: 6, k: 3)
        var c = [Float](repeating: 0, count: 24)
        Gemm.multiply(m: 4, n: 6, k: 3, a: q, lda: 3, b: kMat, ldb: 3, transposeB: true, c: &c, ldc: 6)
        #expect(maxAbsDiff(c, expected) <= 1e-5)
    }

    @Test func wrongBufferSizeTraps() async {
        await #expect(processExitsWith: .failure) {
            let x = [Float](repeating: 1, count: 5)  // [2 x 3] needs 6
            let w = [Float](repeating: 1, count: 6)
            var y = [Float](repeating: 0, count: 4)
            x.withUnsafeBufferPointer { xp in
                w.withUnsafeBufferPointer { wp in
                    y.withUnsafeMutableBufferPointer { yp in
                        Gemm.linear(xp, rows: 2, inFeatures: 3, weight: wp, outFeatures: 2, bias: nil, into: yp)
                    }
                }
            }
        }
    }
}

@Suite(.serialized) struct VectorMathTests {
    static let grid: [Float] = stride(from: Float(-90), through: 90, by: 0.0137).map { $0 } + [0, -0, 1e-7, -1e-7]

    /// `body` on every target this CPU runs, then back to the widest.
    private func onEveryTarget(_ body: (String) -> Void) {
        let targets = VectorMath.targets
        #expect(targets.first == VectorMath.target, "the kernels run the widest target by default")
        for target in targets {
            #expect(VectorMath.use(target: target))
            body(target)
        }
        VectorMath.use(target: targets[0])
    }

    @Test func expWithinFewUlp() {
        let xs = Self.grid.filter { $0 > -87 && $0 < 88 }
        onEveryTarget { target in
            let worst = zip(xs, VectorMath.exp(xs)).map { x, g in abs(g - Foundation.exp(x)) / Foundation.exp(x) }.max()!
            #expect(worst < 4e-7, "\(target): max relative error \(worst)")
            #expect(VectorMath.exp([-1000, -Float.infinity, -88]) == [0, 0, 0], "\(target)")
        }
    }

    @Test func erfWithinFewUlp() {
        onEveryTarget { target in
            let worst = zip(Self.grid, VectorMath.erf(Self.grid)).map { x, g in abs(g - Foundation.erf(x)) }.max()!
            #expect(worst < 5e-7, "\(target): max absolute error \(worst)")
        }
    }

    @Test func tanhAbsoluteError() {
        onEveryTarget { target in
            let worst = zip(Self.grid, VectorMath.tanh(Self.grid)).map { x, g in abs(g - Foundation.tanh(x)) }.max()!
            #expect(worst < 5e-7, "\(target): max absolute error \(worst)")
        }
    }

    /// No multiply-add is fused and every target runs 16 lanes, so a value does not depend on the
    /// CPU's instruction set: the functions and the fused passes agree bit for bit across targets.
    @Test func everyTargetGivesTheSameValues() {
        let x = Self.grid + randomFloats(1000, in: -10...10, seed: 61)
        let scores = randomFloats(7 * 37, in: -30...30, seed: 62)
        var results: [String: [[Float]]] = [:]
        onEveryTarget { target in
            var softmax = scores
            softmax.withUnsafeMutableBufferPointer { Softmax.scaledMaskedRows($0.baseAddress!, rows: 7, cols: 37, ld: 37) }
            var gelu = x
            gelu.withUnsafeMutableBufferPointer { Activations.addBiasApply(.geluErf, $0, rows: 1, cols: x.count, bias: nil) }
            var geluTanh = x
            geluTanh.withUnsafeMutableBufferPointer { Activations.addBiasApply(.geluTanh, $0, rows: 1, cols: x.count, bias: nil) }
            results[target] = [VectorMath.exp(x), VectorMath.erf(x), VectorMath.tanh(x), softmax, gelu, geluTanh]
        }
        let widest = results[VectorMath.targets[0]]!
        for (target, values) in results {
            for (a, b) in zip(values, widest) {
                #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(target) differs from \(VectorMath.targets[0])")
            }
        }
    }
}

@Suite struct ElementwiseKernelTests {
    @Test(arguments: oddSizes)
    func activationsMatchReference(cols: Int) {
        let rows = 3
        // Spread wide enough to reach both saturated tails of erf and tanh.
        let x = randomFloats(rows * cols, in: -8...8, seed: UInt64(10 + cols))
        let bias = randomFloats(cols, seed: 11)
        for function in [ActivationFunction.geluErf, .geluTanh, .relu] {
            let expected = Reference.addBias(x, rows: rows, cols: cols, bias: bias).map { Reference.activation(function, $0) }
            var y = x
            y.withUnsafeMutableBufferPointer { yp in
                bias.withUnsafeBufferPointer { bp in Activations.addBiasApply(function, yp, rows: rows, cols: cols, bias: bp) }
            }
            #expect(maxAbsDiff(y, expected) <= 4e-6, "\(function) cols=\(cols)")
            var z = x
            z.withUnsafeMutableBufferPointer { Activations.addBiasApply(function, $0, rows: rows, cols: cols, bias: nil) }
            #expect(maxAbsDiff(z, x.map { Reference.activation(function, $0) }) <= 4e-6, "\(function) no bias cols=\(cols)")
        }
    }

    /// A block of columns (one thread's share of the FFN columns): its values bit for bit those
    /// of the whole-row call, the other columns untouched.
    @Test(arguments: [(0..<16), (16..<48), (32..<67), (5..<6)])
    func activationOnColumnBlockMatchesWholeRows(columns: Range<Int>) {
        let rows = 4, cols = 67
        let x = randomFloats(rows * cols, in: -6...6, seed: 21)
        let bias = randomFloats(cols, seed: 22)
        for function in [ActivationFunction.geluErf, .geluTanh, .relu] {
            var whole = x, block = x
            bias.withUnsafeBufferPointer { bp in
                whole.withUnsafeMutableBufferPointer { Activations.addBiasApply(function, $0, rows: rows, cols: cols, bias: bp) }
                block.withUnsafeMutableBufferPointer {
                    Activations.addBiasApply(function, $0, rows: rows, cols: cols, bias: bp, columns: columns)
                }
            }
            for r in 0..<rows {
                for c in 0..<cols {
                    let expected = columns.contains(c) ? whole[r * cols + c] : x[r * cols + c]
                    #expect(block[r * cols + c].bitPattern == expected.bitPattern, "\(function) row \(r) column \(c)")
                }
            }
        }
    }

    @Test func geluKnownValues() {
        // Values of torch.nn.functional.gelu at 1 and -1 (0.8413447, -0.1586553): sanity anchor for the formula.
        #expect(abs(Reference.geluErf(1) - 0.841_344_7) < 1e-6)
        #expect(abs(Reference.geluErf(-1) + 0.158_655_3) < 1e-6)
    }

    @Test(arguments: oddSizes)
    func biasAndResidualMatchReference(cols: Int) {
        let rows = 17
        let x = randomFloats(rows * cols, seed: 20), r = randomFloats(rows * cols, seed: 21), b = randomFloats(cols, seed: 22)
        var y = x
        y.withUnsafeMutableBufferPointer { yp in
            b.withUnsafeBufferPointer { Elementwise.addBias(yp, rows: rows, cols: cols, bias: $0) }
            r.withUnsafeBufferPointer { Elementwise.add(yp, $0, count: rows * cols) }
        }
        #expect(y == Reference.add(Reference.addBias(x, rows: rows, cols: cols, bias: b), r))
    }
}

@Suite struct LayerNormTests {
    @Test(arguments: oddSizes)
    func layerNormMatchesReference(cols: Int) {
        let rows = 5
        let x = randomFloats(rows * cols, in: -3...3, seed: 30)
        let g = randomFloats(cols, in: 0.5...1.5, seed: 31), b = randomFloats(cols, seed: 32)
        let expected = Reference.layerNorm(x, rows: rows, cols: cols, gamma: g, beta: b, eps: 1e-12)
        var y = x
        y.withUnsafeMutableBufferPointer { yp in
            g.withUnsafeBufferPointer { gp in b.withUnsafeBufferPointer { bp in
                LayerNorm.apply(yp, rows: rows, cols: cols, gamma: gp, beta: bp, eps: 1e-12)
            } }
        }
        // cols == 1: variance 0, so y = beta exactly in both.
        #expect(maxAbsDiff(y, expected) <= 2e-5, "cols=\(cols)")
    }

    @Test(arguments: oddSizes)
    func fusedResidualLayerNormMatchesReference(cols: Int) {
        let rows = 3
        let x = randomFloats(rows * cols, seed: 33), res = randomFloats(rows * cols, seed: 34)
        let bias = randomFloats(cols, seed: 35)
        let g = randomFloats(cols, in: 0.5...1.5, seed: 36), b = randomFloats(cols, seed: 37)
        let summed = Reference.add(Reference.addBias(x, rows: rows, cols: cols, bias: bias), res)
        let expected = Reference.layerNorm(summed, rows: rows, cols: cols, gamma: g, beta: b, eps: 1e-5)
        var y = x
        y.withUnsafeMutableBufferPointer { yp in
            res.withUnsafeBufferPointer { rp in bias.withUnsafeBufferPointer { biasp in
                g.withUnsafeBufferPointer { gp in b.withUnsafeBufferPointer { bp in
                    LayerNorm.addBiasResidualApply(yp, rows: rows, cols: cols, bias: biasp, residual: rp,
                                                   gamma: gp, beta: bp, eps: 1e-5)
                } }
            } }
        }
        #expect(maxAbsDiff(y, expected) <= 2e-5, "cols=\(cols)")
    }

    @Test func largeMeanSmallSpreadStaysAccurate() {
        // mean 1000, spread 0.01: E[x²]-E[x]² would lose every significant digit in float.
        let cols = 384
        let x = randomFloats(cols, in: -0.01...0.01, seed: 38).map { $0 + 1000 }
        let g = [Float](repeating: 1, count: cols), b = [Float](repeating: 0, count: cols)
        // Double-precision truth.
        let xd = x.map(Double.init)
        let mean = xd.reduce(0, +) / Double(cols)
        let variance = xd.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(cols)
        let truth = xd.map { Float(($0 - mean) / (variance + 1e-12).squareRoot()) }
        var y = x
        y.withUnsafeMutableBufferPointer { yp in
            g.withUnsafeBufferPointer { gp in b.withUnsafeBufferPointer { bp in
                LayerNorm.apply(yp, rows: 1, cols: cols, gamma: gp, beta: bp, eps: 1e-12)
            } }
        }
        // The inputs themselves are quantised to ~6e-5 at 1000, so relative to a 0.006 spread
        // the achievable accuracy is ~1e-2; the naive formula would be off by O(1) or NaN.
        #expect(maxAbsDiff(y, truth) < 0.02)
    }
}

@Suite struct SoftmaxTests {
    @Test(arguments: oddSizes)
    func softmaxMatchesReference(cols: Int) {
        let rows = 3, ld = cols + 5
        let s = randomFloats(rows * cols, in: -20...20, seed: 40)
        var mask = (0..<cols).map { $0 % 3 != 1 }
        mask[0] = true
        for (scale, keyMask) in [(Float(1), Optional<[Bool]>.none), (0.125, mask)] {
            let expected = Reference.softmax(s, rows: rows, cols: cols, scale: scale, keyMask: keyMask)
            var buf = [Float](repeating: 7, count: rows * ld)
            for r in 0..<rows { for c in 0..<cols { buf[r * ld + c] = s[r * cols + c] } }
            buf.withUnsafeMutableBufferPointer { bp in
                if let keyMask {
                    keyMask.withUnsafeBufferPointer { mp in
                        Softmax.scaledMaskedRows(bp.baseAddress!, rows: rows, cols: cols, ld: ld, scale: scale, keyMask: mp)
                    }
                } else {
                    Softmax.scaledMaskedRows(bp.baseAddress!, rows: rows, cols: cols, ld: ld, scale: scale)
                }
            }
            let got = (0..<rows).flatMap { r in buf[(r * ld)..<(r * ld + cols)] }
            #expect(maxAbsDiff(got, expected) <= 1e-6, "cols=\(cols) scale=\(scale)")
            for r in 0..<rows {
                #expect(abs(got[(r * cols)..<((r + 1) * cols)].reduce(0, +) - 1) < 1e-5)
                #expect(buf[(r * ld + cols)..<(r * ld + ld)].allSatisfy { $0 == 7 }, "padding columns untouched")
            }
            if let keyMask {
                for r in 0..<rows { for c in 0..<cols where !keyMask[c] { #expect(got[r * cols + c] == 0) } }
            }
        }
    }
}

@Suite struct ThreadTeamTests {
    /// Every part of every region runs exactly once, also when the helpers have gone to sleep
    /// between regions; regions see the previous one's writes.
    @Test(arguments: [1, 2, 3])
    func everyPartRunsOnce(size: Int) {
        let team = ThreadTeam(size: size)
        let slots = UnsafeMutableBufferPointer<Int>.allocate(capacity: 8)
        defer { slots.deallocate() }
        var problems = 0
        for round in 0..<3000 {
            let parts = round % 8
            slots.initialize(repeating: 0)
            team.run(parts) { p in slots[p] += round + 1 }
            if (0..<parts).contains(where: { slots[$0] != round + 1 }) || slots[parts...].contains(where: { $0 != 0 }) { problems += 1 }
            if round % 500 == 499 { usleep(2_000) }  // past the helpers' spin: they sleep, then wake
        }
        #expect(problems == 0)
    }

    /// Parts are claimed, not assigned: while one thread is held up in a part (as when the machine
    /// does not schedule it), the other runs every remaining part instead of waiting for it.
    @Test func aHeldUpThreadLeavesItsShareToTheOthers() {
        let team = ThreadTeam(size: 2)
        let threads = UnsafeMutableBufferPointer<pthread_t>.allocate(capacity: 8)
        let first = Atomic<Int>(-1)
        defer { threads.deallocate() }
        threads.initialize(repeating: 0)
        team.run(8) { p in
            threads[p] = pthread_self()
            if first.compareExchange(expected: -1, desired: p, ordering: .relaxed).exchanged { usleep(300_000) }
        }
        let slow = first.load(ordering: .relaxed)
        let others = (0..<8).filter { $0 != slow }
        #expect(others.allSatisfy { pthread_equal(threads[$0], threads[others[0]]) != 0 }, "the parts ran on both threads")
        #expect(pthread_equal(threads[slow], threads[others[0]]) == 0)
    }

    /// Released teams stop their helpers (a helper left waiting would hang `stop`).
    @Test func releasedTeamsStopTheirHelpers() {
        for size in 1...4 {
            for _ in 0..<10 {
                let team = ThreadTeam(size: size)
                team.run(size) { _ in }
            }
        }
        #expect(Bool(true), "reached: every team's deinit returned")
    }
}
